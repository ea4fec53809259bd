/**
 * Where the encoders read key attributes from: a token object (anything with `getAttributes`) or a
 * plain template. Encoders take either, so `await encodeRsaPublicKey(pub)` works on a key found on
 * the token and on a template decoded from a file alike.
 */
import { Attribute, KeyType } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';
import { describe } from './der.js';

/**
 * Something that can read several attributes at once, as token objects do. Attributes the object
 * cannot give (absent, sensitive) come back `undefined` or are left out.
 *
 * @example
 * ```ts
 * const values = await key.getAttributes([Attribute.MODULUS, Attribute.PUBLIC_EXPONENT]);
 * ```
 */
export interface AttributeSource {
  getAttributes(attributes: readonly number[]): Promise<Record<number, unknown>>;
}

/** A token object or a plain template (an object keyed by `Attribute` values). */
export type KeySource = AttributeSource | Readonly<Record<number, unknown>>;

/** Whether `value` is an `AttributeSource` rather than a plain template. */
export function isAttributeSource(value: unknown): value is AttributeSource {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { getAttributes?: unknown }).getAttributes === 'function'
  );
}

/**
 * The values of `attributes` from `source`: read in one call from a token object, or picked from a
 * template. A TypeError naming `fn` when `source` is neither.
 */
export async function readAttributes(
  source: KeySource,
  attributes: readonly number[],
  fn: string,
): Promise<Record<number, unknown>> {
  if (isAttributeSource(source)) return source.getAttributes(attributes);
  if (
    typeof source !== 'object' ||
    source === null ||
    Array.isArray(source) ||
    source instanceof Uint8Array
  ) {
    throw new TypeError(`${fn}: key must be a key object or a template, got ${describe(source)}`);
  }
  return source;
}

/** The bytes of `attribute` in `values`; a TypeError naming the attribute when absent or not bytes. */
export function requireBytes(values: Record<number, unknown>, attribute: number, fn: string): Uint8Array {
  const value = values[attribute];
  if (value instanceof Uint8Array) return value;
  const name = nameOf(Attribute, attribute);
  if (value === undefined || value === null) throw new TypeError(`${fn}: the key has no ${name}`);
  throw new TypeError(`${fn}: ${name} must be a Uint8Array, got ${describe(value)}`);
}

/**
 * The key type in `values` if one is given (it must be one of `allowed`), else `undefined`;
 * a TypeError naming `fn` when the key is of another type.
 */
export function checkKeyType(
  values: Record<number, unknown>,
  allowed: readonly number[],
  fn: string,
): number | undefined {
  const keyType = values[Attribute.KEY_TYPE];
  if (keyType === undefined || keyType === null) return undefined;
  const code = typeof keyType === 'bigint' ? Number(keyType) : keyType;
  if (typeof code === 'number' && allowed.includes(code)) return code;
  const expected = allowed.map((t) => nameOf(KeyType, t)).join(' or ');
  const got =
    typeof code === 'number' && Number.isSafeInteger(code) && code >= 0
      ? nameOf(KeyType, code)
      : describe(code);
  throw new TypeError(`${fn}: expected a key of type ${expected}, got ${got}`);
}
