/**
 * Writing a C struct laid out by `layout()` into an arena, with the bytes its pointer members
 * point to placed in the same arena. Mechanism parameter structs are all built this way.
 */
import { writeAddress, writeULong, type FieldKind, type StructLayout } from '../sys/abi.js';
import { Arena } from './arena.js';

/**
 * A member's value: a number or bigint for `ulong`/`byte`, bytes (or null) for a `pointer` (the
 * bytes are copied into the arena and the member points at them), exact-length bytes for `bytes:N`,
 * or `{ at }` to point at an offset already reserved in the same arena.
 */
export type FieldValue = number | bigint | Uint8Array | null | { readonly at: number };

/** Reserves `shape` in `arena`, fills it from `values` (absent members stay zero) and returns its offset. */
export function writeStruct<K extends string>(
  arena: Arena,
  shape: StructLayout<K>,
  values: Partial<Record<K, FieldValue>>,
): number {
  const at = arena.reserve(shape.size, shape.align);
  for (const name of Object.keys(values) as K[]) {
    const value = values[name];
    const field = shape.fields[name];
    const offset = at + field.offset;
    writeField(arena, offset, field.kind, field.size, value ?? null);
  }
  return at;
}

function writeField(arena: Arena, offset: number, kind: FieldKind, size: number, value: FieldValue): void {
  if (kind === 'pointer') {
    if (value === null) return;
    const target =
      value instanceof Uint8Array
        ? value.byteLength
          ? arena.bytes(value)
          : -1
        : (value as { at: number }).at;
    if (target >= 0) arena.write((buf, base) => writeAddress(buf, offset, base, target));
    return;
  }
  if (kind === 'ulong') {
    arena.write((buf) => writeULong(buf, offset, value as number | bigint));
    return;
  }
  if (kind === 'byte') {
    arena.write((buf) => buf.writeUInt8(Number(value), offset));
    return;
  }
  // Fixed-size byte arrays (IVs, counter blocks): exactly `size` bytes, checked by the caller.
  const bytes = value as Uint8Array;
  arena.write((buf) => buf.set(bytes.subarray(0, size), offset));
}
