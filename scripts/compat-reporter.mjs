// A node:test reporter for scripts/compat.mjs: one JSON line per test result, so the compatibility
// run can count passes, skips and failures per test file without parsing human-oriented output.
//
// Each line is {"file", "name", "status", "reason"?, "error"?}: `name` is the full path of the test
// ("suite > test"), `status` is "pass", "skip" (skipped or todo) or "fail". Only tests that have no
// subtests are reported, plus a suite or file that failed on its own (a hook, or an import error).
//
// Usage: node --test --test-reporter=./scripts/compat-reporter.mjs --test-reporter-destination=out.jsonl
import { inspect } from 'node:util';

/** A line that names an error (`Pkcs11Error: C_Sign: ...`, `TypeError [ERR_X]: ...`). */
const ERROR_LINE = /^[\w.]*Error\b(?: \[\w+\])?:/;

/** The first meaningful line of a failure: the test's own error rather than the runner's wrapper. */
function describeError(error) {
  if (!error) return undefined;
  const source = error.cause !== null && typeof error.cause === 'object' ? error.cause : error;
  const name = source?.name && source.name !== 'Error' ? `${source.name}: ` : '';
  const raw =
    typeof source?.message === 'string' ? source.message : inspect(source, { breakLength: Infinity });
  const lines = raw
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  // A message that quotes code or a command first (an assertion on a child's output) names the
  // error further down; a child process's own error is on its standard error.
  const named = lines.find((line) => ERROR_LINE.test(line));
  let message = lines.slice(0, 3).join(' ');
  if (named && !ERROR_LINE.test(lines[0] ?? '') && !lines.slice(0, 3).includes(named))
    message = `${lines[0]} ... ${named}`;
  if (typeof source?.stderr === 'string' && source.stderr.trim())
    message += ` | ${firstError(source.stderr)}`;
  const at = String(source?.stack ?? '')
    .split('\n')
    .map((line) => /\((?:file:\/\/)?([^()]*\/(?:test|src)\/[^()]*)\)$/.exec(line.trim())?.[1])
    .find(Boolean);
  const text = `${name}${message}`.slice(0, 400);
  return at ? `${text} (at ${at.replace(/^.*?\/(test|src)\//, '$1/')})` : text;
}

/** The line of a process's standard error that names the error it died of. */
function firstError(text = '') {
  const lines = text.split('\n').map((line) => line.trim());
  return (
    lines.find((line) => ERROR_LINE.test(line)) ??
    lines.filter(Boolean).slice(-1)[0] ??
    'nothing on standard error'
  );
}

/** Reporter entry point: node:test events in, JSON lines out. */
export default async function* compatReporter(source) {
  // Per file, the chain of tests currently open: { name, parent: boolean }.
  const open = new Map();
  // Per file, what its process wrote to standard error (the first 20,000 characters).
  const stderr = new Map();
  for await (const { type, data } of source) {
    if (!data?.file) continue;
    if (type === 'test:stderr') {
      stderr.set(data.file, `${stderr.get(data.file) ?? ''}${data.message}`.slice(0, 20_000));
      continue;
    }
    const chain = open.get(data.file) ?? [];
    open.set(data.file, chain);
    if (type === 'test:start') {
      chain.length = data.nesting;
      if (data.nesting > 0 && chain[data.nesting - 1]) chain[data.nesting - 1].parent = true;
      chain.push({ name: data.name, parent: false });
      continue;
    }
    if (type !== 'test:pass' && type !== 'test:fail') continue;
    const entry = chain[data.nesting] ?? { name: data.name, parent: false };
    const name = [...chain.slice(0, data.nesting).map((test) => test.name), data.name].join(' > ');
    const failed = type === 'test:fail';
    const failureType = data.details?.error?.failureType;
    // A parent is counted only when it failed by itself (a hook, its own code), not because a subtest did.
    const report = entry.parent ? failed && failureType !== 'subtestsFailed' : true;
    chain.length = data.nesting;
    if (!report) continue;
    const result = { file: data.file, name };
    if (failed) {
      let error = describeError(data.details?.error);
      // A file that failed as a whole (an import error, a crash) says why on its standard error only.
      if (data.nesting === 0 && data.name === data.file) {
        const { signal, exitCode } = data.details?.error ?? {};
        const how = signal ? `killed by ${signal}` : `exit code ${exitCode ?? '?'}`;
        error = `${error} (${how}): ${firstError(stderr.get(data.file))}`;
      }
      Object.assign(result, { status: 'fail', error: error.slice(0, 600) });
    } else if ((data.skip ?? false) !== false || (data.todo ?? false) !== false) {
      const reason = data.skip || data.todo;
      Object.assign(result, { status: 'skip', reason: typeof reason === 'string' ? reason : '' });
    } else result.status = 'pass';
    yield `${JSON.stringify(result)}\n`;
  }
}
