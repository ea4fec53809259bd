/**
 * The C ABI facts that PKCS#11 structs depend on, and one layout engine that every struct we
 * marshal goes through.
 *
 * Cryptoki's `CK_ULONG` is the platform's `unsigned long`: 8 bytes on Linux and macOS (LP64) but 4
 * on Windows (LLP64), and the Windows headers wrap every struct in `#pragma pack(push, cryptoki, 1)`.
 * Writing both facts here, once, keeps every encoder (templates, mechanisms, info structs) correct
 * on both even though only Linux is exercised by the tests.
 */
import koffi from 'koffi';

/** True when the platform uses the Windows (packed, 4-byte CK_ULONG) Cryptoki ABI. */
export const IS_WINDOWS_ABI = process.platform === 'win32';

/** Size in bytes of `CK_ULONG` (and every typedef of it: handles, flags, slot ids, CK_RV). */
export const ULONG_SIZE: 4 | 8 = koffi.sizeof('unsigned long') as 4 | 8;

/** Size in bytes of a data or function pointer. */
export const POINTER_SIZE: number = koffi.sizeof('void *');

/** Struct member alignment cap: 1 under Windows' `pack(1)`, natural alignment elsewhere. */
export const STRUCT_PACK = IS_WINDOWS_ABI ? 1 : Number.POSITIVE_INFINITY;

/** The largest value a `CK_ULONG` can hold; also `CK_UNAVAILABLE_INFORMATION` (all bits set). */
export const ULONG_MAX: bigint = (1n << BigInt(ULONG_SIZE * 8)) - 1n;

/** The kinds of member our structs are made of. `bytes:N` is a fixed array of N bytes. */
export type FieldKind = 'ulong' | 'pointer' | 'byte' | 'version' | `bytes:${number}`;

/** One member's position inside a laid-out struct. */
export interface FieldSlot {
  readonly offset: number;
  readonly size: number;
  readonly kind: FieldKind;
}

/** The computed shape of a C struct: member offsets and total size, padding included. */
export interface StructLayout<K extends string> {
  readonly size: number;
  readonly align: number;
  readonly fields: { readonly [P in K]: FieldSlot };
}

function sizeAlign(kind: FieldKind, ulongSize: number, pointerSize: number): [number, number] {
  switch (kind) {
    case 'ulong':
      return [ulongSize, ulongSize];
    case 'pointer':
      return [pointerSize, pointerSize];
    case 'byte':
      return [1, 1];
    case 'version':
      return [2, 1];
    default:
      return [Number(kind.slice('bytes:'.length)), 1];
  }
}

/**
 * Lays out a C struct for this platform's ABI: {@link layoutFor} with {@link STRUCT_PACK},
 * {@link ULONG_SIZE} and {@link POINTER_SIZE}.
 *
 * @example
 * const CK_ATTRIBUTE = layout({ type: 'ulong', pValue: 'pointer', ulValueLen: 'ulong' });
 * CK_ATTRIBUTE.size; // 24 on Linux x86-64, 16 on Windows x64
 */
export function layout<K extends string>(members: Record<K, FieldKind>): StructLayout<K> {
  return layoutFor(members, STRUCT_PACK, ULONG_SIZE);
}

/**
 * Lays out a C struct from its members in declaration order for a given ABI, applying natural
 * alignment capped by `pack` exactly as a C compiler would. Exported so the Windows shapes
 * (`pack` 1, 4-byte `CK_ULONG`) can be checked on any platform.
 *
 * @param pack the `#pragma pack` cap: 1 for Windows' Cryptoki headers, `Infinity` for none.
 * @param ulongSize `sizeof(CK_ULONG)`: 8 on LP64 (Linux, macOS), 4 on LLP64 (Windows).
 * @param pointerSize `sizeof(void *)`; defaults to this process's.
 * @example
 * layoutFor({ type: 'ulong', pValue: 'pointer', ulValueLen: 'ulong' }, 1, 4, 8).size; // 16
 */
export function layoutFor<K extends string>(
  members: Record<K, FieldKind>,
  pack: number,
  ulongSize: number,
  pointerSize: number = POINTER_SIZE,
): StructLayout<K> {
  let offset = 0;
  let maxAlign = 1;
  const fields = {} as Record<K, FieldSlot>;
  for (const name of Object.keys(members) as K[]) {
    const kind = members[name];
    const [size, natural] = sizeAlign(kind, ulongSize, pointerSize);
    const align = Math.min(natural, pack);
    offset = Math.ceil(offset / align) * align;
    fields[name] = { offset, size, kind };
    offset += size;
    maxAlign = Math.max(maxAlign, align);
  }
  return { size: Math.ceil(offset / maxAlign) * maxAlign, align: maxAlign, fields };
}

/** Reads a `CK_ULONG` as a bigint (lossless for handles, which may be pointers in disguise). */
export function readULong(buf: Buffer, offset: number): bigint {
  return ULONG_SIZE === 8 ? buf.readBigUInt64LE(offset) : BigInt(buf.readUInt32LE(offset));
}

