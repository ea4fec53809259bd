/**
 * The cryptographic operations of PKCS#11 (encrypt, decrypt, sign, verify, digest), one-shot and
 * streamed. Each one holds its session from Init to the last call, so nothing else runs on the
 * session in between, and every output buffer is sized by the module.
 */
import type { CArg } from '../sys/binding.js';
import type { FunctionName } from '../sys/functions.js';
import { Mechanism, ReturnValue } from '../sys/constants.js';
import { Pkcs11Error, check } from '../core/errors.js';
import { encodeMechanism, mechanismOf, type MechanismSpec } from '../core/mechanism.js';
import { callWithOutput, outputNow } from '../core/output.js';
import { describeType } from '../core/template.js';
import type { Session, SessionScope } from './session.js';
import { endOperation, endUnused } from './unfinished.js';

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

export const ENCRYPT: OperationFunctions = {
  init: 'C_EncryptInit',
  single: 'C_Encrypt',
  update: 'C_EncryptUpdate',
  final: 'C_EncryptFinal',
};
export const DECRYPT: OperationFunctions = {
  init: 'C_DecryptInit',
  single: 'C_Decrypt',
  update: 'C_DecryptUpdate',
  final: 'C_DecryptFinal',
};
export const SIGN: OperationFunctions = {
  init: 'C_SignInit',
  single: 'C_Sign',
  update: 'C_SignUpdate',
  final: 'C_SignFinal',
};
export const VERIFY: OperationFunctions = {
  init: 'C_VerifyInit',
  single: 'C_Verify',
  update: 'C_VerifyUpdate',
  final: 'C_VerifyFinal',
};
export const DIGEST: OperationFunctions = {
  init: 'C_DigestInit',
  single: 'C_Digest',
  update: 'C_DigestUpdate',
  final: 'C_DigestFinal',
};

/**
 * Empty input as C must get it: a pointer with length 0. An empty buffer of its own reaches C as
 * NULL, which modules refuse with CKR_ARGUMENTS_BAD, and that answer leaves the operation active.
 */
const NO_BYTES = new Uint8Array(new ArrayBuffer(1), 0, 0);

/** Validates and converts one chunk of input (or a signature); empty input becomes {@link NO_BYTES}. */
export function toBytes(data: unknown, what: string): Uint8Array {
  if (data instanceof Uint8Array) return data.byteLength > 0 ? data : NO_BYTES;
  if (typeof data === 'string') return data.length > 0 ? Buffer.from(data, 'utf8') : NO_BYTES;
  throw new TypeError(`${what} must be a Uint8Array or string, got ${describeType(data)}`);
}

