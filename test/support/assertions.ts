/**
 * Assertions about what the library throws, shared by the integration tests.
 */
import assert from 'node:assert/strict';
import { Pkcs11Error } from '../../src/index.js';

/**
 * Asserts that `promise` rejects with a {@link Pkcs11Error} of `code` from `fn` (any function
 * when `fn` is undefined), whose message says both; resolves to the error.
 *
 * @example
 * await rejectsWithPkcs11(key.sign(data), 'C_Sign', 'CKR_DEVICE_ERROR');
 * await rejectsWithPkcs11(lib.getInfo(), undefined, 'CKR_CRYPTOKI_NOT_INITIALIZED');
 */
export async function rejectsWithPkcs11(
  promise: Promise<unknown>,
  fn: string | undefined,
  code: string,
): Promise<Pkcs11Error> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof Pkcs11Error, `a Pkcs11Error, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (fn !== undefined) assert.equal(caught.fn, fn, caught.message);
  const { message } = caught;
  assert.ok(
    message.startsWith(`${caught.fn}: `) && message.includes(code),
    `the message names the function and code: ${message}`,
  );
  return caught;
}
