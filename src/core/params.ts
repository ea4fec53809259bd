/**
 * Mechanism parameter structs. Each mechanism that takes a struct has an encoder here that checks
 * the caller's value and writes the C struct (and the buffers it points to) into the mechanism's
 * arena. Parameters may be given as an object with named fields or, as python-pkcs11 users write
 * them, as a tuple in the struct's order (`[KDF.NULL, null, peerPoint]` for ECDH).
 *
 * Mechanisms without an encoder take raw bytes (an IV, vendor parameters), a number (a CK_ULONG
 * parameter such as a MAC length), or nothing.
 */
import { ULONG_SIZE, layout, writeULong } from '../sys/abi.js';
import { Mechanism } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';
import type { Arena } from './arena.js';
import { writeStruct } from './struct.js';
import { checkULong, describeType } from './template.js';

/** RSA OAEP: hash, MGF, optional label (`CKZ_DATA_SPECIFIED` source). */
export interface OaepParams {
  readonly hashAlg: number;
  readonly mgf: number;
  readonly sourceData?: Uint8Array | null;
}
/** RSA PSS: hash, MGF, salt length in bytes. */
export interface PssParams {
  readonly hashAlg: number;
  readonly mgf: number;
  readonly saltLength: number;
}
/** AES-GCM: IV, additional authenticated data, tag length in bits. */
export interface GcmParams {
  readonly iv: Uint8Array;
  readonly aad?: Uint8Array | null;
  readonly tagBits?: number;
}
/** AES-CTR: how many bits of the 16-byte counter block increment, and the initial block. */
export interface CtrParams {
  readonly counterBits: number;
  readonly counterBlock: Uint8Array;
}
/** ECDH1 / ECDH1 cofactor derive: KDF, optional shared data, the peer's public point. */
export interface EcdhParams {
  readonly kdf: number;
  readonly sharedData?: Uint8Array | null;
  readonly publicData: Uint8Array;
}
/** X9.42 DH derive: KDF, optional other info, the peer's public value. */
export interface X942DhParams {
  readonly kdf: number;
  readonly otherInfo?: Uint8Array | null;
  readonly publicData: Uint8Array;
}
/** EdDSA: prehash flag and optional context (Ed25519ctx/ph, Ed448). */
export interface EddsaParams {
  readonly phFlag: boolean;
  readonly contextData?: Uint8Array | null;
}
/** *_CBC_ENCRYPT_DATA key derivation: IV and the data to encrypt. */
export interface CbcEncryptDataParams {
  readonly iv: Uint8Array;
  readonly data: Uint8Array;
}

/** Every structured parameter the library knows how to encode. */
export type StructuredParam =
  | OaepParams
  | PssParams
  | GcmParams
  | CtrParams
  | EcdhParams
  | X942DhParams
  | EddsaParams
  | CbcEncryptDataParams;

/** What may be passed as a mechanism's parameter. */
export type MechanismParameter =
  Uint8Array | number | bigint | null | undefined | StructuredParam | readonly unknown[];

const OAEP = layout({
  hashAlg: 'ulong',
  mgf: 'ulong',
  source: 'ulong',
  pSourceData: 'pointer',
  ulSourceDataLen: 'ulong',
});
const PSS = layout({ hashAlg: 'ulong', mgf: 'ulong', sLen: 'ulong' });
const GCM = layout({
  pIv: 'pointer',
  ulIvLen: 'ulong',
  ulIvBits: 'ulong',
  pAAD: 'pointer',
  ulAADLen: 'ulong',
  ulTagBits: 'ulong',
});
const CTR = layout({ ulCounterBits: 'ulong', cb: 'bytes:16' });
const ECDH1 = layout({
  kdf: 'ulong',
  ulSharedDataLen: 'ulong',
  pSharedData: 'pointer',
  ulPublicDataLen: 'ulong',
  pPublicData: 'pointer',
});
const X9_42_DH1 = layout({
  kdf: 'ulong',
  ulOtherInfoLen: 'ulong',
  pOtherInfo: 'pointer',
  ulPublicDataLen: 'ulong',
  pPublicData: 'pointer',
});
const EDDSA = layout({ phFlag: 'byte', ulContextDataLen: 'ulong', pContextData: 'pointer' });
const STRING_DATA = layout({ pData: 'pointer', ulLen: 'ulong' });
const AES_CBC_DATA = layout({ iv: 'bytes:16', pData: 'pointer', length: 'ulong' });
const DES_CBC_DATA = layout({ iv: 'bytes:8', pData: 'pointer', length: 'ulong' });
/** CKZ_DATA_SPECIFIED: the OAEP label comes from pSourceData. */
const CKZ_DATA_SPECIFIED = 1;

