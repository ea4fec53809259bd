/**
 * Building the C baseline (bench/c/bench.c) with the system's C compiler. The only header it
 * needs is PKCS#11's `pkcs11.h`, taken from Debian's libp11-kit-dev; a missing header or compiler
 * is reported with the command that installs it, before any benchmark starts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** Where Debian's libp11-kit-dev puts the PKCS#11 header. */
export const P11_KIT_INCLUDE = '/usr/include/p11-kit-1';
const HEADER = join(P11_KIT_INCLUDE, 'p11-kit', 'pkcs11.h');

/** The compiler: `$CC` when set, else `cc`. */
function compiler(): string {
  return process.env.CC || 'cc';
}

/**
 * Compiles `source` into `outDir` and returns the executable's path. Throws an Error whose message
 * says what to install when the header or the compiler is missing.
 */
export function buildC(source: string, outDir: string): string {
  if (!existsSync(HEADER)) {
    throw new Error(
      `${HEADER} is missing: install it with \`apt-get install libp11-kit-dev\` (Debian/Ubuntu)`,
    );
  }
  mkdirSync(outDir, { recursive: true });
  const exe = join(outDir, 'bench-c');
  const args = ['-O2', '-Wall', '-pthread', `-I${P11_KIT_INCLUDE}`, source, '-o', exe, '-ldl'];
  try {
    execFileSync(compiler(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') {
      throw new Error(`no C compiler (${compiler()}): install one, e.g. \`apt-get install gcc\``, {
        cause: e,
      });
    }
    throw new Error(`compiling ${source} failed:\n${err.stderr?.toString() ?? err.message}`, { cause: e });
  }
  return exe;
}
