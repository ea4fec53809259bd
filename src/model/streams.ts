/**
 * Small helpers for operations that reshape their input or output: gather a stream into one
 * buffer (host operations take one buffer), take the leading bytes off a stream (an IV written
 * before the ciphertext), and join byte arrays.
 */
import { toBytes, type DataStream } from './operations.js';

/** Everything in a stream, or the bytes themselves, as one buffer. */
export async function collectBytes(data: Uint8Array | DataStream): Promise<Uint8Array> {
  if (data instanceof Uint8Array) return data;
  const chunks: Uint8Array[] = [];
  for await (const chunk of data) chunks.push(toBytes(chunk, 'stream chunk'));
  return Buffer.concat(chunks);
}

/** `head` followed by `tail` in one new buffer. */
export function concatBytes(head: Uint8Array, tail: Uint8Array): Uint8Array {
  return Buffer.concat([head, tail]);
}

/** The first `length` bytes of `data` and the rest; a RangeError naming `what` when `data` is shorter. */
export function splitLeading(data: Uint8Array, length: number, what: string): [Uint8Array, Uint8Array] {
  if (data.byteLength < length)
    throw new RangeError(
      `data must start with ${what} of ${length} bytes, got only ${data.byteLength} bytes`,
    );
  return [data.subarray(0, length), data.subarray(length)];
}

/**
 * The first `length` bytes of a stream, and a stream of everything after them. Reads only as many
 * chunks as it needs; the rest is read as the returned stream is consumed.
 */
export async function splitLeadingStream(
  source: DataStream,
  length: number,
  what: string,
): Promise<[Uint8Array, AsyncIterable<Uint8Array>]> {
  const iterator = (
    Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]()
  ) as AsyncIterator<unknown> | Iterator<unknown>;
  const head: Uint8Array[] = [];
  let have = 0;
  while (have < length) {
    const next = await iterator.next();
    if (next.done)
      throw new RangeError(`the stream must start with ${what} of ${length} bytes, got only ${have} bytes`);
    const chunk = toBytes(next.value, 'stream chunk');
    head.push(chunk);
    have += chunk.byteLength;
  }
  const [leading, remainder] = splitLeading(Buffer.concat(head), length, what);
  async function* rest(): AsyncGenerator<Uint8Array> {
    try {
      if (remainder.byteLength > 0) yield remainder;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield toBytes(next.value, 'stream chunk');
      }
    } finally {
      await iterator.return?.();
    }
  }
  return [leading, rest()];
}
