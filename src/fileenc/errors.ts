/**
 * The one error of the file format: what went wrong with an encrypted file, said plainly, with a
 * `reason` a program can branch on. Messages name chunks and fields, never key material.
 */

/**
 * Why a file could not be read or decrypted:
 * - `'format'`: not a file of this format, an unsupported version, or a malformed header;
 * - `'wrong-key'`: the file key could not be unwrapped with the key given (another key, or a
 *   damaged header);
 * - `'tampered'`: a chunk failed authentication (the file or its header was altered or damaged);
 * - `'truncated'`: the file ends before its final chunk.
 */
export type FileErrorReason = 'format' | 'wrong-key' | 'tampered' | 'truncated';

/**
 * An encrypted file is malformed, was altered, was cut short, or is for another key.
 *
 * @example
 * try { await decryptFile('a.p11', 'a', key); }
 * catch (e) { if (e instanceof FileEncryptionError && e.reason === 'wrong-key') ... }
 */
export class FileEncryptionError extends Error {
  /** What went wrong, for programs. */
  readonly reason: FileErrorReason;

  constructor(reason: FileErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FileEncryptionError';
    this.reason = reason;
  }
}
