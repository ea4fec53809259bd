/**
 * `npm run bench:fileenc`: `p11 encrypt-file` and `p11 decrypt-file` on a large file (1 GiB by
 * default), with an RSA-2048 key (RSA-OAEP) and a P-256 key (ECDH), each run in a child process
 * of its own that reports its peak resident memory (`process.resourceUsage().maxRSS`) and its
 * time. The point is flat memory: the file streams through in 64 KiB chunks, so the peak must
 * stay under 150 MB whatever the file's size. The decrypted file is compared with the original.
 *
 * The children run the built `p11` (dist/, which the npm script builds first) in plain node, as
 * an installed `p11` runs: tsx, which runs this script, would add its own ~25 MB to every figure.
 *
 * Usage: npm run bench:fileenc [-- --size MiB] [--json]
 *   --size  the file size in MiB (default 1024)
 *   --json  print the results as JSON instead of Markdown
 *
 * Progress goes to stderr, the report to stdout. Needs three times the file size free in the
 * temporary directory.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyType, Library } from '../src/index.js';
import { applyEnv, provisionToken, type SoftHsmToken } from '../src/softhsm/index.js';

/** The memory ceiling the issue sets for a file encryption or decryption, in bytes. */
const LIMIT_BYTES = 150 * 1024 * 1024;
/** Marks the child's measurement line on its stderr. */
const TAG = 'bench-fileenc:';

/** What a child process measured. */
interface Measurement {
  readonly seconds: number;
  readonly maxRssBytes: number;
}

/** One row of the report. */
interface Row extends Measurement {
  readonly key: string;
  readonly operation: 'encrypt-file' | 'decrypt-file';
  readonly mibPerSecond: number;
}

/** The built CLI the children run. */
const BUILT_P11 = new URL('../dist/cli/p11.js', import.meta.url);

/**
 * The child: plain node running `main` of the built `p11` with the arguments in argv[1] (JSON),
 * then reporting its time and peak memory (maxRSS is in kilobytes) on stderr.
 */
const CHILD = `
const [url, argsJson] = process.argv.slice(1);
const { main } = await import(url);
const started = performance.now();
const code = await main([process.execPath, 'p11', ...JSON.parse(argsJson)]);
const seconds = (performance.now() - started) / 1000;
process.stderr.write('${TAG}' + JSON.stringify({ seconds, maxRssBytes: process.resourceUsage().maxRSS * 1024 }) + '\\n');
process.exitCode = code;
`;

/** Runs `p11 ARGS` in a child process and returns its measurement. */
function measure(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      ['--input-type=module', '-e', CHILD, BUILT_P11.href, JSON.stringify(args)],
      {
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    proc.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    proc.on('error', reject);
    proc.on('close', (code) => {
      const line = stderr.split('\n').find((l) => l.startsWith(TAG));
      if (code !== 0 || line === undefined)
        reject(new Error(`p11 ${args.join(' ')} failed (${code}): ${stderr}`));
      else resolve(JSON.parse(line.slice(TAG.length)) as Measurement);
    });
  });
}

/** Writes `mib` MiB of random-looking data (a random 4 MiB block, repeated with a counter). */
async function writeInput(path: string, mib: number): Promise<void> {
  const block = randomBytes(4 * 1024 * 1024);
  const file = await open(path, 'w');
  try {
    for (let written = 0; written < mib; written += 4) {
      block.writeUInt32BE(written, 0);
      await file.write(block, 0, Math.min(4, mib - written) * 1024 * 1024);
    }
  } finally {
    await file.close();
  }
}

/** SHA-256 of a file, streamed. */
async function digestOf(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Generates the two benchmark key pairs on the token. */
async function makeKeys(token: SoftHsmToken): Promise<void> {
  const lib = await Library.load(token.modulePath);
  try {
    const session = await (
      await lib.getToken({ tokenLabel: token.tokenLabel })
    ).open({ userPin: token.pin, rw: true });
    await session.generateKeypair(KeyType.RSA, 2048, {
      store: true,
      label: 'bench rsa',
      id: Uint8Array.of(1),
    });
    await session.generateKeypair(KeyType.EC, 'secp256r1', {
      store: true,
      label: 'bench ec',
      id: Uint8Array.of(2),
    });
    await session.close();
  } finally {
    await lib.finalize();
  }
}

/** The report as Markdown. */
function markdown(rows: readonly Row[], mib: number): string {
  const lines = [
    `File of ${mib} MiB, chunks of 64 KiB; each operation run by the built \`p11\` in a node process of its own.`,
    '',
    '| key | operation | time (s) | MiB/s | peak RSS (MB) | under 150 MB |',
    '|---|---|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.key} | ${r.operation} | ${r.seconds.toFixed(1)} | ${r.mibPerSecond.toFixed(0)} | ` +
        `${(r.maxRssBytes / 1e6).toFixed(1)} | ${r.maxRssBytes < LIMIT_BYTES ? 'yes' : '**no**'} |`,
    ),
  ];
  return lines.join('\n');
}

/** Parses `--size` and `--json`. */
function options(argv: readonly string[]): { mib: number; json: boolean } {
  const at = argv.indexOf('--size');
  const mib = at >= 0 ? Number(argv[at + 1]) : 1024;
  if (!Number.isSafeInteger(mib) || mib < 1) throw new RangeError('--size must be a whole number of MiB');
  return { mib, json: argv.includes('--json') };
}

async function run(argv: readonly string[]): Promise<void> {
  const { mib, json } = options(argv);
  const dir = await mkdtemp(join(tmpdir(), 'bench-fileenc-'));
  const token = await provisionToken({ label: 'bench fileenc' });
  try {
    // SoftHSM2 reads SOFTHSM2_CONF when the module loads, here and in the children.
    applyEnv(token);
    const env = { ...process.env };
    await makeKeys(token);
    const input = join(dir, 'plain');
    process.stderr.write(`writing ${mib} MiB to ${input}\n`);
    await writeInput(input, mib);
    const original = await digestOf(input);
    const rows: Row[] = [];
    for (const [key, id] of [
      ['RSA-2048 (OAEP)', '01'],
      ['P-256 (ECDH)', '02'],
    ] as const) {
      const sealed = join(dir, `sealed-${id}.p11`);
      const opened = join(dir, `opened-${id}`);
      for (const [operation, args] of [
        ['encrypt-file', ['encrypt-file', input, sealed, '--id', id, '--force']],
        ['decrypt-file', ['decrypt-file', sealed, opened, '--force']],
      ] as const) {
        process.stderr.write(`${key}: ${operation}\n`);
        const m = await measure(args, env);
        rows.push({ key, operation, ...m, mibPerSecond: mib / m.seconds });
      }
      if ((await digestOf(opened)) !== original)
        throw new Error(`${key}: the decrypted file differs from the original`);
      await rm(sealed);
      await rm(opened);
    }
    process.stdout.write(
      json
        ? `${JSON.stringify({ mib, limitBytes: LIMIT_BYTES, rows }, null, 2)}\n`
        : `${markdown(rows, mib)}\n`,
    );
    if (rows.some((r) => r.maxRssBytes >= LIMIT_BYTES)) process.exitCode = 1;
  } finally {
    await token.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

if (!existsSync(BUILT_P11)) throw new Error('dist/cli/p11.js is missing: run `npm run build` first');
await run(process.argv.slice(2));
