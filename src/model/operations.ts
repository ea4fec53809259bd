/**
 * The cryptographic operations of PKCS#11 (encrypt, decrypt, sign, verify, digest), one-shot and
 * streamed. Each one holds its session from Init to the last call, so nothing else runs on the
 * session in between, and every output buffer is sized by the module.
 */
import type { FunctionName } from '../sys/functions.js';
import { ReturnValue } from '../sys/constants.js';
import { Pkcs11Error, check } from '../core/errors.js';
import { encodeMechanism, type MechanismSpec } from '../core/mechanism.js';
import { callWithOutput } from '../core/output.js';
import { describeType } from '../core/template.js';
import type { Session, SessionScope } from './session.js';

/** Bytes to process: a byte array, or a string taken as UTF-8. */
export type BytesLike = Uint8Array | string;

/** A source of chunks for a streamed operation: any async or sync iterable (a Node Readable is one). */
export type DataStream = AsyncIterable<BytesLike> | Iterable<BytesLike>;

/** The C functions of one operation family. */
export interface OperationFunctions {
  readonly init: FunctionName;
  readonly single: FunctionName;
  readonly update: FunctionName;
  readonly final: FunctionName;
}

export const ENCRYPT: OperationFunctions = { init: 'C_EncryptInit', single: 'C_Encrypt', update: 'C_EncryptUpdate', final: 'C_EncryptFinal' };
export const DECRYPT: OperationFunctions = { init: 'C_DecryptInit', single: 'C_Decrypt', update: 'C_DecryptUpdate', final: 'C_DecryptFinal' };
export const SIGN: OperationFunctions = { init: 'C_SignInit', single: 'C_Sign', update: 'C_SignUpdate', final: 'C_SignFinal' };
export const VERIFY: OperationFunctions = { init: 'C_VerifyInit', single: 'C_Verify', update: 'C_VerifyUpdate', final: 'C_VerifyFinal' };
export const DIGEST: OperationFunctions = { init: 'C_DigestInit', single: 'C_Digest', update: 'C_DigestUpdate', final: 'C_DigestFinal' };

/** Validates and converts one chunk of input. */
export function toBytes(data: unknown, what: string): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  throw new TypeError(`${what} must be a Uint8Array or string, got ${describeType(data)}`);
}

/** Whether `value` is something to stream rather than one buffer. */
export function isStream(value: unknown): value is DataStream {
  if (value instanceof Uint8Array || typeof value === 'string' || value === null || typeof value !== 'object') return false;
  return Symbol.asyncIterator in value || Symbol.iterator in value;
}

/** One operation to run: which functions, with which mechanism and key. */
export interface Operation {
  readonly fns: OperationFunctions;
  readonly mechanism: MechanismSpec;
  /** The key's handle; null for digests. */
  readonly key: bigint | null;
  /** Runs right after Init, inside the same hold: the context-specific login of ALWAYS_AUTHENTICATE keys. */
  readonly afterInit?: (scope: SessionScope) => Promise<void>;
}

/** Starts an operation: `C_xxxInit(session, mechanism, key)` (digest has no key), then `afterInit`. */
async function init(scope: SessionScope, op: Operation, mechanism: Buffer): Promise<void> {
  const { fns, key } = op;
  const rv =
    key === null
      ? await scope.invoke(fns.init, scope.handle, mechanism)
      : await scope.invoke(fns.init, scope.handle, mechanism, key);
  check(fns.init, rv);
  await op.afterInit?.(scope);
}

/**
 * A one-shot operation producing output (encrypt, decrypt, sign, digest):
 * Init then the single-part call, under one hold of the session.
 */
export function runOneShot(session: Session, op: Operation, data: Uint8Array, sizeHint?: number): Promise<Buffer> {
  const mech = encodeMechanism(op.mechanism);
  return session.exclusive(op.fns.init, async (scope) => {
    await init(scope, op, mech);
    return callWithOutput(scope.invoke, op.fns.single, [scope.handle, data, data.byteLength], sizeHint);
  });
}

