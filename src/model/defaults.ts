/**
 * pkcs11-ts's own defaults (not the standard's): which mechanism each kind of key uses when the
 * caller names none, and the attributes keys are created with. Private and secret keys are
 * SENSITIVE and not EXTRACTABLE unless the caller asks otherwise.
 *
 * The parameters those mechanisms get by default (OAEP SHA-1, PSS matching the hash) are in
 * mechanism-defaults.ts; IVs made when none is given are in iv.ts.
 */
import { Attribute, KeyType, Mechanism } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';
import { NotSupportedError } from '../core/errors.js';
import type { Template } from '../core/template.js';

/** The operations a key can be used for. */
export type KeyOperation = 'encrypt' | 'decrypt' | 'sign' | 'verify' | 'wrap' | 'unwrap' | 'derive';

type PerOperation = Partial<Record<KeyOperation, number>>;

const RSA: PerOperation = {
  encrypt: Mechanism.RSA_PKCS_OAEP,
  decrypt: Mechanism.RSA_PKCS_OAEP,
  sign: Mechanism.SHA256_RSA_PKCS,
  verify: Mechanism.SHA256_RSA_PKCS,
  wrap: Mechanism.RSA_PKCS_OAEP,
  unwrap: Mechanism.RSA_PKCS_OAEP,
};
const AES: PerOperation = {
  encrypt: Mechanism.AES_CBC_PAD,
  decrypt: Mechanism.AES_CBC_PAD,
  sign: Mechanism.AES_CMAC,
  verify: Mechanism.AES_CMAC,
  wrap: Mechanism.AES_KEY_WRAP,
  unwrap: Mechanism.AES_KEY_WRAP,
  derive: Mechanism.AES_ECB_ENCRYPT_DATA,
};
const DES3: PerOperation = {
  encrypt: Mechanism.DES3_CBC_PAD,
  decrypt: Mechanism.DES3_CBC_PAD,
  sign: Mechanism.DES3_MAC,
  verify: Mechanism.DES3_MAC,
  wrap: Mechanism.DES3_CBC_PAD,
  unwrap: Mechanism.DES3_CBC_PAD,
  derive: Mechanism.DES3_ECB_ENCRYPT_DATA,
};

/** Default mechanism per key type and operation. */
export const DEFAULT_MECHANISMS: ReadonlyMap<number, PerOperation> = new Map<number, PerOperation>([
  [KeyType.RSA, RSA],
  [KeyType.EC, { sign: Mechanism.ECDSA, verify: Mechanism.ECDSA, derive: Mechanism.ECDH1_DERIVE }],
  [KeyType.EC_EDWARDS, { sign: Mechanism.EDDSA, verify: Mechanism.EDDSA }],
  [KeyType.EC_MONTGOMERY, { derive: Mechanism.ECDH1_DERIVE }],
  [KeyType.DSA, { sign: Mechanism.DSA_SHA256, verify: Mechanism.DSA_SHA256 }],
  [KeyType.DH, { derive: Mechanism.DH_PKCS_DERIVE }],
  [KeyType.X9_42_DH, { derive: Mechanism.X9_42_DH_DERIVE }],
  [KeyType.AES, AES],
  [KeyType.DES3, DES3],
  [KeyType.GENERIC_SECRET, { sign: Mechanism.SHA256_HMAC, verify: Mechanism.SHA256_HMAC }],
]);

/** The default mechanism for `operation` with a key of `keyType`. */
export function defaultMechanism(keyType: number, operation: KeyOperation): number {
  const m = DEFAULT_MECHANISMS.get(keyType)?.[operation];
  if (m === undefined) {
    throw new NotSupportedError(
      `no default mechanism to ${operation} with a ${nameOf(KeyType, keyType)} key: pass options.mechanism`,
    );
  }
  return m;
}

/** Key (pair) generation mechanism per key type. */
export const KEY_GEN_MECHANISMS: ReadonlyMap<number, number> = new Map<number, number>([
  [KeyType.RSA, Mechanism.RSA_PKCS_KEY_PAIR_GEN],
  [KeyType.EC, Mechanism.EC_KEY_PAIR_GEN],
  [KeyType.EC_EDWARDS, Mechanism.EC_EDWARDS_KEY_PAIR_GEN],
  [KeyType.EC_MONTGOMERY, Mechanism.EC_MONTGOMERY_KEY_PAIR_GEN],
  [KeyType.DSA, Mechanism.DSA_KEY_PAIR_GEN],
  [KeyType.DH, Mechanism.DH_PKCS_KEY_PAIR_GEN],
  [KeyType.X9_42_DH, Mechanism.X9_42_DH_KEY_PAIR_GEN],
  [KeyType.AES, Mechanism.AES_KEY_GEN],
  [KeyType.DES2, Mechanism.DES2_KEY_GEN],
  [KeyType.DES3, Mechanism.DES3_KEY_GEN],
  [KeyType.GENERIC_SECRET, Mechanism.GENERIC_SECRET_KEY_GEN],
]);

