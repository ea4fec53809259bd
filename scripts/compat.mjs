// The compatibility matrix (`npm run compat`): the integration tests against every real module we
// can run here (SoftHSM2, NSS softokn, tpm2-pkcs11 on swtpm, p11-kit remoting), each on a throwaway
// token provisioned by test/support/modules and torn down afterwards.
//
// Writes docs/compatibility.md (passed / skipped / failed tests per file and module) and prints a
// summary. Exits 1 if any test fails on any module or a module cannot be provisioned; skips are fine.
//
// Usage: npm run compat [-- [--modules softhsm,nss,tpm2,p11kit] [--out FILE] [--no-write] [--verbose]
//                           [<test file or directory>...]]       (default: test/integration)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureNodeModules } from './bootstrap.mjs';

ensureNodeModules();
const { tsImport } = await import('tsx/esm/api');
const { MODULES, MissingPackageError, isModuleId } = await tsImport(
  '../test/support/modules/index.ts',
  import.meta.url,
);

const root = fileURLToPath(new URL('..', import.meta.url));
const reporter = fileURLToPath(new URL('./compat-reporter.mjs', import.meta.url));
/** One test may take this long before the runner cancels it. */
const TEST_TIMEOUT_MS = 120_000;
/**
 * One module's whole run may take this long before it is killed: about three times what the slowest
 * (tpm2-pkcs11, ~2.5 min) takes here, so the three modules CI runs stay within 25 min at worst.
 */
const MODULE_TIMEOUT_MS = 480_000;
/** Variables that select a module: cleared before a module's own are applied. */
const MODULE_VARIABLES =
  /^(PKCS11_(MODULE|TOKEN_LABEL|PIN|SO_PIN|INIT_RESERVED)|SOFTHSM2_CONF|P11_KIT_SERVER_ADDRESS|TPM2_PKCS11_\w+|TPM2TOOLS_TCTI|TSS2_LOG|DBUS_SESSION_BUS_ADDRESS)$/;

const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    modules: { type: 'string', default: Object.keys(MODULES).join(',') },
    out: { type: 'string', default: 'docs/compatibility.md' },
    'no-write': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});
const moduleIds = options.modules.split(',').filter(Boolean);
for (const id of moduleIds) {
  if (!isModuleId(id)) usage(`unknown module "${id}" (known: ${Object.keys(MODULES).join(', ')})`);
}

function usage(message) {
  console.error(`compat: ${message}`);
  process.exit(2);
}

/** Every *.test.ts under the given files and directories, relative to the repository root. */
async function testFiles(paths) {
  const found = [];
  for (const path of paths.map((p) => resolve(p))) {
    const info = await stat(path).catch(() => usage(`cannot read ${path}`));
    if (!info.isDirectory()) found.push(path);
    else {
      const names = await readdir(path, { recursive: true });
      found.push(...names.filter((name) => name.endsWith('.test.ts')).map((name) => join(path, name)));
    }
  }
  return [...new Set(found.map((file) => relative(root, file)))].sort();
}

/** The environment of a module's test run: ours without any module selection, then the module's. */
function moduleEnv(env) {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !MODULE_VARIABLES.test(name)),
  );
  return { ...base, ...Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined)) };
}

/** The installed version of a Debian package, or undefined. */
async function debianVersion(name) {
  const child = spawn('dpkg-query', ['-W', '-f=${Version}', name], { stdio: ['ignore', 'pipe', 'ignore'] });
  child.on('error', () => undefined);
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  const [code] = await once(child, 'close').catch(() => [1]);
  return code === 0 && out ? out : undefined;
}

// Ctrl-C or a CI timeout: stop the running tests; the module in use is torn down on the way out.
let running;
let signalled;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    signalled ??= signal;
    running?.kill(signal);
  });
}

/** Runs the test files with one module's environment; returns the parsed result lines. */
async function runTests(id, env, files, runDir) {
  const resultsFile = join(runDir, `${id}.jsonl`);
  const logFile = join(runDir, `${id}.log`);
  const args = [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=1',
    `--test-timeout=${TEST_TIMEOUT_MS}`,
    '--test-reporter=spec',
    `--test-reporter-destination=${options.verbose ? 'stdout' : logFile}`,
    `--test-reporter=${reporter}`,
    `--test-reporter-destination=${resultsFile}`,
    ...files,
  ];
  const stdio = options.verbose ? 'inherit' : ['ignore', 'ignore', 'pipe'];
  const child = spawn(process.execPath, args, { cwd: root, env: moduleEnv(env), stdio });
  running = child;
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk) => (stderr = `${stderr}${chunk}`.slice(-4000)));
  const timer = setTimeout(() => child.kill('SIGKILL'), MODULE_TIMEOUT_MS);
  const [code, signal] = await once(child, 'exit');
  clearTimeout(timer);
  running = undefined;
  const text = await readFile(resultsFile, 'utf8').catch(() => '');
  const results = text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  for (const result of results) result.file = relative(root, result.file);
  // A runner that died or was killed without reporting a failure still fails the module.
  if (code !== 0 && !results.some((result) => result.status === 'fail')) {
    const why =
      signal === 'SIGKILL' ? `killed after ${MODULE_TIMEOUT_MS / 1000} s` : `exited with ${signal ?? code}`;
    const detail = stderr.trim().split('\n').slice(-3).join(' ');
    results.push({ file: '(runner)', name: 'node --test', status: 'fail', error: `${why} ${detail}`.trim() });
  }
  return results;
}

