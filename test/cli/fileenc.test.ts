/**
 * The hybrid file format as a library (`pkcs11-ts/fileenc`), in process against the test token:
 * the header codec, round trips at every chunk-boundary size, chunks that were reordered, a
 * header that was altered, plaintext released only chunk by authenticated chunk, ECDH on a curve
 * WebCrypto lacks, cancellation, and argument checks.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyType, Mechanism } from '../../src/sys/constants.js';
import { Library, type KeyPair, type Session } from '../../src/model/index.js';
import {
  ContentCipher,
  FileEncryptionError,
  type FileHeader,
  KeyProtection,
  type Recipient,
  decodeHeader,
  decryptStream,
  encodeHeader,
  encryptFile,
  encryptStream,
  tokenRecipient,
} from '../../src/fileenc/index.js';
import { testEnv } from '../support/env.js';
import { lacking, scratchDirectory } from './run.js';

const CHUNK = 1024;
const env = testEnv();
let lib: Library;
let session: Session;
let mechanisms: Set<number>;
let rsa: KeyPair;
let rsaRecipient: Recipient;

before(async () => {
  lib = await Library.load(env.modulePath, { initReserved: env.initReserved });
  const token = await lib.getToken({ tokenLabel: env.tokenLabel });
  mechanisms = new Set(await token.slot.getMechanisms());
  session = await token.open({ userPin: env.pin, rw: true });
  rsa = await session.generateKeypair(KeyType.RSA, 2048, { id: Uint8Array.of(0xfe, 1) });
  rsaRecipient = await tokenRecipient(rsa.publicKey);
});
after(async () => {
  await session?.close();
  await lib?.finalize();
});

/** All chunks of a stream, concatenated. */
async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of stream) parts.push(part);
  return Buffer.concat(parts);
}

/** A stream of `bytes` in pieces of `piece` bytes (so records are cut across input pieces). */
async function* pieces(bytes: Uint8Array, piece = 700): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += piece) yield bytes.subarray(at, at + piece);
}

/** The error reason of a failed decryption. */
async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof FileEncryptionError) return error.reason;
    throw error;
  }
  throw new Error('decryption succeeded');
}

describe('fileenc header', () => {
  const header: FileHeader = {
    version: 1,
    protection: KeyProtection.RSA_OAEP_SHA256,
    cipher: ContentCipher.AES_256_GCM,
    chunkSize: 65536,
    nonce: crypto.randomBytes(12),
    keyId: Uint8Array.of(1, 2, 3),
    ephemeralKey: new Uint8Array(0),
    wrappedKey: crypto.randomBytes(256),
  };

  test('encodes and decodes, also with chunks after it', () => {
    const bytes = encodeHeader(header);
    assert.deepEqual(bytes.subarray(0, 7), Buffer.from('P11ENC\x01', 'latin1'));
    const { header: back, length } = decodeHeader(Buffer.concat([bytes, Buffer.alloc(50)]));
    assert.equal(length, bytes.length);
    const asBuffers = (h: object) =>
      Object.fromEntries(
        Object.entries(h).map(([k, v]) => [k, v instanceof Uint8Array ? Buffer.from(v) : v]),
      );
    assert.deepEqual(asBuffers(back), asBuffers(header));
  });

  test('tells other files, other versions, malformed and cut-short headers apart', () => {
    const bytes = encodeHeader(header);
    const changed = (at: number, value: number): Buffer => {
      const copy = Buffer.from(bytes);
      copy[at] = value;
      return copy;
    };
    const reason = (input: Uint8Array): string | undefined => {
      try {
        decodeHeader(input);
      } catch (error) {
        return error instanceof FileEncryptionError ? `${error.reason}: ${error.message}` : String(error);
      }
      return undefined;
    };
    assert.match(reason(Buffer.from('PK\x03\x04 a zip file'))!, /^format: not a file encrypted by p11/);
    assert.match(reason(changed(6, 2))!, /^format: unsupported format version 2/);
    assert.match(reason(changed(7, 9))!, /^format: unknown key protection 9/);
    assert.match(reason(changed(9, 1))!, /^format: unknown header flags/);
    assert.match(reason(bytes.subarray(0, 20))!, /^truncated:/);
    assert.match(reason(bytes.subarray(0, bytes.length - 1))!, /^truncated:/);
    assert.match(reason(Buffer.from('P11'))!, /^truncated:/);
    assert.throws(() => encodeHeader({ ...header, nonce: new Uint8Array(8) }), RangeError);
    assert.throws(() => encodeHeader({ ...header, chunkSize: 10 }), RangeError);
  });
});

