/**
 * Hybrid file encryption, file to file: streamed in chunks (memory stays flat whatever the size),
 * written all or nothing (a temporary file next to the output, renamed on success and deleted on
 * failure, with mode 0600), with progress reports and cancellation.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { writeAtomically } from './atomic.js';
import { type FileHeader, MAX_HEADER_SIZE, decodeHeader } from './format.js';
import type { Recipient } from './seal.js';
import { type KeyChoice, decryptStream, encryptStream } from './stream.js';

/** Options both directions take. */
export interface FileOptions {
  /** Called as the input is read: bytes done so far and the input file's size. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Aborts the operation; the partial output is removed. */
  readonly signal?: AbortSignal;
}

/** Options of {@link encryptFile}. */
export interface EncryptFileOptions extends FileOptions {
  /** Plaintext bytes per chunk; default 64 KiB (1 KiB to 16 MiB). */
  readonly chunkSize?: number;
}

function checkPath(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new TypeError(`${what} must be a file path string`);
  if (value === '') throw new RangeError(`${what} must not be empty`);
  return value;
}

function checkOptions(options: FileOptions): void {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new TypeError('options.onProgress must be a function');
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TypeError('options.signal must be an AbortSignal');
  }
}

/** A progress callback that adds up the bytes of each step and reports them against `total`. */
function progressOf(options: FileOptions, total: number): ((bytes: number) => void) | undefined {
  const report = options.onProgress;
  if (report === undefined) return undefined;
  let done = 0;
  return (bytes) => report((done += bytes), total);
}

/** Streams `input` through `transform` into `output`, atomically. */
async function transformFile(
  input: string,
  output: string,
  transform: (source: AsyncIterable<Uint8Array>) => AsyncIterable<Uint8Array>,
  signal: AbortSignal | undefined,
): Promise<void> {
  await writeAtomically(output, (temporary) =>
    pipeline(createReadStream(input), transform, createWriteStream(temporary, { flags: 'wx', mode: 0o600 }), {
      signal,
    }),
  );
}

/**
 * Encrypts the file `input` for `recipient` into `output` (replaced if it exists). Resolves to the
 * header written.
 *
 * @example
 * const recipient = await tokenRecipient(publicKey);
 * await encryptFile('backup.tar', 'backup.tar.p11', recipient, { onProgress: (done, total) => ... });
 */
export async function encryptFile(
  input: string,
  output: string,
  recipient: Recipient,
  options: EncryptFileOptions = {},
): Promise<FileHeader> {
  checkPath(input, 'input');
  checkPath(output, 'output');
  checkOptions(options);
  const total = (await stat(input)).size;
  let header: FileHeader | undefined;
  const streamOptions = {
    chunkSize: options.chunkSize,
    onProgress: progressOf(options, total),
    onHeader: (made: FileHeader) => (header = made),
  };
  await transformFile(
    input,
    output,
    (source) => encryptStream(source, recipient, streamOptions),
    options.signal,
  );
  return header as FileHeader;
}

/**
 * Decrypts the file `input` into `output`, unwrapping the file key in the token with the chosen
 * private key (or the one a function picks from the header, such as `findFileKey`). Nothing is
 * left at `output` unless the whole file decrypted and authenticated; an existing `output` is
 * replaced only then. Resolves to the file's header.
 *
 * @throws FileEncryptionError ('format', 'wrong-key', 'tampered', 'truncated'), or the token's error.
 * @example
 * await decryptFile('backup.tar.p11', 'backup.tar', (header) => findFileKey(session, header));
 */
export async function decryptFile(
  input: string,
  output: string,
  key: KeyChoice,
  options: FileOptions = {},
): Promise<FileHeader> {
  checkPath(input, 'input');
  checkPath(output, 'output');
  checkOptions(options);
  const total = (await stat(input)).size;
  let header: FileHeader | undefined;
  const choose: KeyChoice = async (found) => {
    header = found;
    return typeof key === 'function' ? key(found) : key;
  };
  const onProgress = progressOf(options, total);
  await transformFile(
    input,
    output,
    (source) => decryptStream(source, choose, { onProgress }),
    options.signal,
  );
  return header as FileHeader;
}

/**
 * The header of an encrypted file and its length in bytes, read without any key.
 *
 * @example
 * const { header } = await readFileHeader('backup.tar.p11'); // header.keyId: the token key's CKA_ID
 */
export async function readFileHeader(path: string): Promise<{ header: FileHeader; length: number }> {
  checkPath(path, 'path');
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(MAX_HEADER_SIZE);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return decodeHeader(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}
