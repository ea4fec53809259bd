// Secret-key mechanisms against node:crypto: AES-CBC, CBC-PAD, GCM and CTR with the caller's IV and
// with an IV made by the token (written before the ciphertext, read back on decrypt), one-shot and
// streamed; DES3-CBC; HMAC; wrapping with a made IV; and a vendor mechanism number passed through
// to the token in every kind of operation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { KeyType, Mechanism, ObjectClass, ReturnValue } from '../../src/sys/constants.js';
import { nameOf } from '../../src/sys/names.js';
import { Pkcs11Error } from '../../src/core/errors.js';
import type { SecretKey } from '../../src/model/index.js';
import { rejectsWithPkcs11 } from '../support/assertions.js';
import { cannotImport, importRefused } from '../support/key-capabilities.js';
import { importSecretKey, READABLE, valueOf } from '../support/keys.js';
import { collect } from '../support/streams.js';
import { MADE_UP_MECHANISM, lacks, openFixture } from '../support/token.js';

const data = crypto.randomBytes(100);

/** node's encryption or decryption, all at once. */
function node(
  decrypt: boolean,
  cipher: string,
  key: Buffer,
  iv: Buffer | null,
  input: Buffer,
  padding = true,
): Buffer {
  const c = decrypt ? crypto.createDecipheriv(cipher, key, iv) : crypto.createCipheriv(cipher, key, iv);
  c.setAutoPadding(padding);
  return Buffer.concat([c.update(input), c.final()]);
}

/** `bytes` as a stream of uneven chunks. */
function* chunked(bytes: Buffer): Generator<Buffer> {
  for (let at = 0, size = 7; at < bytes.length; at += size, size += 11) yield bytes.subarray(at, at + size);
}

/** The test token and a logged-in read-write session, for every test of this file. */
const fx = await openFixture();
after(() => fx.close());

