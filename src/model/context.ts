/**
 * What every model object needs from its module: the function table, and the one place C calls
 * are dispatched from (so tracing and execution policy live in a single spot).
 */
import type { CArg } from '../sys/binding.js';
import type { FunctionName } from '../sys/functions.js';
import type { LoadedModule } from '../sys/module.js';
import { check } from '../core/errors.js';
import type { Invoke } from '../core/invoke.js';
import { ReturnValue } from '../sys/constants.js';

/** A module as the model layer sees it. Internal: created by `Library`. */
export class ModuleContext {
  constructor(readonly module: LoadedModule) {}

  /** Runs a C function off the main thread and resolves to its CK_RV. */
  readonly invoke: Invoke = (fn: FunctionName, ...args: CArg[]) => this.module.functions.callAsync(fn, ...args);

  /** Runs a C function off the main thread and throws `Pkcs11Error` unless it returns CKR_OK. */
  async call(fn: FunctionName, ...args: CArg[]): Promise<void> {
    check(fn, await this.invoke(fn, ...args));
  }

  /** Whether the module implements `fn` (its slot in the function list is not NULL). */
  has(fn: FunctionName): boolean {
    return this.module.functions.has(fn);
  }
}

/** Return codes meaning "the module has no such function or feature". */
export const NOT_SUPPORTED: ReadonlySet<number> = new Set([ReturnValue.FUNCTION_NOT_SUPPORTED]);
