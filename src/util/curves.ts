/**
 * Named elliptic curves: every curve `openssl ecparam -list_curves` knows (OpenSSL 3.0), the NIST
 * and X9.62 aliases, and the RFC 8410 curves of EdDSA and X25519/X448; their object identifiers
 * and sizes; and CKA_EC_PARAMS encoding (a named-curve OID) and decoding.
 */
import { ECParameters } from '@peculiar/asn1-ecc';
import { KeyType } from '../sys/constants.js';
import { DerError, Tag, describe, parseDer, readDer, requireUint8Array, serializeDer } from './der.js';

/** What the library knows about one named curve. */
export interface CurveInfo {
  /** Canonical name: the SECG/RFC 5639/RFC 8410 one (`secp256r1`, `brainpoolP256r1`, `Ed25519`). */
  readonly name: string;
  /** Other accepted names (`prime256v1`, `P-256`); lookups ignore letter case. */
  readonly aliases: readonly string[];
  /** Dotted object identifier, or `undefined` for the two OpenSSL curves that have none. */
  readonly oid: string | undefined;
  /** `KeyType.EC`, `KeyType.EC_EDWARDS` (Ed25519, Ed448) or `KeyType.EC_MONTGOMERY` (X25519, X448). */
  readonly keyType: number;
  /** Bits of the field: the prime's length, or the degree m of a binary field. */
  readonly fieldBits: number;
  /** Bytes of one field element (one coordinate of a point). */
  readonly fieldSize: number;
  /** Bits of the group order n. */
  readonly orderBits: number;
  /**
   * Bytes of a number modulo n: the size of each of r and s in a raw ECDSA signature (PKCS#11 pads
   * both to this length; it can differ from `fieldSize`, e.g. secp160r1 has a 161-bit order).
   */
  readonly orderSize: number;
  /**
   * Bytes of the raw public key: the uncompressed point 04||X||Y for Weierstrass curves, the
   * RFC 8032 / RFC 7748 encoding for Edwards and Montgomery ones.
   */
  readonly pointSize: number;
}

type Row = readonly [
  name: string,
  oid: string | undefined,
  fieldBits: number,
  orderBits: number,
  aliases?: string[],
];

