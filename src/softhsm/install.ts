/**
 * Finding SoftHSM2 on this machine, and installing it with apt-get when we are allowed to.
 *
 * SoftHSM2 is the software token every test and the demo run against; this file only locates its two
 * pieces (the PKCS#11 module and the `softhsm2-util` tool) and never loads the module itself.
 */
import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** Where SoftHSM2's pieces live on this machine. */
export interface SoftHsmPaths {
  /** Absolute path of the PKCS#11 module, `libsofthsm2.so`. */
  readonly modulePath: string;
  /** Absolute path of the `softhsm2-util` command, used to initialise tokens. */
  readonly utilPath: string;
}

/** Debian's multiarch triplet for each Node architecture we may run on. */
const MULTIARCH: Readonly<Partial<Record<NodeJS.Architecture, string>>> = {
  x64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
  arm: 'arm-linux-gnueabihf',
  ia32: 'i386-linux-gnu',
  ppc64: 'powerpc64le-linux-gnu',
  s390x: 's390x-linux-gnu',
  riscv64: 'riscv64-linux-gnu',
};

/** Candidate module paths, most common first (Debian/Ubuntu, Fedora/RHEL, source builds, Homebrew). */
function moduleCandidates(): string[] {
  const triplet = MULTIARCH[process.arch];
  return [
    '/usr/lib/softhsm/libsofthsm2.so',
    ...(triplet ? [`/usr/lib/${triplet}/softhsm/libsofthsm2.so`] : []),
    '/usr/lib64/pkcs11/libsofthsm2.so',
    '/usr/lib/pkcs11/libsofthsm2.so',
    '/usr/local/lib/softhsm/libsofthsm2.so',
    '/opt/homebrew/lib/softhsm/libsofthsm2.so',
  ];
}

/** Candidate `softhsm2-util` paths: every PATH entry, then the usual system directories. */
function utilCandidates(): string[] {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '');
  return [...dirs, '/usr/bin', '/usr/local/bin', '/opt/homebrew/bin'].map((dir) =>
    join(dir, 'softhsm2-util'),
  );
}

/** The first candidate that exists with the given access mode, or undefined. */
async function firstAccessible(candidates: readonly string[], mode: number): Promise<string | undefined> {
  for (const path of candidates) {
    try {
      await access(path, mode);
      return path;
    } catch {
      // not here; try the next one
    }
  }
  return undefined;
}

/**
 * Looks for SoftHSM2 without changing anything on the machine.
 *
 * Returns undefined unless both the module and `softhsm2-util` are found, so a caller can skip
 * work that needs SoftHSM2 when another module is configured.
 */
export async function findSoftHsm(): Promise<SoftHsmPaths | undefined> {
  const modulePath = await firstAccessible(moduleCandidates(), constants.R_OK);
  const utilPath = await firstAccessible(utilCandidates(), constants.X_OK);
  return modulePath && utilPath ? { modulePath, utilPath } : undefined;
}

/** Runs a command with its output sent to our stderr (stdout stays clean for test reporters). */
function runToStderr(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', process.stderr, process.stderr],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit code ${code}`})`));
    });
  });
}

/** One `apt-get update` per process, however many installs ask for it. */
let aptUpdated: Promise<void> | undefined;

/** Installs the `softhsm2` Debian package; only called when we are root and apt-get exists. */
async function aptInstallSoftHsm(aptGet: string): Promise<void> {
  process.stderr.write('SoftHSM2 not found: installing the softhsm2 package with apt-get...\n');
  aptUpdated ??= runToStderr(aptGet, ['-q', 'update']);
  await aptUpdated;
  await runToStderr(aptGet, ['-q', 'install', '-y', '--no-install-recommends', 'softhsm2']);
}

/**
 * Makes sure SoftHSM2 is available and says where it is.
 *
 * When it is missing and this process runs as root on a system with apt-get, the `softhsm2`
 * package is installed (a one-line note and apt's output go to stderr). Otherwise it throws an
 * Error that names the package to install.
 *
 * @example
 * const { modulePath, utilPath } = await ensureSoftHsm();
 */
export async function ensureSoftHsm(): Promise<SoftHsmPaths> {
  const found = await findSoftHsm();
  if (found) return found;
  const aptGet = await firstAccessible(['/usr/bin/apt-get', '/bin/apt-get'], constants.X_OK);
  if (process.getuid?.() === 0 && aptGet) {
    await aptInstallSoftHsm(aptGet);
    const installed = await findSoftHsm();
    if (installed) return installed;
  }
  throw new Error(
    'SoftHSM2 is not installed: run `sudo apt-get install softhsm2` (Debian/Ubuntu) ' +
      'or set PKCS11_MODULE to another module',
  );
}
