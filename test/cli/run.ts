/**
 * What the CLI tests share: running the real `p11` in a child process, the token `npm test`
 * provisioned (its module, label and PINs from the environment), the token's mechanisms for
 * skipping by capability, and removing what a test file created.
 *
 * `p11` runs as `dist/cli/p11.js` when that build is newer than every source file (CI builds
 * before testing, and a built `p11` starts in about half the time), else as `src/cli/p11.ts`
 * through tsx, so a test never runs stale code.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Mechanism } from '../../src/sys/constants.js';
import { nameOf } from '../../src/sys/names.js';
import { Library } from '../../src/model/index.js';
import { testEnv } from '../support/env.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const built = join(root, 'dist', 'cli', 'p11.js');

/** The newest modification time of the files under `dir`. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** Node's arguments that start `p11`. */
function p11Command(): string[] {
  try {
    const fresh =
      statSync(built).mtimeMs >
      Math.max(newest(join(root, 'src')), statSync(join(root, 'package.json')).mtimeMs);
    if (fresh) return [built];
  } catch {
    // not built: run the sources
  }
  return ['--import', 'tsx', join(root, 'src', 'cli', 'p11.ts')];
}

const command = p11Command();

/** The full command line that starts `p11 ARGS` (for running it under another program). */
export function p11CommandLine(args: readonly string[]): string[] {
  return [process.execPath, ...command, ...args];
}

/** The outcome of one `p11` run. */
export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON. */
  json<T = Record<string, unknown>>(): T;
}

/** Options of {@link p11}. */
export interface RunOptions {
  /** Variables to set (a string) or remove (undefined) on top of this process's environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Standard input (default: empty). */
  readonly input?: string | Uint8Array;
}

/**
 * The run before the next one may start. Runs never overlap: SoftHSM2 rewrites its token file
 * even on a login, and a process reading it meanwhile has been seen to find the token without
 * its label.
 */
let previous: Promise<unknown> = Promise.resolve();

/**
 * Runs `p11 ARGS` (after every run started before it) and collects its exit code and output.
 *
 * @example
 * const run = await p11(['tokens', '--json']);
 * assert.equal(run.code, 0, run.stderr);
 */
export function p11(args: readonly string[], options: RunOptions = {}): Promise<Run> {
  const run = previous.then(() => spawnP11(args, options));
  previous = run.catch(() => undefined);
  return run;
}

function spawnP11(args: readonly string[], options: RunOptions): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...command, ...args], {
      cwd: root,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({
        code,
        stdout,
        stderr,
        json<T>() {
          try {
            return JSON.parse(stdout) as T;
          } catch {
            throw new Error(`p11 ${args.join(' ')} printed no JSON:\n${stdout}\n${stderr}`);
          }
        },
      });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Runs `p11 ARGS --json`, checks it succeeded, and returns the parsed output. */
export async function p11Json<T = Record<string, unknown>>(
  args: readonly string[],
  options?: RunOptions,
): Promise<T> {
  const run = await p11([...args, '--json'], options);
  if (run.code !== 0) throw new Error(`p11 ${args.join(' ')} failed (${run.code}): ${run.stderr}`);
  return run.json<T>();
}

/** The mechanisms of the test token, for skipping by capability. */
export async function tokenMechanisms(): Promise<Set<number>> {
  const { modulePath, tokenLabel, initReserved } = testEnv();
  const lib = await Library.load(modulePath, { initReserved });
  try {
    const token = await lib.getToken({ tokenLabel });
    return new Set(await token.slot.getMechanisms());
  } finally {
    await lib.finalize();
  }
}

/**
 * Destroys the objects on the test token whose label starts with `prefix`: what a test file
 * made, so the token is left as the file found it.
 */
export async function removeObjects(prefix: string): Promise<void> {
  const { modulePath, tokenLabel, pin, initReserved } = testEnv();
  const lib = await Library.load(modulePath, { initReserved });
  try {
    const token = await lib.getToken({ tokenLabel });
    const session = await token.open({ userPin: pin, rw: true });
    const doomed = [];
    for await (const object of session.getObjects()) if (object.label.startsWith(prefix)) doomed.push(object);
    for (const object of doomed) await object.destroy();
    await session.close();
  } finally {
    await lib.finalize();
  }
}

/**
 * Skips `t` (and says why) unless the token has every mechanism in `needed`; true when skipped.
 *
 * @example
 * if (lacking(t, mechanisms, Mechanism.EC_EDWARDS_KEY_PAIR_GEN)) return;
 */
export function lacking(t: TestContext, mechanisms: ReadonlySet<number>, ...needed: number[]): boolean {
  const missing = needed.filter((m) => !mechanisms.has(m));
  if (missing.length === 0) return false;
  t.skip(`the token lacks ${missing.map((m) => nameOf(Mechanism, m)).join(', ')}`);
  return true;
}

/** A fresh temporary directory, removed by `after` of the calling test file. */
export function scratchDirectory(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
