/**
 * Bytes in and out of commands: from a file or standard input, to a file or standard output, raw
 * or as hex / base64 text. On a terminal, binary output defaults to hex so it cannot garble it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { UsageError } from './errors.js';

/** How bytes are written (and read back, for signatures given to `verify`). */
export type Encoding = 'raw' | 'hex' | 'base64';

const ENCODINGS: readonly Encoding[] = ['raw', 'hex', 'base64'];

/** Checks an `--encoding` value. */
export function parseEncoding(value: string): Encoding {
  if (!ENCODINGS.includes(value as Encoding))
    throw new UsageError(`--encoding must be one of ${ENCODINGS.join(', ')}`);
  return value as Encoding;
}

/** Whether a path means standard input/output. */
function isStdio(path: string | undefined): boolean {
  return path === undefined || path === '-';
}

/** Reads all of standard input. */
async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The bytes of `path`, or of standard input for `-` or none (refused on a terminal, where it
 * would wait for typing). `what` names the option in messages.
 */
export async function readInput(path: string | undefined, what: string): Promise<Buffer> {
  if (!isStdio(path)) return readFile(path as string);
  if (process.stdin.isTTY) throw new UsageError(`no input: give ${what} FILE, or pipe the data in`);
  return readStdin();
}

/** The encoding when none is asked for: hex for a terminal, raw otherwise. */
export function defaultEncoding(path: string | undefined): Encoding {
  return isStdio(path) && process.stdout.isTTY ? 'hex' : 'raw';
}

/** Bytes in an encoding (hex and base64 end with a newline). */
export function encodeBytes(bytes: Uint8Array, encoding: Encoding): Buffer {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return encoding === 'raw' ? buf : Buffer.from(`${buf.toString(encoding)}\n`);
}

/** Bytes read in an encoding (hex and base64 ignore surrounding white space). */
export function decodeBytes(data: Buffer, encoding: Encoding, what: string): Buffer {
  if (encoding === 'raw') return data;
  const text = data.toString('latin1').replace(/\s+/g, '');
  const valid = encoding === 'hex' ? /^([0-9a-fA-F]{2})*$/ : /^[A-Za-z0-9+/]*={0,2}$/;
  if (!valid.test(text)) throw new UsageError(`${what} is not ${encoding} text`);
  return Buffer.from(text, encoding);
}

/**
 * Writes `data` to `path`, or to standard output for `-` or none. A new file gets `mode`
 * (default 0644; secrets and plaintext are written 0600).
 */
export async function writeOutput(
  data: Uint8Array | string,
  path: string | undefined,
  mode = 0o644,
): Promise<void> {
  if (!isStdio(path)) {
    await writeFile(path as string, data, { mode });
    return;
  }
  await new Promise<void>((resolve, reject) =>
    process.stdout.write(data, (error) => (error ? reject(error) : resolve())),
  );
}

/** Where and how a command's bytes go. */
export interface BytesDestination {
  /** `--out`: a file, or standard output when undefined or `-`. */
  readonly out?: string;
  /** `--encoding`: default hex on a terminal, else raw. */
  readonly encoding?: string;
  /** The JSON field holding the bytes (as hex) when they go to standard output with `--json`. */
  readonly field: string;
  /** File mode of a new output file. */
  readonly mode?: number;
}

/**
 * Sends a command's bytes where they belong: with `--json` and no `--out`, into the JSON document
 * as hex; otherwise written out in the chosen encoding (and with `--json`, a note of where).
 * Resolves to what the command should print, if anything.
 */
export async function emitBytes(
  json: boolean,
  bytes: Uint8Array,
  destination: BytesDestination,
): Promise<{ json: unknown } | undefined> {
  const { out, field } = destination;
  const encoding =
    destination.encoding === undefined ? defaultEncoding(out) : parseEncoding(destination.encoding);
  if (json && isStdio(out)) return { json: { [field]: Buffer.from(bytes).toString('hex') } };
  await writeOutput(encodeBytes(bytes, encoding), out, destination.mode);
  return json ? { json: { out, bytes: bytes.length } } : undefined;
}
