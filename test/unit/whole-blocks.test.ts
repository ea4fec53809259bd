// Streams of block-cipher data re-cut into whole blocks (some modules take a CBC_PAD decryption's
// parts only so): every part but the last is a multiple of the block, nothing is lost, reordered
// or aliased to the caller's chunks, and other mechanisms' streams are left as they are.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Mechanism } from '../../src/sys/constants.js';
import { BLOCK_SIZES, wholeBlocks } from '../../src/model/whole-blocks.js';

/** The parts a stream yields, as copies. */
async function parts(stream: AsyncIterable<unknown> | Iterable<unknown>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const part of stream) out.push(Buffer.from(part as Uint8Array));
  return out;
}

/** `data` cut into chunks of the given sizes, in turn. */
function cut(data: Buffer, sizes: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const size = sizes[i % sizes.length] as number;
    chunks.push(data.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

describe('wholeBlocks', () => {
  test('17-byte chunks of AES data come out in multiples of 16, all of it, in order', async () => {
    const data = randomBytes(16 * 40 + 5);
    const out = await parts(wholeBlocks(Mechanism.AES_CBC_PAD, cut(data, [17])));
    for (const part of out.slice(0, -1)) assert.equal(part.length % 16, 0, `a part of ${part.length} bytes`);
    assert.equal(out.at(-1)?.length, 5, 'the remainder goes last');
    assert.deepEqual(Buffer.concat(out), data);
  });

  test('DES3 blocks are 8 bytes; chunks of 1, 3 and 100 bytes', async () => {
    const data = randomBytes(8 * 50);
    const out = await parts(wholeBlocks(Mechanism.DES3_CBC, cut(data, [1, 3, 100])));
    for (const part of out) assert.equal(part.length % 8, 0);
    assert.deepEqual(Buffer.concat(out), data);
  });

  test('aligned chunks pass as they are; text chunks are bytes', async () => {
    const data = randomBytes(64);
    const out = await parts(wholeBlocks(Mechanism.AES_ECB, [data.subarray(0, 32), data.subarray(32)]));
    assert.deepEqual(out, [data.subarray(0, 32), data.subarray(32)]);
    const text = await parts(wholeBlocks(Mechanism.AES_ECB, ['0123456789abcdef', 'x']));
    assert.deepEqual(text.map(String), ['0123456789abcdef', 'x']);
  });

  test('the bytes held back are a copy: the caller may reuse its chunk', async () => {
    const chunk = Buffer.from('0123456789abcdefXYZ');
    const held: Buffer[] = [];
    async function* reused() {
      yield chunk;
      chunk.fill(0);
      yield Buffer.from('0123456789abc');
    }
    for await (const part of wholeBlocks(Mechanism.AES_CBC, reused())) held.push(Buffer.from(part));
    assert.equal(held[1]?.subarray(0, 3).toString(), 'XYZ');
  });

  test('a bad chunk is a TypeError naming it; other mechanisms are left alone', async () => {
    await assert.rejects(parts(wholeBlocks(Mechanism.AES_CBC_PAD, [42] as never)), {
      name: 'TypeError',
      message: /chunk/,
    });
    const source = [Uint8Array.of(1)];
    assert.equal(wholeBlocks(Mechanism.AES_CTR, source), source);
    assert.equal(BLOCK_SIZES.get(Mechanism.AES_CTR), undefined);
  });
});
