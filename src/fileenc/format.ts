/**
 * The header of a hybrid-encrypted file (docs/file-format.md): magic, version, how the file key is
 * protected, the content cipher, the chunk size, the base nonce, the token key's CKA_ID, the
 * ephemeral public key (ECDH) and the wrapped file key. Every byte of it is authenticated: its
 * SHA-256 is part of each chunk's additional data (chunks.ts).
 *
 * @example
 * const bytes = encodeHeader(header);
 * const { header: again, length } = decodeHeader(bytes); // length === bytes.length
 */
import { createHash } from 'node:crypto';
import { FileEncryptionError } from './errors.js';

/** How the file key is protected. */
export const KeyProtection = {
  /** RSA-OAEP with SHA-1 and MGF1-SHA-1 (the PKCS#1 default; the only OAEP SoftHSM2 does). */
  RSA_OAEP_SHA1: 1,
  /** RSA-OAEP with SHA-256 and MGF1-SHA-256. */
  RSA_OAEP_SHA256: 2,
  /** ECDH with an ephemeral key, HKDF-SHA256 to a key-encryption key, AES-256 key wrap (RFC 3394). */
  ECDH_HKDF_SHA256: 3,
} as const;
/** A {@link KeyProtection} value. */
export type KeyProtection = (typeof KeyProtection)[keyof typeof KeyProtection];

/** The cipher of the content. */
export const ContentCipher = {
  /** AES-256-GCM in chunks, 16-byte tags (chunks.ts). */
  AES_256_GCM: 1,
} as const;
/** A {@link ContentCipher} value. */
export type ContentCipher = (typeof ContentCipher)[keyof typeof ContentCipher];

/** Readable names of the key protections, as `p11 file-info` and docs/file-format.md show them. */
export const PROTECTION_NAMES: Readonly<Record<KeyProtection, string>> = {
  [KeyProtection.RSA_OAEP_SHA1]: 'RSA-OAEP-SHA1',
  [KeyProtection.RSA_OAEP_SHA256]: 'RSA-OAEP-SHA256',
  [KeyProtection.ECDH_HKDF_SHA256]: 'ECDH-HKDF-SHA256-A256KW',
};

/** The first six bytes of every file: `P11ENC`. */
export const MAGIC = Buffer.from('P11ENC', 'latin1');
/** The format version this code writes and reads. */
export const FORMAT_VERSION = 1;
/** Bytes of the base nonce (a GCM IV). */
export const NONCE_SIZE = 12;
/** Plaintext bytes per chunk unless the writer chooses otherwise. */
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
/** Smallest chunk size a header may declare. */
export const MIN_CHUNK_SIZE = 1024;
/** Largest chunk size a header may declare (a chunk is held in memory whole). */
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;

/** Bytes before the variable-length fields: magic, version, protection, cipher, flags, chunk size, nonce. */
const FIXED_SIZE = MAGIC.length + 4 + 4 + NONCE_SIZE;
/** Largest length each variable field may have. */
const FIELD_LIMITS = { keyId: 1024, ephemeralKey: 1024, wrappedKey: 4096 } as const;
/** The most bytes a header can take: read this much to be sure to have all of it. */
export const MAX_HEADER_SIZE =
  FIXED_SIZE + 6 + FIELD_LIMITS.keyId + FIELD_LIMITS.ephemeralKey + FIELD_LIMITS.wrappedKey;

/** A decoded header. */
export interface FileHeader {
  /** Format version (1). */
  readonly version: number;
  readonly protection: KeyProtection;
  readonly cipher: ContentCipher;
  /** Plaintext bytes per chunk (every chunk but the last has exactly this many). */
  readonly chunkSize: number;
  /** The base nonce: chunk i uses it with i XORed into its last 8 bytes. */
  readonly nonce: Uint8Array;
  /** CKA_ID of the token key the file is for (empty when the key had none). */
  readonly keyId: Uint8Array;
  /** ECDH: the ephemeral public key as SubjectPublicKeyInfo DER; empty for RSA. */
  readonly ephemeralKey: Uint8Array;
  /** The file key: RSA-OAEP ciphertext, or AES key wrap output under the ECDH key-encryption key. */
  readonly wrappedKey: Uint8Array;
}

const PROTECTIONS = new Set<number>(Object.values(KeyProtection));
const CIPHERS = new Set<number>(Object.values(ContentCipher));

/** Checks the fields a writer chose; RangeError/TypeError naming the field. */
function checkHeader(header: FileHeader): void {
  if (header.version !== FORMAT_VERSION) throw new RangeError(`header.version must be ${FORMAT_VERSION}`);
  if (!PROTECTIONS.has(header.protection))
    throw new RangeError('header.protection must be a KeyProtection value');
  if (!CIPHERS.has(header.cipher)) throw new RangeError('header.cipher must be a ContentCipher value');
  checkChunkSize(header.chunkSize, 'header.chunkSize');
  if (!(header.nonce instanceof Uint8Array) || header.nonce.length !== NONCE_SIZE) {
    throw new RangeError(`header.nonce must be ${NONCE_SIZE} bytes`);
  }
  for (const field of ['keyId', 'ephemeralKey', 'wrappedKey'] as const) {
    const value = header[field];
    if (!(value instanceof Uint8Array)) throw new TypeError(`header.${field} must be a Uint8Array`);
    if (value.length > FIELD_LIMITS[field])
      throw new RangeError(`header.${field} must be at most ${FIELD_LIMITS[field]} bytes`);
  }
}