describe('fileenc streams', () => {
  for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK]) {
    test(`${size} bytes: round trip, one 16-byte tag per chunk`, async () => {
      const plain = crypto.randomBytes(size);
      const sealed = await collect(encryptStream(pieces(plain), rsaRecipient, { chunkSize: CHUNK }));
      const { length } = decodeHeader(sealed);
      const chunks = Math.max(1, Math.ceil(size / CHUNK));
      assert.equal(sealed.length, length + size + 16 * chunks);
      assert.deepEqual(await collect(decryptStream(pieces(sealed, 333), rsa.privateKey)), plain);
    });
  }

  test('reordered chunks and an altered header fail authentication', async () => {
    const plain = crypto.randomBytes(3 * CHUNK + 10);
    const sealed = await collect(encryptStream([plain], rsaRecipient, { chunkSize: CHUNK }));
    const { length } = decodeHeader(sealed);
    const record = CHUNK + 16;
    const swapped = Buffer.concat([
      sealed.subarray(0, length),
      sealed.subarray(length + record, length + 2 * record),
      sealed.subarray(length, length + record),
      sealed.subarray(length + 2 * record),
    ]);
    assert.equal(await reasonOf(collect(decryptStream([swapped], rsa.privateKey))), 'tampered');
    const otherId = Buffer.from(sealed);
    otherId[length - 2 - 256 - 2 - 1]! ^= 1; // the last byte of the key id: the file key still unwraps
    assert.equal(await reasonOf(collect(decryptStream([otherId], rsa.privateKey))), 'tampered');
  });

  test('only authenticated chunks come out: a bad last chunk stops the stream after the good ones', async () => {
    const plain = crypto.randomBytes(3 * CHUNK + 10);
    const sealed = await collect(encryptStream([plain], rsaRecipient, { chunkSize: CHUNK }));
    sealed[sealed.length - 1]! ^= 1;
    const released: Buffer[] = [];
    const reason = await reasonOf(
      (async () => {
        for await (const chunk of decryptStream([sealed], rsa.privateKey)) released.push(chunk);
      })(),
    );
    assert.equal(reason, 'tampered');
    assert.deepEqual(Buffer.concat(released), plain.subarray(0, 3 * CHUNK));
  });

  test('ECDH on brainpoolP256r1 (no WebCrypto curve), and a key on another curve is named as such', async (t) => {
    if (lacking(t, mechanisms, Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDH1_DERIVE)) return;
    let brainpool: KeyPair;
    try {
      brainpool = await session.generateKeypair(KeyType.EC, 'brainpoolP256r1', {
        id: Uint8Array.of(0xfe, 2),
      });
    } catch {
      return t.skip('the token refuses brainpoolP256r1 keys');
    }
    const p256 = await session.generateKeypair(KeyType.EC, 'secp256r1');
    const plain = crypto.randomBytes(2000);
    const sealed = await collect(encryptStream([plain], await tokenRecipient(brainpool.publicKey)));
    assert.equal(decodeHeader(sealed).header.protection, KeyProtection.ECDH_HKDF_SHA256);
    assert.deepEqual(await collect(decryptStream([sealed], brainpool.privateKey)), plain);
    await assert.rejects(collect(decryptStream([sealed], p256.privateKey)), {
      name: 'FileEncryptionError',
      reason: 'wrong-key',
      message: /the file is for a key on brainpoolP256r1, this key is on secp256r1/,
    });
  });

  test('recipients and options are checked before anything is encrypted', async () => {
    const ed = crypto.generateKeyPairSync('ed25519').publicKey;
    const rsaNode = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const run = (recipient: unknown, options = {}) =>
      collect(encryptStream([Buffer.alloc(1)], recipient as Recipient, options));
    await assert.rejects(
      run({ publicKey: ed, keyId: new Uint8Array(0) }),
      /must be an RSA or EC key, not ed25519/,
    );
    await assert.rejects(run({ publicKey: rsaNode.privateKey, keyId: new Uint8Array(0) }), TypeError);
    await assert.rejects(
      run({ publicKey: rsaNode.publicKey, keyId: 'x' }),
      /recipient.keyId must be a Uint8Array/,
    );
    await assert.rejects(run(rsaRecipient, { chunkSize: 100 }), /options.chunkSize must be within/);
  });
});

