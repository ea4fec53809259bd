/**
 * Reading attributes the way the standard intends: ask every length first (pValue = NULL), then
 * fetch exactly those sizes. An attribute the token will not reveal (sensitive, not present on
 * this object) reads as `undefined`: one refusal never fails the whole read. Nested templates
 * (WRAP/UNWRAP/DERIVE_TEMPLATE) take one more round to learn their members' sizes.
 */
import { ULONG_MAX, addressOf, readPointer, readULong, readULongNumber, writePointer, writeULong } from '../sys/abi.js';
import { ReturnValue } from '../sys/constants.js';
import { Arena } from './arena.js';
import { kindOf } from './attribute-kinds.js';
import { Pkcs11Error, check } from './errors.js';
import type { Invoke } from './invoke.js';
import { CK_ATTRIBUTE, decodeValue, type AttributeValue, type Template } from './template.js';

const { type: TYPE, pValue: PVALUE, ulValueLen: LEN } = CK_ATTRIBUTE.fields;
const MAX_ATTEMPTS = 8;

/** Return codes after which the lengths the module wrote are still meaningful. */
const PARTIAL = new Set<number>([ReturnValue.ATTRIBUTE_SENSITIVE, ReturnValue.ATTRIBUTE_TYPE_INVALID]);

/**
 * A CK_ATTRIBUTE array with room for each member's value. For a nested template the room is an
 * array of member slots that start zeroed (type 0, NULL, 0): the module fills their types and lengths.
 */
function buildArray(types: readonly number[], lengths: readonly number[]): Buffer {
  const arena = new Arena();
  const at = arena.reserve(types.length * CK_ATTRIBUTE.size, CK_ATTRIBUTE.align);
  types.forEach((type, i) => {
    const len = lengths[i] ?? 0;
    const valueAt = len > 0 ? arena.reserve(len, 8) : -1;
    const slot = at + i * CK_ATTRIBUTE.size;
    arena.write((buf, base) => {
      writeULong(buf, slot + TYPE.offset, type);
      writePointer(buf, slot + PVALUE.offset, valueAt < 0 ? 0n : base + BigInt(valueAt));
      writeULong(buf, slot + LEN.offset, len);
    });
  });
  return arena.finish().buf;
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
async function attempt(fetch: Fetch, types: readonly number[]): Promise<Map<number, AttributeValue | undefined> | null> {
  const query = buildArray(types, []);
  const rv1 = await fetch(query, types.length);
  if (rv1 !== ReturnValue.OK && !PARTIAL.has(rv1)) return rv1 === ReturnValue.BUFFER_TOO_SMALL ? null : fail(rv1);
  const lengths = lengthsOf(query, types.length);
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
    const memberTypes: number[] = [];
    for (let m = 0; m < count; m++) memberTypes.push(Number(readULong(members, m * CK_ATTRIBUTE.size + TYPE.offset)));
    const nested = await readNested(fetch, type, memberTypes, lengthsOf(members, count));
    if (nested === null) return null;
    result.set(type, nested);
  }
  return result;
}

/** Fetches the member values of one nested template attribute whose member types and lengths are known. */
async function readNested(
  fetch: Fetch,
  type: number,
  memberTypes: readonly number[],
  memberLens: readonly number[],
): Promise<Template | null> {
  const members = buildArray(memberTypes, memberLens.map((l) => Math.max(l, 0)));
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
 * closed session, device error).
 */
export async function readAttributes(
  invoke: Invoke,
  session: bigint,
  object: bigint,
  types: readonly number[],
): Promise<Map<number, AttributeValue | undefined>> {
  const fetch: Fetch = (buf, count) => invoke('C_GetAttributeValue', session, object, buf, count);
  for (let i = 0; i < MAX_ATTEMPTS; i++) {
    const result = await attempt(fetch, types);
    if (result) return result;
  }
  throw new Pkcs11Error('C_GetAttributeValue', ReturnValue.BUFFER_TOO_SMALL, 'sizes kept changing');
}
