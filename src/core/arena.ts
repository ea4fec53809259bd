/**
 * One contiguous buffer for everything a C call reads through pointers: struct arrays, nested
 * structs and the bytes they point to. Building in two phases (reserve offsets, then write with
 * the buffer's final address known) lets a whole `CK_ATTRIBUTE[]` template or a mechanism with
 * its parameter struct travel as a single allocation that the caller keeps alive for the call.
 */
import { allocBuffer, addressOf } from '../sys/abi.js';

type Writer = (buf: Buffer, base: bigint) => void;

/** Offsets in a buffer being laid out: each reservation aligned as its C type needs, none overlapping. */
export class Layout {
  /** The bytes reserved so far: the buffer's size. */
  size = 0;

  /** Reserves `size` bytes aligned to `align` and returns their offset. */
  reserve(size: number, align = 8): number {
    const offset = Math.ceil(this.size / align) * align;
    this.size = offset + size;
    return offset;
  }
}

/** A buffer being laid out. Offsets returned by {@link reserve} are final; addresses are `base + offset`. */
export class Arena extends Layout {
  readonly #writers: Writer[] = [];

  /**
   * Reserves room for `data` (aligned to `align`: pass the C type's alignment when the module will
   * read the bytes as a `CK_ULONG` or an array of them) and copies it in at {@link finish}; returns
   * its offset.
   */
  bytes(data: Uint8Array, align = 1): number {
    const offset = this.reserve(data.byteLength, align);
    this.#writers.push((buf) => buf.set(data, offset));
    return offset;
  }

  /** Queues a write that needs the final base address (pointers into the arena). */
  write(writer: Writer): void {
    this.#writers.push(writer);
  }

  /** Allocates the buffer and runs every queued write. */
  finish(): { buf: Buffer; base: bigint } {
    const buf = allocBuffer(Math.max(this.size, 1));
    const base = addressOf(buf);
    for (const w of this.#writers) w(buf, base);
    return { buf, base };
  }
}