type Fields = Record<string, unknown>;
type Encoder = (arena: Arena, param: unknown, what: string) => [offset: number, length: number];
type Shape = { readonly size: number; readonly fields: Readonly<Record<string, { readonly kind: string }>> };

/** Accepts the struct as an object or as a tuple in `order`; returns an object keyed by field name. */
function fieldsOf(param: unknown, order: readonly string[], what: string): Fields {
  if (Array.isArray(param)) {
    if (param.length > order.length)
      throw new RangeError(`${what} takes at most ${order.length} items (${order.join(', ')})`);
    return Object.fromEntries(order.map((k, i) => [k, param[i]]));
  }
  if (param !== null && typeof param === 'object' && !(param instanceof Uint8Array)) return param as Fields;
  throw new TypeError(
    `${what} must be an object { ${order.join(', ')} } or a tuple, got ${describeType(param)}`,
  );
}

function bytes(
  value: unknown,
  what: string,
  opts: { optional?: boolean; length?: number } = {},
): Uint8Array | null {
  if ((value === null || value === undefined) && opts.optional) return null;
  if (!(value instanceof Uint8Array))
    throw new TypeError(`${what} must be a Uint8Array, got ${describeType(value)}`);
  if (opts.length !== undefined && value.byteLength !== opts.length) {
    throw new RangeError(`${what} must be ${opts.length} bytes, got ${value.byteLength}`);
  }
  return value;
}

const len = (b: Uint8Array | null): number => b?.byteLength ?? 0;

/** The field order of each struct encoder, so a tuple can be read by name outside this file too. */
const FIELD_ORDER = new Map<Encoder, readonly string[]>();
/** The size of each struct encoder's C struct. */
const STRUCT_SIZE = new Map<Encoder, number>();

/**
 * The encoders whose struct holds pointers. Raw bytes given for such a parameter would make the
 * module follow whatever addresses the bytes spell (a crash), so those bytes go to the encoder.
 */
const HOLDS_POINTERS = new Set<Encoder>();

/** Builds an encoder from the struct's shape, its field order and a function that writes the validated fields. */
function encoder(
  shape: Shape,
  order: readonly string[],
  write: (arena: Arena, f: Fields, what: string) => number,
): Encoder {
  const encode: Encoder = (arena, param, what) => [
    write(arena, fieldsOf(param, order, what), what),
    shape.size,
  ];
  FIELD_ORDER.set(encode, order);
  STRUCT_SIZE.set(encode, shape.size);
  if (Object.values(shape.fields).some((field) => field.kind === 'pointer')) HOLDS_POINTERS.add(encode);
  return encode;
}

const oaep = encoder(OAEP, ['hashAlg', 'mgf', 'sourceData'], (arena, f, what) => {
  const source = bytes(f.sourceData, `${what}.sourceData`, { optional: true });
  return writeStruct(arena, OAEP, {
    hashAlg: checkULong(f.hashAlg, `${what}.hashAlg`),
    mgf: checkULong(f.mgf, `${what}.mgf`),
    source: CKZ_DATA_SPECIFIED,
    pSourceData: source,
    ulSourceDataLen: len(source),
  });
});

const pss = encoder(PSS, ['hashAlg', 'mgf', 'saltLength'], (arena, f, what) =>
  writeStruct(arena, PSS, {
    hashAlg: checkULong(f.hashAlg, `${what}.hashAlg`),
    mgf: checkULong(f.mgf, `${what}.mgf`),
    sLen: checkULong(f.saltLength, `${what}.saltLength`),
  }),
);

