/**
 * X.509 with @peculiar/x509, signed inside the token: PKCS#10 certificate requests and
 * self-signed certificates for RSA (PKCS#1 v1.5 and PSS), ECDSA and Ed25519/Ed448 token keys.
 * @peculiar/x509 builds and encodes; `tokenCrypto` (subtle.ts) makes the signature with the token.
 */
// @peculiar/x509 needs the Reflect metadata API as it loads: the polyfill comes first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { describe } from '../util/der.js';
import { PrivateKey, PublicKey } from '../model/index.js';
import {
  type CryptoKeyAlgorithmInput,
  type TokenCryptoKey,
  curveOfWebName,
  toCryptoKey,
} from './crypto-key.js';
import { hashInfo } from './hashes.js';
import { tokenCrypto } from './subtle.js';

/**
 * The signature algorithm of a CSR or certificate, as WebCrypto names it. `hash` defaults to
 * SHA-256 (ECDSA: the hash matching the curve size: SHA-384 for P-384, SHA-512 for P-521);
 * RSA-PSS `saltLength` defaults to the hash's length.
 */
export type SigningAlgorithm =
  | { readonly name: 'RSASSA-PKCS1-v1_5'; readonly hash?: string }
  | { readonly name: 'RSA-PSS'; readonly hash?: string; readonly saltLength?: number }
  | { readonly name: 'ECDSA'; readonly hash?: string }
  | { readonly name: 'Ed25519' }
  | { readonly name: 'Ed448' };

/** What @peculiar/x509 is told to sign with: a WebCrypto algorithm with its hash and salt length. */
type SignatureParams = { readonly name: string; readonly hash?: string; readonly saltLength?: number };

/** Options of `createCsr`. */
export interface CsrOptions {
  /** Subject name: `'CN=device 1, O=Example'`, an x509 `JsonName` or `Name`. */
  readonly subject: x509.Pkcs10CertificateRequestCreateParamsName;
  /** Requested extensions (x509's `KeyUsagesExtension`, `SubjectAlternativeNameExtension` ...). */
  readonly extensions?: x509.Extension[];
  /** Further attributes (x509's `ChallengePasswordAttribute` ...). */
  readonly attributes?: x509.Attribute[];
  /** Default: PKCS#1 v1.5 for RSA, ECDSA for EC, the curve's EdDSA for Edwards keys (see `SigningAlgorithm`). */
  readonly signingAlgorithm?: SigningAlgorithm;
}

/** Options of `createSelfSignedCertificate`. */
export interface SelfSignedCertificateOptions {
  /** Subject (and issuer) name: `'CN=my CA'`, an x509 `JsonName` or `Name`. */
  readonly subject: x509.X509CertificateCreateParamsName;
  /** Serial number in hex; default 16 random bytes. */
  readonly serialNumber?: string;
  /** Start of validity; default now. */
  readonly notBefore?: Date;
  /** End of validity; default a year after `notBefore`. */
  readonly notAfter?: Date;
  /** Extensions (`BasicConstraintsExtension`, `KeyUsagesExtension`, `SubjectKeyIdentifierExtension` ...). */
  readonly extensions?: x509.Extension[];
  /** As for `createCsr`. */
  readonly signingAlgorithm?: SigningAlgorithm;
}

/**
 * A PKCS#10 certificate request for a token key pair, signed inside the token. `publicKey` is the
 * token public key of the pair (its SPKI goes into the request). Returns @peculiar/x509's object:
 * `.toString('pem')` gives the `CERTIFICATE REQUEST` PEM, `.rawData` the DER.
 *
 * @example
 * ```ts
 * const csr = await createCsr(privateKey, publicKey, {
 *   subject: 'CN=device 1, O=Example',
 *   extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature)],
 * });
 * writeFileSync('device.csr', csr.toString('pem')); // openssl req -verify -in device.csr
 * ```
 */
export async function createCsr(
  privateKey: PrivateKey,
  publicKey: PublicKey,
  options: CsrOptions,
): Promise<x509.Pkcs10CertificateRequest> {
  const fn = 'createCsr';
  checkOptions(options, fn);
  const { keys, signingAlgorithm } = await signingKeys(privateKey, publicKey, options.signingAlgorithm, fn);
  return x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: options.subject,
      keys,
      signingAlgorithm,
      extensions: options.extensions,
      attributes: options.attributes,
    },
    tokenCrypto,
  );
}

/**
 * A self-signed X.509 v3 certificate for a token key pair, signed inside the token. Returns
 * @peculiar/x509's `X509Certificate` (`.toString('pem')`, `.rawData`); store it next to its key
 * with `storeCertificate(privateKey, cert.rawData)`.
 *
 * @example
 * ```ts
 * const cert = await createSelfSignedCertificate(privateKey, publicKey, {
 *   subject: 'CN=Test CA',
 *   extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
 * });
 * new crypto.X509Certificate(cert.toString('pem')).verify(await toKeyObject(publicKey)); // true
 * ```
 */
