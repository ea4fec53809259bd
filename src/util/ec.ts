/**
 * Elliptic-curve keys and signatures between PKCS#11 attributes and their interchange encodings:
 * SubjectPublicKeyInfo (RFC 5480, and RFC 8410 for Ed25519/Ed448/X25519/X448), SEC1 and PKCS#8
 * private keys, EC points raw or DER-wrapped, and ECDSA signatures raw (r||s) or DER.
 * Curve names and CKA_EC_PARAMS live in `curves.ts`.
 */
import { ECPrivateKey, id_ecPublicKey } from '@peculiar/asn1-ecc';
import { PrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { Attribute, KeyType, ObjectClass } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';
import {
  type CurveInfo,
  curveByOid,
  encodeNamedCurveParameters,
  listCurves,
  lookupCurve,
  readNamedCurve,
} from './curves.js';
import {
  DerError,
  Tag,
  encodeTlv,
  equalBytes,
  parseDer,
  readDer,
  readPrimitive,
  requireUint8Array,
  serializeDer,
  stripLeadingZeros,
} from './der.js';
import { derToRawSignature, rawToDerSignature, requireSize } from './signature.js';
import { type KeySource, checkKeyType, readAttributes, requireBytes } from './source.js';
import { type SpkiParts, encodeSpki, parseSpki } from './spki.js';

const EC_KEY_TYPES = [KeyType.EC, KeyType.EC_EDWARDS, KeyType.EC_MONTGOMERY];

/**
 * A raw EC point wrapped in a DER OCTET STRING, the form CKA_EC_POINT takes on most tokens
 * (SoftHSM, NSS, tpm2-pkcs11) and that PKCS#11 specifies.
 *
 * @example
 * ```ts
 * encodeEcPoint(rawPoint); // 04 41 04 <X> <Y> for a P-256 point
 * ```
 */
export function encodeEcPoint(raw: Uint8Array): Uint8Array {
  requireUint8Array(raw, 'encodeEcPoint: raw');
  if (raw.length === 0) throw new RangeError('encodeEcPoint: raw must not be empty');
  return encodeTlv(Tag.OCTET_STRING, raw);
}

/**
 * The raw point (04||X||Y, 02/03||X, or the RFC 8032/7748 key bytes) of a CKA_EC_POINT value that
 * may be raw or DER-wrapped. With `curve` (a name, dotted OID or EC_PARAMS bytes) the lengths
 * decide exactly. Without it, the value must fit some known curve one way only: a few small
 * curves have raw points that also read as a wrapped point of another curve, and those are refused
 * with a TypeError asking for the curve rather than guessed. A wrapped point of 128 bytes or more
 * whose length was written in the short form (`04 85 04 ...` for P-521, one byte short of
 * `04 81 85 04 ...`: tpm2-pkcs11 1.9 does this) is read too, as its bytes can mean nothing else.
 *
 * @example
 * ```ts
 * decodeEcPoint(await pub.get(Attribute.EC_POINT), await pub.get(Attribute.EC_PARAMS));
 * ```
 */
export function decodeEcPoint(point: Uint8Array, curve?: string | Uint8Array): Uint8Array {
  const where = 'decodeEcPoint: point';
  requireUint8Array(point, where);
  const info = curve === undefined ? undefined : lookupCurve(curve, 'decodeEcPoint: curve');
  return Uint8Array.from(rawPoint(point, info, where));
}

/** See `decodeEcPoint`; `curve` undefined means any known curve. */
function rawPoint(point: Uint8Array, curve: CurveInfo | undefined, where: string): Uint8Array {
  const fits = (bytes: Uint8Array) =>
    curve === undefined ? listCurves().some((c) => fitsCurve(bytes, c)) : fitsCurve(bytes, curve);
  const wrapped = octetStringContent(point) ?? shortFormContent(point);
  const asRaw = fits(point);
  const asWrapped = wrapped !== undefined && fits(wrapped);
  if (asRaw && asWrapped) {
    throw new TypeError(`${where} reads both as a raw and as a DER-wrapped point; give the curve`);
  }
  if (asWrapped) return wrapped;
  if (asRaw) return point;
  const what = curve === undefined ? 'a point of a known curve' : `a ${curve.name} point`;
  throw new TypeError(`${where} is not ${what}, raw or DER-wrapped (${point.length} bytes)`);
}

/** The contents of `bytes` if it is exactly one DER OCTET STRING, else `undefined`. */
function octetStringContent(bytes: Uint8Array): Uint8Array | undefined {
  try {
    return readPrimitive(bytes, Tag.OCTET_STRING, '', '');
  } catch (e) {
    if (e instanceof DerError) return undefined;
    throw e;
  }
}

/**
 * The contents of an OCTET STRING of 128 bytes or more whose length was written in the short form,
 * which DER keeps for lengths below 128 (`04 85 <133 bytes>` where DER has `04 81 85 <133 bytes>`),
 * else `undefined`. Such a length byte cannot be read as DER at all, so no valid encoding, raw or
 * wrapped, is ever taken for one.
 */
function shortFormContent(bytes: Uint8Array): Uint8Array | undefined {
  const length = bytes[1] ?? 0;
  const misencoded = bytes[0] === Tag.OCTET_STRING && length >= 0x80 && length === bytes.length - 2;
  return misencoded ? bytes.subarray(2) : undefined;
}

/** Whether `bytes` has the exact length and prefix of a public key on `curve`. */
function fitsCurve(bytes: Uint8Array, curve: CurveInfo): boolean {
  if (curve.keyType !== KeyType.EC) return bytes.length === curve.pointSize;
  const prefix = bytes[0];
  if (prefix === 0x04) return bytes.length === curve.pointSize;
  return (prefix === 0x02 || prefix === 0x03) && bytes.length === 1 + curve.fieldSize;
}

/**
 * The SubjectPublicKeyInfo (DER) of an EC key, read from a token object or a template with
 * CKA_EC_PARAMS (a named curve) and CKA_EC_POINT (raw or DER-wrapped; on a curve this library does
 * not know, a value that parses as an OCTET STRING is taken as wrapped). EC_EDWARDS and
 * EC_MONTGOMERY keys give the RFC 8410 form (algorithm Ed25519/Ed448/X25519/X448, no parameters).
 * Loads in node:crypto (`createPublicKey({ key, format: 'der', type: 'spki' })`) and OpenSSL.
 *
 * @example
 * ```ts
 * const spki = await encodeEcPublicKey(ecPub);
 * crypto.verify('sha256', data, { key: spki, format: 'der', type: 'spki', dsaEncoding: 'ieee-p1363' }, sig);
 * ```
 */
export async function encodeEcPublicKey(key: KeySource): Promise<Uint8Array> {
  const fn = 'encodeEcPublicKey';
  const values = await readAttributes(key, [Attribute.KEY_TYPE, Attribute.EC_PARAMS, Attribute.EC_POINT], fn);
  const keyType = checkKeyType(values, EC_KEY_TYPES, fn);
  const params = requireBytes(values, Attribute.EC_PARAMS, fn);
  const { oid } = readNamedCurve(params, `${fn}: EC_PARAMS`);
  const curve = curveByOid(oid);
  const family = curve?.keyType ?? keyType ?? KeyType.EC;
  if (keyType !== undefined && keyType !== family) {
    throw new TypeError(`${fn}: a ${nameOf(KeyType, keyType)} key cannot be on curve ${curve!.name}`);
  }
  const point = requireBytes(values, Attribute.EC_POINT, fn);
  // On a curve this library does not know, sizes cannot decide: take the PKCS#11 form (DER) if it parses.
  const publicKey =
    curve === undefined ? (octetStringContent(point) ?? point) : rawPoint(point, curve, `${fn}: EC_POINT`);
  return family === KeyType.EC
    ? encodeSpki({ algorithm: id_ecPublicKey, parameters: params, publicKey })
    : encodeSpki({ algorithm: oid, parameters: undefined, publicKey });
}

/** Options of `decodeEcPublicKey`. */
export interface DecodeEcPublicKeyOptions {
  /**
   * `true` (default): CKA_EC_POINT as a DER OCTET STRING, the attribute's form in PKCS#11.
   * `false`: the raw point, as ECDH1_DERIVE takes the peer's public data on OpenSC and others.
   */
  readonly encodeEcPoint?: boolean;
}

/**
 * A public-key template from a DER SubjectPublicKeyInfo of an EC key (id-ecPublicKey with a named
 * curve) or of an RFC 8410 key (Ed25519, Ed448 as EC_EDWARDS; X25519, X448 as EC_MONTGOMERY):
 * CLASS, KEY_TYPE, EC_PARAMS (an OID) and EC_POINT.
 *
 * @example
 * ```ts
 * // the peer's point for ECDH, raw as OpenSC wants it
 * const point = decodeEcPublicKey(bobSpki, { encodeEcPoint: false })[Attribute.EC_POINT];
 * ```
 */
export function decodeEcPublicKey(
  spki: Uint8Array,
  options: DecodeEcPublicKeyOptions = {},
): Record<number, unknown> {
  const where = 'decodeEcPublicKey: spki';
  requireUint8Array(spki, where);
  const wrap = options.encodeEcPoint ?? true;
  if (typeof wrap !== 'boolean')
    throw new TypeError('decodeEcPublicKey: options.encodeEcPoint must be a boolean');
  return ecPublicKeyTemplate(parseSpki(spki, where), wrap, where);
}

/** The EC public-key template of SubjectPublicKeyInfo parts (shared with `decodeX509PublicKey`). */
export function ecPublicKeyTemplate(parts: SpkiParts, wrap: boolean, where: string): Record<number, unknown> {
  let keyType: number;
  let params: Uint8Array;
  let curve: CurveInfo | undefined;
  if (parts.algorithm === id_ecPublicKey) {
    if (parts.parameters === undefined)
      throw new DerError(`${where}: id-ecPublicKey without curve parameters`);
    keyType = KeyType.EC;
    params = parts.parameters;
    curve = curveByOid(readNamedCurve(params, `${where} curve parameters`).oid);
  } else {
    curve = curveByOid(parts.algorithm);
    if (curve === undefined || curve.keyType === KeyType.EC) {
      throw new RangeError(`${where}: algorithm ${parts.algorithm} is not an elliptic-curve key`);
    }
    if (parts.parameters !== undefined)
      throw new DerError(`${where}: ${curve.name} keys take no algorithm parameters`);
    keyType = curve.keyType;
    params = encodeNamedCurveParameters(curve.oid!);
  }
  if (curve !== undefined && !fitsCurve(parts.publicKey, curve)) {
    throw new DerError(`${where}: the public key is not a ${curve.name} point`);
  }
  return {
    [Attribute.CLASS]: ObjectClass.PUBLIC_KEY,
    [Attribute.KEY_TYPE]: keyType,
    [Attribute.EC_PARAMS]: params,
    [Attribute.EC_POINT]: wrap ? encodeEcPoint(parts.publicKey) : Uint8Array.from(parts.publicKey),
  };
}

/**
 * A private-key template from DER: SEC1 ECPrivateKey (`openssl ec -outform DER`, node's
 * `type: 'sec1'`) or PKCS#8 PrivateKeyInfo holding one, or an RFC 8410 PKCS#8 key (Ed25519, Ed448,
 * X25519, X448). Gives CLASS, KEY_TYPE, EC_PARAMS and VALUE: the private scalar d as a big integer
 * for EC keys, the RFC 8032/7748 key bytes for the others. Any public key embedded in the input is
 * not returned (CKA_EC_POINT is not a private-key attribute).
 *
 * @example
 * ```ts
 * const template = decodeEcPrivateKey(keyObject.export({ format: 'der', type: 'pkcs8' }));
 * await session.createObject({ ...template, [Attribute.TOKEN]: true, [Attribute.SIGN]: true });
 * ```
 */
export function decodeEcPrivateKey(der: Uint8Array): Record<number, unknown> {
  const where = 'decodeEcPrivateKey: der';
  requireUint8Array(der, where);
  const node = readDer(der, where);
  const second = node.children[1];
  if (node.tag !== Tag.SEQUENCE || second === undefined) {
    throw new DerError(`${where} is not a SEC1 ECPrivateKey or a PKCS#8 PrivateKeyInfo`);
  }
  return second.tag === Tag.SEQUENCE ? fromPkcs8(der, where) : fromSec1(der, undefined, where);
}

function fromPkcs8(der: Uint8Array, where: string): Record<number, unknown> {
  const info = parseDer(der, PrivateKeyInfo, where, 'PKCS#8 PrivateKeyInfo');
  const { algorithm, parameters } = info.privateKeyAlgorithm;
  const inner = new Uint8Array(info.privateKey.buffer);
  if (algorithm === id_ecPublicKey) {
    if (parameters === undefined || parameters === null) {
      throw new DerError(`${where}: id-ecPublicKey without curve parameters`);
    }
    return fromSec1(inner, new Uint8Array(parameters), `${where} (inner ECPrivateKey)`);
  }
  const curve = curveByOid(algorithm);
  if (curve === undefined || curve.keyType === KeyType.EC) {
    throw new RangeError(`${where}: PKCS#8 algorithm ${algorithm} is not an elliptic-curve key`);
  }
  if (parameters !== undefined)
    throw new DerError(`${where}: ${curve.name} keys take no algorithm parameters`);
  const value = readPrimitive(inner, Tag.OCTET_STRING, `${where} (inner CurvePrivateKey)`, 'an OCTET STRING');
  if (value.length !== curve.pointSize) {
    throw new DerError(
      `${where}: a ${curve.name} private key has ${curve.pointSize} bytes, not ${value.length}`,
    );
  }
  return privateTemplate(curve.keyType, encodeNamedCurveParameters(curve.oid!), Uint8Array.from(value));
}

function fromSec1(
  der: Uint8Array,
  outerParams: Uint8Array | undefined,
  where: string,
): Record<number, unknown> {
  const key = parseDer(der, ECPrivateKey, where, 'SEC1 ECPrivateKey');
  if (key.version !== 1) throw new DerError(`${where}: ECPrivateKey version must be 1, got ${key.version}`);
  const innerParams = key.parameters === undefined ? undefined : serializeDer(key.parameters);
  if (innerParams !== undefined && outerParams !== undefined && !equalBytes(innerParams, outerParams)) {
    throw new DerError(`${where}: the curve inside the ECPrivateKey differs from the PKCS#8 algorithm's`);
  }
  const params = innerParams ?? outerParams;
  if (params === undefined) throw new TypeError(`${where}: the ECPrivateKey does not name its curve`);
  const curve = curveByOid(readNamedCurve(params, `${where} curve parameters`).oid);
  const d = new Uint8Array(key.privateKey.buffer);
  if (d.length === 0 || (curve !== undefined && d.length > curve.orderSize)) {
    throw new DerError(
      `${where}: the private key has ${d.length} bytes, not a ${curve?.name ?? 'curve'} scalar`,
    );
  }
  return privateTemplate(KeyType.EC, params, Uint8Array.from(stripLeadingZeros(d)));
}

function privateTemplate(keyType: number, params: Uint8Array, value: Uint8Array): Record<number, unknown> {
  return {
    [Attribute.CLASS]: ObjectClass.PRIVATE_KEY,
    [Attribute.KEY_TYPE]: keyType,
    [Attribute.EC_PARAMS]: params,
    [Attribute.VALUE]: value,
  };
}

/**
 * The DER ECDSA-Sig-Value (what node:crypto, OpenSSL and X.509 use) of a raw PKCS#11 ECDSA
 * signature r||s, split in halves.
 *
 * @example
 * ```ts
 * const derSig = encodeEcdsaSignature(await ecPriv.sign(data, { mechanism: Mechanism.ECDSA_SHA1 }));
 * crypto.verify('sha1', data, publicKeyObject, derSig); // true
 * ```
 */
export function encodeEcdsaSignature(signature: Uint8Array): Uint8Array {
  return rawToDerSignature(signature, 'encodeEcdsaSignature: signature');
}

/**
 * The raw r||s (what PKCS#11 ECDSA verification takes) of a DER ECDSA signature, r and s each
 * left-padded to the size of the curve's group order. `curve` is required: a curve name, dotted
 * OID or EC_PARAMS bytes, or the size in bytes of r (half the raw signature). The DER alone cannot
 * tell it, since r or s may be shorter by chance.
 *
 * @example
 * ```ts
 * const raw = decodeEcdsaSignature(crypto.sign('sha256', data, nodeKey), 'P-256'); // 64 bytes
 * await ecPub.verify(data, raw, { mechanism: Mechanism.ECDSA_SHA256 });
 * ```
 */
export function decodeEcdsaSignature(der: Uint8Array, curve: string | Uint8Array | number): Uint8Array {
  const fn = 'decodeEcdsaSignature';
  if (curve === undefined || curve === null) {
    throw new TypeError(
      `${fn}: curve is required (a curve name, EC_PARAMS, or the byte size of r): ` +
        'the raw signature is padded to the curve order, which the DER does not tell',
    );
  }
  let size: number;
  if (typeof curve === 'number') {
    size = requireSize(curve, `${fn}: curve`);
  } else {
    const info = lookupCurve(curve, `${fn}: curve`);
    if (info.keyType !== KeyType.EC)
      throw new TypeError(`${fn}: ${info.name} signatures are not ECDSA signatures`);
    size = info.orderSize;
  }
  return derToRawSignature(der, size, `${fn}: der`);
}
