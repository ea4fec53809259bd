/**
 * Strict DER reading and writing shared by the util encoders and decoders.
 *
 * Schemas come from @peculiar/asn1-schema (and its x509/ecc/rsa/pkcs8 packages); on top of it this
 * file adds what that library leaves out: a DER well-formedness check (definite minimal lengths,
 * minimal INTEGERs, no constructed strings, no bytes after the top-level value) and a canonical
 * re-encoding check that catches fields a schema would silently skip. Big integers cross this
 * boundary as unsigned big-endian bytes without leading zeros, as in PKCS#11 templates.
 */
import {
  AsnIntegerArrayBufferConverter,
  AsnParser,
  AsnProp,
  AsnPropTypes,
  AsnSerializer,
  AsnType,
  AsnTypeTypes,
} from '@peculiar/asn1-schema';

/**
 * Malformed or unexpected DER given to a util decoder. A `TypeError`, so callers that check for
 * argument errors catch it too; the message names the function and argument, never the bytes.
 *
 * @example
 * ```ts
 * try { decodeRsaPublicKey(bytes); } catch (e) { if (e instanceof DerError) console.log(e.message); }
 * // 'decodeRsaPublicKey: der is not valid DER: 1 byte(s) after the end of the value'
 * ```
 */
export class DerError extends TypeError {
  override name = 'DerError';
}

/** One DER element: its identifier octet, the whole encoding, its contents and, if constructed, its children. */
export interface DerNode {
  /** The identifier octet: class, constructed bit and tag number (0x30 SEQUENCE, 0xa0 [0] ...). */
  readonly tag: number;
  /** Offset of the element in the buffer given to `readDer`. */
  readonly offset: number;
  /** The whole element (identifier, length and contents), a view into the input. */
  readonly bytes: Uint8Array;
  /** The contents octets, a view into the input. */
  readonly content: Uint8Array;
  /** The elements inside a constructed element, in order; empty for primitive ones. */
  readonly children: readonly DerNode[];
}

/** Universal tags this module checks or writes. */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OBJECT_IDENTIFIER: 0x06,
  ENUMERATED: 0x0a,
  PRINTABLE_STRING: 0x13,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;
/** One `Tag` value. */
export type Tag = (typeof Tag)[keyof typeof Tag];

const MAX_DEPTH = 64;
const CONSTRUCTED = 0x20;
const CLASS_MASK = 0xc0;

/**
 * Reads exactly one DER element from `der` and checks that it is well-formed DER all the way down:
 * definite lengths in their shortest form, no bytes after the element, only SEQUENCE and SET
 * constructed among universal types, and minimal INTEGER, BOOLEAN, NULL, BIT STRING and OBJECT
 * IDENTIFIER contents. `where` prefixes error messages (e.g. `'decodeEcPoint: point'`).
 *
 * @example
 * ```ts
 * readDer(Uint8Array.of(0x02, 0x01, 0x05), 'f: x').content; // Uint8Array [5]
 * readDer(Uint8Array.of(0x02, 0x01, 0x05, 0x00), 'f: x'); // DerError: 1 byte(s) after the end of the value
 * ```
 */
export function readDer(der: Uint8Array, where: string): DerNode {
  const node = readElement(der, 0, der.length, where, 0);
  const extra = der.length - node.bytes.length;
  if (extra > 0) throw invalid(where, `${extra} byte(s) after the end of the value`);
  return node;
}

function invalid(where: string, problem: string): DerError {
  return new DerError(`${where} is not valid DER: ${problem}`);
}

function readElement(buf: Uint8Array, offset: number, limit: number, where: string, depth: number): DerNode {
  if (depth > MAX_DEPTH) throw invalid(where, `nested deeper than ${MAX_DEPTH} levels`);
  if (offset >= limit) throw invalid(where, `truncated: no tag at byte ${offset}`);
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw invalid(where, `multi-byte tag at byte ${offset} (not used here)`);
  const { length, start } = readLength(buf, offset + 1, limit, where);
  const end = start + length;
  if (end > limit)
    throw invalid(where, `truncated: element at byte ${offset} needs ${end - limit} more byte(s)`);
  const content = buf.subarray(start, end);
  const universal = (tag & CLASS_MASK) === 0;
  const children: DerNode[] = [];
  if ((tag & CONSTRUCTED) !== 0) {
    if (universal && tag !== Tag.SEQUENCE && tag !== Tag.SET) {
      throw invalid(where, `constructed form of universal tag ${tag & 0x1f} at byte ${offset}`);
    }
    for (let pos = start; pos < end;) {
      const child = readElement(buf, pos, end, where, depth + 1);
      children.push(child);
      pos += child.bytes.length;
    }
  } else if (universal) {
    checkPrimitive(tag, content, offset, where);
  }
  return { tag, offset, bytes: buf.subarray(offset, end), content, children };
}

