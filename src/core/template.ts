/**
 * Templates: plain objects keyed by attribute number, encoded into one `CK_ATTRIBUTE[]` buffer
 * (the array first, every value and nested array after it) and decoded back.
 *
 * @example
 * const t: Template = { [Attribute.TOKEN]: true, [Attribute.LABEL]: 'my key', [Attribute.VALUE_LEN]: 32 };
 */
import {
  ULONG_MAX,
  ULONG_SIZE,
  addressOf,
  layout,
  readPointer,
  readULong,
  readULongNumber,
  writeAddress,
  writePointer,
  writeULong,
} from '../sys/abi.js';
import { Attribute } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';
import { Arena } from './arena.js';
import { kindOf, type AttributeKind } from './attribute-kinds.js';

/** Any value an attribute can hold; see {@link AttributeKind} for which shape each attribute takes. */
export type AttributeValue =
  boolean | number | bigint | string | Date | null | Uint8Array | readonly number[] | Template;

/** Attribute number to value. `undefined` entries are skipped when encoding, so optional fields can be spread in. */
export type Template = { readonly [attribute: number]: AttributeValue | undefined };

/** The C `CK_ATTRIBUTE { type; pValue; ulValueLen; }` for this platform. */
export const CK_ATTRIBUTE = layout({ type: 'ulong', pValue: 'pointer', ulValueLen: 'ulong' });

/** The spec name of an attribute for messages (`CKA_LABEL`, or hex for vendor values). */
export function attributeName(type: number): string {
  return nameOf(Attribute, type);
}

/** Validates a CK_ULONG coming from the caller: a non-negative integer that fits the platform's CK_ULONG. */
export function checkULong(value: unknown, what: string): number | bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(`${what} must be a whole number within 0..2^53-1 (or a bigint), got ${value}`);
    }
    if (value < 0 || value > ULONG_MAX)
      throw new RangeError(`${what} must be within 0..${ULONG_MAX}, got ${value}`);
    return value;
  }
  if (typeof value === 'bigint') {
    if (value < 0n || value > ULONG_MAX)
      throw new RangeError(`${what} must be within 0..${ULONG_MAX}, got ${value}`);
    return value;
  }
  throw new TypeError(`${what} must be a number or bigint, got ${describeType(value)}`);
}

/**
 * Validates a handle (session, object or slot id) coming from the caller and returns it as the
 * bigint the library keeps handles in; a number is accepted when it is a safe whole number. A
 * handle that is no CK_ULONG must fail here: C would otherwise get whatever it wraps to.
 */
export function checkHandle(value: unknown, what: string): bigint {
  return BigInt(checkULong(value, what));
}

/** A short type description for error messages; never the value itself (it may be secret). */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Uint8Array) return 'Uint8Array';
  return typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value;
}

/** Parses a template key (object keys are strings) back to the attribute number. */
function attributeKey(key: string): number {
  const type = Number(key);
  if (!Number.isSafeInteger(type) || type < 0 || type > Number(ULONG_MAX)) {
    throw new TypeError(`template key ${JSON.stringify(key)} is not an attribute number`);
  }
  return type;
}

/** The defined entries of a template; `what` names it in errors (`template`, or the nested attribute). */
function entries(template: Template, what: string): [number, AttributeValue][] {
  if (
    template === null ||
    typeof template !== 'object' ||
    Array.isArray(template) ||
    template instanceof Uint8Array ||
    template instanceof Date
  ) {
    throw new TypeError(
      `${what} must be an object keyed by attribute numbers, got ${describeType(template)}`,
    );
  }
  const out: [number, AttributeValue][] = [];
  for (const [key, value] of Object.entries(template)) {
    if (value !== undefined) out.push([attributeKey(key), value as AttributeValue]);
  }
  return out;
}

/** {@link ULONG_MAX} as a number, for the quick check of a `CK_ULONG` given as one. */
const ULONG_MAX_NUMBER = Number(ULONG_MAX);

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * Turns one value into its C bytes, or, for nested templates, reserves and writes a nested array.
 * `path` names the template holding it in errors (`template`, `template[CKA_WRAP_TEMPLATE]`).
 */
