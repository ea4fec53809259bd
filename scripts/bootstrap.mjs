// Set-up shared by `npm test` and `npm run demo` on a fresh clone: installs the npm packages when
// they are missing (plain Node, no dependency of its own), so each command works as the first one.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Runs `npm ci` (or `npm install` without a lock file) when node_modules lacks what the scripts need. */
export function ensureNodeModules() {
  const needed = ['tsx', 'koffi', 'typescript'];
  if (needed.every((name) => existsSync(join(root, 'node_modules', name, 'package.json')))) return;
  const command = existsSync(join(root, 'package-lock.json')) ? 'ci' : 'install';
  console.error(`pkcs11-ts: installing npm packages (npm ${command})...`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, [command, '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(
      `pkcs11-ts: npm ${command} failed (exit ${result.status ?? result.signal}); run it by hand to see why`,
    );
    process.exit(1);
  }
}