function readLength(buf: Uint8Array, at: number, limit: number, where: string) {
  if (at >= limit) throw invalid(where, `truncated: no length at byte ${at}`);
  const first = buf[at]!;
  if (first < 0x80) return { length: first, start: at + 1 };
  if (first === 0x80) throw invalid(where, `indefinite length at byte ${at}`);
  const count = first & 0x7f;
  if (count > 4) throw invalid(where, `length field of ${count} bytes at byte ${at}`);
  if (at + 1 + count > limit) throw invalid(where, `truncated: length at byte ${at}`);
  let length = 0;
  for (let i = 1; i <= count; i++) length = length * 256 + buf[at + i]!;
  if (buf[at + 1] === 0 || length < 0x80)
    throw invalid(where, `length at byte ${at} not in its shortest form`);
  return { length, start: at + 1 + count };
}

function checkPrimitive(tag: number, content: Uint8Array, offset: number, where: string): void {
  const at = `at byte ${offset}`;
  switch (tag) {
    case 0x00:
      throw invalid(where, `end-of-contents marker ${at}`);
    case Tag.SEQUENCE & ~CONSTRUCTED:
    case Tag.SET & ~CONSTRUCTED:
      throw invalid(where, `primitive SEQUENCE or SET ${at}`);
    case Tag.BOOLEAN:
      if (content.length !== 1 || (content[0] !== 0 && content[0] !== 0xff)) {
        throw invalid(where, `BOOLEAN ${at} is not 0x00 or 0xff`);
      }
      return;
    case Tag.INTEGER:
    case Tag.ENUMERATED:
      if (content.length === 0) throw invalid(where, `empty INTEGER ${at}`);
      if (
        content.length > 1 &&
        ((content[0] === 0x00 && content[1]! < 0x80) || (content[0] === 0xff && content[1]! >= 0x80))
      ) {
        throw invalid(where, `INTEGER ${at} not in its shortest form`);
      }
      return;
    case Tag.NULL:
      if (content.length !== 0) throw invalid(where, `NULL ${at} has contents`);
      return;
    case Tag.BIT_STRING: {
      const unused = content[0];
      if (unused === undefined || unused > 7 || (content.length === 1 && unused !== 0)) {
        throw invalid(where, `BIT STRING ${at} has a bad unused-bits count`);
      }
      if (content.length > 1 && (content[content.length - 1]! & ((1 << unused) - 1)) !== 0) {
        throw invalid(where, `BIT STRING ${at} has unused bits set`);
      }
      return;
    }
    case Tag.OBJECT_IDENTIFIER:
      if (content.length === 0 || content[content.length - 1]! >= 0x80) {
        throw invalid(where, `OBJECT IDENTIFIER ${at} is truncated`);
      }
      for (let i = 0; i < content.length; i++) {
        if (content[i] === 0x80 && (i === 0 || content[i - 1]! < 0x80)) {
          throw invalid(where, `OBJECT IDENTIFIER ${at} has a padded arc`);
        }
      }
      return;
  }
}

/**
 * Parses `der` with an asn1-schema class after the `readDer` checks. With `canonical` (the
 * default) the result is re-encoded and must give the same bytes back, since schema parsing alone
 * skips extra elements; structures signed by others (certificates) are read with `false`, so that
 * a harmless variation their signer chose does not make them unreadable. `what` names the
 * expected structure in messages, e.g. `'PKCS#1 RSAPublicKey'`.
 *
 * @example
 * ```ts
 * const key = parseDer(bytes, RSAPublicKey, 'decodeRsaPublicKey: der', 'PKCS#1 RSAPublicKey');
 * ```
 */
export function parseDer<T>(
  der: Uint8Array,
  schema: new () => T,
  where: string,
  what: string,
  canonical = true,
): T {
  readDer(der, where);
  let value: T;
  try {
    value = AsnParser.parse(der, schema);
  } catch (cause) {
    throw new DerError(`${where} is not a ${what}`, { cause });
  }
  if (canonical && !equalBytes(serializeDer(value), der)) {
    throw new DerError(`${where} is not a ${what}: unexpected or non-canonical fields`);
  }
  return value;
}

/** One field of a `defineSequence` schema: INTEGERs are read as ArrayBuffers of their contents. */
export interface FieldSpec {
  readonly name: string;
  readonly type: 'integer' | 'bitString' | (new () => object);
  readonly optional?: boolean;
}

/**
 * An asn1-schema SEQUENCE class built at run time, for the few structures the @peculiar packages
 * do not ship (Dss-Parms, DHParameter, X9.42 DomainParameters). This applies asn1-schema's own
 * decorators as functions, since the project compiles without legacy decorator support.
 *
 * @example
 * ```ts
 * const DssParms = defineSequence<{ p: ArrayBuffer; q: ArrayBuffer; g: ArrayBuffer }>('DssParms', [
 *   { name: 'p', type: 'integer' }, { name: 'q', type: 'integer' }, { name: 'g', type: 'integer' },
 * ]);
 * ```
 */
