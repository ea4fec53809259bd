/**
 * Provisioning SoftHSM2 tokens that live in a directory of their own.
 *
 * Every token gets its own `softhsm2.conf` and token directory, so nothing touches the system's
 * SoftHSM store. `provisionToken` makes a throwaway token for a test run; `provisionPersistentToken`
 * keeps one under a cache directory for the CLI and the demo. Both share `provisionIn`.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureSoftHsm } from './install.js';

/** What a token is made with; every field has a default suited to tests and demos. */
export interface ProvisionOptions {
  /** Token label, 1 to 32 bytes of UTF-8. Default `'pkcs11-ts'`. */
  readonly label?: string;
  /** User PIN, 4 to 255 bytes. Default `'1234'` (a demo PIN: the token is a throwaway). */
  readonly pin?: string;
  /** Security Officer PIN, 4 to 255 bytes. Default `'12345678'`. */
  readonly soPin?: string;
  /**
   * Directory to put the token in, created if absent; it must be empty, because disposing the token
   * removes it. Default: a fresh directory under `os.tmpdir()`.
   */
  readonly dir?: string;
}

/** The environment that points a process (tests, CLI, demo) at a provisioned token. */
export interface TokenEnv {
  /** Read by SoftHSM2 in C_Initialize: which configuration, hence which token directory. */
  readonly SOFTHSM2_CONF: string;
  readonly PKCS11_MODULE: string;
  readonly PKCS11_TOKEN_LABEL: string;
  readonly PKCS11_PIN: string;
  readonly PKCS11_SO_PIN: string;
}

/** The facts of a provisioned token, as `provisionIn` gathers them. */
interface TokenFacts {
  readonly modulePath: string;
  readonly confPath: string;
  readonly dir: string;
  readonly tokenLabel: string;
  readonly serial: string;
  readonly created: boolean;
}

/**
 * A SoftHSM2 token in a directory of its own.
 *
 * The PINs are reachable through getters only, so they stay out of `util.inspect`, `JSON.stringify`
 * and object spreads of this value. Disposing removes the directory of a throwaway token and does
 * nothing for a persistent one; it may be called more than once.
 *
 * @example
 * await using token = await provisionToken();
 * applyEnv(token); // before the module is loaded
 */
export class SoftHsmToken implements AsyncDisposable {
  /** Absolute path of the SoftHSM2 PKCS#11 module. */
  readonly modulePath: string;
  /** This token's own `softhsm2.conf`. */
  readonly confPath: string;
  /** Directory holding the configuration and the token store. */
  readonly dir: string;
  /** The token label, as given to `softhsm2-util`. */
  readonly tokenLabel: string;
  /** The token's serial number as SoftHSM2 reports it (16 hex digits). */
  readonly serial: string;
  /** False when a persistent token already existed and was reused as it is. */
  readonly created: boolean;
  readonly #pin: string;
  readonly #soPin: string;
  readonly #removeOnDispose: boolean;

  /** Internal: tokens are made by `provisionToken` and `provisionPersistentToken`. */
  constructor(facts: TokenFacts, pin: string, soPin: string, removeOnDispose: boolean) {
    this.modulePath = facts.modulePath;
    this.confPath = facts.confPath;
    this.dir = facts.dir;
    this.tokenLabel = facts.tokenLabel;
    this.serial = facts.serial;
    this.created = facts.created;
    this.#pin = pin;
    this.#soPin = soPin;
    this.#removeOnDispose = removeOnDispose;
  }

  /** The user PIN. */
  get pin(): string {
    return this.#pin;
  }

  /** The Security Officer PIN. */
  get soPin(): string {
    return this.#soPin;
  }

  /** Environment variables for a child process (or `applyEnv`) that should use this token. */
  get env(): TokenEnv {
    return {
      SOFTHSM2_CONF: this.confPath,
      PKCS11_MODULE: this.modulePath,
      PKCS11_TOKEN_LABEL: this.tokenLabel,
      PKCS11_PIN: this.#pin,
      PKCS11_SO_PIN: this.#soPin,
    };
  }

  /** Removes a throwaway token's directory; keeps a persistent one. Idempotent. */
  async dispose(): Promise<void> {
    if (this.#removeOnDispose) await rm(this.dir, { recursive: true, force: true });
  }

  /** Same as `dispose()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}

/** Checks a label or PIN before anything is written or spawned; messages never contain the value. */
function checkText(name: string, value: unknown, min: number, max: number): string {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string`);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes < min || bytes > max) throw new RangeError(`${name} must be ${min} to ${max} bytes of UTF-8`);
  if (value.includes('\0')) throw new RangeError(`${name} must not contain a NUL character`);
  return value;
}

/** The options with defaults applied and checked. */
function checkOptions(options: ProvisionOptions): { label: string; pin: string; soPin: string } {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  return {
    // CK_TOKEN_INFO.label is 32 bytes; SoftHSM2 takes PINs of 4 to 255 bytes.
    label: checkText('label', options.label ?? 'pkcs11-ts', 1, 32),
    pin: checkText('pin', options.pin ?? '1234', 4, 255),
    soPin: checkText('soPin', options.soPin ?? '12345678', 4, 255),
  };
}

/** Checks a directory argument (`dir`, `cacheDir`) and makes it absolute. */
function checkDir(name: string, value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string`);
  if (value === '') throw new RangeError(`${name} must not be empty`);
  return resolve(value);
}

/**
 * Runs `softhsm2-util` against one configuration and returns its stdout. Errors name the action
 * only: the argument list can hold PINs.
 */
function runUtil(utilPath: string, confPath: string, args: readonly string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(utilPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SOFTHSM2_CONF: confPath },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolvePromise(stdout);
      else {
        const why = signal ?? `exit code ${code}`;
        const detail = (stderr || stdout).trim();
        reject(new Error(`softhsm2-util ${args[0]} failed (${why})${detail ? `: ${detail}` : ''}`));
      }
    });
  });
}