/** Checks a chunk size argument: a whole number within MIN_CHUNK_SIZE..MAX_CHUNK_SIZE. */
export function checkChunkSize(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new TypeError(`${what} must be a whole number`);
  if (value < MIN_CHUNK_SIZE || value > MAX_CHUNK_SIZE) {
    throw new RangeError(`${what} must be within ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE} bytes, got ${value}`);
  }
  return value;
}

/**
 * The header's bytes, as written at the start of the file.
 *
 * @example
 * const bytes = encodeHeader({ version: 1, protection: KeyProtection.RSA_OAEP_SHA1, cipher: ContentCipher.AES_256_GCM,
 *   chunkSize: DEFAULT_CHUNK_SIZE, nonce, keyId, ephemeralKey: new Uint8Array(0), wrappedKey });
 */
export function encodeHeader(header: FileHeader): Buffer {
  checkHeader(header);
  const fields = [header.keyId, header.ephemeralKey, header.wrappedKey];
  const out = Buffer.alloc(FIXED_SIZE + fields.reduce((n, f) => n + 2 + f.length, 0));
  MAGIC.copy(out, 0);
  let at = MAGIC.length;
  at = out.writeUInt8(header.version, at);
  at = out.writeUInt8(header.protection, at);
  at = out.writeUInt8(header.cipher, at);
  at = out.writeUInt8(0, at); // flags: none defined in version 1
  at = out.writeUInt32BE(header.chunkSize, at);
  out.set(header.nonce, at);
  at += NONCE_SIZE;
  for (const field of fields) {
    at = out.writeUInt16BE(field.length, at);
    out.set(field, at);
    at += field.length;
  }
  return out;
}

/** Reads one length-prefixed field; 'truncated' when the bytes end first. */
function readField(bytes: Uint8Array, at: number, name: keyof typeof FIELD_LIMITS): [Uint8Array, number] {
  if (bytes.length < at + 2) throw truncatedHeader();
  const length = (bytes[at]! << 8) | bytes[at + 1]!;
  if (length > FIELD_LIMITS[name])
    throw new FileEncryptionError('format', `malformed header: ${name} is ${length} bytes long`);
  if (bytes.length < at + 2 + length) throw truncatedHeader();
  return [new Uint8Array(bytes.subarray(at + 2, at + 2 + length)), at + 2 + length];
}

function truncatedHeader(): FileEncryptionError {
  return new FileEncryptionError('truncated', 'the file ends inside its header: truncated');
}

/**
 * Decodes the header at the start of `bytes` (which may go on with the chunks) and says how long
 * it is. Throws `FileEncryptionError`: `'format'` for another kind of file, another version or a
 * malformed field, `'truncated'` when `bytes` ends inside the header.
 */
export function decodeHeader(bytes: Uint8Array): { header: FileHeader; length: number } {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicSeen = view.subarray(0, MAGIC.length);
  if (!MAGIC.subarray(0, magicSeen.length).equals(magicSeen)) {
    throw new FileEncryptionError('format', 'not a file encrypted by p11 encrypt-file (no P11ENC magic)');
  }
  if (view.length < FIXED_SIZE) throw truncatedHeader();
  let at = MAGIC.length;
  const version = view.readUInt8(at++);
  if (version !== FORMAT_VERSION) {
    throw new FileEncryptionError(
      'format',
      `unsupported format version ${version} (this version reads ${FORMAT_VERSION})`,
    );
  }
  const protection = view.readUInt8(at++);
  if (!PROTECTIONS.has(protection))
    throw new FileEncryptionError('format', `unknown key protection ${protection}`);
  const cipher = view.readUInt8(at++);
  if (!CIPHERS.has(cipher)) throw new FileEncryptionError('format', `unknown content cipher ${cipher}`);
  const flags = view.readUInt8(at++);
  if (flags !== 0) throw new FileEncryptionError('format', `unknown header flags 0x${flags.toString(16)}`);
  const chunkSize = view.readUInt32BE(at);
  at += 4;
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new FileEncryptionError('format', `malformed header: chunk size ${chunkSize}`);
  }
  const nonce = new Uint8Array(view.subarray(at, at + NONCE_SIZE));
  at += NONCE_SIZE;
  const [keyId, afterId] = readField(view, at, 'keyId');
  const [ephemeralKey, afterEphemeral] = readField(view, afterId, 'ephemeralKey');
  const [wrappedKey, end] = readField(view, afterEphemeral, 'wrappedKey');
  const header: FileHeader = {
    version,
    protection: protection as KeyProtection,
    cipher: cipher as ContentCipher,
    chunkSize,
    nonce,
    keyId,
    ephemeralKey,
    wrappedKey,
  };
  return { header, length: end };
}

/** SHA-256 of the header's bytes: bound into every chunk, so any change to the header fails them all. */
export function headerDigest(headerBytes: Uint8Array): Buffer {
  return createHash('sha256').update(headerBytes).digest();
}
