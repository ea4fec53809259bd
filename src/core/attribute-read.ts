/**
 * Reading attributes: one call with room for each value's usual size first, then, for whatever did
 * not fit, the way the standard intends: ask every length (pValue = NULL), then fetch exactly those
 * sizes. The first call is what makes a read cost one C call instead of two; its room is exact for
 * CK_BBOOL and CK_ULONG values and, for the others, the largest size seen for that attribute (at
 * least {@link DEFAULT_ROOM}). An attribute the token will not reveal (sensitive, not present on
 * this object) reads as `undefined`: one refusal never fails the whole read. Nested templates
 * (WRAP/UNWRAP/DERIVE_TEMPLATE) skip the first call and take one more round to learn their
 * members' sizes.
 */
import {
  ULONG_MAX,
  ULONG_SIZE,
  addressOf,
  allocBuffer,
  readPointer,
  readULong,
  readULongNumber,
  writePointer,
  writeULong,
} from '../sys/abi.js';
import { ReturnValue } from '../sys/constants.js';
import { Arena } from './arena.js';
import { kindOf, type AttributeKind } from './attribute-kinds.js';
import { Pkcs11Error, check } from './errors.js';
import type { Invoke } from './invoke.js';
import { CK_ATTRIBUTE, decodeValue, writeAttribute, type AttributeValue, type Template } from './template.js';

const { type: TYPE, pValue: PVALUE, ulValueLen: LEN } = CK_ATTRIBUTE.fields;
const MAX_ATTEMPTS = 8;

/** Return codes after which the lengths the module wrote are still meaningful. */
const PARTIAL = new Set<number>([ReturnValue.ATTRIBUTE_SENSITIVE, ReturnValue.ATTRIBUTE_TYPE_INVALID]);

/** Room given to a variable-length value the first time its attribute is read. */
export const DEFAULT_ROOM = 256;
/** The most room the first call offers one value; larger values always take the two-call path. */
export const MAX_ROOM = 8192;
/** The largest value seen per attribute type (up to MAX_ROOM): the room the first call offers next time. */
const usualSize = new Map<number, number>();

/** Room for `type`'s value in the first call; undefined for nested templates, which skip it. */
function roomFor(type: number): number | undefined {
  switch (kindOf(type)) {
    case 'bool':
      return 1;
    case 'ulong':
      return ULONG_SIZE;
    case 'template':
      return undefined;
    default:
      return Math.max(usualSize.get(type) ?? 0, DEFAULT_ROOM);
  }
}

/** How many sizes have been learnt: rooms (and so shapes) change only when this does. */
let learnt = 0;

/** Remembers a value's size so the next first call offers enough room for it. */
function learn(type: number, length: number): void {
  if (length > DEFAULT_ROOM && length <= MAX_ROOM && length > (usualSize.get(type) ?? 0)) {
    usualSize.set(type, length);
    learnt++;
  }
}

/**
 * A CK_ATTRIBUTE array with room for each member's value, values after the array (8-aligned).
 * For a nested template the room is an array of member slots that start zeroed (type 0, NULL, 0):
 * the module fills their types and lengths.
 */
function buildArray(types: readonly number[], lengths: readonly number[]): Buffer {
  let size = types.length * CK_ATTRIBUTE.size;
  const offsets: number[] = [];
  for (let i = 0; i < types.length; i++) {
    size = (size + 7) & ~7;
    offsets.push(size);
    size += Math.max(lengths[i] ?? 0, 0);
  }
  const buf = allocBuffer(Math.max(size, 1));
  const base = addressOf(buf);
  for (let i = 0; i < types.length; i++) {
    const len = Math.max(lengths[i] ?? 0, 0);
    writeAttribute(buf, i * CK_ATTRIBUTE.size, base, types[i] as number, offsets[i] as number, len);
  }
  return buf;
}

function lengthsOf(buf: Buffer, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const raw = readULong(buf, i * CK_ATTRIBUTE.size + LEN.offset);
    out.push(raw === ULONG_MAX ? -1 : readULongNumber(buf, i * CK_ATTRIBUTE.size + LEN.offset));
  }
  return out;
}

/** Reads the value bytes a CK_ATTRIBUTE slot points to (inside a buffer we own). */
function valueBytes(buf: Buffer, slot: number): Buffer {
  const len = readULongNumber(buf, slot + LEN.offset);
  const ptr = readPointer(buf, slot + PVALUE.offset);
  if (len === 0 || ptr === 0n) return Buffer.alloc(0);
  const start = Number(ptr - addressOf(buf));
  return buf.subarray(start, start + len);
}

type Fetch = (buf: Buffer, count: number) => Promise<number>;

/**
 * One attempt: lengths, then values, then (for nested templates) member values. Resolves to
 * `null` when the module reports a buffer too small (sizes changed under us) so the caller retries.
 */
