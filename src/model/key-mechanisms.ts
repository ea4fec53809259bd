/**
 * Which key types the standard's public-key mechanisms work with, checked before an operation
 * starts. Pairing a key with a mechanism of another family is the caller's mistake: it is reported
 * as a TypeError naming both, instead of being left to the module, and not every module checks
 * (SoftHSM2 2.6.1 accepts C_SignInit with CKM_DSA or CKM_RSA_X_509 and an EC key, then crashes the
 * process in C_Sign). Likewise the secret-key ciphers and MACs (AES_*, DES3_*, *_HMAC, *_MAC, ...)
 * are refused with a public-key key type: NSS softokn 3.87 starts an HMAC or CMAC with an RSA or EC
 * key and, a few calls later, crashes the process. Which secret-key type a secret-key mechanism
 * takes, and vendor mechanisms, are left to the module.
 *
 * @example
 * checkKeyForMechanism(KeyType.EC, Mechanism.DSA_SHA256);
 * // TypeError: CKM_DSA_SHA256 works with CKK_DSA keys, not CKK_EC
 * checkKeyForMechanism(KeyType.RSA, Mechanism.SHA256_HMAC);
 * // TypeError: CKM_SHA256_HMAC works with secret keys, not CKK_RSA
 */
import { KeyType, Mechanism } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';

/** Mechanism names (without `CKM_`) of each public-key family, and the key types the family takes. */
const FAMILIES: readonly (readonly [RegExp, readonly number[]])[] = [
  [/(^|_)RSA(_|$)/, [KeyType.RSA]],
  [/^ECDSA(_|$)/, [KeyType.EC]],
  [/^DSA(_SHA\w+)?$/, [KeyType.DSA]],
  [/^EDDSA$/, [KeyType.EC_EDWARDS]],
  [/^ECDH1_(COFACTOR_)?DERIVE$/, [KeyType.EC, KeyType.EC_MONTGOMERY]],
  [/^DH_PKCS_DERIVE$/, [KeyType.DH]],
  [/^X9_42_DH_DERIVE$/, [KeyType.X9_42_DH]],
];

/** Key generation mechanisms take no key: they are no operation's mechanism. */
const GENERATION = /_(KEY_PAIR|PARAMETER)_GEN$/;

/** The key types each public-key operation mechanism takes, built once from the constant names. */
const KEY_TYPES: ReadonlyMap<number, readonly number[]> = new Map(
  Object.entries(Mechanism).flatMap(([name, value]) => {
    if (GENERATION.test(name)) return [];
    const family = FAMILIES.find(([pattern]) => pattern.test(name));
    return family ? [[value, family[1]] as const] : [];
  }),
);

/** The public-key key types: none of them works with a secret-key mechanism. */
const PUBLIC_KEY_TYPES = new Set<number>([
  KeyType.RSA,
  KeyType.DSA,
  KeyType.DH,
  KeyType.EC,
  KeyType.X9_42_DH,
  KeyType.KEA,
  KeyType.GOSTR3410,
  KeyType.EC_EDWARDS,
  KeyType.EC_MONTGOMERY,
]);

/** Names (without `CKM_`) of the secret-key ciphers and MACs: a block or stream cipher's modes, and every MAC. */
const SECRET_KEY_MECHANISM =
  /^(AES|DES|DES3|CDMF|CAMELLIA|ARIA|SEED|IDEA|CAST\d*|RC2|RC4|RC5|BLOWFISH|TWOFISH|CHACHA20|SALSA20|GOST28147)_|(^|_)(HMAC|MAC|CMAC|GMAC|XCBC_MAC|XCBC_MAC_96)(_GENERAL)?$/;

/** The secret-key operation mechanisms, built once from the constant names (key generation left out). */
const SECRET_KEY_MECHANISMS: ReadonlySet<number> = new Set(
  Object.entries(Mechanism)
    .filter(([name]) => SECRET_KEY_MECHANISM.test(name) && !/_KEY_GEN$/.test(name))
    .map(([, value]) => value),
);

/**
 * Throws a TypeError when `mechanism` is a public-key mechanism of another family than keys of
 * `keyType` belong to, or a secret-key mechanism and `keyType` a public-key type. An unknown key
 * type (undefined) or mechanism passes: the module decides.
 */
export function checkKeyForMechanism(keyType: number | undefined, mechanism: number): void {
  if (keyType !== undefined && PUBLIC_KEY_TYPES.has(keyType) && SECRET_KEY_MECHANISMS.has(mechanism))
    throw new TypeError(
      `${nameOf(Mechanism, mechanism)} works with secret keys, not ${nameOf(KeyType, keyType)}`,
    );
  const allowed = KEY_TYPES.get(mechanism);
  if (keyType === undefined || !allowed || allowed.includes(keyType)) return;
  const names = allowed.map((t) => nameOf(KeyType, t)).join(' or ');
  throw new TypeError(
    `${nameOf(Mechanism, mechanism)} works with ${names} keys, not ${nameOf(KeyType, keyType)}`,
  );
}
