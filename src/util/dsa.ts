/**
 * DSA domain parameters, public keys and signatures between PKCS#11 attributes and DER:
 * Dss-Parms and the id-dsa SubjectPublicKeyInfo of RFC 3279, and Dss-Sig-Value for r||s.
 */
import { Attribute, KeyType, ObjectClass } from '../sys/constants.js';
import {
  DerError,
  decodeUnsignedInteger,
  defineSequence,
  encodeUnsignedInteger,
  integerContent,
  parseDer,
  requireUint8Array,
  serializeDer,
  stripLeadingZeros,
  unsignedInteger,
} from './der.js';
import { derToRawSignature, rawToDerSignature, requireSize } from './signature.js';
import { type KeySource, checkKeyType, readAttributes, requireBytes } from './source.js';
import { type SpkiParts, encodeSpki, parseSpki } from './spki.js';

/** id-dsa (RFC 3279), the SubjectPublicKeyInfo algorithm of DSA keys. */
export const ID_DSA = '1.2.840.10040.4.1';

interface DssParms {
  p: ArrayBuffer;
  q: ArrayBuffer;
  g: ArrayBuffer;
}
const DssParms = defineSequence<DssParms>('DssParms', [
  { name: 'p', type: 'integer' },
  { name: 'q', type: 'integer' },
  { name: 'g', type: 'integer' },
]);

const DOMAIN_ATTRIBUTES = [Attribute.KEY_TYPE, Attribute.PRIME, Attribute.SUBPRIME, Attribute.BASE];

function dssParmsDer(values: Record<number, unknown>, fn: string): Uint8Array {
  const parms = new DssParms();
  parms.p = integerContent(requireBytes(values, Attribute.PRIME, fn));
  parms.q = integerContent(requireBytes(values, Attribute.SUBPRIME, fn));
  parms.g = integerContent(requireBytes(values, Attribute.BASE, fn));
  return serializeDer(parms);
}

function domainValues(der: Uint8Array, where: string): Record<number, Uint8Array> {
  const parms = parseDer(der, DssParms, where, 'DSA Dss-Parms');
  const p = unsignedInteger(parms.p, where, 'p');
  const q = unsignedInteger(parms.q, where, 'q');
  checkSubgroup(p, q, where);
  return {
    [Attribute.PRIME]: p,
    [Attribute.SUBPRIME]: q,
    [Attribute.BASE]: unsignedInteger(parms.g, where, 'g'),
  };
}

/**
 * Checks that q divides p - 1, as the subgroup order of DSA and X9.42 DH parameters must. Dss-Parms
 * (p, q, g) and X9.42 DomainParameters (p, g, q) have the same shape in another order, so this is
 * what stops one being read as the other with g and q swapped.
 */
export function checkSubgroup(p: Uint8Array, q: Uint8Array, where: string): void {
  const big = (bytes: Uint8Array) => BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
  const order = big(q);
  if (order < 2n || (big(p) - 1n) % order !== 0n) {
    throw new DerError(`${where}: q does not divide p - 1 (are these parameters in another format?)`);
  }
}

/**
 * DER Dss-Parms (p, q, g) of DSA domain parameters or of a DSA key, read from a token object or a
 * template with CKA_PRIME, CKA_SUBPRIME and CKA_BASE.
 *
 * @example
 * ```ts
 * const der = await encodeDsaDomainParameters(params); // params: a DSA domain-parameters object
 * ```
 */
export async function encodeDsaDomainParameters(params: KeySource): Promise<Uint8Array> {
  const fn = 'encodeDsaDomainParameters';
  const values = await readAttributes(params, DOMAIN_ATTRIBUTES, fn);
  checkKeyType(values, [KeyType.DSA], fn);
  return dssParmsDer(values, fn);
}

/**
 * A DSA domain-parameters template (CLASS, KEY_TYPE, PRIME, SUBPRIME, BASE) from DER Dss-Parms, as
 * `openssl dsaparam -outform DER` writes them.
 *
 * @example
 * ```ts
 * const params = await session.createDomainParameters(KeyType.DSA, decodeDsaDomainParameters(der));
 * ```
 */
export function decodeDsaDomainParameters(der: Uint8Array): Record<number, unknown> {
  const where = 'decodeDsaDomainParameters: der';
  requireUint8Array(der, where);
  return {
    [Attribute.CLASS]: ObjectClass.DOMAIN_PARAMETERS,
    [Attribute.KEY_TYPE]: KeyType.DSA,
    ...domainValues(der, where),
  };
}

