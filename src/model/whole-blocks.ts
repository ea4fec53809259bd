/**
 * Streams of block-cipher data cut into whole blocks. The standard lets a multi-part ECB/CBC
 * operation take parts of any length (the module keeps back what does not fill a block), but NSS
 * softokn's C_DecryptUpdate with *_CBC_PAD answers CKR_ENCRYPTED_DATA_LEN_RANGE to a part that is
 * not a whole number of blocks. Handing every module whole blocks only is valid for all of them,
 * so a streamed encryption or decryption in one of these modes holds back the bytes that do not
 * fill a block until the next chunk completes it; whatever is left at the end goes last, as it
 * would have (for a decryption, a module then reports the ciphertext's bad length itself).
 */
import { Mechanism } from '../sys/constants.js';
import { toBytes, type DataStream } from './operations.js';

const { AES_ECB, AES_CBC, AES_CBC_PAD, DES_ECB, DES_CBC, DES_CBC_PAD, DES3_ECB, DES3_CBC, DES3_CBC_PAD } =
  Mechanism;

/** Block sizes (bytes) of the ECB and CBC modes of the block ciphers in PKCS#11. */
export const BLOCK_SIZES: ReadonlyMap<number, number> = new Map<number, number>([
  ...[AES_ECB, AES_CBC, AES_CBC_PAD].map((m) => [m, 16] as const),
  ...[DES_ECB, DES_CBC, DES_CBC_PAD, DES3_ECB, DES3_CBC, DES3_CBC_PAD].map((m) => [m, 8] as const),
  ...[Mechanism.CAMELLIA_ECB, Mechanism.CAMELLIA_CBC, Mechanism.CAMELLIA_CBC_PAD].map(
    (m) => [m, 16] as const,
  ),
  ...[Mechanism.ARIA_ECB, Mechanism.ARIA_CBC, Mechanism.ARIA_CBC_PAD].map((m) => [m, 16] as const),
  ...[Mechanism.SEED_ECB, Mechanism.SEED_CBC, Mechanism.SEED_CBC_PAD].map((m) => [m, 16] as const),
  ...[Mechanism.TWOFISH_CBC, Mechanism.TWOFISH_CBC_PAD].map((m) => [m, 16] as const),
  ...[Mechanism.BLOWFISH_CBC, Mechanism.BLOWFISH_CBC_PAD].map((m) => [m, 8] as const),
  ...[Mechanism.IDEA_ECB, Mechanism.IDEA_CBC, Mechanism.IDEA_CBC_PAD].map((m) => [m, 8] as const),
  ...[Mechanism.CAST128_ECB, Mechanism.CAST128_CBC, Mechanism.CAST128_CBC_PAD].map((m) => [m, 8] as const),
  ...[Mechanism.RC2_ECB, Mechanism.RC2_CBC, Mechanism.RC2_CBC_PAD].map((m) => [m, 8] as const),
]);

/** `source` re-cut into parts of whole `blockSize`-byte blocks, the remainder (if any) last. */
async function* inBlocks(source: DataStream, blockSize: number): AsyncGenerator<Uint8Array> {
  let held: Uint8Array = new Uint8Array(0);
  for await (const chunk of source) {
    const bytes = toBytes(chunk, 'stream chunk');
    if (held.byteLength === 0 && bytes.byteLength % blockSize === 0) {
      // Whole blocks and nothing held (the usual stream of 64 KiB chunks): handed on as they are.
      yield bytes;
      continue;
    }
    const joined = held.byteLength === 0 ? bytes : Buffer.concat([held, bytes]);
    const cut = joined.byteLength - (joined.byteLength % blockSize);
    // A copy: the caller may reuse its chunk's memory once the next one is asked for.
    held = Uint8Array.prototype.slice.call(joined, cut);
    if (cut > 0) yield joined.subarray(0, cut);
  }
  if (held.byteLength > 0) yield held;
}

/**
 * The stream to hand a multi-part encryption or decryption with `mechanism`: cut into whole
 * blocks for the block modes in {@link BLOCK_SIZES}, `source` itself for any other mechanism.
 *
 * @example
 * runTransform(session, op, wholeBlocks(Mechanism.AES_CBC_PAD, chunksOf17Bytes)); // parts of 16, 32, ... bytes
 */
export function wholeBlocks(mechanism: number, source: DataStream): DataStream {
  const blockSize = BLOCK_SIZES.get(mechanism);
  return blockSize === undefined ? source : inBlocks(source, blockSize);
}
