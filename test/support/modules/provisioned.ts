/**
 * What every module provisioner returns: a token ready for the integration tests, described by
 * the environment `npm test` would set (PKCS11_MODULE, PKCS11_TOKEN_LABEL, PKCS11_PIN, ...), and
 * a teardown that stops its daemons and removes its temporary directory.
 */
import { access, constants, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MissingPackageError, run } from './process.js';

/**
 * The environment a test process needs for one module: the variables `test/support/env.ts`
 * reads, plus whatever the module itself reads in C_Initialize (SOFTHSM2_CONF, TPM2_PKCS11_STORE,
 * P11_KIT_SERVER_ADDRESS, ...).
 */
export interface ModuleEnv {
  readonly PKCS11_MODULE: string;
  readonly PKCS11_TOKEN_LABEL: string;
  readonly PKCS11_PIN: string;
  /** Absent when the module has no usable Security Officer login (NSS softokn). */
  readonly PKCS11_SO_PIN?: string;
  /** C_Initialize's `pReserved`, for modules that need an init string (NSS softokn). */
  readonly PKCS11_INIT_RESERVED?: string;
  readonly [variable: string]: string | undefined;
}

/** Clean-up steps run last-in first-out; every step runs even when an earlier one fails. */
export class Teardown {
  readonly #steps: (() => Promise<void> | void)[] = [];

  /** Registers a step to run at teardown (before the ones registered earlier). */
  defer(step: () => Promise<void> | void): void {
    this.#steps.push(step);
  }

  /** Runs and forgets every step; rethrows the first failure after all have run. Idempotent. */
  async run(): Promise<void> {
    const errors: unknown[] = [];
    for (let step = this.#steps.pop(); step; step = this.#steps.pop()) {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}

/**
 * A provisioned token. The PINs live in `env` only, behind a getter, so they stay out of
 * `util.inspect` and object spreads of this value.
 *
 * @example
 * await using nss = await provisionNss();
 * spawn(process.execPath, ['app.js'], { env: { ...process.env, ...nss.env } });
 */
export class ProvisionedModule implements AsyncDisposable {
  /** Directory holding everything this token uses; removed at teardown. */
  readonly dir: string;
  /** Absolute path of the PKCS#11 module the tests load. */
  readonly modulePath: string;
  /** Label of the token the tests use. */
  readonly tokenLabel: string;
  readonly #env: ModuleEnv;
  readonly #teardown: Teardown;

  /** Internal: made by the provisioners through {@link provisionWith}. */
  constructor(dir: string, env: ModuleEnv, teardown: Teardown) {
    this.dir = dir;
    this.modulePath = env.PKCS11_MODULE;
    this.tokenLabel = env.PKCS11_TOKEN_LABEL;
    this.#env = env;
    this.#teardown = teardown;
  }

  /** The variables to give a test process (a fresh copy each time). */
  get env(): ModuleEnv {
    return { ...this.#env };
  }

  /** Stops the module's processes and removes its directory. Idempotent. */
  dispose(): Promise<void> {
    return this.#teardown.run();
  }

  /** Same as `dispose()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}

/**
 * The common frame of a provisioner: makes a temporary directory, lets `setup` fill it (start
 * daemons, create the token, register their teardown) and return the environment; on failure
 * tears down what was started and rethrows.
 */
export async function provisionWith(
  prefix: string,
  setup: (dir: string, teardown: Teardown) => Promise<ModuleEnv>,
): Promise<ProvisionedModule> {
  const teardown = new Teardown();
  const dir = await mkdtemp(join(tmpdir(), `pkcs11-ts-${prefix}-`));
  teardown.defer(() => rm(dir, { recursive: true, force: true }));
  try {
    return new ProvisionedModule(dir, await setup(dir, teardown), teardown);
  } catch (error) {
    await teardown.run().catch(() => undefined);
    throw error;
  }
}

/**
 * Finds a shared library of a Debian package: the file `fileName` in `dpkg -L <package>`, else
 * the first existing path in `fallbacks` (other distributions).
 *
 * @throws MissingPackageError naming the package to install when neither finds it.
 * @example
 * await findLibrary('libnss3', 'libsoftokn3.so', ['/usr/lib64/libsoftokn3.so']);
 */
export async function findLibrary(
  debianPackage: string,
  fileName: string,
  fallbacks: readonly string[] = [],
): Promise<string> {
  const listed = await run('dpkg', ['-L', debianPackage]).catch(() => '');
  const candidates = [...listed.split('\n').filter((path) => path.endsWith(`/${fileName}`)), ...fallbacks];
  for (const path of candidates) {
    try {
      await access(path, constants.R_OK);
      return path;
    } catch {
      // listed but absent (a diverted file), or a fallback that does not exist here
    }
  }
  throw new MissingPackageError(fileName, debianPackage);
}

/** Debian's multiarch library directory for this machine, e.g. `/usr/lib/x86_64-linux-gnu`. */
export function multiarchLibDir(): string {
  const triplets: Partial<Record<NodeJS.Architecture, string>> = {
    x64: 'x86_64-linux-gnu',
    arm64: 'aarch64-linux-gnu',
  };
  return `/usr/lib/${triplets[process.arch] ?? `${process.arch}-linux-gnu`}`;
}