describe('AES', { skip: await importRefused(fx.session, 'AES') }, () => {
  let aes: SecretKey;
  const value = crypto.randomBytes(32);

  before(async () => {
    aes = await importSecretKey(fx.session, KeyType.AES, value);
  });

  test('CBC and CBC_PAD with the caller’s IV equal node’s, both ways', async (t) => {
    if (lacks(t, fx, Mechanism.AES_CBC, Mechanism.AES_CBC_PAD)) return;
    const iv = crypto.randomBytes(16);
    const padded = await aes.encrypt(data, { mechanism: Mechanism.AES_CBC_PAD, mechanismParam: iv });
    assert.deepEqual(Buffer.from(padded), node(false, 'aes-256-cbc', value, iv, data));
    assert.deepEqual(
      Buffer.from(
        await aes.decrypt(node(false, 'aes-256-cbc', value, iv, data), {
          mechanism: Mechanism.AES_CBC_PAD,
          mechanismParam: iv,
        }),
      ),
      data,
    );
    const blocks = data.subarray(0, 96);
    const plain = await aes.encrypt(blocks, { mechanism: Mechanism.AES_CBC, mechanismParam: iv });
    assert.deepEqual(Buffer.from(plain), node(false, 'aes-256-cbc', value, iv, blocks, false));
  });

  test('CBC_PAD with no IV: a token-made IV comes first, node decrypts with it, the token reads it back', async (t) => {
    if (lacks(t, fx, Mechanism.AES_CBC_PAD)) return;
    const sealed = Buffer.from(await aes.encrypt(data));
    assert.equal(sealed.length, 16 + 112);
    assert.deepEqual(node(true, 'aes-256-cbc', value, sealed.subarray(0, 16), sealed.subarray(16)), data);
    assert.deepEqual(Buffer.from(await aes.decrypt(sealed)), data);
    const again = Buffer.from(await aes.encrypt(data));
    assert.notDeepEqual(again.subarray(0, 16), sealed.subarray(0, 16), 'each call makes a fresh IV');
    const iv = crypto.randomBytes(16);
    const fromNode = Buffer.concat([iv, node(false, 'aes-256-cbc', value, iv, data)]);
    assert.deepEqual(Buffer.from(await aes.decrypt(fromNode, { mechanism: Mechanism.AES_CBC_PAD })), data);
    await assert.rejects(aes.decrypt(sealed.subarray(0, 10)), RangeError);
  });

  test('streams with no IV: the IV is the first chunk out, and is taken from the first chunks in', async (t) => {
    if (lacks(t, fx, Mechanism.AES_CBC_PAD)) return;
    const sealed = await collect(aes.encrypt(chunked(data), { mechanism: Mechanism.AES_CBC_PAD }));
    assert.deepEqual(node(true, 'aes-256-cbc', value, sealed.subarray(0, 16), sealed.subarray(16)), data);
    assert.deepEqual(await collect(aes.decrypt(chunked(sealed), { mechanism: Mechanism.AES_CBC_PAD })), data);
    assert.deepEqual(Buffer.from(await aes.decrypt(sealed)), data, 'one-shot and streamed agree');
  });

  test('GCM: ciphertext || tag equals node’s; a made IV comes first and keeps the AAD', async (t) => {
    if (lacks(t, fx, Mechanism.AES_GCM)) return;
    const iv = crypto.randomBytes(12);
    const aad = Buffer.from('associated data');
    const cipher = crypto.createCipheriv('aes-256-gcm', value, iv).setAAD(aad);
    const expected = Buffer.concat([cipher.update(data), cipher.final(), cipher.getAuthTag()]);
    const sealed = await aes.encrypt(data, { mechanism: Mechanism.AES_GCM, mechanismParam: { iv, aad } });
    assert.deepEqual(Buffer.from(sealed), expected);
    assert.deepEqual(
      Buffer.from(await aes.decrypt(expected, { mechanism: Mechanism.AES_GCM, mechanismParam: { iv, aad } })),
      data,
    );

    const madeIv = Buffer.from(
      await aes.encrypt(data, { mechanism: Mechanism.AES_GCM, mechanismParam: { aad } }),
    );
    assert.equal(madeIv.length, 12 + data.length + 16);
    const decipher = crypto.createDecipheriv('aes-256-gcm', value, madeIv.subarray(0, 12)).setAAD(aad);
    decipher.setAuthTag(madeIv.subarray(madeIv.length - 16));
    assert.deepEqual(
      Buffer.concat([decipher.update(madeIv.subarray(12, madeIv.length - 16)), decipher.final()]),
      data,
    );
    assert.deepEqual(
      Buffer.from(await aes.decrypt(madeIv, { mechanism: Mechanism.AES_GCM, mechanismParam: { aad } })),
      data,
    );

    const forged = Buffer.from(madeIv);
    forged[20] = (forged[20] as number) ^ 1;
    await assert.rejects(
      aes.decrypt(forged, { mechanism: Mechanism.AES_GCM, mechanismParam: { aad } }),
      Pkcs11Error,
    );
  });

  test('CTR: equals node’s with a full counter block; a made counter block comes first', async (t) => {
    if (lacks(t, fx, Mechanism.AES_CTR)) return;
    const counterBlock = crypto.randomBytes(16);
    const ct = await aes.encrypt(data, {
      mechanism: Mechanism.AES_CTR,
      mechanismParam: { counterBits: 128, counterBlock },
    });
    assert.deepEqual(Buffer.from(ct), node(false, 'aes-256-ctr', value, counterBlock, data));
    const made = Buffer.from(await aes.encrypt(data, { mechanism: Mechanism.AES_CTR }));
    assert.equal(made.length, 16 + data.length);
    assert.deepEqual(node(true, 'aes-256-ctr', value, made.subarray(0, 16), made.subarray(16)), data);
    assert.deepEqual(Buffer.from(await aes.decrypt(made, { mechanism: Mechanism.AES_CTR })), data);
  });

  test('wrapping with AES_CBC and no IV writes the made IV before the wrapped key', async (t) => {
    if (lacks(t, fx, Mechanism.AES_CBC)) return;
    const secret = crypto.randomBytes(32);
    const target = await importSecretKey(fx.session, KeyType.AES, secret);
    const wrapped = Buffer.from(await aes.wrapKey(target, { mechanism: Mechanism.AES_CBC }));
    assert.equal(wrapped.length, 16 + 32);
    assert.deepEqual(
      node(true, 'aes-256-cbc', value, wrapped.subarray(0, 16), wrapped.subarray(16), false),
      secret,
    );
  });

  test('the default AES_KEY_WRAP round-trips a key', async (t) => {
    if (lacks(t, fx, Mechanism.AES_KEY_WRAP)) return;
    const secret = crypto.randomBytes(16);
    const target = await importSecretKey(fx.session, KeyType.AES, secret);
    const wrapped = await aes.wrapKey(target);
    assert.equal(wrapped.byteLength, 24);
    const back = await aes.unwrapKey(ObjectClass.SECRET_KEY, KeyType.AES, wrapped, {
      template: READABLE,
    });
    assert.deepEqual(await valueOf(back), secret);
  });
});

