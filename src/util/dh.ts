/**
 * Diffie-Hellman domain parameters and public values between PKCS#11 attributes and DER:
 * PKCS#3 DHParameter (KeyType.DH), X9.42 DomainParameters (KeyType.X9_42_DH, RFC 3279), and the
 * public value y as a bare INTEGER.
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
  unsignedInteger,
} from './der.js';
import { checkSubgroup } from './dsa.js';
import { type KeySource, checkKeyType, readAttributes, requireBytes } from './source.js';

interface DhParameter {
  prime: ArrayBuffer;
  base: ArrayBuffer;
  privateValueLength?: ArrayBuffer;
}
const DhParameter = defineSequence<DhParameter>('DHParameter', [
  { name: 'prime', type: 'integer' },
  { name: 'base', type: 'integer' },
  { name: 'privateValueLength', type: 'integer', optional: true },
]);

const ValidationParms = defineSequence('ValidationParms', [
  { name: 'seed', type: 'bitString' },
  { name: 'pgenCounter', type: 'integer' },
]);
interface X942DomainParameters {
  p: ArrayBuffer;
  g: ArrayBuffer;
  q: ArrayBuffer;
  j?: ArrayBuffer;
  validationParms?: object;
}
const X942DomainParameters = defineSequence<X942DomainParameters>('DomainParameters', [
  { name: 'p', type: 'integer' },
  { name: 'g', type: 'integer' },
  { name: 'q', type: 'integer' },
  { name: 'j', type: 'integer', optional: true },
  { name: 'validationParms', type: ValidationParms, optional: true },
]);

/**
 * DER PKCS#3 DHParameter (prime p, base g) of DH domain parameters or a DH key, read from a token
 * object or a template with CKA_PRIME and CKA_BASE.
 *
 * @example
 * ```ts
 * const der = await encodeDhDomainParameters(params);
 * crypto.createDiffieHellman(...); // or `openssl dhparam -inform DER -text`
 * ```
 */
export async function encodeDhDomainParameters(params: KeySource): Promise<Uint8Array> {
  const fn = 'encodeDhDomainParameters';
  const values = await readAttributes(params, [Attribute.KEY_TYPE, Attribute.PRIME, Attribute.BASE], fn);
  checkKeyType(values, [KeyType.DH], fn);
  const parameter = new DhParameter();
  parameter.prime = integerContent(requireBytes(values, Attribute.PRIME, fn));
  parameter.base = integerContent(requireBytes(values, Attribute.BASE, fn));
  return serializeDer(parameter);
}

/**
 * A DH domain-parameters template (CLASS, KEY_TYPE DH, PRIME, BASE) from DER PKCS#3 DHParameter, as
 * `openssl dhparam -outform DER` writes it. An optional privateValueLength is accepted and not
 * returned: in PKCS#11 it belongs to the private key (CKA_VALUE_BITS), not to the parameters.
 *
 * @example
 * ```ts
 * const params = await session.createDomainParameters(KeyType.DH, decodeDhDomainParameters(der));
 * ```
 */
export function decodeDhDomainParameters(der: Uint8Array): Record<number, unknown> {
  const where = 'decodeDhDomainParameters: der';
  requireUint8Array(der, where);
  const parameter = parseDer(der, DhParameter, where, 'PKCS#3 DHParameter');
  const prime = unsignedInteger(parameter.prime, where, 'prime');
  if (parameter.privateValueLength !== undefined) {
    // A bit count below p's size: a larger third INTEGER means X9.42 parameters (p, g, q) were given.
    const length = unsignedInteger(parameter.privateValueLength, where, 'privateValueLength');
    if (length.length > 4 || Buffer.from(length).readUIntBE(0, length.length) > 8 * prime.length) {
      throw new DerError(
        `${where}: privateValueLength exceeds the prime's size (X9.42 parameters? see decodeX942DhDomainParameters)`,
      );
    }
  }
  return {
    [Attribute.CLASS]: ObjectClass.DOMAIN_PARAMETERS,
    [Attribute.KEY_TYPE]: KeyType.DH,
    [Attribute.PRIME]: prime,
    [Attribute.BASE]: unsignedInteger(parameter.base, where, 'base'),
  };
}

