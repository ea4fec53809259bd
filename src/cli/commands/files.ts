/**
 * Hybrid file encryption (docs/file-format.md): `p11 encrypt-file` seals a file for a token key
 * (AES-256-GCM on the host, in chunks, the file key wrapped with the key's public half: RSA-OAEP,
 * or ECDH with an ephemeral key), `p11 decrypt-file` unwraps the file key inside the token and
 * decrypts, and `p11 file-info` shows a file's header. Output is written to a temporary file and
 * renamed at the end, so a failure or Ctrl-C leaves nothing half-written.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { ObjectClass } from '../../sys/constants.js';
import type { PrivateKey } from '../../model/keys.js';
import { decryptFile, encryptFile, readFileHeader } from '../../fileenc/file.js';
import { ContentCipher, type FileHeader, PROTECTION_NAMES, checkChunkSize } from '../../fileenc/format.js';
import { findFileKey, tokenRecipient } from '../../fileenc/recipient.js';
import type { OaepHash } from '../../fileenc/seal.js';
import { action } from '../command.js';
import { CancelledError, UsageError } from '../errors.js';
import { fields, hexOf } from '../output.js';
import { progressBar } from '../progress.js';
import { type Selection, addSelection, describeSelection, findObject, findPublicKey } from '../select.js';

interface FileCommandOptions extends Selection {
  readonly force?: boolean;
}

interface EncryptFileOptions extends FileCommandOptions {
  readonly oaepHash?: string;
  readonly chunkSize?: string;
}

/** The suffix `encrypt-file` adds and `decrypt-file` takes off. */
const SUFFIX = '.p11';

/** Refuses to replace an existing output unless `--force`. */
function checkOutput(output: string, force: boolean | undefined): void {
  if (!force && existsSync(output)) throw new UsageError(`${output} exists: pass --force to replace it`);
}

/** A `--chunk-size` value, checked against the format's bounds. */
function parseChunkSize(text: string): number {
  try {
    return checkChunkSize(Number(text), '--chunk-size');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Runs a file operation that Ctrl-C (or SIGTERM) aborts; the partial output is then removed. */
async function interruptible<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop).once('SIGTERM', stop);
  try {
    return await run(controller.signal);
  } catch (error) {
    if (controller.signal.aborted) throw new CancelledError('interrupted: the partial output was removed');
    throw error;
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
  }
}

/** Runs a file operation with a progress bar on a terminal (not with --json). */
async function withProgress<T>(
  show: boolean,
  label: string,
  run: (onProgress: (done: number, total: number) => void, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const bar = show ? progressBar(label) : undefined;
  try {
    return await interruptible((signal) => run((done, total) => bar?.update(done, total), signal));
  } finally {
    bar?.finish();
  }
}

/** A header as `--json` shows it. */
function headerJson(header: FileHeader) {
  return {
    version: header.version,
    protection: PROTECTION_NAMES[header.protection],
    cipher: header.cipher === ContentCipher.AES_256_GCM ? 'AES-256-GCM' : String(header.cipher),
    chunkSize: header.chunkSize,
    keyId: hexOf(header.keyId),
  };
}

/** Registers `encrypt-file`, `decrypt-file` and `file-info`. */
export function registerFiles(program: Command): void {
  addSelection(
    program
      .command('encrypt-file <input> [output]')
      .description(`encrypt a file for a token key (RSA or EC); output defaults to INPUT${SUFFIX}`),
    'the recipient key',
  )
    .option('--oaep-hash <hash>', 'RSA keys: OAEP hash, sha1 (default, what SoftHSM2 does) or sha256')
    .option('--chunk-size <bytes>', 'plaintext bytes per chunk (default 65536)')
    .option('--force', 'replace the output if it exists')
    .action(
      action<EncryptFileOptions>(async (ctx, [input, outputArg], opts) => {
        const output = outputArg ?? `${input}${SUFFIX}`;
        checkOutput(output, opts.force);
        if (opts.oaepHash !== undefined && opts.oaepHash !== 'sha1' && opts.oaepHash !== 'sha256') {
          throw new UsageError('--oaep-hash must be sha1 or sha256');
        }
        const chunkSize = opts.chunkSize === undefined ? undefined : parseChunkSize(opts.chunkSize);
        const session = await ctx.session('if-known');
        const key = await findPublicKey(session, opts, 'the recipient key');
        const recipient = await tokenRecipient(key, { oaepHash: opts.oaepHash as OaepHash | undefined });
        const header = await withProgress(!ctx.json, 'encrypting', (onProgress, signal) =>
          encryptFile(input as string, output, recipient, { chunkSize, onProgress, signal }),
        );
        const json = { input, output, ...headerJson(header) };
        return {
          json,
          text: `encrypted ${input} to ${output} for key ${json.keyId || `"${key.label}"`} (${json.protection})`,
        };
      }),
    );

  addSelection(
    program
      .command('decrypt-file <input> [output]')
      .description(`decrypt a file with its key on the token; output defaults to INPUT without ${SUFFIX}`),
    'the private key (default: the one the file names)',
  )
    .option('--force', 'replace the output if it exists')
    .action(
      action<FileCommandOptions>(async (ctx, [input, outputArg], opts) => {
        const inputPath = input as string;
        const output =
          outputArg ?? (inputPath.endsWith(SUFFIX) ? inputPath.slice(0, -SUFFIX.length) : undefined);
        if (output === undefined || output === '')
          throw new UsageError(`give the output file (the input does not end in ${SUFFIX})`);
        checkOutput(output, opts.force);
        const session = await ctx.session('user');
        const chosen = describeSelection(opts)
          ? ((await findObject(session, opts, [ObjectClass.PRIVATE_KEY], 'the private key')) as PrivateKey)
          : undefined;
        const header = await withProgress(!ctx.json, 'decrypting', (onProgress, signal) =>
          decryptFile(inputPath, output, chosen ?? ((found) => findFileKey(session, found)), {
            onProgress,
            signal,
          }),
        );
        const json = { input, output, ...headerJson(header) };
        return { json, text: `decrypted ${input} to ${output}` };
      }),
    );

  program
    .command('file-info <file>')
    .description('show the header of an encrypted file (no token needed)')
    .action(
      action(async (_ctx, [file]) => {
        const { header, length } = await readFileHeader(file as string);
        const json = { file, headerBytes: length, ...headerJson(header) };
        const text = fields([
          ['file', String(file)],
          ['format', `version ${json.version}, ${json.cipher} in chunks of ${json.chunkSize} bytes`],
          ['key protection', json.protection],
          ['key id', json.keyId || '(none)'],
        ]);
        return { json, text };
      }),
    );
}
