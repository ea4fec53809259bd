/**
 * What every model object needs from its module: the function table, and the one place C calls
 * are dispatched from (so tracing and execution policy live in a single spot).
 */
import type { CArg } from '../sys/binding.js';
import type { FunctionName } from '../sys/functions.js';
import type { LoadedModule } from '../sys/module.js';
import { check } from '../core/errors.js';
import type { Invoke } from '../core/invoke.js';
import { tracing, type TraceSink } from './trace.js';

/** A module as the model layer sees it. Internal: created by `Library`. */
export class ModuleContext {
  /** Runs a C function off the main thread and resolves to its CK_RV (traced when a sink is set). */
  readonly invoke: Invoke;

  constructor(
    readonly module: LoadedModule,
    trace?: TraceSink,
  ) {
    const direct: Invoke = (fn: FunctionName, ...args: CArg[]) => module.functions.callAsync(fn, ...args);
    this.invoke = trace ? tracing(direct, trace) : direct;
  }

  /** Runs a C function off the main thread and throws `Pkcs11Error` unless it returns CKR_OK. */
  async call(fn: FunctionName, ...args: CArg[]): Promise<void> {
    check(fn, await this.invoke(fn, ...args));
  }

  /** Whether the module implements `fn` (its slot in the function list is not NULL). */
  has(fn: FunctionName): boolean {
    return this.module.functions.has(fn);
  }
}
