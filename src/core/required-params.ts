/**
 * Mechanisms whose parameter the standard requires, and the shape it must have. A module handed
 * such a mechanism without its parameter, or with bytes of the wrong length, may read through a
 * NULL pointer or past the bytes given: NSS softokn 3.87 crashes the process on CKM_RC2_MAC,
 * CKM_SEED_MAC_GENERAL or CKM_AES_MAC_GENERAL without a parameter, and reads 16 bytes of IV from a
 * 3-byte CKM_AES_CBC_PAD parameter. So {@link checkParameter} refuses these before anything
 * reaches C, with a TypeError (missing, wrong kind) or a RangeError (wrong length) naming the
 * parameter.
 *
 * | shape | mechanisms | what is taken |
 * |---|---|---|
 * | IV | *_CBC, *_CBC_PAD, AES_OFB/CFB/CTS, DES_OFB/CFB | bytes, as long as the block |
 * | bytes | DH_PKCS_DERIVE (the peer's value), AES_GMAC, BLOWFISH/TWOFISH CBC | bytes, any length but 0 |
 * | CK_ULONG | *_MAC_GENERAL, *_HMAC_GENERAL, SSL3 MACs, RC2_ECB/MAC, EXTRACT_KEY_FROM_KEY, CONCATENATE_BASE_AND_KEY | a number, or its bytes |
 * | fixed struct | RC2_CBC(_PAD), RC2_MAC_GENERAL, RC5_ECB/MAC/MAC_GENERAL, SSL3/TLS_PRE_MASTER_KEY_GEN, TLS_MAC | its bytes, of its size |
 * | struct with pointers | PBE, PBKDF2, SSL3/TLS/TLS 1.2 derivations, HKDF, SP 800-108, AES_CCM, ChaCha20/Salsa20, ... | nothing: pkcs11-ts has no encoder for them, and raw bytes would be read as addresses |
 * | encoded here | OAEP, PSS, GCM, CTR, ECDH, X9.42 DH, *_ENCRYPT_DATA, CONCATENATE/XOR with data | the structured form (params.ts); raw bytes only where the struct has no pointers, of its size |
 *
 * Mechanisms not listed (vendor ones included) take whatever they are given, as before.
 */
import { ULONG_SIZE, layout } from '../sys/abi.js';
import { Mechanism } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';
import { hasStructuredParameter, rawStructSize, type MechanismParameter } from './params.js';
import { describeType } from './template.js';

/** What a mechanism's required parameter is. */
export type Requirement =
  | { readonly kind: 'bytes'; readonly length?: number }
  | { readonly kind: 'ulong' }
  | { readonly kind: 'struct'; readonly struct: string; readonly size: number }
  | { readonly kind: 'pointers'; readonly struct: string }
  | { readonly kind: 'encoded' };

const M = Mechanism;
const iv = (length: number): Requirement => ({ kind: 'bytes', length });
const ULONG: Requirement = { kind: 'ulong' };
const struct = (name: string, shape: { readonly size: number }): Requirement => ({
  kind: 'struct',
  struct: name,
  size: shape.size,
});
const pointers = (name: string): Requirement => ({ kind: 'pointers', struct: name });

const RC2_CBC = struct('CK_RC2_CBC_PARAMS', layout({ ulEffectiveBits: 'ulong', iv: 'bytes:8' }));
const RC5 = struct('CK_RC5_PARAMS', layout({ ulWordsize: 'ulong', ulRounds: 'ulong' }));
const VERSION = struct('CK_VERSION', layout({ major: 'byte', minor: 'byte' }));
const PBE = pointers('CK_PBE_PARAMS');

/** Every mechanism whose name ends in MAC_GENERAL takes CK_MAC_GENERAL_PARAMS, but RC2's and RC5's own. */
const MAC_GENERAL = Object.entries(Mechanism)
  .filter(([name]) => name.endsWith('MAC_GENERAL') && !/^RC[25]_/.test(name))
  .map(([, value]) => [value, ULONG] as const);