/** Provisions one module, runs the tests against it, tears it down. */
async function runModule(id, files, runDir) {
  const spec = MODULES[id];
  const outcome = { id, spec, version: await debianVersion(spec.packages[0]), results: [] };
  const provisionStart = performance.now();
  let module;
  try {
    module = await spec.provision();
  } catch (error) {
    outcome.error = `provisioning failed: ${error instanceof Error ? error.message : String(error)}`;
    outcome.missingPackages = error instanceof MissingPackageError;
    return outcome;
  }
  outcome.provisionMs = performance.now() - provisionStart;
  try {
    const testStart = performance.now();
    if (!signalled) outcome.results = await runTests(id, module.env, files, runDir);
    outcome.testMs = performance.now() - testStart;
  } finally {
    await module.dispose().catch((error) => {
      outcome.error = `teardown failed: ${error instanceof Error ? error.message : String(error)}`;
    });
  }
  return outcome;
}

/** pass / skip / fail counts of some results. */
function count(results) {
  const tally = { pass: 0, skip: 0, fail: 0 };
  for (const result of results) tally[result.status] += 1;
  return tally;
}

function seconds(ms) {
  return ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`;
}

/** A table cell: passed / skipped / failed, the failures in bold. */
function cell(results) {
  if (results.length === 0) return '-';
  const { pass, skip, fail } = count(results);
  return fail > 0 ? `${pass} / ${skip} / **${fail}**` : `${pass} / ${skip} / 0`;
}

/** Markdown-safe table or list text. */
function md(text) {
  return String(text).replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();
}

function heading(outcome) {
  return outcome.version
    ? `${outcome.spec.title} ${outcome.version.replace(/^\d+:/, '')}`
    : outcome.spec.title;
}

/** The closing section of the report: how the matrix is made and how to run it. */
const HOW_TO_RUN = [
  '## Running it',
  '',
  '`npm run compat` provisions each module in turn (test/support/modules: `softhsm.ts`, `nss.ts`,',
  '`tpm2.ts`, `p11kit.ts`), runs every `test/integration/**/*.test.ts` against it with the environment',
  '`npm test` would set (PKCS11_MODULE, PKCS11_TOKEN_LABEL, PKCS11_PIN, PKCS11_SO_PIN when the module has',
  "one, PKCS11_INIT_RESERVED, and the module's own variables), tears it down, and rewrites this page.",
  'It exits 1 when a test fails on any module or a module cannot be provisioned; skips are fine.',
  '',
  '- `--modules softhsm,nss,tpm2,p11kit`: which columns (default: all).',
  '- `-- <files or directories>`: which tests (default: test/integration).',
  '- `--out FILE` / `--no-write`: where the report goes, or nowhere.',
  "- `--verbose`: the runner's own output as it goes (otherwise kept in a temporary directory when",
  '  something fails).',
  '',
  'Each module needs its Debian packages (listed under Modules above); a missing one fails its column',
  'with the package to install. test/unit/modules.test.ts checks every provisioner (log in, EC key,',
  'signature checked by node:crypto, nothing left behind) and skips a module whose packages are missing',
  '(with CI set it fails instead).',
  '',
  "CI (`.ci/run`) installs every module's packages and, after `npm test` (the SoftHSM2 column), runs",
  '`npm run compat -- --modules nss,tpm2,p11kit --no-write`: a failure on any module fails the build,',
  'and this page is left as committed.',
  '',
];

/** docs/compatibility.md from the outcomes of one run. */
function report(outcomes, files, command, started) {
  const rows = [...new Set([...files, ...outcomes.flatMap((o) => o.results.map((r) => r.file))])];
  const lines = [
    '# Compatibility matrix',
    '',
    `Generated by \`${command}\` on ${started.toISOString().replace(/\.\d+Z$/, 'Z')} (node ${process.version}).`,
    '',
    'The integration tests run against each real module below, every module on a throwaway token made',
    'in a temporary directory by `test/support/modules` and torn down afterwards. Tests skip by',
    'capability (mechanism list, token flags, what the token refuses), never by module name.',
    'Cells: passed / skipped / failed tests.',
    '',
    `| test file | ${outcomes.map((o) => md(heading(o))).join(' | ')} |`,
    `|---|${outcomes.map(() => '---').join('|')}|`,
    ...rows.map(
      (file) =>
        `| ${md(file.replace(/^test\/integration\//, ''))} | ${outcomes
          .map((o) =>
            o.error && o.results.length === 0 ? 'n/a' : cell(o.results.filter((r) => r.file === file)),
          )
          .join(' | ')} |`,
    ),
    `| **total** | ${outcomes.map((o) => (o.error && o.results.length === 0 ? 'n/a' : cell(o.results))).join(' | ')} |`,
    '',
    '## Modules',
    '',
  ];
  for (const o of outcomes) {
    lines.push(`### ${heading(o)}`, '', o.spec.notes, '');
    lines.push(
      `Debian packages: ${o.spec.packages.join(', ')}. Setup ${seconds(o.provisionMs)}, tests ${seconds(o.testMs)}.`,
    );
    if (o.error) lines.push('', `**${md(o.error)}**`);
    const reasons = new Map();
    for (const r of o.results.filter((r) => r.status === 'skip')) {
      const reason = r.reason || '(no reason given)';
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    if (reasons.size > 0) {
      lines.push('', 'Skipped:', '');
      for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1]))
        lines.push(`- ${md(reason)} (${n})`);
    }
    lines.push('');
  }
  const failures = outcomes.flatMap((o) =>
    o.results.filter((r) => r.status === 'fail').map((r) => ({ o, r })),
  );
  lines.push('## Failures', '');
  if (failures.length === 0) lines.push('None.');
  for (const { o, r } of failures) {
    lines.push(
      `- **${md(o.spec.title)}**, \`${md(r.file)}\`, ${md(r.name)}: ${md(r.error ?? 'no error message')}`,
    );
  }
  lines.push('', ...HOW_TO_RUN);
  return lines.join('\n');
}

