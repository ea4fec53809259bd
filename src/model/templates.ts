/**
 * Templates for new keys: class, type, storage, label and id, usage flags from capabilities,
 * the protective defaults of defaults.ts, and the caller's own attributes last (they win).
 */
import { Attribute, ObjectClass } from '../sys/constants.js';
import type { Template } from '../core/template.js';
import { DEFAULT_CAPABILITIES, PROTECTED_KEY, capabilityTemplate, type KeyOperation } from './defaults.js';

/** Options shared by everything that creates a key. */
export interface NewKeyOptions {
  /** Keep the key on the token (`CKA_TOKEN`); default false (a session object). */
  readonly store?: boolean;
  /** `CKA_LABEL`. */
  readonly label?: string;
  /** `CKA_ID`. */
  readonly id?: Uint8Array;
  /** What the key may be used for; default per key type (defaults.ts). */
  readonly capabilities?: readonly KeyOperation[];
  /** Extra attributes; they override everything above. */
  readonly template?: Template;
}

function checkOptions(options: NewKeyOptions): void {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  if (options.store !== undefined && typeof options.store !== 'boolean')
    throw new TypeError('options.store must be a boolean');
  if (options.label !== undefined && typeof options.label !== 'string')
    throw new TypeError('options.label must be a string');
  if (options.id !== undefined && !(options.id instanceof Uint8Array))
    throw new TypeError('options.id must be a Uint8Array');
  if (options.capabilities !== undefined && !Array.isArray(options.capabilities)) {
    throw new TypeError('options.capabilities must be an array of operation names');
  }
}

/** Which kind of key object a class is, for {@link newKeyTemplate}: a pair's half, or a secret key. */
export function partOf(objectClass: number): 'public' | 'private' | 'secret' {
  if (objectClass === ObjectClass.PUBLIC_KEY) return 'public';
  return objectClass === ObjectClass.PRIVATE_KEY ? 'private' : 'secret';
}

/**
 * The template of a new key (or one half of a pair). `valueLength` is in bits (secret keys:
 * becomes CKA_VALUE_LEN in bytes).
 */
export function newKeyTemplate(
  objectClass: number,
  keyType: number,
  part: 'public' | 'private' | 'secret',
  options: NewKeyOptions & { valueLength?: number },
): Template {
  checkOptions(options);
  const capabilities = options.capabilities ?? DEFAULT_CAPABILITIES.get(keyType) ?? [];
  const { valueLength } = options;
  if (
    valueLength !== undefined &&
    (!Number.isSafeInteger(valueLength) || valueLength <= 0 || valueLength % 8 !== 0)
  ) {
    throw new RangeError(`key length must be a positive multiple of 8 bits, got ${valueLength}`);
  }
  return {
    [Attribute.CLASS]: objectClass,
    [Attribute.KEY_TYPE]: keyType,
    [Attribute.TOKEN]: options.store ?? false,
    [Attribute.LABEL]: options.label,
    [Attribute.ID]: options.id,
    [Attribute.VALUE_LEN]: valueLength === undefined ? undefined : valueLength / 8,
    ...(part === 'public' ? {} : { [Attribute.PRIVATE]: true, ...PROTECTED_KEY }),
    ...capabilityTemplate(capabilities, part),
    ...options.template,
  };
}