async function attempt(
  fetch: Fetch,
  types: readonly number[],
): Promise<Map<number, AttributeValue | undefined> | null> {
  const query = buildArray(types, []);
  const rv1 = await fetch(query, types.length);
  if (rv1 !== ReturnValue.OK && !PARTIAL.has(rv1))
    return rv1 === ReturnValue.BUFFER_TOO_SMALL ? null : fail(rv1);
  const lengths = lengthsOf(query, types.length);
  types.forEach((t, i) => learn(t, lengths[i] ?? -1));
  const result = new Map<number, AttributeValue | undefined>(types.map((t) => [t, undefined]));

  const wanted = types.filter((_, i) => (lengths[i] ?? -1) >= 0);
  if (wanted.length === 0) return result;
  const wantedLens = types.map((_, i) => lengths[i] ?? -1).filter((l) => l >= 0);
  const isTemplate = wanted.map((t) => kindOf(t) === 'template');
  const buf = buildArray(wanted, wantedLens);
  const rv2 = await fetch(buf, wanted.length);
  if (rv2 === ReturnValue.BUFFER_TOO_SMALL) return null;
  if (rv2 !== ReturnValue.OK && !PARTIAL.has(rv2)) return fail(rv2);
  const got = lengthsOf(buf, wanted.length);

  for (let i = 0; i < wanted.length; i++) {
    const type = wanted[i] as number;
    if ((got[i] ?? -1) < 0) continue;
    const slot = i * CK_ATTRIBUTE.size;
    if (!isTemplate[i]) {
      result.set(type, decodeValue(type, valueBytes(buf, slot)));
      continue;
    }
    // The module filled the nested array's types and lengths; fetch the member values.
    const members = valueBytes(buf, slot);
    const count = Math.floor(members.length / CK_ATTRIBUTE.size);
    if (count === 0) {
      result.set(type, {});
      continue;
    }
    const memberTypes: number[] = [];
    for (let m = 0; m < count; m++)
      memberTypes.push(Number(readULong(members, m * CK_ATTRIBUTE.size + TYPE.offset)));
    const nested = await readNested(fetch, type, memberTypes, lengthsOf(members, count));
    if (nested === null) return null;
    result.set(type, nested);
  }
  return result;
}

/**
 * Fetches the member values of one nested template attribute whose member types and lengths are
 * known. Undefined when the module wrote member slots of its own instead of filling ours (NSS
 * softokn keeps a nested template as the bytes of the array it was given, stale pointers and all,
 * and copies them back): those pointers lead nowhere we own, so the value cannot be read.
 */
async function readNested(
  fetch: Fetch,
  type: number,
  memberTypes: readonly number[],
  memberLens: readonly number[],
): Promise<Template | null | undefined> {
  const members = buildArray(
    memberTypes,
    memberLens.map((l) => Math.max(l, 0)),
  );
  const pointers = memberTypes.map((_, m) => readPointer(members, m * CK_ATTRIBUTE.size + PVALUE.offset));
  const outer = new Arena();
  const at = outer.reserve(CK_ATTRIBUTE.size, CK_ATTRIBUTE.align);
  outer.write((buf) => {
    writeULong(buf, at + TYPE.offset, type);
    writePointer(buf, at + PVALUE.offset, addressOf(members));
    writeULong(buf, at + LEN.offset, members.length > 0 ? memberTypes.length * CK_ATTRIBUTE.size : 0);
  });
  const { buf } = outer.finish();
  const rv = await fetch(buf, 1);
  if (rv === ReturnValue.BUFFER_TOO_SMALL) return null;
  check('C_GetAttributeValue', rv);
  if (pointers.some((p, m) => readPointer(members, m * CK_ATTRIBUTE.size + PVALUE.offset) !== p))
    return undefined;
  const template: Record<number, AttributeValue> = {};
  memberTypes.forEach((memberType, m) => {
    template[memberType] = decodeValue(memberType, valueBytes(members, m * CK_ATTRIBUTE.size));
  });
  return template;
}

function fail(rv: number): never {
  throw new Pkcs11Error('C_GetAttributeValue', rv);
}

/**
 * Reads `types` from an object. Every requested attribute appears in the result; those the token
 * refuses map to `undefined`. Throws {@link Pkcs11Error} for any other failure (invalid handle,
 * closed session, device error). `oneCall` says the module may be offered less room than a value
 * needs (short-buffers.ts); without it every value is sized first. `needed`, when given, is asked
 * after the first call about each attribute that call did not settle, with what it did read: an
 * attribute it rules out (one the object's class cannot have, say) stays `undefined` without the
 * length query that would otherwise tell a refusal from a value larger than the room offered.
 */
