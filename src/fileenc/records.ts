/**
 * Cutting a byte stream into fixed-size records, knowing which one is the last: the chunking both
 * directions of the file format share. A full record is held back until at least one more byte
 * arrives, so the record before the end of the stream is the one marked final (it may be full, or
 * empty when the stream is empty).
 *
 * One buffer is reused for every record (a record's bytes are valid until the next one is asked
 * for): at hundreds of MB per second, fewer allocations keep the garbage, and so the peak memory,
 * low.
 */

/** One record of a stream. */
export interface StreamRecord {
  /**
   * The record's bytes: exactly the record size, except for the final record (0..size). Valid
   * until the next record is asked for: the buffer is reused.
   */
  readonly bytes: Buffer;
  /** Its position, from 0. */
  readonly index: number;
  /** Whether the stream ends after it. */
  readonly final: boolean;
}

/**
 * The records of `size` bytes of `source`; the last one is marked final and always comes, even
 * for an empty stream. Memory stays at one record whatever the stream's length; use each record
 * before asking for the next.
 *
 * @example
 * for await (const { bytes, final } of fixedRecords(createReadStream(path), 65536)) ...
 */
export async function* fixedRecords(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  size: number,
): AsyncGenerator<StreamRecord, void, undefined> {
  const held = Buffer.allocUnsafe(size);
  let filled = 0;
  let index = 0;
  for await (const piece of source) {
    let offset = 0;
    while (offset < piece.length) {
      if (filled === size) {
        // More bytes follow the full record: it is not the last one.
        yield { bytes: held, index: index++, final: false };
        filled = 0;
      }
      const take = Math.min(size - filled, piece.length - offset);
      held.set(piece.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
    }
  }
  yield { bytes: held.subarray(0, filled), index, final: true };
}