describe('DES3, HMAC and vendor mechanisms', () => {
  test('DES3-CBC-PAD equals node’s; with no IV an 8-byte IV comes first', async (t) => {
    if (lacks(t, fx, Mechanism.DES3_CBC_PAD) || (await cannotImport(t, fx.session, 'DES3'))) return;
    const value = crypto.randomBytes(24);
    const des3 = await importSecretKey(fx.session, KeyType.DES3, value);
    const iv = crypto.randomBytes(8);
    const ct = await des3.encrypt(data, { mechanismParam: iv });
    assert.deepEqual(Buffer.from(ct), node(false, 'des-ede3-cbc', value, iv, data));
    const made = Buffer.from(await des3.encrypt(data));
    assert.equal(made.length, 8 + 104);
    assert.deepEqual(node(true, 'des-ede3-cbc', value, made.subarray(0, 8), made.subarray(8)), data);
    assert.deepEqual(Buffer.from(await des3.decrypt(made)), data);
  });

  test('HMAC with SHA-1 to SHA-512 equals node’s and verifies', async (t) => {
    if (await cannotImport(t, fx.session, 'GENERIC_SECRET')) return;
    const value = crypto.randomBytes(64);
    const key = await importSecretKey(fx.session, KeyType.GENERIC_SECRET, value);
    for (const [mechanism, hash] of [
      [Mechanism.SHA_1_HMAC, 'sha1'],
      [Mechanism.SHA224_HMAC, 'sha224'],
      [Mechanism.SHA256_HMAC, 'sha256'],
      [Mechanism.SHA384_HMAC, 'sha384'],
      [Mechanism.SHA512_HMAC, 'sha512'],
    ] as const) {
      await t.test(hash, async (st) => {
        if (lacks(st, fx, mechanism)) return;
        const mac = await key.sign(data, { mechanism });
        assert.deepEqual(Buffer.from(mac), crypto.createHmac(hash, value).update(data).digest());
        assert.deepEqual(
          Buffer.from(await key.sign(chunked(data), { mechanism })),
          Buffer.from(mac),
          'streamed',
        );
        assert.equal(await key.verify(data, mac, { mechanism }), true);
        assert.equal(await key.verify(Buffer.from('other'), mac, { mechanism }), false);
      });
    }
  });

  test('a vendor mechanism number reaches the token, which answers for itself, in every operation', async (t) => {
    if (await cannotImport(t, fx.session, 'AES')) return;
    const key = await importSecretKey(fx.session, KeyType.AES, crypto.randomBytes(16));
    const vendor = MADE_UP_MECHANISM;
    assert.equal(nameOf(Mechanism, vendor), '0x80007e57');
    const param = Uint8Array.of(1, 2, 3);
    const signing = await rejectsWithPkcs11(
      key.sign(data, { mechanism: vendor, mechanismParam: param }),
      'C_SignInit',
      'CKR_MECHANISM_INVALID',
    );
    assert.equal(signing.rv, ReturnValue.MECHANISM_INVALID);
    await rejectsWithPkcs11(
      key.encrypt(data, { mechanism: vendor, mechanismParam: param }),
      'C_EncryptInit',
      'CKR_MECHANISM_INVALID',
    );
    await rejectsWithPkcs11(
      fx.session.digest(data, { mechanism: vendor }),
      'C_DigestInit',
      'CKR_MECHANISM_INVALID',
    );
    await rejectsWithPkcs11(
      fx.session.generateKey(KeyType.AES, 128, { mechanism: vendor }),
      'C_GenerateKey',
      'CKR_MECHANISM_INVALID',
    );
    // A structured parameter has no meaning for a mechanism the library does not know: refused before C.
    await assert.rejects(
      key.sign(data, { mechanism: vendor, mechanismParam: { iv: Uint8Array.of(1) } }),
      TypeError,
    );
  });
});
