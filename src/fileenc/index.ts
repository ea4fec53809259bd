/**
 * `pkcs11-ts/fileenc`: hybrid file encryption with a token key, as the SmartCard-HSM page
 * describes it. The content is AES-256-GCM on the host, in authenticated chunks; the random file
 * key is protected by the token key's public half (RSA-OAEP, or ECDH with an ephemeral key and
 * HKDF-SHA256), and recovered inside the token on decryption. The format is in docs/file-format.md.
 *
 * @example
 * ```ts
 * import { encryptFile, decryptFile, tokenRecipient, findFileKey } from 'pkcs11-ts/fileenc';
 * const pub = await session.getKey({ objectClass: ObjectClass.PUBLIC_KEY, label: 'files' });
 * await encryptFile('notes.txt', 'notes.txt.p11', await tokenRecipient(pub));
 * await decryptFile('notes.txt.p11', 'notes.txt', (header) => findFileKey(session, header));
 * ```
 */
export { FileEncryptionError, type FileErrorReason } from './errors.js';
export {
  ContentCipher,
  DEFAULT_CHUNK_SIZE,
  FORMAT_VERSION,
  type FileHeader,
  KeyProtection,
  MAX_CHUNK_SIZE,
  MIN_CHUNK_SIZE,
  PROTECTION_NAMES,
  decodeHeader,
  encodeHeader,
} from './format.js';
export { type OaepHash, type Recipient, sealFileKey } from './seal.js';
export { unsealFileKey } from './unseal.js';
export { findFileKey, tokenRecipient } from './recipient.js';
export {
  type ByteSource,
  type DecryptStreamOptions,
  type EncryptStreamOptions,
  type KeyChoice,
  decryptStream,
  encryptStream,
} from './stream.js';
export {
  type EncryptFileOptions,
  type FileOptions,
  decryptFile,
  encryptFile,
  readFileHeader,
} from './file.js';
