/**
 * Byte streams for the tests of streamed operations: data cut into chunks (as an iterable or an
 * async generator), and everything a streamed operation yields, joined.
 *
 * @example
 * const ciphertext = await collect(key.encrypt(chunked(plaintext, 1000), options));
 */

/** `data` in chunks of `size` bytes (the last one shorter). */
export function* chunked(data: Uint8Array, size: number): Generator<Uint8Array> {
  for (let at = 0; at < data.byteLength; at += size) yield data.subarray(at, at + size);
}

/** {@link chunked}, as an async generator (the shape of a stream read from a file or a socket). */
export async function* asyncChunked(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  yield* chunked(data, size);
}

/** Everything an async iterable of byte chunks yields, in one buffer. */
export async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}
