// Streamed operations against a real token: 64 MiB through AES-CBC-PAD in chunks (an async
// generator and a Node stream) gives the bytes of one call and of node:crypto; a streamed HMAC and
// a streamed digest equal the one-shot ones; a stream abandoned half-way, or fed a chunk that is not bytes, leaves
// its session usable; options.output takes each chunk's output into the caller's memory. (A stream that makes its own IV is in mechanisms-symmetric.test.ts.)
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyType, Mechanism, SecretKey } from '../../src/index.js';
import { type Refusal, cannotImport, importRefused } from '../support/key-capabilities.js';
import { importSecretKey } from '../support/keys.js';
import { asyncChunked as chunks, collect } from '../support/streams.js';
import { lacks, openFixture, type Fixture } from '../support/token.js';

const MiB = 1024 * 1024;

/** node:crypto's AES-256-CBC with PKCS#7 padding. */
function nodeCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  const cipher = crypto.createCipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

describe('streaming', () => {
  let fx: Fixture;
  let aesValue: Buffer;
  let aes: SecretKey;
  let aesRefused: Refusal;
  let dir: string;

  /**
   * Skips a test (and returns true) on a token without CKM_AES_CBC_PAD (p11-kit remoting filters it
   * out) or that cannot import the AES key.
   */
  const lacksCbcPad = (t: TestContext): boolean => {
    if (lacks(t, fx, Mechanism.AES_CBC_PAD)) return true;
    if (aesRefused) t.skip(aesRefused);
    return aesRefused !== false;
  };

  before(async () => {
    fx = await openFixture();
    aesValue = crypto.randomBytes(32);
    aesRefused = await importRefused(fx.session, 'AES');
    if (!aesRefused) {
      aes = await importSecretKey(fx.session, KeyType.AES, aesValue);
      assert.ok(aes instanceof SecretKey);
    }
    dir = await mkdtemp(join(tmpdir(), 'pkcs11-ts-stream-'));
  });
  after(async () => {
    await fx?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('64 MiB through AES-CBC-PAD: 1 MiB chunks, a file stream and one call give node:crypto’s bytes', async (t) => {
    if (lacksCbcPad(t)) return;
    const data = crypto.randomBytes(64 * MiB);
    const iv = crypto.randomBytes(16);
    const options = { mechanism: Mechanism.AES_CBC_PAD, mechanismParam: iv };
    const expected = nodeCbc(aesValue, iv, data);
    assert.equal(expected.length, 64 * MiB + 16);

    const oneCall = Buffer.from(await aes.encrypt(data, options));
    assert.ok(oneCall.equals(expected), 'one call equals node:crypto');

    const fromGenerator = await collect(aes.encrypt(chunks(data, MiB), options));
    assert.ok(fromGenerator.equals(expected), '1 MiB chunks from an async generator');

    const file = join(dir, 'plain.bin');
    await writeFile(file, data);
    // A Node Readable, as a file is read: 64 KiB chunks, 1024 of them.
    const fromFile = await collect(
      aes.encrypt(createReadStream(file, { highWaterMark: 64 * 1024 }), options),
    );
    assert.ok(fromFile.equals(expected), 'a Node file stream');

    // And back, in chunks that do not fall on block boundaries.
    const decrypted = await collect(aes.decrypt(chunks(expected, MiB + 5), options));
    assert.ok(decrypted.equals(data), 'streamed decryption gives the data back');
  });

  test('options.output: each chunk is written into the caller’s memory, and the bytes are node:crypto’s', async (t) => {
    if (lacksCbcPad(t)) return;
    const data = crypto.randomBytes(MiB + 5);
    const iv = crypto.randomBytes(16);
    const chunk = 64 * 1024;
    const output = new Uint8Array(chunk + 64);
    /** Copies every chunk (views of `output` are rewritten by the next one), counting the views. */
    const gather = async (parts: AsyncIterable<Uint8Array>): Promise<[Buffer, number, number]> => {
      const copies: Buffer[] = [];
      let views = 0;
      for await (const part of parts) {
        if (part.buffer === output.buffer) views++;
        copies.push(Buffer.from(part));
      }
      return [Buffer.concat(copies), views, copies.length];
    };
    const options = { mechanism: Mechanism.AES_CBC_PAD, mechanismParam: iv, output };
    const [ciphertext, views, parts] = await gather(aes.encrypt(chunks(data, chunk), options));
    assert.ok(ciphertext.equals(nodeCbc(aesValue, iv, data)), 'the ciphertext is node:crypto’s');
    assert.equal(views, parts, 'every chunk, the last one too, was a view of options.output');
    const [plaintext, plainViews, plainParts] = await gather(aes.decrypt(chunks(ciphertext, chunk), options));
    assert.ok(plaintext.equals(data), 'and decrypts back');
    assert.equal(plainViews, plainParts);

    // Too small for a chunk's output: those chunks get buffers of their own, the result is the same.
    const small = { ...options, output: new Uint8Array(100) };
    const [again, smallViews] = await gather(aes.encrypt(chunks(data, chunk), small));
    assert.ok(again.equals(ciphertext));
    assert.equal(smallViews, 0, 'no 64 KiB output was written into 100 bytes');
  });

  test('options.output far larger than a chunk: only the room a call may fill is touched, not the rest', async (t) => {
    if (lacksCbcPad(t)) return;
    const iv = crypto.randomBytes(16);
    const chunk = 64 * 1024;
    const data = crypto.randomBytes(4 * chunk);
    // Each update is offered its chunk plus 64 bytes; the tail past that is the caller's and
    // stays as it was (zeroing it after every call made a big buffer cost a fill per chunk).
    const output = new Uint8Array(16 * chunk).fill(0xaa);
    const tail = output.subarray(chunk + 64);
    const copies: Buffer[] = [];
    for await (const part of aes.encrypt(chunks(data, chunk), {
      mechanism: Mechanism.AES_CBC_PAD,
      mechanismParam: iv,
      output,
    })) {
      assert.equal(part.buffer, output.buffer, 'the chunk is a view of options.output');
      assert.ok(
        tail.every((b) => b === 0xaa),
        'nothing past the room offered was written',
      );
      copies.push(Buffer.from(part));
    }
    assert.ok(Buffer.concat(copies).equals(nodeCbc(aesValue, iv, data)), 'the ciphertext is node:crypto’s');
  });

  test('options.output: not bytes is a TypeError, overlapping the input a RangeError, a failure zeroes it', async (t) => {
    if (lacksCbcPad(t)) return;
    const iv = crypto.randomBytes(16);
    const options = { mechanism: Mechanism.AES_CBC_PAD, mechanismParam: iv };
    const wrong = { ...options, output: 'buffer' as unknown as Uint8Array };
    await assert.rejects(collect(aes.encrypt(chunks(Buffer.alloc(32), 16), wrong)), {
      name: 'TypeError',
      message: /options\.output must be a Uint8Array, got string/,
    });
    const memory = crypto.randomBytes(4096);
    const shared = { ...options, output: memory.subarray(1024) };
    await assert.rejects(collect(aes.encrypt(chunks(memory.subarray(0, 2048), 512), shared)), {
      name: 'RangeError',
      message: /options\.output must not overlap a chunk of the input/,
    });
    const data = crypto.randomBytes(3000);
    const ciphertext = await collect(aes.encrypt(chunks(data, 1000), options));
    assert.ok(ciphertext.equals(nodeCbc(aesValue, iv, data)), 'the session is free for the next stream');

    // A decryption that fails (a ciphertext one byte short) leaves no plaintext in the caller's memory.
    const output = new Uint8Array(2048).fill(0xff);
    const truncated = ciphertext.subarray(0, ciphertext.length - 1);
    await assert.rejects(collect(aes.decrypt(chunks(truncated, 1000), { ...options, output })), {
      name: 'Pkcs11Error',
    });
    assert.ok(
      output.every((b) => b === 0),
      'options.output is zeroed after the failed call',
    );
  });

  test('streamed HMAC and verify equal the one-shot results and node:crypto’s', async (t) => {
    if (await cannotImport(t, fx.session, 'GENERIC_SECRET')) return;
    const value = crypto.randomBytes(32);
    const hmacKey = await importSecretKey(fx.session, KeyType.GENERIC_SECRET, value);
    assert.ok(hmacKey instanceof SecretKey);
    const data = crypto.randomBytes(8 * MiB + 3);
    const options = { mechanism: Mechanism.SHA256_HMAC };
    const expected = crypto.createHmac('sha256', value).update(data).digest();

    assert.ok(Buffer.from(await hmacKey.sign(data, options)).equals(expected), 'one-shot HMAC');
    assert.ok(Buffer.from(await hmacKey.sign(chunks(data, MiB), options)).equals(expected), 'streamed HMAC');
    assert.equal(await hmacKey.verify(chunks(data, 333_333), expected, options), true);
    const wrong = Buffer.from(expected);
    wrong[0] = (wrong[0] as number) ^ 1;
    // One-shot first: a token that answers a wrong MAC with an error instead of
    // CKR_SIGNATURE_INVALID is found out there (the MAC is computed and compared), and its later
    // streamed verifications are made that way (verify-check.ts).
    assert.equal(await hmacKey.verify(data, wrong, options), false);
    assert.equal(await hmacKey.verify(chunks(data, MiB), wrong, options), false);
  });

  test('a streamed digest equals the one-shot one and node:crypto’s', async () => {
    const data = crypto.randomBytes(8 * MiB + 3);
    const sha = crypto.createHash('sha256').update(data).digest();
    assert.ok(Buffer.from(await fx.session.digest(chunks(data, MiB))).equals(sha), 'streamed digest');
    assert.ok(Buffer.from(await fx.session.digest(data)).equals(sha), 'one-shot digest');
  });

  test('breaking out of a streamed encrypt ends it: the session and the key work on', async (t) => {
    if (lacksCbcPad(t)) return;
    const iv = crypto.randomBytes(16);
    const options = { mechanism: Mechanism.AES_CBC_PAD, mechanismParam: iv };
    const data = crypto.randomBytes(8 * MiB);
    let sourceClosed = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        yield* chunks(data, MiB);
      } finally {
        sourceClosed = true;
      }
    }
    let queuedDone = false;
    let seen = 0;
    for await (const part of aes.encrypt(source(), options)) {
      assert.ok(part.length > 0);
      if (seen++ === 0) {
        // Queued behind the stream: it waits for the stream to end instead of meeting CKR_OPERATION_ACTIVE.
        void fx.session.generateRandom(8).then(() => (queuedDone = true));
      }
      if (seen === 2) break;
    }
    assert.equal(sourceClosed, true, 'the caller’s source was closed too');
    assert.equal((await fx.session.generateRandom(16)).length, 16);
    assert.equal(queuedDone, true, 'the call queued during the stream ran once it ended');

    const small = crypto.randomBytes(1000);
    assert.ok(
      Buffer.from(await aes.encrypt(small, options)).equals(nodeCbc(aesValue, iv, small)),
      'one-shot after',
    );
    const again = await collect(aes.encrypt(chunks(data, MiB), options));
    assert.ok(again.equals(nodeCbc(aesValue, iv, data)), 'a whole new stream after');
  });

  test('a bad chunk ends the stream with a TypeError and leaves the session usable', async (t) => {
    if (lacksCbcPad(t)) return;
    const iv = crypto.randomBytes(16);
    async function* source(): AsyncGenerator<unknown> {
      yield crypto.randomBytes(100);
      yield 42;
    }
    await assert.rejects(
      collect(
        aes.encrypt(source() as AsyncIterable<Uint8Array>, {
          mechanism: Mechanism.AES_CBC_PAD,
          mechanismParam: iv,
        }),
      ),
      (error: Error) => error instanceof TypeError && /chunk/.test(error.message),
    );
    const text = 'still works';
    assert.ok(
      Buffer.from(await aes.encrypt(text, { mechanism: Mechanism.AES_CBC_PAD, mechanismParam: iv })).equals(
        nodeCbc(aesValue, iv, Buffer.from(text)),
      ),
    );
  });
});
