/**
 * The shape of "call a Cryptoki function and get its CK_RV back", which the algorithms in core/
 * (attribute reads, sized outputs) are written against. The model layer supplies one that runs
 * the call on a worker thread inside the session's queue.
 */
import type { CArg } from '../sys/binding.js';
import type { FunctionName } from '../sys/functions.js';

/** Calls `fn` with C arguments and resolves to its raw CK_RV. */
export type Invoke = (fn: FunctionName, ...args: CArg[]) => Promise<number>;