/** Domain parameter generation mechanism per key type. */
export const PARAMETER_GEN_MECHANISMS: ReadonlyMap<number, number> = new Map<number, number>([
  [KeyType.DSA, Mechanism.DSA_PARAMETER_GEN],
  [KeyType.DH, Mechanism.DH_PKCS_PARAMETER_GEN],
  [KeyType.X9_42_DH, Mechanism.X9_42_DH_PARAMETER_GEN],
]);

/** The usage flags a new key gets unless the caller says otherwise. */
export const DEFAULT_CAPABILITIES: ReadonlyMap<number, readonly KeyOperation[]> = new Map<
  number,
  readonly KeyOperation[]
>([
  [KeyType.RSA, ['encrypt', 'decrypt', 'sign', 'verify', 'wrap', 'unwrap']],
  [KeyType.EC, ['sign', 'verify', 'derive']],
  [KeyType.EC_EDWARDS, ['sign', 'verify']],
  [KeyType.EC_MONTGOMERY, ['derive']],
  [KeyType.DSA, ['sign', 'verify']],
  [KeyType.DH, ['derive']],
  [KeyType.X9_42_DH, ['derive']],
  [KeyType.AES, ['encrypt', 'decrypt', 'sign', 'verify', 'wrap', 'unwrap', 'derive']],
  [KeyType.DES2, ['encrypt', 'decrypt', 'sign', 'verify', 'wrap', 'unwrap', 'derive']],
  [KeyType.DES3, ['encrypt', 'decrypt', 'sign', 'verify', 'wrap', 'unwrap', 'derive']],
  [KeyType.GENERIC_SECRET, ['sign', 'verify', 'derive']],
]);

/** The usage attribute of each operation (`CKA_ENCRYPT` for 'encrypt', ...). */
export const CAPABILITY_ATTRIBUTE: Readonly<Record<KeyOperation, number>> = {
  encrypt: Attribute.ENCRYPT,
  decrypt: Attribute.DECRYPT,
  sign: Attribute.SIGN,
  verify: Attribute.VERIFY,
  wrap: Attribute.WRAP,
  unwrap: Attribute.UNWRAP,
  derive: Attribute.DERIVE,
};

/** Every operation a key can be allowed, in the order of their attributes. */
export const KEY_OPERATIONS: readonly KeyOperation[] = [
  'encrypt',
  'decrypt',
  'sign',
  'verify',
  'wrap',
  'unwrap',
  'derive',
];

/** The usage attributes each kind of key object has (PKCS#11 3.1, sections 4.8 to 4.10). */
export const PART_OPERATIONS: Readonly<Record<'public' | 'private' | 'secret', readonly KeyOperation[]>> = {
  public: ['encrypt', 'verify', 'wrap'],
  private: ['decrypt', 'sign', 'unwrap', 'derive'],
  secret: KEY_OPERATIONS,
};

/**
 * The usage attributes for a key (or one half of a pair): TRUE for the capabilities given. With
 * `exact`, also FALSE for every other usage that kind of object has, so a token's own defaults
 * (SoftHSM2 turns every usage on) cannot widen what the key may do. `exact` is not the default
 * because some modules refuse explicit values they compute themselves (tpm2-pkcs11 fails key
 * generation with CKR_GENERAL_ERROR on a usage it sets otherwise).
 *
 * @example
 * capabilityTemplate(['sign'], 'private', { exact: true }); // { CKA_DECRYPT: false, CKA_SIGN: true, CKA_UNWRAP: false, CKA_DERIVE: false }
 */
export function capabilityTemplate(
  capabilities: readonly KeyOperation[],
  part: 'public' | 'private' | 'secret',
  options: { exact?: boolean } = {},
): Template {
  const ops = PART_OPERATIONS[part].filter((op) => options.exact || capabilities.includes(op));
  return Object.fromEntries(ops.map((op) => [CAPABILITY_ATTRIBUTE[op], capabilities.includes(op)]));
}

/** The attributes every new private or secret key gets first: kept inside the token. */
export const PROTECTED_KEY: Template = { [Attribute.SENSITIVE]: true, [Attribute.EXTRACTABLE]: false };