export async function createSelfSignedCertificate(
  privateKey: PrivateKey,
  publicKey: PublicKey,
  options: SelfSignedCertificateOptions,
): Promise<x509.X509Certificate> {
  const fn = 'createSelfSignedCertificate';
  checkOptions(options, fn);
  for (const field of ['notBefore', 'notAfter'] as const) {
    const value = options[field];
    if (value !== undefined && (!(value instanceof Date) || Number.isNaN(value.getTime()))) {
      throw new TypeError(`${fn}: options.${field} must be a valid Date`);
    }
  }
  if (options.serialNumber !== undefined && !/^([0-9a-fA-F]{2})+$/.test(options.serialNumber)) {
    throw new TypeError(`${fn}: options.serialNumber must be hexadecimal bytes, e.g. '01'`);
  }
  const { keys, signingAlgorithm } = await signingKeys(privateKey, publicKey, options.signingAlgorithm, fn);
  return x509.X509CertificateGenerator.createSelfSigned(
    {
      name: options.subject,
      keys,
      signingAlgorithm,
      serialNumber: options.serialNumber,
      notBefore: options.notBefore,
      notAfter: options.notAfter,
      extensions: options.extensions,
    },
    tokenCrypto,
  );
}

function checkOptions(
  options: { readonly subject: unknown; readonly extensions?: unknown },
  fn: string,
): void {
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${fn}: options must be an object`);
  if (options.subject === undefined || options.subject === null || options.subject === '') {
    throw new TypeError(`${fn}: options.subject is required, e.g. 'CN=my key'`);
  }
  if (options.extensions !== undefined && !Array.isArray(options.extensions)) {
    throw new TypeError(`${fn}: options.extensions must be an array of x509 extensions`);
  }
}

/** The WebCrypto-shaped pair and the full signing algorithm (hash, salt) for @peculiar/x509. */
async function signingKeys(
  privateKey: PrivateKey,
  publicKey: PublicKey,
  requested: SigningAlgorithm | undefined,
  fn: string,
): Promise<{
  keys: { privateKey: TokenCryptoKey; publicKey: TokenCryptoKey };
  signingAlgorithm: SignatureParams;
}> {
  if (!(privateKey instanceof PrivateKey))
    throw new TypeError(`${fn}: privateKey must be a PrivateKey, got ${describe(privateKey)}`);
  if (!(publicKey instanceof PublicKey))
    throw new TypeError(`${fn}: publicKey must be a PublicKey, got ${describe(publicKey)}`);
  if (publicKey.keyType !== privateKey.keyType) {
    throw new TypeError(`${fn}: publicKey and privateKey are not of one key type`);
  }
  if (requested !== undefined && (requested === null || typeof requested !== 'object')) {
    throw new TypeError(`${fn}: options.signingAlgorithm must be { name, ... }`);
  }
  // No request: toCryptoKey's default for the key type (PKCS#1 v1.5, ECDSA, the Edwards curve's EdDSA).
  const hash = requested !== undefined && 'hash' in requested ? requested.hash : undefined;
  const keyAlgorithm: CryptoKeyAlgorithmInput | undefined =
    requested === undefined
      ? undefined
      : requested.name.startsWith('RSA')
        ? { name: requested.name, hash }
        : requested.name;
  const [signing, verifying] = await Promise.all([
    toCryptoKey(privateKey, keyAlgorithm, ['sign']),
    toCryptoKey(publicKey, keyAlgorithm, ['verify']),
  ]);
  const signingAlgorithm = fullAlgorithm(signing, requested, `${fn}: options.signingAlgorithm`);
  return { keys: { privateKey: signing, publicKey: verifying }, signingAlgorithm };
}

/**
 * The algorithm x509 signs with: the key's (with its curve or hash) plus the hash and salt length
 * of the request. ECDSA signatures of curves x509 does not size itself are registered with it,
 * so it splits r||s at the right place.
 */
function fullAlgorithm(
  key: TokenCryptoKey,
  requested: SigningAlgorithm | undefined,
  where: string,
): SignatureParams {
  const algorithm = key.algorithm as { name: string; hash?: { name: string }; namedCurve?: string };
  const given = (requested ?? {}) as { hash?: string; saltLength?: number };
  if (algorithm.name === 'ECDSA') {
    const curve = curveOfWebName(algorithm.namedCurve, `${where} curve`);
    const sizes = x509.AsnEcSignatureFormatter.namedCurveSize;
    if (!sizes.has(algorithm.namedCurve!)) sizes.set(algorithm.namedCurve!, curve.orderSize);
    const hash =
      given.hash ?? (curve.orderBits > 384 ? 'SHA-512' : curve.orderBits > 256 ? 'SHA-384' : 'SHA-256');
    return { name: 'ECDSA', hash: hashInfo(hash, `${where}.hash`).name };
  }
  if (algorithm.name === 'RSA-PSS') {
    const hash = hashInfo(algorithm.hash, `${where}.hash`);
    const saltLength = given.saltLength ?? hash.size;
    if (!Number.isSafeInteger(saltLength) || saltLength < 0)
      throw new RangeError(`${where}.saltLength must be a whole number`);
    return { name: 'RSA-PSS', hash: hash.name, saltLength };
  }
  if (algorithm.hash !== undefined) return { name: algorithm.name, hash: algorithm.hash.name };
  return { name: algorithm.name };
}
