/**
 * `pkcs11-ts/util`: pure DER encoders and decoders between PKCS#11 attributes and the formats the
 * rest of the world uses (PKCS#1, SEC1, PKCS#8, SubjectPublicKeyInfo, X.509, raw vs DER signatures).
 * No token is needed; encoders that read a key accept a token object or a plain template.
 *
 * @example
 * ```ts
 * import { encodeNamedCurveParameters, encodeEcPublicKey, decodeEcdsaSignature } from 'pkcs11-ts/util';
 * ```
 */
export { DerError } from './der.js';
export type { AttributeSource, KeySource } from './source.js';
export {
  type CurveInfo,
  type NamedCurve,
  curveInfo,
  decodeNamedCurveParameters,
  encodeNamedCurveParameters,
  listCurves,
} from './curves.js';
export {
  type DecodeEcPublicKeyOptions,
  decodeEcPoint,
  decodeEcPrivateKey,
  decodeEcPublicKey,
  decodeEcdsaSignature,
  encodeEcPoint,
  encodeEcPublicKey,
  encodeEcdsaSignature,
} from './ec.js';
export { decodeRsaPrivateKey, decodeRsaPublicKey, encodeRsaPublicKey } from './rsa.js';
export {
  decodeDsaDomainParameters,
  decodeDsaPublicKey,
  decodeDsaSignature,
  encodeDsaDomainParameters,
  encodeDsaPublicKey,
  encodeDsaSignature,
} from './dsa.js';
export {
  decodeDhDomainParameters,
  decodeDhPublicKey,
  decodeX942DhDomainParameters,
  encodeDhDomainParameters,
  encodeDhPublicKey,
  encodeX942DhDomainParameters,
} from './dh.js';
export {
  type DecodeX509CertificateOptions,
  type DecodeX509PublicKeyOptions,
  decodeX509Certificate,
  decodeX509PublicKey,
} from './x509.js';
