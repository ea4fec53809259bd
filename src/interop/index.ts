/**
 * `pkcs11-ts/interop`: token keys meet the rest of Node. Public keys out as SPKI, PEM, JWK,
 * `KeyObject` or an OpenSSH line; keys and certificates in from node:crypto, PEM and JWK; token
 * private keys as node-style signers and as WebCrypto-shaped keys behind a SubtleCrypto that
 * routes them to the token; X.509 requests and certificates signed inside the token with
 * @peculiar/x509.
 *
 * @example
 * ```ts
 * import { toKeyObject, importKey, TokenSigner, createSelfSignedCertificate, storeCertificate } from 'pkcs11-ts/interop';
 * const { publicKey, privateKey } = await session.generateKeypair(KeyType.EC, 'P-256', { store: true, id: Uint8Array.of(1) });
 * const sig = await new TokenSigner(privateKey).sign(data, 'sha256');
 * crypto.verify('sha256', data, await toKeyObject(publicKey), sig); // true
 * const cert = await createSelfSignedCertificate(privateKey, publicKey, { subject: 'CN=me' });
 * await storeCertificate(privateKey, cert, { label: 'me' });
 * ```
 */
export {
  type ExportPublicKeyOptions,
  type PublicKeyExports,
  type PublicKeyFormat,
  exportPublicKey,
  publicKeyInfo,
  toKeyObject,
} from './public-key.js';
export { opensshPublicKey } from './openssh.js';
export { type ImportKeyOptions, type KeyInput, importKey } from './import.js';
export {
  type CertificateInput,
  type CertificateOptions,
  type ImportCertificateOptions,
  type ImportedCertificate,
  importCertificate,
  storeCertificate,
} from './certificate.js';
export { type NodeSignOptions, TokenSigner } from './signer.js';
export {
  type CryptoKeyAlgorithmInput,
  type TokenKey,
  TokenCryptoKey,
  toCryptoKey,
  toCryptoKeyPair,
} from './crypto-key.js';
export { TokenSubtle, tokenCrypto } from './subtle.js';
export {
  type CsrOptions,
  type SelfSignedCertificateOptions,
  type SigningAlgorithm,
  createCsr,
  createSelfSignedCertificate,
} from './x509.js';
