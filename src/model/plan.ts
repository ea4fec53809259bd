/**
 * Choosing how an operation runs: which mechanism (the caller's, or the default for the key type)
 * with which parameter.
 */
import type { MechanismSpec } from '../core/mechanism.js';
import type { MechanismParameter } from '../core/params.js';
import { defaultMechanism, type KeyOperation } from './defaults.js';
import type { Pin } from './secret.js';
import type { Key } from './keys.js';

/** Options every key operation takes. */
export interface OperationOptions {
  /** The mechanism (a `Mechanism` value or a vendor number); default per key type in defaults.ts. */
  readonly mechanism?: number;
  /** Its parameter: raw bytes, a number, or the structured form the mechanism takes. */
  readonly mechanismParam?: MechanismParameter;
  /** PIN for keys with `CKA_ALWAYS_AUTHENTICATE`: a context-specific login right after Init. */
  readonly pin?: Pin;
}

/** How an operation will run on the token. */
export interface Plan {
  readonly mechanism: MechanismSpec;
}

/** Decides the mechanism of `operation` with `key`. */
export async function planOperation(key: Key, operation: KeyOperation, options: OperationOptions): Promise<Plan> {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const mechanism = options.mechanism ?? defaultMechanism(key.keyType, operation);
  return { mechanism: { mechanism, parameter: options.mechanismParam } };
}
