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
  allocBuffer,
  allocShared,
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
import { Layout } from './arena.js';
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

/** Throws unless `template` is an object keyed by attribute numbers; `what` names it in errors. */
function checkTemplate(template: Template, what: string): void {
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
}

/** {@link ULONG_MAX} as a number, for the quick check of a `CK_ULONG` given as one. */
const ULONG_MAX_NUMBER = Number(ULONG_MAX);

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * One attribute of a template being encoded, checked and given its place: `value` is what
 * {@link writeValue} copies (a string, the bytes, a validated number, a nested {@link Planned}).
 */
interface Slot {
  readonly type: number;
  readonly kind: AttributeKind;
  readonly value: unknown;
  /** `ulValueLen`; 0 also means `pValue` is NULL. */
  readonly len: number;
  /** Where the value's bytes start in the buffer. */
  readonly at: number;
}

/** A `CK_ATTRIBUTE` array placed in the buffer being laid out: where it starts, and its slots. */
interface Planned {
  readonly at: number;
  readonly slots: Slot[];
}

/**
 * Encoding is done in two passes over the template: {@link planArray} checks every value and
 * gives it its offset, then {@link writeArray} writes straight into the one buffer allocated for
 * the lot. No intermediate buffer per value and no closure per write: object creation spent
 * about half of its JavaScript in an encoder that made both (docs/benchmarks.md).
 */
class TemplateLayout extends Layout {
  /** A byte-string value was placed: it may be key material (CKA_VALUE, a vendor attribute). */
  holdsBytes = false;
}

/** Checks and places a CK_ATTRIBUTE array for `template`, then its values in order after it. */
function planArray(layout: TemplateLayout, template: Template, path: string): Planned {
  checkTemplate(template, path);
  const keys = Object.keys(template);
  let count = 0;
  for (const key of keys) if (template[key as unknown as number] !== undefined) count++;
  const at = layout.reserve(count * CK_ATTRIBUTE.size, CK_ATTRIBUTE.align);
  const slots: Slot[] = [];
  for (const key of keys) {
    const value = template[key as unknown as number];
    if (value === undefined) continue;
    const type = attributeKey(key);
    slots.push(planValue(layout, type, kindOf(type), value, path));
  }
  return { at, slots };
}

/** Reserves `len` bytes aligned to `align` for a value (none for an empty one) and makes its slot. */
function place(
  layout: TemplateLayout,
  type: number,
  kind: AttributeKind,
  value: unknown,
  len: number,
  align = 1,
): Slot {
  return { type, kind, value, len, at: len === 0 ? 0 : layout.reserve(len, align) };
}

/**
 * The name of attribute `type` of the template `path` in messages (`template[CKA_LABEL]`). The
 * name is looked up only when a message needs it: a lookup per attribute cost a template of five
 * attributes about 1 µs.
 */
function where(path: string, type: number): string {
  return `${path}[${attributeName(type)}]`;
}

/**
 * Checks one value and reserves its bytes. `path` names the template holding it in errors
 * (`template`, `template[CKA_WRAP_TEMPLATE]`).
 */
function planValue(
  layout: TemplateLayout,
  type: number,
  kind: AttributeKind,
  value: AttributeValue,
  path: string,
): Slot {
  switch (kind) {
    case 'bool':
      if (typeof value !== 'boolean')
        throw new TypeError(`${where(path, type)} must be a boolean, got ${describeType(value)}`);
      return place(layout, type, kind, value, 1);
    case 'ulong': {
      const v =
        typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= ULONG_MAX_NUMBER
          ? value
          : checkULong(value, where(path, type));
      return place(layout, type, kind, v, ULONG_SIZE, ULONG_SIZE);
    }
    case 'string':
      if (typeof value !== 'string')
        throw new TypeError(`${where(path, type)} must be a string, got ${describeType(value)}`);
      return place(layout, type, kind, value, Buffer.byteLength(value, 'utf8'));
    case 'date': {
      if (value === null) return place(layout, type, kind, null, 0);
      if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
        throw new TypeError(`${where(path, type)} must be a valid Date or null, got ${describeType(value)}`);
      }
      const year = value.getUTCFullYear();
      if (year < 0 || year > 9999)
        throw new RangeError(`${where(path, type)} must be within years 0000..9999`);
      const text = `${String(year).padStart(4, '0')}${pad2(value.getUTCMonth() + 1)}${pad2(value.getUTCDate())}`;
      return place(layout, type, kind, text, 8);
    }
    case 'bytes':
      if (!(value instanceof Uint8Array))
        throw new TypeError(`${where(path, type)} must be a Uint8Array, got ${describeType(value)}`);
      if (value.byteLength > 0) layout.holdsBytes = true;
      return place(layout, type, kind, value, value.byteLength);
    case 'mechanisms': {
      if (!Array.isArray(value))
        throw new TypeError(
          `${where(path, type)} must be an array of mechanisms, got ${describeType(value)}`,
        );
      const checked = value.map((m, i) => checkULong(m, `${where(path, type)}[${i}]`));
      return place(layout, type, kind, checked, checked.length * ULONG_SIZE, ULONG_SIZE);
    }
    case 'template': {
      const nested = planArray(layout, value as Template, where(path, type));
      return { type, kind, value: nested, len: nested.slots.length * CK_ATTRIBUTE.size, at: nested.at };
    }
  }
}