export async function readAttributes(
  invoke: Invoke,
  session: bigint,
  object: bigint,
  types: readonly number[],
  oneCall = false,
  needed?: (type: number, found: ReadonlyMap<number, AttributeValue | undefined>) => boolean,
): Promise<Map<number, AttributeValue | undefined>> {
  const first = oneCall
    ? await (firstCall((buf, count) => invoke('C_GetAttributeValue', session, object, buf, count), types) as
        FirstRead | Promise<FirstRead>)
    : { result: new Map(types.map((t) => [t, undefined])), rest: [...new Set(types)] };
  return readRest(invoke, session, object, first, needed);
}

/** What a first call settled (`result`, every requested type present) and the types it left to read. */
export interface FirstRead {
  readonly result: Map<number, AttributeValue | undefined>;
  readonly rest: number[];
}

/**
 * Reads, the way the standard intends (lengths, then values), what `first` left to read, and
 * answers every value. `needed` is {@link readAttributes}'s.
 */
export async function readRest(
  invoke: Invoke,
  session: bigint,
  object: bigint,
  first: FirstRead,
  needed?: (type: number, found: ReadonlyMap<number, AttributeValue | undefined>) => boolean,
): Promise<Map<number, AttributeValue | undefined>> {
  const { result } = first;
  const rest = needed ? first.rest.filter((type) => needed(type, result)) : first.rest;
  if (rest.length === 0) return result;
  const fetch: Fetch = (buf, count) => invoke('C_GetAttributeValue', session, object, buf, count);
  for (let i = 0; i < MAX_ATTEMPTS; i++) {
    const more = await attempt(fetch, rest);
    if (more) {
      for (const [type, value] of more) result.set(type, value);
      return result;
    }
  }
  throw new Pkcs11Error('C_GetAttributeValue', ReturnValue.BUFFER_TOO_SMALL, 'sizes kept changing');
}

/**
 * The first call of a read (one call with room for each value's usual size) made at once,
 * without a promise: `callNow` makes the C call on this thread and answers its CK_RV, or answers
 * undefined without calling when it cannot run now, and so does this. For a module that honours
 * short buffers (short-buffers.ts); what the call leaves, {@link readRest} reads.
 */
export function readNow(
  callNow: (buf: Buffer, count: number) => number | undefined,
  types: readonly number[],
): FirstRead | undefined {
  return firstCall(callNow, types) as FirstRead | undefined;
}

/** Kinds of value whose size is fixed: the first call offers them exactly that much room. */
const FIXED_SIZE: ReadonlySet<AttributeKind> = new Set<AttributeKind>(['bool', 'ulong']);

/** Return codes of the first call after which each value that fits is valid. */
const FIRST_CALL_OK = new Set<number>([ReturnValue.OK, ...PARTIAL, ReturnValue.BUFFER_TOO_SMALL]);

/**
 * The CK_ATTRIBUTE array of a first call, laid out once for a list of types and rooms and reused:
 * types and value pointers stay, only the lengths are reset before each call. Reuse saves the
 * allocation and the address lookups that would otherwise cost as much as the C call itself.
 */
class FirstCallArray {
  readonly buf: Buffer;
  /** Where each value starts in `buf`. */
  readonly offsets: readonly number[];
  /** Where the values start: what {@link wipe} clears. */
  readonly #valuesAt: number;
  /** The CK_ATTRIBUTE array as laid out, copied back by {@link arm}. */
  readonly #header: Buffer;

  constructor(
    readonly types: readonly number[],
    readonly rooms: readonly number[],
    /** Where it waits when spare: its single type, or its shape key (see {@link shapeOf}). */
    readonly shape: string | number,
  ) {
    this.buf = buildArray(types, rooms);
    const base = addressOf(this.buf);
    this.offsets = types.map((_, i) =>
      Number(readPointer(this.buf, i * CK_ATTRIBUTE.size + PVALUE.offset) - base),
    );
    this.#valuesAt = types.length * CK_ATTRIBUTE.size;
    this.#header = Buffer.from(this.buf.subarray(0, this.#valuesAt));
  }

