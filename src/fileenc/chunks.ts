/**
 * The content of a file: AES-256-GCM in chunks, so files of any size stream through in constant
 * memory and no plaintext is released before it is authenticated.
 *
 * - Chunk i (from 0) is encrypted with the nonce `baseNonce XOR (0^4 || uint64be(i))`; the file key
 *   is random per file, so nonces never repeat under a key.
 * - Its additional data is `SHA-256(header) || finalFlag` (one byte: 1 for the last chunk, else
 *   0). The digest binds the header to every chunk; the flag makes a file cut at a chunk boundary
 *   fail, because its new last chunk was sealed as "not final". Reordered chunks fail on the nonce.
 * - Every chunk holds `chunkSize` plaintext bytes except the last (0..chunkSize), and carries its
 *   16-byte tag after its ciphertext.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { FileEncryptionError } from './errors.js';
import { NONCE_SIZE } from './format.js';
import { fixedRecords, type StreamRecord } from './records.js';

/** Bytes of a GCM tag. */
export const TAG_SIZE = 16;
/** Chunks one file may have: the counter is kept below 2^32. */
const MAX_CHUNKS = 2 ** 32;

/** What sealing and opening chunks need. */
export interface ChunkKeying {
  /** The 32-byte file key. */
  readonly key: Uint8Array;
  /** The header's base nonce (12 bytes). */
  readonly nonce: Uint8Array;
  /** Plaintext bytes per chunk. */
  readonly chunkSize: number;
  /** `headerDigest(headerBytes)`. */
  readonly headerDigest: Uint8Array;
  /** Called after each chunk with the number of input bytes it consumed. */
  readonly onProgress?: (bytes: number) => void;
}

/** The nonce of chunk `index`: the base nonce with the index XORed into its last 8 bytes. */
export function chunkNonce(base: Uint8Array, index: number): Buffer {
  const nonce = Buffer.from(base);
  let rest = BigInt(index);
  for (let i = NONCE_SIZE - 1; i >= NONCE_SIZE - 8; i--) {
    nonce[i]! ^= Number(rest & 0xffn);
    rest >>= 8n;
  }
  return nonce;
}

/** The additional data of a chunk: the header digest and the final flag. */
function chunkAad(digest: Uint8Array, final: boolean): Buffer {
  return Buffer.concat([digest, Uint8Array.of(final ? 1 : 0)]);
}

function checkIndex(index: number): void {
  if (index >= MAX_CHUNKS)
    throw new RangeError(`a file holds at most ${MAX_CHUNKS} chunks: use a larger chunk size`);
}

/**
 * Encrypts a plaintext stream into the chunk sequence of the format (ciphertext || tag per chunk).
 *
 * @example
 * await pipeline(createReadStream(src), (s) => sealChunks(s, keying), createWriteStream(dst, { flags: 'a' }));
 */
export async function* sealChunks(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  keying: ChunkKeying,
): AsyncGenerator<Buffer, void, undefined> {
  for await (const { bytes, index, final } of fixedRecords(source, keying.chunkSize)) {
    checkIndex(index);
    const cipher = createCipheriv('aes-256-gcm', keying.key, chunkNonce(keying.nonce, index));
    cipher.setAAD(chunkAad(keying.headerDigest, final));
    const ciphertext = cipher.update(bytes);
    cipher.final(); // GCM: no more output, only the tag
    keying.onProgress?.(bytes.length);
    yield ciphertext;
    yield cipher.getAuthTag();
  }
}

/** The plaintext of one chunk if it authenticates with this final flag, else undefined. */
function openRecord(record: StreamRecord, keying: ChunkKeying, final: boolean): Buffer | undefined {
  const cut = record.bytes.length - TAG_SIZE;
  const decipher = createDecipheriv('aes-256-gcm', keying.key, chunkNonce(keying.nonce, record.index));
  decipher.setAAD(chunkAad(keying.headerDigest, final));
  decipher.setAuthTag(record.bytes.subarray(cut));
  const plaintext = decipher.update(record.bytes.subarray(0, cut));
  try {
    decipher.final();
    return plaintext;
  } catch {
    plaintext.fill(0);
    return undefined;
  }
}

/**
 * Decrypts the chunk sequence back into plaintext, one authenticated chunk at a time: nothing of
 * a chunk is yielded before its tag checks out. A stream that ends early or was altered ends
 * with a `FileEncryptionError` (`'truncated'` or `'tampered'`) instead of its next chunk, so a
 * caller writing the output must discard what it wrote (as `decryptFile` does).
 */
export async function* openChunks(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  keying: ChunkKeying,
): AsyncGenerator<Buffer, void, undefined> {
  for await (const record of fixedRecords(source, keying.chunkSize + TAG_SIZE)) {
    checkIndex(record.index);
    const where = `chunk ${record.index}`;
    if (record.bytes.length < TAG_SIZE) {
      const what = record.index === 0 ? 'before its first chunk' : `inside ${where}`;
      throw new FileEncryptionError('truncated', `the file ends ${what}: truncated`);
    }
    const plaintext = openRecord(record, keying, record.final);
    if (plaintext === undefined) {
      // A last chunk that authenticates as "not final" means the chunks after it were cut off.
      const cutShort = record.final ? openRecord(record, keying, false) : undefined;
      if (cutShort !== undefined) {
        cutShort.fill(0);
        throw new FileEncryptionError(
          'truncated',
          `the file ends after ${where}, before its final chunk: truncated`,
        );
      }
      throw new FileEncryptionError(
        'tampered',
        `${where} failed authentication: the file (or its header) was altered, damaged or cut short`,
      );
    }
    keying.onProgress?.(record.bytes.length);
    yield plaintext;
  }
}
