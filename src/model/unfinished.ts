/**
 * An operation the module still holds after the library gave up on its output. CKR_BUFFER_TOO_SMALL
 * is the one answer that never ends an operation, so when a module answers it to every buffer we
 * offer (core/output.ts gives up after a few tries and throws), the operation stays active in the
 * session and every later Init there would fail with CKR_OPERATION_ACTIVE. The session therefore
 * ends it before its next task, the only way PKCS#11 2.40 offers: by completing it. The refused call
 * is made again with room (a one-shot C_Sign, C_Encrypt, ... or a Final ends the operation; an
 * Update is followed by the family's Final); the output is wiped unread.
 */
import { allocBuffer } from '../sys/abi.js';
import type { CArg } from '../sys/binding.js';
import type { FunctionName } from '../sys/functions.js';
import { ReturnValue } from '../sys/constants.js';
import type { Invoke } from '../core/invoke.js';
import { callWithOutput } from '../core/output.js';

/** The output calls of an operation, and the call that completes the operation after each one. */
const COMPLETED_BY: ReadonlyMap<FunctionName, FunctionName> = new Map<FunctionName, FunctionName>([
  ['C_Encrypt', 'C_Encrypt'],
  ['C_EncryptUpdate', 'C_EncryptFinal'],
  ['C_EncryptFinal', 'C_EncryptFinal'],
  ['C_Decrypt', 'C_Decrypt'],
  ['C_DecryptUpdate', 'C_DecryptFinal'],
  ['C_DecryptFinal', 'C_DecryptFinal'],
  ['C_Digest', 'C_Digest'],
  ['C_DigestFinal', 'C_DigestFinal'],
  ['C_Sign', 'C_Sign'],
  ['C_SignFinal', 'C_SignFinal'],
  ['C_SignRecover', 'C_SignRecover'],
  ['C_VerifyRecover', 'C_VerifyRecover'],
]);

type Ending = (invoke: Invoke) => Promise<void>;

/**
 * The buffer the ending call gets at once. No size query first: a module may answer one with a
 * length it cannot mean once the operation went wrong (SoftHSM2 does, for a Final with no data).
 */
const ENDING_ROOM = 4096;

/**
 * What ends the operation `fn(...args, pOut, pulOutLen)` left active: the refused call made again
 * with room (the module took nothing from it), then, after an Update, the family's Final.
 */
function endingOf(fn: FunctionName, end: FunctionName, args: readonly CArg[]): Ending {
  return async (invoke) => {
    (await callWithOutput(invoke, fn, args.slice(0, -2), ENDING_ROOM)).fill(0);
    if (end !== fn) (await callWithOutput(invoke, end, args.slice(0, 1), ENDING_ROOM)).fill(0);
  };
}

/**
 * Watches one session's calls for an operation left at CKR_BUFFER_TOO_SMALL, and ends it.
 *
 * @example
 * const unfinished = new UnfinishedOperation();
 * const invoke = unfinished.watch(ctx.invoke);   // every call of the session goes through this
 * await unfinished.finish(invoke);               // before each task of the session
 */
export class UnfinishedOperation {
  #ending: Ending | undefined;

  /** Whether an operation waits to be ended before the session's next task. */
  get pending(): boolean {
    return this.#ending !== undefined;
  }

  /**
   * `invoke`, remembering after each output call of an operation whether the module left it at
   * CKR_BUFFER_TOO_SMALL (any other answer means the operation ended or goes on as planned).
   */
  watch(invoke: Invoke): Invoke {
    return (fn, ...args) => {
      const end = COMPLETED_BY.get(fn);
      // Calls that produce no output go straight through: no extra promise on the hot path.
      if (!end) return invoke(fn, ...args);
      return invoke(fn, ...args).then((rv) => {
        this.#ending = rv === ReturnValue.BUFFER_TOO_SMALL ? endingOf(fn, end, args) : undefined;
        return rv;
      });
    };
  }

  /**
   * Ends the operation left active, if any, through `invoke` (the watched one: should the module
   * still refuse every buffer, the operation stays remembered for the next task). Never throws.
   * Answers undefined at once when there is nothing to end, which is nearly always.
   */
  finish(invoke: Invoke): Promise<void> | undefined {
    const ending = this.#ending;
    if (!ending) return undefined;
    this.#ending = undefined;
    return ending(invoke).catch(() => undefined);
  }
}

/**
 * Ends an operation that was started but given no data (its context-specific login failed, say):
 * the one-shot call `single` with empty input, whose answer ends the operation whatever it is
 * (CKR_BUFFER_TOO_SMALL aside, which the output room avoids); any output is wiped. `C_Verify` gets
 * an empty signature too. Never throws.
 *
 * @example
 * await endUnused(scope.invoke, scope.handle, 'C_Sign');
 */
export async function endUnused(invoke: Invoke, handle: bigint, single: FunctionName): Promise<void> {
  // One byte, given as length 0: an empty buffer would reach C as NULL, which modules refuse
  // (CKR_ARGUMENTS_BAD) without ending anything.
  const nothing = allocBuffer(1);
  try {
    if (single === 'C_Verify') await invoke(single, handle, nothing, 0, nothing, 0);
    else (await callWithOutput(invoke, single, [handle, nothing, 0], ENDING_ROOM)).fill(0);
  } catch {
    // The answer was an error: that ended the operation as well.
  }
}

/**
 * Ends an operation that failed part-way and may still be active: the family's Final (which ends
 * one that went multi-part; C_VerifyFinal gets an empty signature), then the one-shot call with
 * empty input (see {@link endUnused}), for modules that refuse the Final of an operation they
 * cannot run in parts and keep it (SoftHSM2 does). A call with nothing left to end answers
 * CKR_OPERATION_NOT_INITIALIZED and changes nothing. Never throws.
 */
export async function endOperation(
  invoke: Invoke,
  handle: bigint,
  fns: { readonly single: FunctionName; readonly final: FunctionName },
): Promise<void> {
  try {
    if (fns.final === 'C_VerifyFinal') await invoke(fns.final, handle, allocBuffer(1), 0);
    else (await callWithOutput(invoke, fns.final, [handle], ENDING_ROOM)).fill(0);
  } catch {
    // The Final failed: that ended the operation, or the one-shot call below will.
  }
  await endUnused(invoke, handle, fns.single);
}