const gcm = encoder(GCM, ['iv', 'aad', 'tagBits'], (arena, f, what) => {
  const iv = bytes(f.iv, `${what}.iv`);
  const aad = bytes(f.aad, `${what}.aad`, { optional: true });
  const tagBits = checkULong(f.tagBits ?? 128, `${what}.tagBits`);
  return writeStruct(arena, GCM, {
    pIv: iv,
    ulIvLen: len(iv),
    ulIvBits: len(iv) * 8,
    pAAD: aad,
    ulAADLen: len(aad),
    ulTagBits: tagBits,
  });
});

const ctr = encoder(CTR, ['counterBits', 'counterBlock'], (arena, f, what) => {
  const bits = checkULong(f.counterBits, `${what}.counterBits`);
  if (Number(bits) < 1 || Number(bits) > 128)
    throw new RangeError(`${what}.counterBits must be within 1..128`);
  return writeStruct(arena, CTR, {
    ulCounterBits: bits,
    cb: bytes(f.counterBlock, `${what}.counterBlock`, { length: 16 }),
  });
});

function derive(shape: typeof ECDH1 | typeof X9_42_DH1, extra: 'sharedData' | 'otherInfo'): Encoder {
  return encoder(shape, ['kdf', extra, 'publicData'], (arena, f, what) => {
    const data = bytes(f[extra], `${what}.${extra}`, { optional: true });
    const pub = bytes(f.publicData, `${what}.publicData`);
    const values =
      extra === 'sharedData'
        ? { ulSharedDataLen: len(data), pSharedData: data }
        : { ulOtherInfoLen: len(data), pOtherInfo: data };
    return writeStruct(arena, shape as typeof ECDH1, {
      kdf: checkULong(f.kdf, `${what}.kdf`),
      ...(values as object),
      ulPublicDataLen: len(pub),
      pPublicData: pub,
    });
  });
}

const eddsa = encoder(EDDSA, ['phFlag', 'contextData'], (arena, f, what) => {
  if (typeof f.phFlag !== 'boolean') throw new TypeError(`${what}.phFlag must be a boolean`);
  const ctx = bytes(f.contextData, `${what}.contextData`, { optional: true });
  return writeStruct(arena, EDDSA, {
    phFlag: f.phFlag ? 1 : 0,
    ulContextDataLen: len(ctx),
    pContextData: ctx,
  });
});

function cbcEncryptData(shape: typeof AES_CBC_DATA | typeof DES_CBC_DATA, ivLength: number): Encoder {
  return encoder(shape, ['iv', 'data'], (arena, f, what) => {
    const data = bytes(f.data, `${what}.data`);
    return writeStruct(arena, shape as typeof AES_CBC_DATA, {
      iv: bytes(f.iv, `${what}.iv`, { length: ivLength }),
      pData: data,
      length: len(data),
    });
  });
}

/** CK_KEY_DERIVATION_STRING_DATA from plain bytes (ECB_ENCRYPT_DATA and the *_AND_BASE / *_AND_DATA family). */
const stringData: Encoder = (arena, param, what) => {
  const data = bytes(param, what);
  return [writeStruct(arena, STRING_DATA, { pData: data, ulLen: len(data) }), STRING_DATA.size];
};
HOLDS_POINTERS.add(stringData);