export function defineSequence<T extends object>(name: string, fields: readonly FieldSpec[]): new () => T {
  const schema = { [name]: class {} }[name]!;
  AsnType({ type: AsnTypeTypes.Sequence })(schema);
  for (const { name: field, type, optional = false } of fields) {
    const options =
      type === 'integer'
        ? { type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter }
        : { type: type === 'bitString' ? AsnPropTypes.BitString : type };
    AsnProp({ ...options, optional })(schema.prototype, field);
  }
  return schema as new () => T;
}

/** Encodes an asn1-schema object as DER bytes. */
export function serializeDer(value: unknown): Uint8Array {
  return new Uint8Array(AsnSerializer.serialize(value));
}

/**
 * One DER element from a tag and its contents, with the length in its shortest form: for the few
 * single-element encodings (a bare INTEGER, an OCTET STRING around an EC point) no schema is needed.
 *
 * @example
 * ```ts
 * encodeTlv(Tag.OCTET_STRING, Uint8Array.of(1, 2)); // Uint8Array [4, 2, 1, 2]
 * ```
 */
export function encodeTlv(tag: number, content: Uint8Array): Uint8Array {
  const length: number[] = [];
  if (content.length < 0x80) {
    length.push(content.length);
  } else {
    for (let n = content.length; n > 0; n = Math.floor(n / 256)) length.unshift(n % 256);
    length.unshift(0x80 | length.length);
  }
  const out = new Uint8Array(1 + length.length + content.length);
  out[0] = tag;
  out.set(length, 1);
  out.set(content, 1 + length.length);
  return out;
}

/**
 * The contents of `der` when it is exactly one element with tag `tag`; a DerError naming `what`
 * otherwise.
 */
export function readPrimitive(der: Uint8Array, tag: number, where: string, what: string): Uint8Array {
  const node = readDer(der, where);
  if (node.tag !== tag) throw new DerError(`${where} is not ${what}: tag 0x${node.tag.toString(16)}`);
  return node.content;
}

/** A fresh ArrayBuffer holding exactly `bytes` (a view may sit inside a larger buffer). */
export function bufferOf(bytes: Uint8Array): ArrayBuffer {
  return Uint8Array.from(bytes).buffer;
}

/** Byte-wise equality of two byte arrays. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** `bytes` without leading zero bytes; zero itself stays one 0x00 byte. */
export function stripLeadingZeros(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return bytes.subarray(i);
}

/**
 * INTEGER contents (two's complement, minimal) for an unsigned big-endian big integer, as the
 * asn1-schema integer converters expect: leading zeros dropped, one 0x00 added when the top bit is set.
 *
 * @example
 * ```ts
 * new Uint8Array(integerContent(Uint8Array.of(0x00, 0x80))); // Uint8Array [0, 128]
 * ```
 */
export function integerContent(value: Uint8Array): ArrayBuffer {
  const digits = value.length === 0 ? Uint8Array.of(0) : stripLeadingZeros(value);
  const out = new Uint8Array(digits.length + (digits[0]! >= 0x80 ? 1 : 0));
  out.set(digits, out.length - digits.length);
  return out.buffer;
}

/**
 * The unsigned big-endian value of INTEGER contents, without leading zeros; a DerError naming
 * `field` when the INTEGER is negative (no field read here may be).
 */
export function unsignedInteger(content: ArrayBuffer | Uint8Array, where: string, field: string): Uint8Array {
  const bytes = new Uint8Array(content);
  if (bytes.length === 0 || bytes[0]! >= 0x80)
    throw new DerError(`${where}: ${field} must be a positive INTEGER`);
  return Uint8Array.from(stripLeadingZeros(bytes));
}

/** DER of a bare INTEGER holding an unsigned big-endian value (a DSA or DH public value y). */
export function encodeUnsignedInteger(value: Uint8Array): Uint8Array {
  return encodeTlv(Tag.INTEGER, new Uint8Array(integerContent(value)));
}

/** The unsigned value of a DER bare INTEGER; a DerError naming `where` when it is anything else. */
export function decodeUnsignedInteger(der: Uint8Array, where: string, field: string): Uint8Array {
  return unsignedInteger(readPrimitive(der, Tag.INTEGER, where, 'an INTEGER'), where, field);
}

/**
 * `value` left-padded with zeros to `size` bytes; a RangeError naming `field` when it does not fit.
 */
export function padStart(value: Uint8Array, size: number, where: string, field: string): Uint8Array {
  const digits = stripLeadingZeros(value);
  if (digits.length > size) throw new RangeError(`${where}: ${field} is longer than ${size} bytes`);
  const out = new Uint8Array(size);
  out.set(digits, size - digits.length);
  return out;
}

/**
 * `value` itself when it is a Uint8Array (a Buffer is one), else a TypeError naming the argument
 * and saying what was given instead (its type, never its contents).
 */
export function requireUint8Array(value: unknown, where: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new TypeError(`${where} must be a Uint8Array, got ${describe(value)}`);
}

/** A short description of a value's type for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return value.constructor?.name ?? 'object';
}
