/**
 * Writing a file all or nothing: into a temporary file next to the target, renamed over the
 * target only when everything was written, deleted otherwise. A failed decryption therefore
 * leaves no partial plaintext behind, and an existing target stays as it was.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The temporary path for `target`: hidden, in the same directory (so the rename stays on one file system). */
export function temporaryPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.partial`);
}

/**
 * Runs `write` with a temporary path, then renames it to `target`; on any failure the temporary
 * file is removed and the error passed on.
 *
 * @example
 * await writeAtomically('out.bin', (tmp) => pipeline(source, createWriteStream(tmp, { flags: 'wx' })));
 */
export async function writeAtomically(
  target: string,
  write: (temporary: string) => Promise<void>,
): Promise<void> {
  const temporary = temporaryPathFor(target);
  try {
    await write(temporary);
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
