/**
 * CI (.ci/run) installs every Debian package the compatibility matrix's modules need, and runs the
 * matrix on every module but SoftHSM2 (which `npm test` covers) without rewriting the report.
 */
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MODULES } from '../support/modules/index.js';

const script = readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8');

/** The words of every bash array assignment `...packages=( ... )` in the script (comments left out). */
function listedPackages(text: string): Set<string> {
  const words = [...text.matchAll(/^\w*packages=\(([^)]*)\)/gm)].flatMap((m) =>
    m[1]!.replace(/#.*$/gm, '').split(/\s+/),
  );
  return new Set(words.filter(Boolean));
}

test('.ci/run installs the Debian packages of every module of the matrix', () => {
  const listed = listedPackages(script);
  for (const [id, spec] of Object.entries(MODULES)) {
    const absent = spec.packages.filter((name) => !listed.has(name));
    assert.deepEqual(absent, [], `${id}: add to .ci/run`);
  }
});

test('.ci/run runs the matrix on every module but SoftHSM2, and leaves the report alone', () => {
  const run = /^step npm run compat -- --modules (\S+) (.*)$/m.exec(script);
  assert.ok(run, 'a `step npm run compat -- --modules ...` line');
  const ids = Object.keys(MODULES).filter((id) => id !== 'softhsm');
  assert.deepEqual(run[1]!.split(',').sort(), ids.sort());
  assert.match(run[2]!, /--no-write/);
});