/** Whether `value` is something to stream rather than one buffer. */
export function isStream(value: unknown): value is DataStream {
  if (value instanceof Uint8Array || typeof value === 'string' || value === null || typeof value !== 'object')
    return false;
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

/** The arguments of `C_xxxInit`: session, mechanism, and the key (digest has none). */
function initArgs(op: Operation, session: bigint, mechanism: Buffer): CArg[] {
  return op.key === null ? [session, mechanism] : [session, mechanism, op.key];
}

/** Starts an operation: `C_xxxInit(session, mechanism, key)`, then `afterInit`. */
async function init(scope: SessionScope, op: Operation, mechanism: Buffer): Promise<void> {
  const { fns } = op;
  check(fns.init, await scope.invoke(fns.init, ...initArgs(op, scope.handle, mechanism)));
  try {
    await op.afterInit?.(scope);
  } catch (error) {
    // A failed context-specific login leaves the operation active: end it, or the session is stuck.
    await endUnused(scope.invoke, scope.handle, fns.single);
    throw error;
  }
}

/** Outputs larger than this are not remembered as the next call's buffer size. */
const MAX_REMEMBERED_OUTPUT = 16 * 1024;
/** How many sizes are remembered before starting over (one per function, mechanism and key). */
const MAX_REMEMBERED = 4096;

/**
 * The largest output seen per function, mechanism and key, up to MAX_REMEMBERED_OUTPUT. Nested
 * maps keyed by the values themselves: a string key built per call (with the key handle's bigint
 * in it) was a measurable part of a sign.
 */
class UsualOutputs {
  readonly #sizes = new Map<FunctionName, Map<number, Map<bigint | null, number>>>();
  #count = 0;

  /** The sizes of `fn` with `op`'s mechanism, per key; made when `create`. */
  #forKey(fn: FunctionName, op: Operation, create: boolean): Map<bigint | null, number> | undefined {
    const mechanism = mechanismOf(op.mechanism).mechanism;
    let perMechanism = this.#sizes.get(fn);
    if (!perMechanism) {
      if (!create) return undefined;
      this.#sizes.set(fn, (perMechanism = new Map()));
    }
    let perKey = perMechanism.get(mechanism);
    if (!perKey && create) perMechanism.set(mechanism, (perKey = new Map()));
    return perKey;
  }

  get(fn: FunctionName, op: Operation): number {
    return this.#forKey(fn, op, false)?.get(op.key) ?? 0;
  }

  /** Remembers `size` when it is the largest yet (starting over past MAX_REMEMBERED sizes). */
  offer(fn: FunctionName, op: Operation, size: number): void {
    if (size > MAX_REMEMBERED_OUTPUT || size <= this.get(fn, op)) return;
    if (this.#count >= MAX_REMEMBERED) {
      this.#sizes.clear();
      this.#count = 0;
    }
    const perKey = this.#forKey(fn, op, true) as Map<bigint | null, number>;
    if (!perKey.has(op.key)) this.#count++;
    perKey.set(op.key, size);
  }
}

const usualOutput = new UsualOutputs();

/** Encryptions whose output is the modulus size, whatever the input: only a size seen before will do. */
const RSA_ENCRYPTION: ReadonlySet<number> = new Set([
  Mechanism.RSA_PKCS,
  Mechanism.RSA_X_509,
  Mechanism.RSA_PKCS_OAEP,
  Mechanism.RSA_PKCS_TPM_1_1,
  Mechanism.RSA_PKCS_OAEP_TPM_1_1,
]);

/**
 * The buffer to offer `fn` at once instead of asking for the length first (a saved C call), or
 * undefined to ask. An offer must not fall short: on a buffer that is too small NSS softokn ends
 * the operation (C_Encrypt, hashed C_Sign, the Finals) or fails it (RSA C_Encrypt gives
 * CKR_DEVICE_ERROR), and its size query for AES-GCM forgets the tag. So we offer only what is
 * enough: decryption never gives more than its input, a symmetric encryption at most its input
 * plus padding or a tag (64 covers both), and a signature, digest or RSA encryption the size this
 * key and mechanism gave before.
 */
function outputRoom(fn: FunctionName, op: Operation, input: number | undefined): number | undefined {
  const seen = usualOutput.get(fn, op);
  let room = seen;
  if (fn === 'C_Decrypt' || fn === 'C_DecryptUpdate') room = input ?? 0;
  else if (fn === 'C_EncryptUpdate') room = (input ?? 0) + 64;
  else if (fn === 'C_Encrypt')
    room = RSA_ENCRYPTION.has(mechanismOf(op.mechanism).mechanism) ? seen : (input ?? 0) + 64;
  else if (fn === 'C_EncryptFinal' || fn === 'C_DecryptFinal') room = 0;
  return room > 0 ? room : undefined;
}

/** Remembers an output's size as the next {@link outputRoom} of this function, mechanism and key. */
function remember(fn: FunctionName, op: Operation, output: Buffer): Buffer {
  usualOutput.offer(fn, op, output.length);
  return output;
}

