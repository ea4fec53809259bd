// `npm run fuzz:long`: the fuzz tests (test/unit/fuzz-util.test.ts, test/integration/fuzz.test.ts)
// with 100,000 cases each instead of the few thousand of a normal test run, through the README's
// test command (so a throwaway SoftHSM2 token is provisioned unless PKCS11_MODULE is set).
//
// Usage: npm run fuzz:long [-- <cases>]
//   PKCS11_TS_FUZZ_SEED=<seed> replays the run a failure reported.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const FILES = ['test/unit/fuzz-util.test.ts', 'test/integration/fuzz.test.ts'];
const cases = process.argv[2] ?? process.env.PKCS11_TS_FUZZ_CASES ?? '100000';
if (!/^[1-9]\d*$/.test(cases)) {
  console.error(`fuzz:long: the number of cases must be a whole number, got ${cases}`);
  process.exit(2);
}

const testCommand = fileURLToPath(new URL('./test.mjs', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));
console.error(
  `fuzz:long: ${cases} cases per file${process.env.PKCS11_TS_FUZZ_SEED ? `, seed ${process.env.PKCS11_TS_FUZZ_SEED}` : ''}`,
);
const child = spawn(process.execPath, [testCommand, ...FILES], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PKCS11_TS_FUZZ_CASES: cases },
});
// The test command cleans up its token on a signal: pass signals on and wait for it.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
const [code, signal] = await once(child, 'exit');
process.exit(code ?? 128 + (constants.signals[signal] ?? 0));