/** The table: mechanism to required parameter. */
export const REQUIRED_PARAMETERS: ReadonlyMap<number, Requirement> = new Map<number, Requirement>([
  ...[M.AES_CBC, M.AES_CBC_PAD, M.AES_OFB, M.AES_CFB1, M.AES_CFB8, M.AES_CFB64, M.AES_CFB128, M.AES_CTS].map(
    (m) => [m, iv(16)] as const,
  ),
  ...[M.CAMELLIA_CBC, M.CAMELLIA_CBC_PAD, M.ARIA_CBC, M.ARIA_CBC_PAD, M.SEED_CBC, M.SEED_CBC_PAD].map(
    (m) => [m, iv(16)] as const,
  ),
  ...[
    M.DES_CBC,
    M.DES_CBC_PAD,
    M.DES3_CBC,
    M.DES3_CBC_PAD,
    M.DES_OFB64,
    M.DES_OFB8,
    M.DES_CFB64,
    M.DES_CFB8,
  ].map((m) => [m, iv(8)] as const),
  ...[M.CDMF_CBC, M.CDMF_CBC_PAD, M.IDEA_CBC, M.IDEA_CBC_PAD, M.CAST_CBC, M.CAST_CBC_PAD].map(
    (m) => [m, iv(8)] as const,
  ),
  ...[M.CAST3_CBC, M.CAST3_CBC_PAD, M.CAST128_CBC, M.CAST128_CBC_PAD].map((m) => [m, iv(8)] as const),
  ...[M.DH_PKCS_DERIVE, M.AES_GMAC, M.BLOWFISH_CBC, M.BLOWFISH_CBC_PAD, M.TWOFISH_CBC, M.TWOFISH_CBC_PAD].map(
    (m) => [m, { kind: 'bytes' }] as const,
  ),
  ...MAC_GENERAL,
  ...[M.SSL3_MD5_MAC, M.SSL3_SHA1_MAC, M.RC2_ECB, M.RC2_MAC, M.EXTRACT_KEY_FROM_KEY].map(
    (m) => [m, ULONG] as const,
  ),
  [M.CONCATENATE_BASE_AND_KEY, ULONG],
  [M.RC2_CBC, RC2_CBC],
  [M.RC2_CBC_PAD, RC2_CBC],
  [M.RC2_MAC_GENERAL, struct('CK_RC2_MAC_GENERAL_PARAMS', layout({ bits: 'ulong', macLength: 'ulong' }))],
  [M.RC5_ECB, RC5],
  [M.RC5_MAC, RC5],
  [
    M.RC5_MAC_GENERAL,
    struct('CK_RC5_MAC_GENERAL_PARAMS', layout({ words: 'ulong', rounds: 'ulong', macLength: 'ulong' })),
  ],
  [M.SSL3_PRE_MASTER_KEY_GEN, VERSION],
  [M.TLS_PRE_MASTER_KEY_GEN, VERSION],
  [M.TLS_MAC, struct('CK_TLS_MAC_PARAMS', layout({ prf: 'ulong', macLength: 'ulong', side: 'ulong' }))],
  ...[
    M.PBE_MD2_DES_CBC,
    M.PBE_MD5_DES_CBC,
    M.PBE_MD5_CAST_CBC,
    M.PBE_MD5_CAST3_CBC,
    M.PBE_MD5_CAST128_CBC,
    M.PBE_SHA1_CAST128_CBC,
    M.PBE_SHA1_RC4_128,
    M.PBE_SHA1_RC4_40,
    M.PBE_SHA1_DES3_EDE_CBC,
    M.PBE_SHA1_DES2_EDE_CBC,
    M.PBE_SHA1_RC2_128_CBC,
    M.PBE_SHA1_RC2_40_CBC,
    M.PBA_SHA1_WITH_SHA1_HMAC,
  ].map((m) => [m, PBE] as const),
  [M.PKCS5_PBKD2, pointers('CK_PKCS5_PBKD2_PARAMS')],
  [M.SSL3_MASTER_KEY_DERIVE, pointers('CK_SSL3_MASTER_KEY_DERIVE_PARAMS')],
  [M.SSL3_MASTER_KEY_DERIVE_DH, pointers('CK_SSL3_MASTER_KEY_DERIVE_PARAMS')],
  [M.SSL3_KEY_AND_MAC_DERIVE, pointers('CK_SSL3_KEY_MAT_PARAMS')],
  [M.TLS_MASTER_KEY_DERIVE, pointers('CK_SSL3_MASTER_KEY_DERIVE_PARAMS')],
  [M.TLS_MASTER_KEY_DERIVE_DH, pointers('CK_SSL3_MASTER_KEY_DERIVE_PARAMS')],
  [M.TLS_KEY_AND_MAC_DERIVE, pointers('CK_SSL3_KEY_MAT_PARAMS')],
  [M.TLS_PRF, pointers('CK_TLS_PRF_PARAMS')],
  [M.TLS12_MASTER_KEY_DERIVE, pointers('CK_TLS12_MASTER_KEY_DERIVE_PARAMS')],
  [M.TLS12_MASTER_KEY_DERIVE_DH, pointers('CK_TLS12_MASTER_KEY_DERIVE_PARAMS')],
  [M.TLS12_KEY_AND_MAC_DERIVE, pointers('CK_TLS12_KEY_MAT_PARAMS')],
  [M.TLS12_KEY_SAFE_DERIVE, pointers('CK_TLS12_KEY_MAT_PARAMS')],
  [M.TLS12_KDF, pointers('CK_TLS_KDF_PARAMS')],
  [M.TLS_KDF, pointers('CK_TLS_KDF_PARAMS')],
  [M.WTLS_MASTER_KEY_DERIVE, pointers('CK_WTLS_MASTER_KEY_DERIVE_PARAMS')],
  [M.WTLS_MASTER_KEY_DERIVE_DH_ECC, pointers('CK_WTLS_MASTER_KEY_DERIVE_PARAMS')],
  [M.WTLS_PRF, pointers('CK_WTLS_PRF_PARAMS')],
  [M.WTLS_SERVER_KEY_AND_MAC_DERIVE, pointers('CK_WTLS_KEY_MAT_PARAMS')],
  [M.WTLS_CLIENT_KEY_AND_MAC_DERIVE, pointers('CK_WTLS_KEY_MAT_PARAMS')],
  [M.SP800_108_COUNTER_KDF, pointers('CK_SP800_108_KDF_PARAMS')],
  [M.SP800_108_FEEDBACK_KDF, pointers('CK_SP800_108_FEEDBACK_KDF_PARAMS')],
  [M.SP800_108_DOUBLE_PIPELINE_KDF, pointers('CK_SP800_108_KDF_PARAMS')],
  [M.HKDF_DERIVE, pointers('CK_HKDF_PARAMS')],
  [M.HKDF_DATA, pointers('CK_HKDF_PARAMS')],
  [M.AES_CCM, pointers('CK_CCM_PARAMS')],
  [M.CHACHA20, pointers('CK_CHACHA20_PARAMS')],
  [M.SALSA20, pointers('CK_SALSA20_PARAMS')],
  [M.CHACHA20_POLY1305, pointers('CK_SALSA20_CHACHA20_POLY1305_PARAMS')],
  [M.SALSA20_POLY1305, pointers('CK_SALSA20_CHACHA20_POLY1305_PARAMS')],
  [M.RC5_CBC, pointers('CK_RC5_CBC_PARAMS')],
  [M.RC5_CBC_PAD, pointers('CK_RC5_CBC_PARAMS')],
  [M.ECMQV_DERIVE, pointers('CK_ECMQV_DERIVE_PARAMS')],
  [M.X9_42_DH_HYBRID_DERIVE, pointers('CK_X9_42_DH2_DERIVE_PARAMS')],
  [M.X9_42_MQV_DERIVE, pointers('CK_X9_42_MQV_DERIVE_PARAMS')],
  [M.KEA_KEY_DERIVE, pointers('CK_KEA_DERIVE_PARAMS')],
  [M.KIP_DERIVE, pointers('CK_KIP_PARAMS')],
  [M.KIP_WRAP, pointers('CK_KIP_PARAMS')],
  [M.KIP_MAC, pointers('CK_KIP_PARAMS')],
  [M.CMS_SIG, pointers('CK_CMS_SIG_PARAMS')],
  [M.KEY_WRAP_SET_OAEP, pointers('CK_KEY_WRAP_SET_OAEP_PARAMS')],
  [M.RSA_AES_KEY_WRAP, pointers('CK_RSA_AES_KEY_WRAP_PARAMS')],
  [M.ECDH_AES_KEY_WRAP, pointers('CK_ECDH_AES_KEY_WRAP_PARAMS')],
  [M.GOSTR3410_DERIVE, pointers('CK_GOSTR3410_DERIVE_PARAMS')],
  [M.GOSTR3410_KEY_WRAP, pointers('CK_GOSTR3410_KEY_WRAP_PARAMS')],
  [M.CAMELLIA_CBC_ENCRYPT_DATA, pointers('CK_CAMELLIA_CBC_ENCRYPT_DATA_PARAMS')],
  [M.ARIA_CBC_ENCRYPT_DATA, pointers('CK_ARIA_CBC_ENCRYPT_DATA_PARAMS')],
  [M.SEED_CBC_ENCRYPT_DATA, pointers('CK_SEED_CBC_ENCRYPT_DATA_PARAMS')],
]);