/**
 * `fn(...args, pOut, pulOutLen)` with its output sized by {@link outputRoom} first, by the module
 * after. With `into` (the caller's memory for outputs), the output is written there when it
 * holds the room offered, or the length the module asks for.
 */
async function sizedCall(
  scope: SessionScope,
  fn: FunctionName,
  op: Operation,
  args: CArg[],
  input?: number,
  into?: Uint8Array,
): Promise<Buffer> {
  // The room alone, never all of a larger `into`: the room is enough by construction, and what the
  // module leaves of the offer is zeroed after the call, which over a caller's 64 MiB buffer cost
  // a 64 MiB fill per chunk.
  const room = outputRoom(fn, op, input);
  return remember(fn, op, await callWithOutput(scope.invoke, fn, args, room, into));
}

/**
 * A one-shot operation producing output (encrypt, decrypt, sign, digest):
 * Init then the single-part call, under one hold of the session. `sizeHint` overrides the
 * remembered output size.
 */
export function runOneShot(
  session: Session,
  op: Operation,
  data: Uint8Array,
  sizeHint?: number,
): Promise<Buffer> {
  const mech = encodeMechanism(op.mechanism);
  // Both calls at once when they may run inline now (not with a login between them); what they
  // leave is finished below, in the session's turn taken in this same turn.
  const room = sizeHint ?? outputRoom(op.fns.single, op, data.byteLength);
  let started: StartedAtOnce | undefined;
  try {
    started = room !== undefined && !op.afterInit ? oneShotAtOnce(session, op, mech, data, room) : undefined;
  } catch (error) {
    return Promise.reject(error);
  }
  if (started?.output)
    return Promise.resolve(
      sizeHint === undefined ? remember(op.fns.single, op, started.output) : started.output,
    );
  return session.exclusive(op.fns.init, async (scope) => {
    if (started === undefined) await init(scope, op, mech);
    const args = [scope.handle, data, data.byteLength];
    try {
      if (started?.rv !== undefined && started.rv !== ReturnValue.BUFFER_TOO_SMALL)
        throw new Pkcs11Error(op.fns.single, started.rv);
      if (sizeHint !== undefined) return await callWithOutput(scope.invoke, op.fns.single, args, sizeHint);
      return await sizedCall(scope, op.fns.single, op, args, data.byteLength);
    } catch (error) {
      // An error ends the operation, says the standard; tpm2-pkcs11 1.9 keeps it (after C_Decrypt's
      // CKR_GENERAL_ERROR), and every later Init in the session would fail.
      return abandon(scope, op.fns, error);
    }
  });
}

/**
 * What {@link oneShotAtOnce} did: the output when both calls ran and it fitted; otherwise the
 * operation is started (Init ran), and `rv` is the one-shot call's answer when it ran.
 */
interface StartedAtOnce {
  readonly output?: Buffer;
  readonly rv?: number;
}

/**
 * Init and the one-shot call made at once on this thread, as `object.get()` makes its read
 * (objects.ts): when the session is free and execution.ts lets the calls run inline now, a sign
 * costs no queue turn and no promise per layer (an HMAC sign 17.5 µs against 18.4, an ECDSA sign
 * 71.3 against 72.2: medians of 12 alternating rounds). Answers undefined, with nothing called,
 * when the Init cannot run now; otherwise the operation has started, and what is left (a larger
 * output, an error to end it with, a call that could not run now) the caller finishes under the
 * session's queue, which it takes in this same turn so that nothing else reaches the session
 * first. The output's buffer is the module's to fill: unread unless the call succeeded.
 */