// Sizes read from `openssl ecparam -param_enc explicit` for each curve (field: p or m; order: n).
const WEIERSTRASS: readonly Row[] = [
  ['secp112r1', '1.3.132.0.6', 112, 112],
  ['secp112r2', '1.3.132.0.7', 112, 110],
  ['secp128r1', '1.3.132.0.28', 128, 128],
  ['secp128r2', '1.3.132.0.29', 128, 126],
  ['secp160k1', '1.3.132.0.9', 160, 161],
  ['secp160r1', '1.3.132.0.8', 160, 161],
  ['secp160r2', '1.3.132.0.30', 160, 161],
  ['secp192k1', '1.3.132.0.31', 192, 192],
  ['secp192r1', '1.2.840.10045.3.1.1', 192, 192, ['prime192v1', 'P-192']],
  ['secp224k1', '1.3.132.0.32', 224, 225],
  ['secp224r1', '1.3.132.0.33', 224, 224, ['P-224']],
  ['secp256k1', '1.3.132.0.10', 256, 256],
  ['secp256r1', '1.2.840.10045.3.1.7', 256, 256, ['prime256v1', 'P-256']],
  ['secp384r1', '1.3.132.0.34', 384, 384, ['P-384']],
  ['secp521r1', '1.3.132.0.35', 521, 521, ['P-521']],
  ['prime192v2', '1.2.840.10045.3.1.2', 192, 192],
  ['prime192v3', '1.2.840.10045.3.1.3', 192, 192],
  ['prime239v1', '1.2.840.10045.3.1.4', 239, 239],
  ['prime239v2', '1.2.840.10045.3.1.5', 239, 239],
  ['prime239v3', '1.2.840.10045.3.1.6', 239, 239],
  ['sect113r1', '1.3.132.0.4', 113, 113],
  ['sect113r2', '1.3.132.0.5', 113, 113],
  ['sect131r1', '1.3.132.0.22', 131, 131],
  ['sect131r2', '1.3.132.0.23', 131, 131],
  ['sect163k1', '1.3.132.0.1', 163, 163, ['K-163']],
  ['sect163r1', '1.3.132.0.2', 163, 162],
  ['sect163r2', '1.3.132.0.15', 163, 163, ['B-163']],
  ['sect193r1', '1.3.132.0.24', 193, 193],
  ['sect193r2', '1.3.132.0.25', 193, 193],
  ['sect233k1', '1.3.132.0.26', 233, 232, ['K-233']],
  ['sect233r1', '1.3.132.0.27', 233, 233, ['B-233']],
  ['sect239k1', '1.3.132.0.3', 239, 238],
  ['sect283k1', '1.3.132.0.16', 283, 281, ['K-283']],
  ['sect283r1', '1.3.132.0.17', 283, 282, ['B-283']],
  ['sect409k1', '1.3.132.0.36', 409, 407, ['K-409']],
  ['sect409r1', '1.3.132.0.37', 409, 409, ['B-409']],
  ['sect571k1', '1.3.132.0.38', 571, 570, ['K-571']],
  ['sect571r1', '1.3.132.0.39', 571, 570, ['B-571']],
  ['c2pnb163v1', '1.2.840.10045.3.0.1', 163, 163],
  ['c2pnb163v2', '1.2.840.10045.3.0.2', 163, 162],
  ['c2pnb163v3', '1.2.840.10045.3.0.3', 163, 162],
  ['c2pnb176v1', '1.2.840.10045.3.0.4', 176, 161],
  ['c2tnb191v1', '1.2.840.10045.3.0.5', 191, 191],
  ['c2tnb191v2', '1.2.840.10045.3.0.6', 191, 190],
  ['c2tnb191v3', '1.2.840.10045.3.0.7', 191, 189],
  ['c2pnb208w1', '1.2.840.10045.3.0.10', 208, 193],
  ['c2tnb239v1', '1.2.840.10045.3.0.11', 239, 238],
  ['c2tnb239v2', '1.2.840.10045.3.0.12', 239, 237],
  ['c2tnb239v3', '1.2.840.10045.3.0.13', 239, 236],
  ['c2pnb272w1', '1.2.840.10045.3.0.16', 272, 257],
  ['c2pnb304w1', '1.2.840.10045.3.0.17', 304, 289],
  ['c2tnb359v1', '1.2.840.10045.3.0.18', 359, 353],
  ['c2pnb368w1', '1.2.840.10045.3.0.19', 368, 353],
  ['c2tnb431r1', '1.2.840.10045.3.0.20', 431, 418],
  ['wap-wsg-idm-ecid-wtls1', '2.23.43.1.4.1', 113, 112],
  ['wap-wsg-idm-ecid-wtls3', '2.23.43.1.4.3', 163, 163],
  ['wap-wsg-idm-ecid-wtls4', '2.23.43.1.4.4', 113, 113],
  ['wap-wsg-idm-ecid-wtls5', '2.23.43.1.4.5', 163, 163],
  ['wap-wsg-idm-ecid-wtls6', '2.23.43.1.4.6', 112, 112],
  ['wap-wsg-idm-ecid-wtls7', '2.23.43.1.4.7', 160, 161],
  ['wap-wsg-idm-ecid-wtls8', '2.23.43.1.4.8', 112, 113],
  ['wap-wsg-idm-ecid-wtls9', '2.23.43.1.4.9', 160, 161],
  ['wap-wsg-idm-ecid-wtls10', '2.23.43.1.4.10', 233, 232],
  ['wap-wsg-idm-ecid-wtls11', '2.23.43.1.4.11', 233, 233],
  ['wap-wsg-idm-ecid-wtls12', '2.23.43.1.4.12', 224, 224],
  // OpenSSL knows these two by name only: they have no OID, so they cannot be CKA_EC_PARAMS.
  ['Oakley-EC2N-3', undefined, 155, 154],
  ['Oakley-EC2N-4', undefined, 185, 184],
  ['brainpoolP160r1', '1.3.36.3.3.2.8.1.1.1', 160, 160],
  ['brainpoolP160t1', '1.3.36.3.3.2.8.1.1.2', 160, 160],
  ['brainpoolP192r1', '1.3.36.3.3.2.8.1.1.3', 192, 192],
  ['brainpoolP192t1', '1.3.36.3.3.2.8.1.1.4', 192, 192],
  ['brainpoolP224r1', '1.3.36.3.3.2.8.1.1.5', 224, 224],
  ['brainpoolP224t1', '1.3.36.3.3.2.8.1.1.6', 224, 224],
  ['brainpoolP256r1', '1.3.36.3.3.2.8.1.1.7', 256, 256],
  ['brainpoolP256t1', '1.3.36.3.3.2.8.1.1.8', 256, 256],
  ['brainpoolP320r1', '1.3.36.3.3.2.8.1.1.9', 320, 320],
  ['brainpoolP320t1', '1.3.36.3.3.2.8.1.1.10', 320, 320],
  ['brainpoolP384r1', '1.3.36.3.3.2.8.1.1.11', 384, 384],
  ['brainpoolP384t1', '1.3.36.3.3.2.8.1.1.12', 384, 384],
  ['brainpoolP512r1', '1.3.36.3.3.2.8.1.1.13', 512, 512],
  ['brainpoolP512t1', '1.3.36.3.3.2.8.1.1.14', 512, 512],
  ['SM2', '1.2.156.10197.1.301', 256, 256],
];

