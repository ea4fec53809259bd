/**
 * Which key types the standard's public-key mechanisms work with, checked before an operation
 * starts. Pairing a key with a mechanism of another family is the caller's mistake: it is reported
 * as a TypeError naming both, instead of being left to the module, and not every module checks
 * (SoftHSM2 2.6.1 accepts C_SignInit with CKM_DSA or CKM_RSA_X_509 and an EC key, then crashes the
 * process in C_Sign). Secret-key and vendor mechanisms are left to the module.
 *
 * @example
 * checkKeyForMechanism(KeyType.EC, Mechanism.DSA_SHA256);
 * // TypeError: CKM_DSA_SHA256 works with CKK_DSA keys, not CKK_EC
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

/**
 * Throws a TypeError when `mechanism` is a public-key mechanism of another family than keys of
 * `keyType` belong to. An unknown key type (undefined) or mechanism passes: the module decides.
 */
export function checkKeyForMechanism(keyType: number | undefined, mechanism: number): void {
  const allowed = KEY_TYPES.get(mechanism);
  if (keyType === undefined || !allowed || allowed.includes(keyType)) return;
  const names = allowed.map((t) => nameOf(KeyType, t)).join(' or ');
  throw new TypeError(
    `${nameOf(Mechanism, mechanism)} works with ${names} keys, not ${nameOf(KeyType, keyType)}`,
  );
}