const ENCODERS = new Map<number, Encoder>([
  [Mechanism.RSA_PKCS_OAEP, oaep],
  ...[
    Mechanism.RSA_PKCS_PSS,
    Mechanism.SHA1_RSA_PKCS_PSS,
    Mechanism.SHA224_RSA_PKCS_PSS,
    Mechanism.SHA256_RSA_PKCS_PSS,
    Mechanism.SHA384_RSA_PKCS_PSS,
    Mechanism.SHA512_RSA_PKCS_PSS,
    Mechanism.SHA3_224_RSA_PKCS_PSS,
    Mechanism.SHA3_256_RSA_PKCS_PSS,
    Mechanism.SHA3_384_RSA_PKCS_PSS,
    Mechanism.SHA3_512_RSA_PKCS_PSS,
  ].map((m) => [m, pss] as const),
  [Mechanism.AES_GCM, gcm],
  [Mechanism.AES_CTR, ctr],
  [Mechanism.ECDH1_DERIVE, derive(ECDH1, 'sharedData')],
  [Mechanism.ECDH1_COFACTOR_DERIVE, derive(ECDH1, 'sharedData')],
  [Mechanism.X9_42_DH_DERIVE, derive(X9_42_DH1, 'otherInfo')],
  [Mechanism.EDDSA, eddsa],
  [Mechanism.AES_CBC_ENCRYPT_DATA, cbcEncryptData(AES_CBC_DATA, 16)],
  [Mechanism.DES_CBC_ENCRYPT_DATA, cbcEncryptData(DES_CBC_DATA, 8)],
  [Mechanism.DES3_CBC_ENCRYPT_DATA, cbcEncryptData(DES_CBC_DATA, 8)],
  ...[
    Mechanism.AES_ECB_ENCRYPT_DATA,
    Mechanism.DES_ECB_ENCRYPT_DATA,
    Mechanism.DES3_ECB_ENCRYPT_DATA,
    Mechanism.CONCATENATE_DATA_AND_BASE,
    Mechanism.CONCATENATE_BASE_AND_DATA,
    Mechanism.XOR_BASE_AND_DATA,
  ].map((m) => [m, stringData] as const),
]);

/** Whether the library has a struct encoder for this mechanism's parameter. */
export function hasStructuredParameter(mechanism: number): boolean {
  return ENCODERS.has(mechanism);
}

/**
 * The size of the C struct a mechanism's parameter is, when the library encodes it and may also
 * take it as raw bytes (a struct without pointers, such as CK_RSA_PKCS_PSS_PARAMS); undefined
 * otherwise. Raw bytes of any other length would make the module read past them.
 */
export function rawStructSize(mechanism: number): number | undefined {
  const encode = ENCODERS.get(mechanism);
  return encode && !HOLDS_POINTERS.has(encode) ? STRUCT_SIZE.get(encode) : undefined;
}

/**
 * The fields of a structured parameter by name, whether the caller wrote it as an object or as a
 * tuple in the struct's order; `undefined` when the mechanism has no struct encoder or `param` is
 * not a struct (nothing, raw bytes, a number). Lets the model fill in defaults (an IV, a hash)
 * without caring which form was used.
 *
 * @example
 * parameterFields(Mechanism.ECDH1_DERIVE, [KDF.NULL, null, point]); // { kdf: 1, sharedData: null, publicData: point }
 */
export function parameterFields(
  mechanism: number,
  param: unknown,
): Readonly<Record<string, unknown>> | undefined {
  const encode = ENCODERS.get(mechanism);
  const order = encode && FIELD_ORDER.get(encode);
  if (!order || param === null || typeof param !== 'object' || param instanceof Uint8Array) return undefined;
  return fieldsOf(param, order, `parameter of ${nameOf(Mechanism, mechanism)}`);
}

/**
 * Writes a mechanism's parameter into `arena` and returns `[offset, length]`, or `null` for no
 * parameter. Raw bytes pass through unchanged (for any mechanism, vendor ones included), except
 * where the struct holds pointers: there the encoder takes them (the data of
 * CK_KEY_DERIVATION_STRING_DATA) or refuses them with a TypeError.
 */
export function encodeParameter(
  arena: Arena,
  mechanism: number,
  param: MechanismParameter,
): [number, number] | null {
  const what = `parameter of ${nameOf(Mechanism, mechanism)}`;
  if (param === undefined || param === null) return null;
  const encode = ENCODERS.get(mechanism);
  if (param instanceof Uint8Array && !(encode && HOLDS_POINTERS.has(encode)))
    return [arena.bytes(param), param.byteLength];
  if (encode) return encode(arena, param, what);
  if (typeof param === 'number' || typeof param === 'bigint') {
    const value = Buffer.alloc(ULONG_SIZE);
    writeULong(value, 0, checkULong(param, what));
    return [arena.bytes(value), ULONG_SIZE];
  }
  throw new TypeError(
    `${what} must be a Uint8Array or a number (no struct encoder is known for it), got ${describeType(param)}`,
  );
}