/** Return codes of C_Verify/C_VerifyFinal that mean "this signature is wrong", not "something failed". */
const BAD_SIGNATURE = new Set<number>([ReturnValue.SIGNATURE_INVALID, ReturnValue.SIGNATURE_LEN_RANGE]);

function verdict(fn: string, rv: number): boolean {
  if (rv === ReturnValue.OK) return true;
  if (BAD_SIGNATURE.has(rv)) return false;
  throw new Pkcs11Error(fn, rv);
}

/** One-shot verify: true for a good signature, false for a bad one, an error for anything else. */
export function runVerify(session: Session, op: Operation, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const mech = encodeMechanism(op.mechanism);
  return session.exclusive(op.fns.init, async (scope) => {
    await init(scope, op, mech);
    return verdict('C_Verify', await scope.invoke('C_Verify', scope.handle, data, data.byteLength, signature, signature.byteLength));
  });
}

/**
 * Ends an operation whose loop failed part-way. Errors from the module already ended it; an
 * exception of ours (a bad chunk from the caller's stream) did not, so it is ended by a Final
 * call whose result is discarded.
 */
async function abandon(scope: SessionScope, fns: OperationFunctions, error: unknown): Promise<never> {
  if (!(error instanceof Pkcs11Error)) await callWithOutput(scope.invoke, fns.final, [scope.handle]).catch(() => undefined);
  throw error;
}

/**
 * A streamed operation that consumes input and produces one result at the end (sign, digest,
 * verify): Init, Update per chunk, Final, all under one hold of the session.
 */
export function runAccumulate(
  session: Session,
  op: Operation,
  source: DataStream,
  signature?: Uint8Array,
): Promise<Buffer | boolean> {
  const { fns } = op;
  const mech = encodeMechanism(op.mechanism);
  return session.exclusive(fns.init, async (scope) => {
    await init(scope, op, mech);
    try {
      for await (const chunk of source) {
        const bytes = toBytes(chunk, 'stream chunk');
        check(fns.update, await scope.invoke(fns.update, scope.handle, bytes, bytes.byteLength));
      }
    } catch (e) {
      return abandon(scope, fns, e);
    }
    if (signature) return verdict(fns.final, await scope.invoke(fns.final, scope.handle, signature, signature.byteLength));
    return callWithOutput(scope.invoke, fns.final, [scope.handle]);
  });
}

/**
 * A streamed operation with output per chunk (encrypt, decrypt): yields what each Update
 * produces, then what Final produces. The session is held until the generator finishes; a
 * consumer that stops early ends the operation (and frees the session) through `return()`.
 */
export async function* runTransform(
  session: Session,
  op: Operation,
  source: DataStream,
): AsyncGenerator<Uint8Array, void, undefined> {
  const { fns } = op;
  const mech = encodeMechanism(op.mechanism);
  // Hold the session for the whole stream: take the queue's turn and keep it until done.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let scope!: SessionScope;
  const turn = new Promise<void>((ready, fail) => {
    session
      .exclusive(fns.init, async (s) => {
        scope = s;
        ready();
        await held;
      })
      .catch(fail);
  });
  await turn;
  let finished = false;
  try {
    await init(scope, op, mech);
    try {
      for await (const chunk of source) {
        const bytes = toBytes(chunk, 'stream chunk');
        const out = await callWithOutput(scope.invoke, fns.update, [scope.handle, bytes, bytes.byteLength]);
        if (out.length > 0) yield out;
      }
      const last = await callWithOutput(scope.invoke, fns.final, [scope.handle]);
      finished = true;
      if (last.length > 0) yield last;
    } catch (e) {
      finished = true;
      await abandon(scope, fns, e);
    } finally {
      // The consumer broke out of its loop: end the operation so the session is usable again.
      if (!finished) await callWithOutput(scope.invoke, fns.final, [scope.handle]).catch(() => undefined);
    }
  } finally {
    release();
  }
}