/** What `mechanism` requires: the table's entry, or `encoded` for a struct this library encodes, except EdDSA's (optional). */
export function requiredParameter(mechanism: number): Requirement | undefined {
  const listed = REQUIRED_PARAMETERS.get(mechanism);
  if (listed) return listed;
  return hasStructuredParameter(mechanism) && mechanism !== M.EDDSA ? { kind: 'encoded' } : undefined;
}

/** A short description of what a requirement takes, for messages. */
function expected(requirement: Requirement): string {
  switch (requirement.kind) {
    case 'bytes':
      return requirement.length === undefined ? 'bytes' : `a ${requirement.length}-byte IV`;
    case 'ulong':
      return 'a CK_ULONG (a number, or its bytes)';
    case 'struct':
      return `${requirement.struct} as its ${requirement.size} bytes`;
    case 'pointers':
      return `${requirement.struct}, which holds pointers`;
    case 'encoded':
      return 'its structured form';
  }
}

/** Bytes of exactly `length` (when given), or the error naming `what`. */
function checkBytes(
  value: MechanismParameter,
  what: string,
  length: number | undefined,
  shape: string,
): void {
  if (!(value instanceof Uint8Array))
    throw new TypeError(`${what} must be ${shape}, got ${describeType(value)}`);
  if (length !== undefined && value.byteLength !== length)
    throw new RangeError(`${what} must be ${shape}, got ${value.byteLength} bytes`);
  if (value.byteLength === 0) throw new RangeError(`${what} must be ${shape}, got 0 bytes`);
}