function oneShotAtOnce(
  session: Session,
  op: Operation,
  mech: Buffer,
  data: Uint8Array,
  room: number,
): StartedAtOnce | undefined {
  const { context } = session;
  return session.now((handle) => {
    // A task of this session like any other while it runs: with another session at work, the
    // one-shot call goes to a thread (execution.ts), and this one is finished in turn.
    context.sessionBusy(1);
    try {
      const rv = context.callNow(op.fns.init, ...initArgs(op, handle, mech));
      if (rv === undefined) return undefined;
      check(op.fns.init, rv);
      const single = outputNow(
        (out, len) => context.callNow(op.fns.single, handle, data, data.byteLength, out, len),
        room,
      );
      return typeof single === 'object' ? { output: single } : { rv: single };
    } finally {
      context.sessionBusy(-1);
    }
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
export async function runVerify(
  session: Session,
  op: Operation,
  data: Uint8Array,
  given: Uint8Array,
): Promise<boolean> {
  const signature = toBytes(given, 'signature');
  const mech = encodeMechanism(op.mechanism);
  return session.exclusive(op.fns.init, async (scope) => {
    await init(scope, op, mech);
    const rv = await scope.invoke(
      'C_Verify',
      scope.handle,
      data,
      data.byteLength,
      signature,
      signature.byteLength,
    );
    try {
      return verdict('C_Verify', rv);
    } catch (error) {
      return abandon(scope, op.fns, error);
    }
  });
}

/** Each chunk of `source`, validated and converted ({@link toBytes}). */
async function* chunksOf(source: DataStream): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) yield toBytes(chunk, 'stream chunk');
}

/**
 * Ends an operation that failed part-way, then rethrows. Modules differ in what an error leaves
 * active, whatever the standard says: an exception of ours (a bad chunk from the caller's stream)
 * always does; NSS softokn keeps a decryption going after an Update's CKR_ENCRYPTED_DATA_LEN_RANGE;
 * SoftHSM2 keeps an operation whose Final it refused because it cannot run it in parts. So every
 * error but CKR_BUFFER_TOO_SMALL (the session's to end, see unfinished.ts) gets unfinished.ts's
 * endOperation; where nothing was left, its calls change nothing.
 */
async function abandon(scope: SessionScope, fns: OperationFunctions, error: unknown): Promise<never> {
  const tooSmall = error instanceof Pkcs11Error && error.rv === ReturnValue.BUFFER_TOO_SMALL;
  if (!tooSmall) await endOperation(scope.invoke, scope.handle, fns);
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
      for await (const bytes of chunksOf(source))
        check(fns.update, await scope.invoke(fns.update, scope.handle, bytes, bytes.byteLength));
    } catch (e) {
      return abandon(scope, fns, e);
    }
    try {
      if (signature) {
        const bytes = toBytes(signature, 'signature');
        return verdict(fns.final, await scope.invoke(fns.final, scope.handle, bytes, bytes.byteLength));
      }
      return await sizedCall(scope, fns.final, op, [scope.handle]);
    } catch (e) {
      return abandon(scope, fns, e);
    }
  });
}

/**
 * A streamed operation with output per chunk (encrypt, decrypt): yields what each Update
 * produces, then what Final produces. The session is held until the generator finishes; a
 * consumer that stops early ends the operation (and frees the session) through `return()`.
 * With `into`, each output that fits is written into it and yielded as a view of it (valid until
 * the consumer asks for the next one); a chunk of input must not overlap it.
 */
export async function* runTransform(
  session: Session,
  op: Operation,
  source: DataStream,
  into?: Uint8Array,
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
        const n = bytes.byteLength;
        if (into !== undefined && overlap(bytes, into))
          throw new RangeError('options.output must not overlap a chunk of the input');
        const out = await sizedCall(scope, fns.update, op, [scope.handle, bytes, n], n, into);
        if (out.length > 0) yield out;
      }
      const last = await sizedCall(scope, fns.final, op, [scope.handle], undefined, into);
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

/** Whether two byte arrays share memory. */
function overlap(a: Uint8Array, b: Uint8Array): boolean {
  return (
    a.buffer === b.buffer &&
    a.byteOffset < b.byteOffset + b.byteLength &&
    b.byteOffset < a.byteOffset + a.byteLength
  );
}