const started = new Date();
const files = await testFiles(positionals.length > 0 ? positionals : ['test/integration']);
if (files.length === 0) usage(`no *.test.ts files under ${positionals.join(' ') || 'test/integration'}`);
const runDir = await mkdtemp(join(tmpdir(), 'pkcs11-ts-compat-'));
const outcomes = [];
for (const id of moduleIds) {
  if (signalled) break;
  const title = MODULES[id].title;
  console.log(`compat: ${title}: provisioning and running ${files.length} test files...`);
  const outcome = await runModule(id, files, runDir);
  outcomes.push(outcome);
  const { pass, skip, fail } = count(outcome.results);
  const times = `setup ${seconds(outcome.provisionMs)}, tests ${seconds(outcome.testMs)}`;
  console.log(`compat: ${title}: ${pass} passed, ${skip} skipped, ${fail} failed (${times})`);
  if (outcome.error) console.log(`compat: ${title}: ${outcome.error}`);
  for (const r of outcome.results.filter((result) => result.status === 'fail')) {
    console.log(`  FAIL ${r.file} > ${r.name}\n       ${r.error ?? ''}`);
  }
}
const broken = outcomes.filter((o) => o.error || o.results.some((r) => r.status === 'fail'));
// The runner's full output is kept when something failed (and it was not printed already).
// (A module that could not be provisioned has no output to keep.)
if (!broken.some((o) => o.results.length > 0) || options.verbose || signalled)
  await rm(runDir, { recursive: true, force: true });
else console.log(`compat: full test output in ${runDir}/<module>.log`);

// A developer machine without a module's packages: say in one line what to install.
const unprovisioned = outcomes.filter((o) => o.missingPackages);
if (unprovisioned.length > 0) {
  const packages = [...new Set(unprovisioned.flatMap((o) => o.spec.packages))].join(' ');
  console.log(
    `compat: to run ${unprovisioned.map((o) => o.spec.title).join(', ')}: apt-get install ${packages}`,
  );
}

if (signalled) process.exit(128 + constants.signals[signalled]);
const args = process.argv.slice(2).filter((arg) => arg !== '--no-write');
const command = args.length > 0 ? `npm run compat -- ${args.join(' ')}` : 'npm run compat';
if (!options['no-write']) {
  await writeFile(resolve(root, options.out), report(outcomes, files, command, started));
  console.log(`compat: wrote ${options.out}`);
}
if (broken.length > 0) {
  console.log(`compat: FAILED on ${broken.map((o) => o.spec.title).join(', ')}`);
  process.exit(1);
}
console.log(`compat: every test passed or skipped on ${outcomes.map((o) => o.spec.title).join(', ')}`);
