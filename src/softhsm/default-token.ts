/**
 * The project's own SoftHSM2 token, used by the CLI and `npm run demo` when no module is
 * configured. It lives under the user's cache directory and is created on first use with a random
 * user PIN, which is kept next to it (readable by the user only) so later runs can log in.
 */
import { randomInt } from 'node:crypto';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { provisionPersistentToken, type SoftHsmToken } from './provision.js';

/** The label of the default token. */
export const DEFAULT_TOKEN_LABEL = 'pkcs11-ts default';

/** Where the default token lives: `$XDG_CACHE_HOME/pkcs11-ts/softhsm`, else `~/.cache/pkcs11-ts/softhsm`. */
export function defaultTokenDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'pkcs11-ts', 'softhsm');
}

function randomDigits(n: number): string {
  return Array.from({ length: n }, () => randomInt(10)).join('');
}

async function readOrCreate(path: string, make: () => string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    const value = make();
    // 'wx': if another process created it first, keep theirs.
    await writeFile(path, `${value}\n`, { mode: 0o600, flag: 'wx' }).catch(() => undefined);
    return (await readFile(path, 'utf8')).trim();
  }
}

/**
 * Opens (creating on first use) the default token. `created` on the result tells whether it was
 * made just now, so a caller can show the demo PIN once.
 */
export async function defaultToken(dir: string = defaultTokenDir()): Promise<SoftHsmToken> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pin = await readOrCreate(join(dir, 'user-pin'), () => randomDigits(6));
  const soPin = await readOrCreate(join(dir, 'so-pin'), () => randomDigits(10));
  return provisionPersistentToken(join(dir, 'store'), { label: DEFAULT_TOKEN_LABEL, pin, soPin });
}