/**
 * Writes the `CK_ATTRIBUTE` at offset `at` of `buf`, whose address is `base`: `type`, a pointer to
 * the value `valueAt` bytes into `buf` (NULL when `len` is 0), and `len`. Templates, first-call
 * read arrays and the short-buffer probe all lay out their arrays this way.
 */
export function writeAttribute(
  buf: Buffer,
  at: number,
  base: bigint,
  type: number,
  valueAt: number,
  len: number,
): void {
  const { type: typeField, pValue, ulValueLen } = CK_ATTRIBUTE.fields;
  writeULong(buf, at + typeField.offset, type);
  if (len === 0) writePointer(buf, at + pValue.offset, 0n);
  else writeAddress(buf, at + pValue.offset, base, valueAt);
  writeULong(buf, at + ulValueLen.offset, len);
}

/** Writes a planned CK_ATTRIBUTE array and its values into `buf`, whose address is `base`. */
function writeArray(buf: Buffer, base: bigint, planned: Planned): void {
  for (let i = 0; i < planned.slots.length; i++) {
    const slot = planned.slots[i] as Slot;
    writeAttribute(buf, planned.at + i * CK_ATTRIBUTE.size, base, slot.type, slot.at, slot.len);
    if (slot.len > 0) writeValue(buf, base, slot);
  }
}

/** Writes one planned value at its place. */
function writeValue(buf: Buffer, base: bigint, slot: Slot): void {
  const { value, at } = slot;
  switch (slot.kind) {
    case 'bool':
      buf[at] = value ? 1 : 0;
      return;
    case 'ulong':
      writeULong(buf, at, value as number | bigint);
      return;
    case 'string':
      buf.write(value as string, at, slot.len, 'utf8');
      return;
    case 'date':
      buf.write(value as string, at, 8, 'latin1');
      return;
    case 'bytes':
      buf.set(value as Uint8Array, at);
      return;
    case 'mechanisms':
      (value as (number | bigint)[]).forEach((m, i) => writeULong(buf, at + i * ULONG_SIZE, m));
      return;
    case 'template':
      writeArray(buf, base, value as Planned);
      return;
  }
}

/** An encoded template: pass `buf` where C expects `CK_ATTRIBUTE_PTR` and `count` as `ulCount`. Keep `buf` referenced for the call. */
export interface EncodedTemplate {
  readonly buf: Buffer;
  readonly count: number;
}

/**
 * Encodes a template into one buffer: the CK_ATTRIBUTE array at offset 0, values after it.
 * Throws TypeError/RangeError naming the attribute when a value has the wrong shape. A template
 * of flags, numbers, labels and dates (a search, a data object, most key templates) is cut from
 * Node's buffer pool; one with byte strings, which may be secret, gets memory of its own.
 */
export function encodeTemplate(template: Template): EncodedTemplate {
  const layout = new TemplateLayout();
  const planned = planArray(layout, template, 'template');
  const size = Math.max(layout.size, 1);
  const buf = layout.holdsBytes ? allocBuffer(size) : allocShared(size);
  writeArray(buf, addressOf(buf), planned);
  return { buf, count: planned.slots.length };
}

/**
 * Whether an encoded template makes a token object (its CKA_TOKEN is true) rather than a session
 * object (false, or absent: the standard's default). Read from the C bytes, so the execution
 * layer can tell from a call's arguments alone; a value it cannot find in `buf` counts as a token
 * object.
 */
export function makesTokenObject(buf: Uint8Array, count: number): boolean {
  const bytes = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
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
