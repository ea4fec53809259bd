/**
 * `--usage encrypt,sign,...`: what a new or imported key may be used for. The list (or, without
 * `--usage`, pkcs11-ts's defaults for the key type) becomes the key's capabilities; the model's
 * `capabilityTemplate(..., { exact: true })` makes them exact (every other usage FALSE).
 */
import { DEFAULT_CAPABILITIES, KEY_OPERATIONS, type KeyOperation } from '../model/defaults.js';
import { UsageError } from './errors.js';

const OPERATIONS = KEY_OPERATIONS;

/** The flags and help text of the `--usage` option. */
export function usageOptionHelp(): [string, string] {
  return [
    '--usage <list>',
    `what the key may do, comma-separated: ${OPERATIONS.join(',')} (default: per key type)`,
  ];
}

/** The operations of a `--usage` list, else the defaults of `keyType`. */
export function parseUsage(list: string | undefined, keyType: number): KeyOperation[] {
  if (list === undefined) return [...(DEFAULT_CAPABILITIES.get(keyType) ?? [])];
  const operations = list.split(',').map((item) => item.trim().toLowerCase());
  for (const operation of operations) {
    if (!OPERATIONS.includes(operation as KeyOperation)) {
      throw new UsageError(
        `--usage: unknown operation ${JSON.stringify(operation)} (use ${OPERATIONS.join(', ')})`,
      );
    }
  }
  return operations as KeyOperation[];
}