/**
 * The SubjectPublicKeyInfo (DER, algorithm id-dsa with Dss-Parms) of a DSA public key, read from a
 * token object or a template with CKA_PRIME, CKA_SUBPRIME, CKA_BASE and CKA_VALUE (y).
 * Loads in node:crypto with `type: 'spki'`.
 *
 * @example
 * ```ts
 * const key = crypto.createPublicKey({ key: Buffer.from(await encodeDsaPublicKey(pub)), format: 'der', type: 'spki' });
 * ```
 */
export async function encodeDsaPublicKey(key: KeySource): Promise<Uint8Array> {
  const fn = 'encodeDsaPublicKey';
  const values = await readAttributes(key, [...DOMAIN_ATTRIBUTES, Attribute.VALUE], fn);
  checkKeyType(values, [KeyType.DSA], fn);
  return encodeSpki({
    algorithm: ID_DSA,
    parameters: dssParmsDer(values, fn),
    publicKey: encodeUnsignedInteger(requireBytes(values, Attribute.VALUE, fn)),
  });
}

/**
 * A DSA public-key template (CLASS, KEY_TYPE, PRIME, SUBPRIME, BASE, VALUE) from a DER
 * SubjectPublicKeyInfo. Keys whose parameters are inherited from a CA (absent) are refused with a
 * DerError: PKCS#11 needs them on the key.
 *
 * @example
 * ```ts
 * const template = decodeDsaPublicKey(publicKeyObject.export({ format: 'der', type: 'spki' }));
 * ```
 */
export function decodeDsaPublicKey(spki: Uint8Array): Record<number, unknown> {
  const where = 'decodeDsaPublicKey: spki';
  requireUint8Array(spki, where);
  return dsaPublicKeyTemplate(parseSpki(spki, where), where);
}

/** The DSA public-key template of SubjectPublicKeyInfo parts (shared with `decodeX509PublicKey`). */
export function dsaPublicKeyTemplate(parts: SpkiParts, where: string): Record<number, unknown> {
  if (parts.algorithm !== ID_DSA)
    throw new RangeError(`${where}: algorithm ${parts.algorithm} is not a DSA key`);
  if (parts.parameters === undefined) {
    throw new RangeError(`${where}: the DSA key has no domain parameters (inherited ones cannot be used)`);
  }
  return {
    [Attribute.CLASS]: ObjectClass.PUBLIC_KEY,
    [Attribute.KEY_TYPE]: KeyType.DSA,
    ...domainValues(parts.parameters, `${where} parameters`),
    [Attribute.VALUE]: decodeUnsignedInteger(parts.publicKey, `${where} public key`, 'y'),
  };
}

/**
 * The DER Dss-Sig-Value of a raw PKCS#11 DSA signature r||s, split in halves.
 *
 * @example
 * ```ts
 * crypto.verify('sha256', data, nodeDsaKey, encodeDsaSignature(await priv.sign(data, { mechanism: Mechanism.DSA_SHA256 })));
 * ```
 */
export function encodeDsaSignature(signature: Uint8Array): Uint8Array {
  return rawToDerSignature(signature, 'encodeDsaSignature: signature');
}

/**
 * The raw r||s of a DER DSA signature, r and s each left-padded to the size of q. `subprime` is
 * required: CKA_SUBPRIME (q itself) or its size in bytes; the DER alone cannot tell it.
 *
 * @example
 * ```ts
 * const raw = decodeDsaSignature(crypto.sign('sha256', data, nodeDsaKey), await pub.get(Attribute.SUBPRIME));
 * ```
 */
export function decodeDsaSignature(der: Uint8Array, subprime: Uint8Array | number): Uint8Array {
  const fn = 'decodeDsaSignature';
  let size: number;
  if (subprime instanceof Uint8Array) {
    size = stripLeadingZeros(subprime).length;
  } else if (subprime === undefined || subprime === null) {
    throw new TypeError(`${fn}: subprime is required (CKA_SUBPRIME or the byte size of q) to pad r and s`);
  } else {
    size = requireSize(subprime, `${fn}: subprime`);
  }
  return derToRawSignature(der, size, `${fn}: der`);
}