  /**
   * Gives every value its full room again: the module overwrote the lengths, and may have cleared
   * pointers too (tpm2-pkcs11 sets pValue to NULL for an attribute the object lacks). One copy of
   * the array as laid out restores both.
   */
  arm(): void {
    this.buf.set(this.#header, 0);
  }

  /** Clears the values, which may be secret, before the array waits for its next use. */
  wipe(): void {
    this.buf.fill(0, this.#valuesAt);
  }
}

/** Arrays kept for reuse, by types and rooms; a few per shape, for a bounded number of shapes. */
const spareArrays = new Map<string, FirstCallArray[]>();
/** Arrays of single-attribute reads (`object.get(type)`), by type: no shape key to build. */
const spareSingles = new Map<number, FirstCallArray[]>();
const MAX_SHAPES = 64;
const MAX_SPARES_PER_SHAPE = 4;

/** The shape key of a types array last seen, by array (the summary read passes the same array each time). */
const shapes = new WeakMap<readonly number[], { readonly learnt: number; readonly shape: string }>();

/**
 * Where spare arrays for `types` with `rooms` wait: the single type itself, else a shape key.
 * `asked` is the caller's list: when `types` is all of it, its shape key is built once per list,
 * not on every read (the summary reads reuse one list).
 */
function shapeOf(
  asked: readonly number[],
  types: readonly number[],
  rooms: readonly number[],
): string | number {
  if (types.length === 1) return types[0] as number;
  let known = types.length === asked.length ? shapes.get(asked) : undefined;
  if (known?.learnt !== learnt) {
    known = { learnt, shape: `${types.join(',')}/${rooms.join(',')}` };
    if (types.length === asked.length) shapes.set(asked, known);
  }
  return known.shape;
}

/** The spare list of arrays of `shape`, if there is one. */
function sparesOf(shape: string | number): FirstCallArray[] | undefined {
  return typeof shape === 'number' ? spareSingles.get(shape) : spareArrays.get(shape);
}

/** A first-call array for `types` with `rooms`, reused when one of that shape is spare, armed for the call. */
function takeArray(
  asked: readonly number[],
  types: readonly number[],
  rooms: readonly number[],
): FirstCallArray {
  const shape = shapeOf(asked, types, rooms);
  let array = sparesOf(shape)?.pop();
  // A single type's room grows as larger values are seen: an array laid out for less is dropped.
  if (array === undefined || (types.length === 1 && array.rooms[0] !== rooms[0]))
    array = new FirstCallArray(types, rooms, shape);
  array.arm();
  return array;
}

/** Wipes `array` and keeps it for the next read of its shape (a few per shape, a bounded number of shapes). */
function returnArray(array: FirstCallArray): void {
  array.wipe();
  const { shape } = array;
  let spares = sparesOf(shape);
  if (!spares) {
    const owner: Map<string | number, FirstCallArray[]> =
      typeof shape === 'number' ? spareSingles : (spareArrays as Map<string | number, FirstCallArray[]>);
    if (owner.size >= MAX_SHAPES) owner.delete(owner.keys().next().value as string | number);
    spares = [];
    owner.set(shape, spares);
  }
  if (spares.length < MAX_SPARES_PER_SHAPE) spares.push(array);
}

/**
 * The first call: every attribute with its usual room. Answers the values that fitted (in the
 * order of `types`) and the attributes still to read: those that did not fit, those refused (a
 * refusal and a too-small buffer can look alike, so the length query settles it), nested templates.
 * `call` makes the C call: synchronously (a number: so is the answer), on a thread (a promise),
 * or not now (undefined: so is the answer, and nothing was called).
 */
function firstCall(
  call: (buf: Buffer, count: number) => number | Promise<number> | undefined,
  types: readonly number[],
): FirstRead | Promise<FirstRead> | undefined {
  const result = new Map<number, AttributeValue | undefined>();
  const direct: number[] = [];
  const rooms: number[] = [];
  const rest: number[] = [];
  for (const type of types) {
    result.set(type, undefined);
    const room = roomFor(type);
    if (room === undefined || direct.includes(type)) rest.push(type);
    else {
      direct.push(type);
      rooms.push(room);
    }
  }
  if (direct.length === 0) return { result, rest };
  const array = takeArray(types, direct, rooms);
  const { buf, offsets } = array;
  const settle = (rv: number): FirstRead => {
    try {
      if (!FIRST_CALL_OK.has(rv)) fail(rv);
      for (let i = 0; i < direct.length; i++) {
        const type = direct[i] as number;
        const len = readULongNumber(buf, i * CK_ATTRIBUTE.size + LEN.offset);
        if (!(len <= (rooms[i] as number))) {
          // Not read. A CK_BBOOL or CK_ULONG had room for any value it can have, so unless the
          // module claims otherwise (CKR_BUFFER_TOO_SMALL) it was refused; anything else may have
          // been too large, which only a length query can tell.
          if (rv === ReturnValue.BUFFER_TOO_SMALL || !FIXED_SIZE.has(kindOf(type))) rest.push(type);
          continue;
        }
        learn(type, len);
        const at = offsets[i] as number;
        result.set(type, decodeValue(type, buf.subarray(at, at + len)));
      }
      return { result, rest };
    } finally {
      returnArray(array);
    }
  };
  let rv: number | Promise<number> | undefined;
  try {
    rv = call(buf, direct.length);
  } catch (error) {
    returnArray(array);
    throw error;
  }
  if (rv === undefined) {
    returnArray(array);
    return undefined;
  }
  if (typeof rv === 'number') return settle(rv);
  return rv.then(settle, (error: unknown) => {
    returnArray(array);
    throw error;
  });
}