/**
 * Reads a `CK_ULONG` that is a count, length or flag word, as a number. Values beyond 2^53 (only
 * ever `CK_UNAVAILABLE_INFORMATION` in practice) come back as `Infinity` so callers can test for
 * "unavailable" without a bigint.
 */
export function readULongNumber(buf: Buffer, offset: number): number {
  const low = buf.readUInt32LE(offset);
  if (ULONG_SIZE === 4) return low;
  // Two 32-bit halves instead of a bigint: lengths are read on every call, and a bigint costs more.
  const high = buf.readUInt32LE(offset + 4);
  return high > HIGH_SAFE ? Number.POSITIVE_INFINITY : high * 2 ** 32 + low;
}

/** The largest upper half of a 64-bit value that is still a safe integer (2^53 - 1 >> 32). */
const HIGH_SAFE = 0x1fffff;

/**
 * Writes `value` (0 <= value < 2^32, checked by the caller) as 4 little-endian bytes at `at`,
 * which must leave room for them. Four byte stores instead of `Buffer.writeUInt32LE`, whose
 * argument checks cost template encoding about 25 ns per `CK_ULONG` (docs/benchmarks.md).
 */
function put32(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value;
  buf[at + 1] = value >>> 8;
  buf[at + 2] = value >>> 16;
  buf[at + 3] = value >>> 24;
}

/**
 * Writes the 64-bit value `high * 2^32 + low` (each half below 2^32) as 8 little-endian bytes at
 * `at`; a RangeError unless they lie within `buf` (byte stores past the end would be dropped
 * silently).
 */
function put64(buf: Uint8Array, at: number, low: number, high: number): void {
  if (!(at >= 0 && at + 8 <= buf.length))
    throw new RangeError(`offset ${at} leaves no room for 8 bytes in a buffer of ${buf.length}`);
  put32(buf, at, low);
  put32(buf, at + 4, high);
}

/** Writes a `CK_ULONG`; the value must already be validated as 0 <= v <= ULONG_MAX. */
export function writeULong(buf: Buffer, offset: number, value: number | bigint): void {
  if (ULONG_SIZE === 4) buf.writeUInt32LE(Number(value), offset);
  else if (typeof value === 'number') {
    // A safe integer (validated by the caller): its two halves, without the cost of a bigint.
    put64(buf, offset, value % 2 ** 32, Math.floor(value / 2 ** 32));
  } else buf.writeBigUInt64LE(value, offset);
}

/** Writes a raw address (from {@link addressOf}) or NULL. */
export function writePointer(buf: Buffer, offset: number, address: bigint): void {
  if (POINTER_SIZE === 8) buf.writeBigUInt64LE(address, offset);
  else buf.writeUInt32LE(Number(address), offset);
}

/** The last base {@link writeAddress} split into 32-bit halves, and the halves. */
let splitBase = -1n;
let baseLow = 0;
let baseHigh = 0;

/**
 * Writes the address `base + offset`: a byte `offset` into the buffer whose address is `base`
 * (from {@link addressOf}). One arena writes many pointers into itself; the base is split into
 * numbers once and each pointer is added without bigint arithmetic (a template of five
 * attributes spent about 1 µs on it).
 */
export function writeAddress(buf: Buffer, at: number, base: bigint, offset: number): void {
  if (POINTER_SIZE !== 8) {
    buf.writeUInt32LE(Number(base) + offset, at);
    return;
  }
  if (base !== splitBase) {
    splitBase = base;
    baseLow = Number(base & 0xffffffffn);
    baseHigh = Number(base >> 32n);
  }
  const low = baseLow + offset;
  put64(buf, at, low % 2 ** 32, baseHigh + Math.floor(low / 2 ** 32));
}

/** Reads a raw address. */
export function readPointer(buf: Buffer, offset: number): bigint {
  return POINTER_SIZE === 8 ? buf.readBigUInt64LE(offset) : BigInt(buf.readUInt32LE(offset));
}

/**
 * The address of a buffer's first byte. The address is only valid while the caller keeps the
 * buffer referenced: a raw pointer does not keep its memory alive, so every call keeps its buffers
 * in scope until the C function has returned (async calls included).
 */
export function addressOf(buf: Uint8Array): bigint {
  return buf.byteLength === 0 ? 0n : koffi.address(buf);
}

/**
 * A zeroed buffer cut from Node's shared buffer pool (whose memory lives outside the V8 heap, so
 * the address stays fixed while C holds it) instead of an ArrayBuffer of its own, which costs
 * about 1 µs to allocate: output calls take a length each, and an ArrayBuffer per call cost a
 * sign about as much as its JavaScript (docs/benchmarks.md). Never for secrets: a pool's other
 * views can reach it.
 */
export function allocShared(size: number): Buffer {
  return Buffer.allocUnsafe(size).fill(0);
}

/** A zeroed `CK_ULONG` for C to write a count, length or handle into ({@link allocShared}). */
export function allocULong(): Buffer {
  return allocShared(ULONG_SIZE);
}

/**
 * Allocates a zeroed buffer whose memory lives outside the V8 heap, so its address stays fixed
 * while C holds it.
 */
export function allocBuffer(size: number): Buffer {
  return Buffer.from(new ArrayBuffer(size));
}
