/**
 * What every model object needs from its module: the function table, and the one place C calls
 * are dispatched from (so tracing and execution policy live in a single spot).
 */
import type { CArg } from '../sys/binding.js';
import type { FunctionName } from '../sys/functions.js';
import type { LoadedModule } from '../sys/module.js';
import type { ChainCall, ChainResult } from '../sys/lanes.js';
import { check } from '../core/errors.js';
import type { Invoke } from '../core/invoke.js';
import { dispatch, executionFromEnv, lanesReady, runChain, type ExecutionMode } from './execution.js';
import { tracing, type TraceSink } from './trace.js';

/** A module as the model layer sees it. Internal: created by `Library`. */
export class ModuleContext {
  /**
   * Runs a C function and resolves to its CK_RV (traced when a sink is set): on a worker thread,
   * or inline when execution.ts has measured it cheap on this module.
   */
  readonly invoke: Invoke;
  /** Whether calls are traced: a traced library makes every call through {@link invoke}, one by one. */
  readonly #traced: boolean;

  constructor(
    readonly module: LoadedModule,
    trace?: TraceSink,
    /** Where calls may run; see execution.ts. Default: `PKCS11_TS_EXECUTION`, else 'auto'. */
    readonly execution: ExecutionMode = executionFromEnv(),
  ) {
    const direct: Invoke = (fn: FunctionName, ...args: CArg[]) => dispatch(module, execution, fn, args);
    this.invoke = trace ? tracing(direct, trace) : direct;
    this.#traced = trace !== undefined;
  }

  /**
   * Hands a chain of calls on `session` to a lane (execution.ts): they run in order on a thread of
   * ours while the main thread goes on. Undefined when lanes are off or calls are traced (the
   * trace sees each call as it is made); the caller then makes the calls through {@link invoke}.
   */
  chain(session: bigint, calls: readonly ChainCall[]): Promise<ChainResult> | undefined {
    return this.#traced ? undefined : runChain(this.module, session, calls);
  }

  /**
   * Whether operations should use {@link chain} now: calls are not traced, lanes are on and one
   * is ready (the first ask starts one; until it is ready, calls go one by one).
   */
  get chains(): boolean {
    return !this.#traced && lanesReady(this.module);
  }

  /** Runs a C function as {@link invoke} does and throws `Pkcs11Error` unless it returns CKR_OK. */
  async call(fn: FunctionName, ...args: CArg[]): Promise<void> {
    check(fn, await this.invoke(fn, ...args));
  }

  /** Whether the module implements `fn` (its slot in the function list is not NULL). */
  has(fn: FunctionName): boolean {
    return this.module.functions.has(fn);
  }
}