// RFC 8410 curves. The alias is the PrintableString PKCS#11 3.0 allows in CKA_EC_PARAMS instead of the OID.
const EDWARDS: readonly Row[] = [
  ['Ed25519', '1.3.101.112', 255, 253, ['edwards25519']],
  ['Ed448', '1.3.101.113', 448, 446, ['edwards448']],
];
const MONTGOMERY: readonly Row[] = [
  ['X25519', '1.3.101.110', 255, 253, ['curve25519']],
  ['X448', '1.3.101.111', 448, 446, ['curve448']],
];
// Public key lengths of RFC 8032 (Ed25519, Ed448) and RFC 7748 (X25519, X448).
const RFC_KEY_SIZES: Readonly<Record<string, number>> = { Ed25519: 32, Ed448: 57, X25519: 32, X448: 56 };

function info(row: Row, keyType: number): CurveInfo {
  const [name, oid, fieldBits, orderBits, aliases = []] = row;
  const fieldSize = Math.ceil(fieldBits / 8);
  return Object.freeze({
    name,
    aliases: Object.freeze(aliases),
    oid,
    keyType,
    fieldBits,
    fieldSize,
    orderBits,
    orderSize: Math.ceil(orderBits / 8),
    pointSize: RFC_KEY_SIZES[name] ?? 1 + 2 * fieldSize,
  });
}

const CURVES: readonly CurveInfo[] = Object.freeze([
  ...WEIERSTRASS.map((row) => info(row, KeyType.EC)),
  ...EDWARDS.map((row) => info(row, KeyType.EC_EDWARDS)),
  ...MONTGOMERY.map((row) => info(row, KeyType.EC_MONTGOMERY)),
]);
const BY_NAME = new Map(
  CURVES.flatMap((c) => [c.name, ...c.aliases].map((n) => [n.toLowerCase(), c] as const)),
);
const BY_OID = new Map(CURVES.filter((c) => c.oid !== undefined).map((c) => [c.oid!, c] as const));
const DOTTED_OID = /^[0-2](\.(0|[1-9][0-9]*))+$/;

/**
 * Every curve this library knows by name, canonical name first in each entry.
 *
 * @example
 * ```ts
 * listCurves().filter((c) => c.name.startsWith('brainpool')).map((c) => c.name);
 * ```
 */
export function listCurves(): readonly CurveInfo[] {
  return CURVES;
}

/** The known curve with this dotted OID, if any. */
export function curveByOid(oid: string): CurveInfo | undefined {
  return BY_OID.get(oid);
}

/**
 * CKA_EC_PARAMS for a named curve: the DER of its OBJECT IDENTIFIER (the namedCurve choice of
 * X9.62 ECParameters; for Ed25519/Ed448/X25519/X448 the RFC 8410 OID, which PKCS#11 3.0 accepts).
 * `name` is a curve name or alias in any letter case (`secp256r1`, `prime256v1`, `P-256`,
 * `BRAINPOOLP256R1`) or a dotted OID; a dotted OID this library does not know is encoded as given,
 * for curves a token supports beyond this list.
 *
 * @example
 * ```ts
 * const params = encodeNamedCurveParameters('secp256r1'); // 06 08 2a 86 48 ce 3d 03 01 07
 * await session.createDomainParameters(KeyType.EC, { [Attribute.EC_PARAMS]: params }, { local: true });
 * ```
 */
export function encodeNamedCurveParameters(name: string): Uint8Array {
  const fn = 'encodeNamedCurveParameters';
  if (typeof name !== 'string') throw new TypeError(`${fn}: name must be a string`);
  return serializeDer(new ECParameters({ namedCurve: curveOid(name, fn) }));
}

