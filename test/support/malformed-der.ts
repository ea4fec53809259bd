/**
 * Malformed variants of a valid DER value, for the util decoders' rejection tests: each one breaks
 * a single DER or structure rule that a strict decoder must catch.
 */
import assert from 'node:assert/strict';
import { DerError } from '../../src/util/index.js';

/** DER length octets for `length`, in their shortest form. */
function lengthOctets(length: number): number[] {
  if (length < 0x80) return [length];
  const out: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) out.unshift(n % 256);
  return [0x80 | out.length, ...out];
}

/** Header size (tag + length octets) of the DER element at the start of `der`. */
function headerSize(der: Uint8Array): number {
  const first = der[1]!;
  return 2 + (first < 0x80 ? 0 : first & 0x7f);
}

/** `[label, bytes]` pairs, each a broken copy of `der` (a valid top-level element). */
export function malformedVariants(der: Uint8Array): [string, Uint8Array][] {
  const header = headerSize(der);
  const content = der.subarray(header);
  const tag = der[0]!;
  const variants: [string, Uint8Array][] = [
    ['empty input', new Uint8Array(0)],
    ['truncated by one byte', der.subarray(0, der.length - 1)],
    ['cut in half', der.subarray(0, der.length >> 1)],
    ['a trailing byte', Uint8Array.from([...der, 0x00])],
    [
      'a wrong outer tag',
      Uint8Array.from([tag === 0x30 ? 0x31 : tag === 0x04 ? 0x02 : 0x04, ...der.subarray(1)]),
    ],
    [
      'a non-minimal length',
      Uint8Array.from([tag, 0x84, ...[24, 16, 8, 0].map((s) => (content.length >>> s) & 0xff), ...content]),
    ],
  ];
  if (tag === 0x30) {
    const extra = [...content, 0x02, 0x01, 0x00];
    variants.push(['an extra element', Uint8Array.from([tag, ...lengthOctets(extra.length), ...extra])]);
    variants.push(['an indefinite length', Uint8Array.from([tag, 0x80, ...content, 0x00, 0x00])]);
  }
  return variants;
}

/** Asserts that `decode` rejects every malformed variant of `der` with a DerError naming `fn`. */
export function assertRejectsMalformed(
  der: Uint8Array,
  fn: string,
  decode: (bytes: Uint8Array) => unknown,
): void {
  for (const [label, bytes] of malformedVariants(der)) {
    assert.throws(
      () => decode(bytes),
      (e: unknown) => e instanceof DerError && e instanceof TypeError && e.message.startsWith(`${fn}:`),
      `${fn} must reject ${label} with a DerError`,
    );
  }
}
