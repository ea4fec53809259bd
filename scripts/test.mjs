// The README's test command (`npm test`): node's test runner over test/**/*.test.ts, against a real token.
//
// With PKCS11_MODULE unset, a throwaway SoftHSM2 token is provisioned for the run (SOFTHSM2_CONF,
// PKCS11_MODULE, PKCS11_TOKEN_LABEL, PKCS11_PIN, PKCS11_SO_PIN are set for the tests) and removed
// afterwards, also on failure and on Ctrl-C. With PKCS11_MODULE set, the environment is used as given.
//
// Usage: npm test [-- <file or directory>...]     e.g. `npm test -- test/unit`
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, stat } from 'node:fs/promises';
import { constants } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNodeModules } from './bootstrap.mjs';

ensureNodeModules();
const { tsImport } = await import('tsx/esm/api');

const root = fileURLToPath(new URL('..', import.meta.url));

/** Test files under a path: the path itself if it is a file, else every *.test.ts below it. */
async function collect(path) {
  if (!(await stat(path)).isDirectory()) return [path];
  const names = (await readdir(path)).filter((name) => name !== 'node_modules' && !name.startsWith('.'));
  const nested = await Promise.all(
    names.map(async (name) => {
      const child = join(path, name);
      if ((await stat(child)).isDirectory()) return collect(child);
      return name.endsWith('.test.ts') ? [child] : [];
    }),
  );
  return nested.flat();
}

/** Ends the run before the runner starts, with a one-line reason. */
function fail(message, code = 1) {
  console.error(`npm test: ${message}`);
  process.exit(code);
}

const selection = process.argv.slice(2);
const paths = (selection.length > 0 ? selection : ['test']).map((arg) => resolve(arg));
const found = await Promise.all(
  paths.map((path) => collect(path).catch(() => fail(`cannot read ${path}`, 2))),
);
const files = [...new Set(found.flat())].sort().map((file) => relative(root, file));
if (files.length === 0) fail(`no *.test.ts files under ${selection.join(' ') || 'test'}`);

// A signal before or during the run: remember it, pass it on to the runner, clean up, then exit.
let child;
let signalled;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    signalled ??= signal;
    child?.kill(signal);
  });
}

let token;
let exitCode = 1;
try {
  let env = process.env;
  if (process.env.PKCS11_MODULE) {
    console.error(`npm test: using PKCS11_MODULE=${process.env.PKCS11_MODULE}`);
  } else {
    const { provisionToken } = await tsImport('../src/softhsm/index.ts', import.meta.url);
    token = await provisionToken();
    env = { ...process.env, ...token.env };
    console.error(`npm test: SoftHSM2 token "${token.tokenLabel}" provisioned in ${token.dir}`);
  }
  if (!signalled) {
    const runner = ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...files];
    child = spawn(process.execPath, runner, { cwd: root, env, stdio: 'inherit' });
    const [code, signal] = await once(child, 'exit');
    exitCode = code ?? 128 + (constants.signals[signal] ?? 0);
  }
} catch (error) {
  console.error(`npm test: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await token?.dispose();
}
process.exit(signalled ? 128 + constants.signals[signalled] : exitCode);