/** The dotted OID for a curve name, alias or dotted OID; a RangeError naming `fn` when there is none. */
function curveOid(name: string, fn: string): string {
  if (DOTTED_OID.test(name)) {
    const arcs = name.split('.').map(Number);
    if ((arcs[0]! < 2 && arcs[1]! >= 40) || !arcs.every(Number.isSafeInteger)) {
      throw new RangeError(`${fn}: ${name} is not a valid object identifier`);
    }
    return name;
  }
  const curve = BY_NAME.get(name.toLowerCase());
  if (curve === undefined) throw new RangeError(`${fn}: unknown curve name ${JSON.stringify(name)}`);
  if (curve.oid === undefined) {
    throw new RangeError(
      `${fn}: curve ${curve.name} has no object identifier, so it cannot be named in EC_PARAMS`,
    );
  }
  return curve.oid;
}

/** A decoded CKA_EC_PARAMS: the curve's OID and, when this library knows it, its canonical name. */
export interface NamedCurve {
  readonly oid: string;
  readonly name: string | undefined;
}

/**
 * The curve named by CKA_EC_PARAMS: a DER OBJECT IDENTIFIER, or one of the PrintableStrings
 * PKCS#11 3.0 allows for Edwards and Montgomery curves (`edwards25519`, `curve448` ...). Explicit
 * curve parameters and implicitCurve are refused with a RangeError (RFC 5480 forbids them in
 * certificates, and no name can be given to them); malformed DER is a DerError.
 *
 * @example
 * ```ts
 * decodeNamedCurveParameters(encodeNamedCurveParameters('prime256v1'));
 * // { oid: '1.2.840.10045.3.1.7', name: 'secp256r1' }
 * ```
 */
export function decodeNamedCurveParameters(params: Uint8Array): NamedCurve {
  return readNamedCurve(params, 'decodeNamedCurveParameters: params');
}

/** `decodeNamedCurveParameters` with the caller's name and argument (`where`) in its messages. */
export function readNamedCurve(params: Uint8Array, where: string): NamedCurve {
  requireUint8Array(params, where);
  const node = readDer(params, where);
  if (node.tag === Tag.PRINTABLE_STRING) {
    const text = String.fromCharCode(...node.content);
    const curve = BY_NAME.get(text.toLowerCase());
    if (curve === undefined || curve.keyType === KeyType.EC || !curve.aliases.includes(text)) {
      throw new RangeError(`${where}: unknown curve name ${JSON.stringify(text)}`);
    }
    return { oid: curve.oid!, name: curve.name };
  }
  if (node.tag === Tag.SEQUENCE || node.tag === Tag.NULL) {
    throw new RangeError(
      `${where} holds explicit or implicit curve parameters; only named curves are supported`,
    );
  }
  const { namedCurve } = parseDer(params, ECParameters, where, 'named curve');
  if (namedCurve === undefined) throw new DerError(`${where} is not a named curve`);
  return { oid: namedCurve, name: BY_OID.get(namedCurve)?.name };
}

/**
 * What this library knows about a curve, given its name or alias (any letter case), its dotted
 * OID or its CKA_EC_PARAMS bytes; a RangeError for curves it does not know.
 *
 * @example
 * ```ts
 * curveInfo('P-521').orderSize; // 66: r and s of a raw P-521 ECDSA signature are 66 bytes each
 * curveInfo(key.get(Attribute.EC_PARAMS)).name; // 'brainpoolP256r1'
 * ```
 */
export function curveInfo(nameOrParams: string | Uint8Array): CurveInfo {
  return lookupCurve(nameOrParams, 'curveInfo: nameOrParams');
}

/** `curveInfo` with the caller's name and argument (`where`) in its messages. */
export function lookupCurve(nameOrParams: unknown, where: string): CurveInfo {
  let key: string;
  let curve: CurveInfo | undefined;
  if (typeof nameOrParams === 'string') {
    key = nameOrParams;
    curve = DOTTED_OID.test(key) ? BY_OID.get(key) : BY_NAME.get(key.toLowerCase());
  } else if (nameOrParams instanceof Uint8Array) {
    key = readNamedCurve(nameOrParams, where).oid;
    curve = BY_OID.get(key);
  } else {
    throw new TypeError(`${where} must be a curve name or EC_PARAMS bytes, got ${describe(nameOrParams)}`);
  }
  if (curve === undefined) throw new RangeError(`${where}: unknown curve ${JSON.stringify(key)}`);
  return curve;
}
