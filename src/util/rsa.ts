/**
 * RSA keys between PKCS#11 attributes and PKCS#1 (RFC 8017) / PKCS#8 / SubjectPublicKeyInfo DER.
 */
import { PrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { RSAPrivateKey, RSAPublicKey, id_RSASSA_PSS, id_rsaEncryption } from '@peculiar/asn1-rsa';
import { Attribute, KeyType, ObjectClass } from '../sys/constants.js';
import {
  DerError,
  Tag,
  integerContent,
  parseDer,
  readDer,
  requireUint8Array,
  serializeDer,
  unsignedInteger,
} from './der.js';
import { type KeySource, checkKeyType, readAttributes, requireBytes } from './source.js';
import { type SpkiParts, parseSpki } from './spki.js';

/** SubjectPublicKeyInfo and PKCS#8 algorithms of RSA keys: rsaEncryption and RSASSA-PSS. */
export const RSA_ALGORITHMS: readonly string[] = [id_rsaEncryption, id_RSASSA_PSS];

/**
 * The PKCS#1 RSAPublicKey (DER) of an RSA key, read from a token object or a template with
 * CKA_MODULUS and CKA_PUBLIC_EXPONENT. Loads in node:crypto with `type: 'pkcs1'`.
 *
 * @example
 * ```ts
 * const der = await encodeRsaPublicKey(pub);
 * const key = crypto.createPublicKey({ key: Buffer.from(der), format: 'der', type: 'pkcs1' });
 * const crypttext = crypto.publicEncrypt({ key, padding: crypto.constants.RSA_PKCS1_PADDING }, data);
 * ```
 */
export async function encodeRsaPublicKey(key: KeySource): Promise<Uint8Array> {
  const fn = 'encodeRsaPublicKey';
  const values = await readAttributes(
    key,
    [Attribute.KEY_TYPE, Attribute.MODULUS, Attribute.PUBLIC_EXPONENT],
    fn,
  );
  checkKeyType(values, [KeyType.RSA], fn);
  const modulus = integerContent(requireBytes(values, Attribute.MODULUS, fn));
  const publicExponent = integerContent(requireBytes(values, Attribute.PUBLIC_EXPONENT, fn));
  return serializeDer(new RSAPublicKey({ modulus, publicExponent }));
}

/**
 * A public-key template (CLASS, KEY_TYPE, MODULUS, PUBLIC_EXPONENT) from DER: a PKCS#1
 * RSAPublicKey, or a SubjectPublicKeyInfo of an rsaEncryption or RSASSA-PSS key (PSS parameters
 * have no PKCS#11 attribute and are not returned).
 *
 * @example
 * ```ts
 * const template = decodeRsaPublicKey(publicKeyObject.export({ format: 'der', type: 'spki' }));
 * ```
 */
export function decodeRsaPublicKey(der: Uint8Array): Record<number, unknown> {
  const where = 'decodeRsaPublicKey: der';
  requireUint8Array(der, where);
  const first = readDer(der, where).children[0];
  if (first?.tag === Tag.SEQUENCE) return rsaPublicKeyTemplate(parseSpki(der, where), where);
  return publicTemplate(parseDer(der, RSAPublicKey, where, 'PKCS#1 RSAPublicKey'), where);
}

/** The RSA public-key template of SubjectPublicKeyInfo parts (shared with `decodeX509PublicKey`). */
export function rsaPublicKeyTemplate(parts: SpkiParts, where: string): Record<number, unknown> {
  if (!RSA_ALGORITHMS.includes(parts.algorithm)) {
    throw new RangeError(`${where}: algorithm ${parts.algorithm} is not an RSA key`);
  }
  const inner = `${where} (RSAPublicKey inside)`;
  return publicTemplate(parseDer(parts.publicKey, RSAPublicKey, inner, 'PKCS#1 RSAPublicKey'), inner);
}

function publicTemplate(key: RSAPublicKey, where: string): Record<number, unknown> {
  return {
    [Attribute.CLASS]: ObjectClass.PUBLIC_KEY,
    [Attribute.KEY_TYPE]: KeyType.RSA,
    [Attribute.MODULUS]: unsignedInteger(key.modulus, where, 'modulus'),
    [Attribute.PUBLIC_EXPONENT]: unsignedInteger(key.publicExponent, where, 'publicExponent'),
  };
}

/**
 * A private-key template from DER: a PKCS#1 RSAPrivateKey (`type: 'pkcs1'`) or a PKCS#8
 * PrivateKeyInfo holding one. Gives CLASS, KEY_TYPE, MODULUS, PUBLIC_EXPONENT, PRIVATE_EXPONENT
 * and the CRT parts PRIME_1, PRIME_2, EXPONENT_1, EXPONENT_2, COEFFICIENT. Multi-prime keys are
 * refused with a RangeError: PKCS#11 has no attributes for the extra primes.
 *
 * @example
 * ```ts
 * const template = decodeRsaPrivateKey(readFileSync('key.der'));
 * await session.createObject({ ...template, [Attribute.TOKEN]: true, [Attribute.SENSITIVE]: true });
 * ```
 */
export function decodeRsaPrivateKey(der: Uint8Array): Record<number, unknown> {
  const where = 'decodeRsaPrivateKey: der';
  requireUint8Array(der, where);
  const second = readDer(der, where).children[1];
  if (second?.tag !== Tag.SEQUENCE) return privateTemplate(der, where);
  const info = parseDer(der, PrivateKeyInfo, where, 'PKCS#8 PrivateKeyInfo');
  const { algorithm } = info.privateKeyAlgorithm;
  if (!RSA_ALGORITHMS.includes(algorithm)) {
    throw new RangeError(`${where}: PKCS#8 algorithm ${algorithm} is not an RSA key`);
  }
  return privateTemplate(new Uint8Array(info.privateKey.buffer), `${where} (RSAPrivateKey inside)`);
}

function privateTemplate(der: Uint8Array, where: string): Record<number, unknown> {
  const key = parseDer(der, RSAPrivateKey, where, 'PKCS#1 RSAPrivateKey');
  if (key.version !== 0 || key.otherPrimeInfos !== undefined) {
    if (key.version === 1) throw new RangeError(`${where}: multi-prime RSA keys have no PKCS#11 form`);
    throw new DerError(`${where}: RSAPrivateKey version must be 0, got ${key.version}`);
  }
  const int = (value: ArrayBuffer, field: string) => unsignedInteger(value, where, field);
  return {
    [Attribute.CLASS]: ObjectClass.PRIVATE_KEY,
    [Attribute.KEY_TYPE]: KeyType.RSA,
    [Attribute.MODULUS]: int(key.modulus, 'modulus'),
    [Attribute.PUBLIC_EXPONENT]: int(key.publicExponent, 'publicExponent'),
    [Attribute.PRIVATE_EXPONENT]: int(key.privateExponent, 'privateExponent'),
    [Attribute.PRIME_1]: int(key.prime1, 'prime1'),
    [Attribute.PRIME_2]: int(key.prime2, 'prime2'),
    [Attribute.EXPONENT_1]: int(key.exponent1, 'exponent1'),
    [Attribute.EXPONENT_2]: int(key.exponent2, 'exponent2'),
    [Attribute.COEFFICIENT]: int(key.coefficient, 'coefficient'),
  };
}
