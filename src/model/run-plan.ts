/**
 * Running a key operation as planned: one-shot or streamed, with the context-specific login of
 * ALWAYS_AUTHENTICATE keys when the caller gave a PIN.
 */
import { UserType } from '../sys/constants.js';
import { check } from '../core/errors.js';
import type { KeyOperation } from './defaults.js';
import type { Key } from './keys.js';
import {
  runAccumulate,
  runOneShot,
  runTransform,
  runVerify,
  type DataStream,
  type Operation,
  type OperationFunctions,
} from './operations.js';
import { planOperation, type OperationOptions } from './plan.js';
import { withPin } from './secret.js';
import type { SessionScope } from './session.js';

/** The Operation to run for `key`, including the context-specific login when a PIN was given. */
async function operationFor(key: Key, fns: OperationFunctions, kind: KeyOperation, options: OperationOptions): Promise<Operation> {
  const plan = await planOperation(key, kind, options);
  const pin = options.pin;
  const afterInit =
    pin === undefined
      ? undefined
      : (scope: SessionScope) =>
          withPin(pin, 'options.pin', async (p) =>
            check('C_Login', await scope.invoke('C_Login', scope.handle, UserType.CONTEXT_SPECIFIC, p, p.length)),
          );
  return { fns, mechanism: plan.mechanism, key: key.handle, afterInit };
}

/** A one-shot (bytes) or accumulating (stream) operation with one output: encrypt/decrypt of bytes, sign. */
export async function runSingle(
  key: Key,
  fns: OperationFunctions,
  kind: KeyOperation,
  data: Uint8Array | DataStream,
  options: OperationOptions,
): Promise<Uint8Array> {
  const op = await operationFor(key, fns, kind, options);
  if (data instanceof Uint8Array) return runOneShot(key.session, op, data);
  return (await runAccumulate(key.session, op, data)) as Uint8Array;
}

/** A streamed transform (encrypt/decrypt of a stream), yielding output chunks. */
export async function* runStreamed(
  key: Key,
  fns: OperationFunctions,
  kind: KeyOperation,
  data: DataStream,
  options: OperationOptions,
): AsyncGenerator<Uint8Array> {
  const op = await operationFor(key, fns, kind, options);
  yield* runTransform(key.session, op, data);
}

/** Verify of bytes or a stream. */
export async function runVerifyPlan(
  key: Key,
  fns: OperationFunctions,
  data: Uint8Array | DataStream,
  signature: Uint8Array,
  options: OperationOptions,
): Promise<boolean> {
  const op = await operationFor(key, fns, 'verify', options);
  if (data instanceof Uint8Array) return runVerify(key.session, op, data, signature);
  return (await runAccumulate(key.session, op, data, signature)) as boolean;
}
