/**
 * Child processes for the module provisioners: one-shot commands (certutil, tpm2_ptool) and
 * daemons (swtpm, dbus-daemon, tpm2-abrmd, p11-kit server) that live as long as a provisioned
 * module and are killed when it is torn down.
 *
 * Error messages name the command but never its arguments: those can hold PINs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Environment for a child: ours, with `extra` on top (an `undefined` value removes a variable). */
export type ChildEnv = Readonly<Record<string, string | undefined>>;

function mergeEnv(extra: ChildEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** The last few lines of a process's output, for an error message. */
function tail(text: string, lines = 8): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** A provisioner's tool or module is not installed; `debianPackage` says what to install. */
export class MissingPackageError extends Error {
  readonly debianPackage: string;

  constructor(what: string, debianPackage: string) {
    super(`${what} not found: install the Debian package ${debianPackage}`);
    this.name = 'MissingPackageError';
    this.debianPackage = debianPackage;
  }
}

/**
 * The absolute path of a command on PATH (or in the sbin directories, where tpm2-abrmd lives).
 *
 * @throws MissingPackageError naming the Debian package that provides it when it is missing.
 * @example
 * const certutil = await findCommand('certutil', 'libnss3-tools');
 */
export async function findCommand(name: string, debianPackage: string): Promise<string> {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '');
  for (const dir of [...dirs, '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    const path = join(dir, name);
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {
      // not in this directory
    }
  }
  throw new MissingPackageError(name, debianPackage);
}

/**
 * Runs a command to completion and returns its standard output.
 *
 * @throws Error naming the command (not its arguments) with the tail of its output when it fails.
 */
export function run(command: string, args: readonly string[], env?: ChildEnv, cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: mergeEnv(env), cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(stdout);
      const detail = tail(stderr || stdout);
      reject(
        new Error(`${command} failed (${signal ?? `exit code ${code}`})${detail ? `:\n${detail}` : ''}`),
      );
    });
  });
}

/** Daemons still running, killed outright if this process exits without tearing them down. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A long-running child process whose output is kept for error messages. */
export class Daemon {
  readonly name: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #output = '';
  #gone = false;

  /** Internal: use {@link startDaemon}. */
  constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.#child = child;
    live.add(child);
    // 'exit' for a process that ran, 'error' for one that could not be spawned.
    this.#exited = new Promise<void>((resolve) => {
      const gone = () => {
        this.#gone = true;
        live.delete(child);
        resolve();
      };
      child.once('exit', gone);
      child.once('error', (error) => {
        this.#output += `${error.message}\n`;
        gone();
      });
    });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.#output += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.#output += chunk));
  }

  /** Everything the daemon wrote to stdout and stderr so far. */
  get output(): string {
    return this.#output;
  }

  /** False once the process has exited. */
  get running(): boolean {
    return !this.#gone && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** An Error saying the daemon is gone or not ready, with the tail of its output. */
  failure(what: string): Error {
    const detail = tail(this.#output);
    return new Error(`${this.name} ${what}${detail ? `:\n${detail}` : ''}`);
  }

  /**
   * Polls `ready` every 50 ms until it returns a value other than undefined, the daemon exits
   * (rejects with its output) or `timeoutMs` passes.
   */
  async waitUntil<T>(what: string, ready: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw this.failure(`exited before ${what}`);
      const value = await ready();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw this.failure(`not ${what} after ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. Idempotent. */
  async stop(graceMs = 2_000): Promise<void> {
    if (!this.running) return;
    this.#child.kill('SIGTERM');
    const timer = sleep(graceMs).then(() => 'timeout' as const);
    if ((await Promise.race([this.#exited, timer])) === 'timeout') {
      this.#child.kill('SIGKILL');
      await this.#exited;
    }
  }
}

/**
 * Starts a daemon in the foreground (so its pid is ours to kill) with its output captured.
 *
 * @example
 * const bus = startDaemon('dbus-daemon', dbusPath, ['--session', '--nofork', '--print-address']);
 * const address = await bus.waitUntil('listening', () => bus.output.split('\n')[0] || undefined);
 */
export function startDaemon(name: string, command: string, args: readonly string[], env?: ChildEnv): Daemon {
  return new Daemon(name, spawn(command, args, { env: mergeEnv(env), stdio: ['ignore', 'pipe', 'pipe'] }));
}