/**
 * DER X9.42 DomainParameters (p, g, q; RFC 3279) of X9.42 DH domain parameters or key, read from
 * a token object or a template with CKA_PRIME, CKA_BASE and CKA_SUBPRIME.
 *
 * @example
 * ```ts
 * const der = await encodeX942DhDomainParameters(params);
 * ```
 */
export async function encodeX942DhDomainParameters(params: KeySource): Promise<Uint8Array> {
  const fn = 'encodeX942DhDomainParameters';
  const attributes = [Attribute.KEY_TYPE, Attribute.PRIME, Attribute.BASE, Attribute.SUBPRIME];
  const values = await readAttributes(params, attributes, fn);
  checkKeyType(values, [KeyType.X9_42_DH], fn);
  const domain = new X942DomainParameters();
  domain.p = integerContent(requireBytes(values, Attribute.PRIME, fn));
  domain.g = integerContent(requireBytes(values, Attribute.BASE, fn));
  domain.q = integerContent(requireBytes(values, Attribute.SUBPRIME, fn));
  return serializeDer(domain);
}

/**
 * An X9.42 DH domain-parameters template (CLASS, KEY_TYPE X9_42_DH, PRIME, BASE, SUBPRIME) from DER
 * DomainParameters, as `openssl genpkey -genparam -algorithm DHX` writes them. The optional
 * cofactor j and validation parameters are accepted and not returned (PKCS#11 has no attribute
 * for them).
 *
 * @example
 * ```ts
 * const params = await session.createDomainParameters(KeyType.X9_42_DH, decodeX942DhDomainParameters(der));
 * ```
 */
export function decodeX942DhDomainParameters(der: Uint8Array): Record<number, unknown> {
  const where = 'decodeX942DhDomainParameters: der';
  requireUint8Array(der, where);
  const domain = parseDer(der, X942DomainParameters, where, 'X9.42 DomainParameters');
  const p = unsignedInteger(domain.p, where, 'p');
  const q = unsignedInteger(domain.q, where, 'q');
  checkSubgroup(p, q, where);
  return {
    [Attribute.CLASS]: ObjectClass.DOMAIN_PARAMETERS,
    [Attribute.KEY_TYPE]: KeyType.X9_42_DH,
    [Attribute.PRIME]: p,
    [Attribute.BASE]: unsignedInteger(domain.g, where, 'g'),
    [Attribute.SUBPRIME]: q,
  };
}

/**
 * The public value y of a DH or X9.42 DH key (CKA_VALUE, from a token object or a template) as a
 * DER INTEGER, the encoding inside a DH SubjectPublicKeyInfo.
 *
 * @example
 * ```ts
 * const der = await encodeDhPublicKey(pub);
 * ```
 */
export async function encodeDhPublicKey(key: KeySource): Promise<Uint8Array> {
  const fn = 'encodeDhPublicKey';
  const values = await readAttributes(key, [Attribute.KEY_TYPE, Attribute.VALUE], fn);
  checkKeyType(values, [KeyType.DH, KeyType.X9_42_DH], fn);
  return encodeUnsignedInteger(requireBytes(values, Attribute.VALUE, fn));
}

/**
 * The public value y (big-endian, no leading zeros) of a DER INTEGER: what DH_PKCS_DERIVE takes as
 * the peer's public value.
 *
 * @example
 * ```ts
 * const y = decodeDhPublicKey(peerDer);
 * await priv.deriveKey(KeyType.GENERIC_SECRET, 256, { mechanism: Mechanism.DH_PKCS_DERIVE, mechanismParam: y });
 * ```
 */
export function decodeDhPublicKey(der: Uint8Array): Uint8Array {
  const where = 'decodeDhPublicKey: der';
  requireUint8Array(der, where);
  return decodeUnsignedInteger(der, where, 'y');
}