function encodeValue(
  arena: Arena,
  type: number,
  kind: AttributeKind,
  value: AttributeValue,
  path: string,
): [number, number] {
  // The attribute's name is looked up only for a message: a lookup per attribute cost a template
  // of five attributes about 1 µs.
  const what = (): string => `${path}[${attributeName(type)}]`;
  switch (kind) {
    case 'bool':
      if (typeof value !== 'boolean')
        throw new TypeError(`${what()} must be a boolean, got ${describeType(value)}`);
      return [arena.bytes(Uint8Array.of(value ? 1 : 0)), 1];
    case 'ulong': {
      const v =
        typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= ULONG_MAX_NUMBER
          ? value
          : checkULong(value, what());
      const bytes = Buffer.alloc(ULONG_SIZE);
      writeULong(bytes, 0, v);
      return [arena.bytes(bytes, ULONG_SIZE), ULONG_SIZE];
    }
    case 'string': {
      if (typeof value !== 'string')
        throw new TypeError(`${what()} must be a string, got ${describeType(value)}`);
      const bytes = Buffer.from(value, 'utf8');
      return [arena.bytes(bytes), bytes.length];
    }
    case 'date': {
      if (value === null) return [0, 0];
      if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
        throw new TypeError(`${what()} must be a valid Date or null, got ${describeType(value)}`);
      }
      const year = value.getUTCFullYear();
      if (year < 0 || year > 9999) throw new RangeError(`${what()} must be within years 0000..9999`);
      const text = `${String(year).padStart(4, '0')}${pad2(value.getUTCMonth() + 1)}${pad2(value.getUTCDate())}`;
      return [arena.bytes(Buffer.from(text, 'latin1')), 8];
    }
    case 'bytes':
      if (!(value instanceof Uint8Array))
        throw new TypeError(`${what()} must be a Uint8Array, got ${describeType(value)}`);
      return [arena.bytes(value), value.byteLength];
    case 'mechanisms': {
      if (!Array.isArray(value))
        throw new TypeError(`${what()} must be an array of mechanisms, got ${describeType(value)}`);
      const bytes = Buffer.alloc(value.length * ULONG_SIZE);
      value.forEach((m, i) => writeULong(bytes, i * ULONG_SIZE, checkULong(m, `${what()}[${i}]`)));
      return [arena.bytes(bytes, ULONG_SIZE), bytes.length];
    }
    case 'template': {
      const nested = entries(value as Template, what());
      return [writeArray(arena, nested, what()), nested.length * CK_ATTRIBUTE.size];
    }
  }
}

/** Reserves and fills a CK_ATTRIBUTE array for `items`; returns its offset in the arena. */
function writeArray(arena: Arena, items: [number, AttributeValue][], path: string): number {
  const at = arena.reserve(items.length * CK_ATTRIBUTE.size, CK_ATTRIBUTE.align);
  items.forEach(([type, value], i) => {
    const [valueAt, len] = encodeValue(arena, type, kindOf(type), value, path);
    const slot = at + i * CK_ATTRIBUTE.size;
    arena.write((buf, base) => {
      writeULong(buf, slot + CK_ATTRIBUTE.fields.type.offset, type);
      const pValue = slot + CK_ATTRIBUTE.fields.pValue.offset;
      if (len === 0) writePointer(buf, pValue, 0n);
      else writeAddress(buf, pValue, base, valueAt);
      writeULong(buf, slot + CK_ATTRIBUTE.fields.ulValueLen.offset, len);
    });
  });
  return at;
}

/** An encoded template: pass `buf` where C expects `CK_ATTRIBUTE_PTR` and `count` as `ulCount`. Keep `buf` referenced for the call. */
export interface EncodedTemplate {
  readonly buf: Buffer;
  readonly count: number;
}

/**
 * Encodes a template into one buffer: the CK_ATTRIBUTE array at offset 0, values after it.
 * Throws TypeError/RangeError naming the attribute when a value has the wrong shape.
 */
export function encodeTemplate(template: Template): EncodedTemplate {
  const items = entries(template, 'template');
  const arena = new Arena();
  writeArray(arena, items, 'template');
  return { buf: arena.finish().buf, count: items.length };
}

/**
 * Whether an encoded template makes a token object (its CKA_TOKEN is true) rather than a session
 * object (false, or absent: the standard's default). Read from the C bytes, so the execution
 * layer can tell from a call's arguments alone; a value it cannot find in `buf` counts as a token
 * object.
 */
export function makesTokenObject(buf: Uint8Array, count: number): boolean {
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const { type, pValue, ulValueLen } = CK_ATTRIBUTE.fields;
  for (let i = 0; i < count && (i + 1) * CK_ATTRIBUTE.size <= bytes.length; i++) {
    const slot = i * CK_ATTRIBUTE.size;
    if (readULongNumber(bytes, slot + type.offset) !== Attribute.TOKEN) continue;
    if (readULongNumber(bytes, slot + ulValueLen.offset) < 1) return true;
    const at = readPointer(bytes, slot + pValue.offset) - addressOf(bytes);
    return at < 0n || at >= BigInt(bytes.length) || bytes[Number(at)] !== 0;
  }
  return false;
}

/** Decodes one attribute's C bytes into its JavaScript value (nested templates are decoded by the reader). */
export function decodeValue(type: number, bytes: Buffer): AttributeValue {
  switch (kindOf(type)) {
    case 'bool':
      return bytes.length > 0 && bytes[0] !== 0;
    case 'ulong': {
      if (bytes.length !== ULONG_SIZE) return Buffer.from(bytes);
      const n = readULongNumber(bytes, 0);
      return Number.isFinite(n) ? n : readULong(bytes, 0);
    }
    case 'string':
      return bytes.toString('utf8');
    case 'date': {
      const text = bytes.toString('latin1');
      if (bytes.length === 0 || /^[0 ]{8}$/.test(text)) return null;
      const m = /^(\d{4})(\d{2})(\d{2})$/.exec(text);
      return m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : Buffer.from(bytes);
    }
    case 'mechanisms': {
      const out: number[] = [];
      for (let o = 0; o + ULONG_SIZE <= bytes.length; o += ULONG_SIZE) out.push(Number(readULong(bytes, o)));
      return out;
    }
    default:
      return Buffer.from(bytes);
  }
}
