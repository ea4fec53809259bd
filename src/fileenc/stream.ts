/**
 * Hybrid encryption of byte streams: the header, then the chunks. These are the building blocks of
 * `encryptFile` / `decryptFile`, for callers whose data is not in a file (sockets, HTTP bodies).
 */
import { randomBytes } from 'node:crypto';
import type { PrivateKey } from '../model/keys.js';
import { openChunks, sealChunks } from './chunks.js';
import { FileEncryptionError } from './errors.js';
import {
  ContentCipher,
  DEFAULT_CHUNK_SIZE,
  FORMAT_VERSION,
  type FileHeader,
  NONCE_SIZE,
  checkChunkSize,
  decodeHeader,
  encodeHeader,
  headerDigest,
} from './format.js';
import { type Recipient, checkRecipient, sealFileKey } from './seal.js';
import { FILE_KEY_SIZE, unsealFileKey } from './unseal.js';

/** Options of {@link encryptStream}. */
export interface EncryptStreamOptions {
  /** Plaintext bytes per chunk; default 64 KiB. */
  readonly chunkSize?: number;
  /** Called after each chunk with the plaintext bytes it took. */
  readonly onProgress?: (bytes: number) => void;
  /** Called with the header once it is made (before the first chunk). */
  readonly onHeader?: (header: FileHeader) => void;
}

/** Options of {@link decryptStream}. */
export interface DecryptStreamOptions {
  /** Called with the encrypted bytes consumed: the header's length, then each chunk's. */
  readonly onProgress?: (bytes: number) => void;
}

/** How decryption gets its private key: the key itself, or a function of the header (see `findFileKey`). */
export type KeyChoice = PrivateKey | ((header: FileHeader) => Promise<PrivateKey>);

/**
 * Encrypts a stream for `recipient`: yields the header, then the chunks. A fresh random file key
 * and nonce are made for every call; the file key is zeroed when the stream ends.
 *
 * @example
 * await pipeline(createReadStream('a.txt'), (s) => encryptStream(s, recipient), createWriteStream('a.txt.p11'));
 */
export async function* encryptStream(
  source: ByteSource,
  recipient: Recipient,
  options: EncryptStreamOptions = {},
): AsyncGenerator<Buffer, void, undefined> {
  checkRecipient(recipient);
  const chunkSize =
    options.chunkSize === undefined
      ? DEFAULT_CHUNK_SIZE
      : checkChunkSize(options.chunkSize, 'options.chunkSize');
  const fileKey = randomBytes(FILE_KEY_SIZE);
  try {
    const nonce = randomBytes(NONCE_SIZE);
    const header: FileHeader = {
      version: FORMAT_VERSION,
      cipher: ContentCipher.AES_256_GCM,
      chunkSize,
      nonce,
      keyId: recipient.keyId,
      ...sealFileKey(recipient, fileKey, nonce),
    };
    const headerBytes = encodeHeader(header);
    options.onHeader?.(header);
    yield headerBytes;
    const keying = {
      key: fileKey,
      nonce,
      chunkSize,
      headerDigest: headerDigest(headerBytes),
      onProgress: options.onProgress,
    };
    yield* sealChunks(source, keying);
  } finally {
    fileKey.fill(0);
  }
}

/** The rest of an iteration after `first` (the bytes read past the header). */
async function* continueWith(first: Buffer, iterator: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (first.length > 0) yield first;
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
}

/** Bytes to encrypt or decrypt: any async or sync iterable of chunks (a Node Readable is one). */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** Reads the header off the front of a stream; the chunks follow in `rest`. */
async function splitHeader(
  source: ByteSource,
): Promise<{ header: FileHeader; headerBytes: Buffer; rest: AsyncIterable<Uint8Array> }> {
  const iterator = (async function* () {
    yield* source;
  })();
  let buffered = Buffer.alloc(0);
  for (;;) {
    try {
      const { header, length } = decodeHeader(buffered);
      return {
        header,
        headerBytes: buffered.subarray(0, length),
        rest: continueWith(buffered.subarray(length), iterator),
      };
    } catch (error) {
      const more = error instanceof FileEncryptionError && error.reason === 'truncated';
      const next = more ? await iterator.next() : undefined;
      if (next === undefined || next.done) throw error;
      buffered = Buffer.concat([buffered, next.value]);
    }
  }
}

/**
 * Decrypts a stream made by {@link encryptStream}: reads the header, unwraps the file key in the
 * token with the chosen private key, and yields the plaintext chunk by chunk, each only after it
 * was authenticated. The stream ends with a `FileEncryptionError` when the data was cut short or
 * altered: treat what was yielded before as void then (as `decryptFile` does).
 *
 * @example
 * const plain = decryptStream(createReadStream('a.txt.p11'), (header) => findFileKey(session, header));
 */
export async function* decryptStream(
  source: ByteSource,
  key: KeyChoice,
  options: DecryptStreamOptions = {},
): AsyncGenerator<Buffer, void, undefined> {
  if (typeof key !== 'function' && (key === null || typeof key !== 'object')) {
    throw new TypeError('key must be a PrivateKey or a function of the header');
  }
  const { header, headerBytes, rest } = await splitHeader(source);
  options.onProgress?.(headerBytes.length);
  const privateKey = typeof key === 'function' ? await key(header) : key;
  const fileKey = await unsealFileKey(header, privateKey);
  try {
    const keying = {
      key: fileKey,
      nonce: header.nonce,
      chunkSize: header.chunkSize,
      headerDigest: headerDigest(headerBytes),
      onProgress: options.onProgress,
    };
    yield* openChunks(rest, keying);
  } finally {
    fileKey.fill(0);
  }
}
