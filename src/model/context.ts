/**
 * What every model object needs from its module: the function table, and the one place C calls
 * are dispatched from (so tracing and execution policy live in a single spot).
 */
import type { CArg } from '../sys/binding.js';
import type { FunctionName } from '../sys/functions.js';
import type { LoadedModule } from '../sys/module.js';
import { readNow, type FirstRead } from '../core/attribute-read.js';
import { check } from '../core/errors.js';
import type { Invoke } from '../core/invoke.js';
import { dispatch, executionFromEnv, inlineNow, sessionBusy, type ExecutionMode } from './execution.js';
import { tracing, type TraceSink } from './trace.js';

/** A module as the model layer sees it. Internal: created by `Library`. */
export class ModuleContext {
  /**
   * Runs a C function and resolves to its CK_RV (traced when a sink is set): on a worker thread,
   * or inline when execution.ts has measured it cheap on this module.
   */
  readonly invoke: Invoke;
  /** Whether calls are traced. */
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
   * A session of this module started (+1) or ended (-1) a task: with several sessions at work,
   * execution.ts runs their operations' data calls on threads, in parallel.
   */
  sessionBusy(delta: 1 | -1): void {
    sessionBusy(this.module, delta);
  }

  /**
   * Runs a C function on this thread at once when execution.ts allows it now, answering its
   * CK_RV; undefined, without calling, otherwise (and always when calls are traced, so the trace
   * sees every call through {@link invoke}).
   */
  callNow(fn: FunctionName, ...args: CArg[]): number | undefined {
    return this.#traced ? undefined : inlineNow(this.module, this.execution, fn, args);
  }

  /**
   * The first C_GetAttributeValue of a read of `types` made at once through {@link callNow}
   * (core/attribute-read.ts `readNow`); undefined, without calling, when it may not run now. For a
   * module that honours short buffers; what it leaves, `readRest` reads.
   */
  readNow(session: bigint, object: bigint, types: readonly number[]): FirstRead | undefined {
    return readNow((buf, count) => this.callNow('C_GetAttributeValue', session, object, buf, count), types);
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