/** An initialised token as `softhsm2-util --show-slots` lists it. */
interface ListedToken {
  readonly label: string;
  readonly serial: string;
}

/** The initialised tokens of one configuration (labels without SoftHSM2's blank padding). */
async function listTokens(utilPath: string, confPath: string): Promise<ListedToken[]> {
  const out = await runUtil(utilPath, confPath, ['--show-slots']);
  const field = (block: string, name: string): string =>
    new RegExp(`^\\s*${name}:[ \\t]*(.*)$`, 'm').exec(block)?.[1]?.trimEnd() ?? '';
  return out
    .split(/^Slot /m)
    .slice(1)
    .filter((block) => field(block, 'Initialized') === 'yes')
    .map((block) => ({ label: field(block, 'Label'), serial: field(block, 'Serial number') }));
}

/** The token with this label, compared the way the token pads it (trailing blanks ignored). */
function findByLabel(tokens: readonly ListedToken[], label: string): ListedToken | undefined {
  return tokens.find((token) => token.label === label.trimEnd());
}

/**
 * The one provisioning routine: writes `dir/softhsm2.conf`, then initialises a token with the
 * label unless `reuse` is set and one already exists there.
 */
async function provisionIn(
  dir: string,
  settings: { label: string; pin: string; soPin: string },
  reuse: boolean,
): Promise<TokenFacts> {
  const { modulePath, utilPath } = await ensureSoftHsm();
  const tokenDir = join(dir, 'tokens');
  const confPath = join(dir, 'softhsm2.conf');
  await mkdir(tokenDir, { recursive: true, mode: 0o700 });
  const conf = [
    '# Written by pkcs11-ts: a SoftHSM2 store of its own.',
    `directories.tokendir = ${tokenDir}`,
    'objectstore.backend = file',
    'log.level = ERROR',
    'slots.removable = false',
    '',
  ].join('\n');
  await writeFile(confPath, conf, { mode: 0o600 });

  const facts = { modulePath, confPath, dir, tokenLabel: settings.label };
  const existing = reuse ? findByLabel(await listTokens(utilPath, confPath), settings.label) : undefined;
  if (existing) return { ...facts, serial: existing.serial, created: false };

  // softhsm2-util takes the PINs as arguments only; they are never logged or put in an error.
  const init = ['--init-token', '--free', '--label', settings.label, '--pin', settings.pin];
  await runUtil(utilPath, confPath, [...init, '--so-pin', settings.soPin]);
  const made = findByLabel(await listTokens(utilPath, confPath), settings.label);
  if (!made) throw new Error(`softhsm2-util --init-token did not list a token labelled ${settings.label}`);
  return { ...facts, serial: made.serial, created: true };
}

/**
 * Provisions a fresh SoftHSM2 token in a temporary directory (installing SoftHSM2 first if needed,
 * see `ensureSoftHsm`). Dispose it to remove the directory.
 *
 * SoftHSM2 reads `SOFTHSM2_CONF` when the module is initialised, so set it (`applyEnv`) before this
 * process loads the module, or pass `token.env` to a child process.
 *
 * @example
 * await using token = await provisionToken({ label: 'test' });
 * const child = spawn('node', ['app.js'], { env: { ...process.env, ...token.env } });
 */
export async function provisionToken(options: ProvisionOptions = {}): Promise<SoftHsmToken> {
  const settings = checkOptions(options);
  let dir: string;
  if (options.dir === undefined) {
    dir = await mkdtemp(join(tmpdir(), 'pkcs11-ts-'));
  } else {
    dir = checkDir('dir', options.dir);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if ((await readdir(dir)).length > 0) throw new Error(`dir must be empty or absent: ${dir}`);
  }
  try {
    const facts = await provisionIn(dir, settings, false);
    return new SoftHsmToken(facts, settings.pin, settings.soPin, true);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Provisions a SoftHSM2 token that stays under `cacheDir` (the CLI's and the demo's default token).
 *
 * Idempotent: when a token with this label is already there it is reused as it is (`created` is
 * false, and the PINs given must be the ones it was made with); nothing is deleted on dispose.
 *
 * @example
 * const token = await provisionPersistentToken(join(os.homedir(), '.cache', 'pkcs11-ts'));
 * if (token.created) console.log(`demo token ready, PIN ${token.pin}`);
 */
export async function provisionPersistentToken(
  cacheDir: string,
  options: Omit<ProvisionOptions, 'dir'> = {},
): Promise<SoftHsmToken> {
  const dir = checkDir('cacheDir', cacheDir);
  const settings = checkOptions(options);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const facts = await provisionIn(dir, settings, true);
  return new SoftHsmToken(facts, settings.pin, settings.soPin, false);
}

/**
 * Sets `process.env` from a token (SOFTHSM2_CONF, PKCS11_MODULE, PKCS11_TOKEN_LABEL, PKCS11_PIN,
 * PKCS11_SO_PIN). Call it before the module is loaded: SoftHSM2 reads SOFTHSM2_CONF in
 * C_Initialize. Returns a function that puts the previous values back.
 *
 * @example
 * const restore = applyEnv(token);
 * const lib = await Library.load(token.modulePath);
 * // ...
 * restore();
 */
export function applyEnv(token: SoftHsmToken): () => void {
  const env = token.env;
  const keys = Object.keys(env) as (keyof TokenEnv)[];
  const previous = keys.map((key) => [key, process.env[key]] as const);
  for (const key of keys) process.env[key] = env[key];
  return () => {
    for (const [key, value] of previous) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}