/**
 * Throws unless `parameter` is what `mechanism` requires: a TypeError when it is missing or of the
 * wrong kind, a RangeError when its bytes have the wrong length. Mechanisms that require nothing
 * (vendor ones included) pass whatever they are given.
 *
 * @example
 * checkParameter(Mechanism.RC2_MAC, undefined);
 * // TypeError: parameter of CKM_RC2_MAC is required: a CK_ULONG (a number, or its bytes)
 * checkParameter(Mechanism.AES_CBC_PAD, new Uint8Array(3));
 * // RangeError: parameter of CKM_AES_CBC_PAD must be a 16-byte IV, got 3 bytes
 */
export function checkParameter(mechanism: number, parameter: MechanismParameter): void {
  const requirement = requiredParameter(mechanism);
  if (!requirement) return;
  const what = `parameter of ${nameOf(Mechanism, mechanism)}`;
  const shape = expected(requirement);
  if (requirement.kind === 'pointers')
    throw new TypeError(
      `${what} cannot be passed: pkcs11-ts has no encoder for ${shape}, and raw bytes would be read as addresses`,
    );
  if (parameter === undefined || parameter === null) throw new TypeError(`${what} is required: ${shape}`);
  switch (requirement.kind) {
    case 'bytes':
      return checkBytes(parameter, what, requirement.length, shape);
    case 'struct':
      return checkBytes(parameter, what, requirement.size, shape);
    case 'ulong':
      if (typeof parameter === 'number' || typeof parameter === 'bigint') return;
      return checkBytes(parameter, what, ULONG_SIZE, shape);
    case 'encoded': {
      const size = rawStructSize(mechanism);
      if (parameter instanceof Uint8Array && size !== undefined && parameter.byteLength !== size)
        throw new RangeError(`${what} given as raw bytes must be ${size} bytes, got ${parameter.byteLength}`);
    }
  }
}