describe('fileenc against its documentation', () => {
  /** A file written by hand, following docs/file-format.md, with node:crypto only. */
  function writeByTheDocs(
    protection: number,
    keyId: Uint8Array,
    protect: (fileKey: Buffer, nonce: Buffer) => [Buffer, Buffer],
    plain: Buffer,
  ): Buffer {
    const fileKey = crypto.randomBytes(32);
    const nonce = crypto.randomBytes(12);
    const [ephemeral, wrapped] = protect(fileKey, nonce);
    const field = (bytes: Uint8Array) =>
      Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
    const size = Buffer.alloc(4);
    size.writeUInt32BE(CHUNK);
    const header = Buffer.concat([
      Buffer.from('P11ENC', 'latin1'),
      Buffer.from([1, protection, 1, 0]),
      size,
      nonce,
      field(keyId),
      field(ephemeral),
      field(wrapped),
    ]);
    const digest = crypto.createHash('sha256').update(header).digest();
    const chunks: Buffer[] = [header];
    const count = Math.max(1, Math.ceil(plain.length / CHUNK));
    for (let i = 0; i < count; i++) {
      const chunkNonce = Buffer.from(nonce);
      chunkNonce.writeUInt32BE((chunkNonce.readUInt32BE(8) ^ i) >>> 0, 8); // i < 2^32: only the last 4 bytes change
      const cipher = crypto.createCipheriv('aes-256-gcm', fileKey, chunkNonce);
      cipher.setAAD(Buffer.concat([digest, Buffer.from([i === count - 1 ? 1 : 0])]));
      chunks.push(
        cipher.update(plain.subarray(i * CHUNK, (i + 1) * CHUNK)),
        cipher.final(),
        cipher.getAuthTag(),
      );
    }
    return Buffer.concat(chunks);
  }

  test('a file written by hand from docs/file-format.md decrypts, RSA-OAEP (SHA-1) and ECDH', async (t) => {
    const plain = crypto.randomBytes(2 * CHUNK + 77);
    const rsaPublic = rsaRecipient.publicKey;
    const rsaFile = writeByTheDocs(
      1,
      rsa.publicKey.id,
      (fileKey) => [
        Buffer.alloc(0),
        crypto.publicEncrypt(
          { key: rsaPublic, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
          fileKey,
        ),
      ],
      plain,
    );
    assert.deepEqual(await collect(decryptStream([rsaFile], rsa.privateKey)), plain);

    if (lacking(t, mechanisms, Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDH1_DERIVE)) return;
    const ec = await session.generateKeypair(KeyType.EC, 'secp256r1');
    const recipient = (await tokenRecipient(ec.publicKey)).publicKey;
    const ecFile = writeByTheDocs(
      3,
      new Uint8Array(0),
      (fileKey, nonce) => {
        const eph = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const spki = eph.publicKey.export({ format: 'der', type: 'spki' });
        const z = crypto.diffieHellman({ privateKey: eph.privateKey, publicKey: recipient });
        const info = Buffer.concat([
          Buffer.from('pkcs11-ts fileenc v1 ECDH-HKDF-SHA256-A256KW\0', 'latin1'),
          spki,
        ]);
        const kek = Buffer.from(crypto.hkdfSync('sha256', z, nonce, info, 32));
        const wrap = crypto.createCipheriv('id-aes256-wrap', kek, Buffer.from('a6a6a6a6a6a6a6a6', 'hex'));
        return [spki, Buffer.concat([wrap.update(fileKey), wrap.final()])];
      },
      plain,
    );
    assert.deepEqual(await collect(decryptStream([ecFile], ec.privateKey)), plain);
  });
});

describe('fileenc files', () => {
  test('an aborted encryption leaves no output and no temporary file', async () => {
    const dir = scratchDirectory('p11-fileenc');
    const input = join(dir, 'in');
    writeFileSync(input, crypto.randomBytes(4 * 1024 * 1024));
    const controller = new AbortController();
    const done = encryptFile(input, join(dir, 'out'), rsaRecipient, {
      chunkSize: CHUNK,
      signal: controller.signal,
      onProgress: (bytes) => {
        if (bytes > 100 * CHUNK) controller.abort();
      },
    });
    await assert.rejects(done, { name: 'AbortError' });
    assert.deepEqual(readdirSync(dir), ['in']);
  });
});
