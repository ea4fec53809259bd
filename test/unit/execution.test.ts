// The execution switch read from the environment (model/execution.ts): the two modes, the
// default, and a typed error for anything else, so a typo never silently changes where C runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { executionFromEnv } from '../../src/model/execution.js';

test('PKCS11_TS_EXECUTION: unset, empty or auto is auto; worker is worker', () => {
  assert.equal(executionFromEnv(undefined), 'auto');
  assert.equal(executionFromEnv(''), 'auto');
  assert.equal(executionFromEnv('auto'), 'auto');
  assert.equal(executionFromEnv('worker'), 'worker');
});

test('PKCS11_TS_EXECUTION: any other value is a RangeError naming the variable', () => {
  for (const value of ['inline', 'WORKER', '1', 'workers']) {
    assert.throws(
      () => executionFromEnv(value),
      (e: unknown) => e instanceof RangeError && e.message.includes('PKCS11_TS_EXECUTION'),
    );
  }
});
