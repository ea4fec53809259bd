// Planning without a token: default parameters, IVs, the fallback decision, and the host-side
// crypto (DigestInfo, PSS, public-key operations), each checked against node:crypto.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fc from 'fast-check';
import { KDF, MGF, Mechanism, MechanismFlag } from '../../src/sys/constants.js';
import { parameterFields } from '../../src/core/params.js';
import { completeParameter } from '../../src/model/mechanism-defaults.js';
import { IV_MECHANISMS } from '../../src/model/iv.js';
import { chooseRoute, mechanismsToCheck, type RouteQuestion } from '../../src/model/fallback.js';
import { HASHED_SIGNATURES, HASHES, digestInfo, hashOfSize, hostDigest } from '../../src/model/hashes.js';
import { hostCanDo, hostEncrypt, hostVerify } from '../../src/model/host-crypto.js';
import { splitLeadingStream } from '../../src/model/streams.js';

const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const data = Buffer.from('the quick brown fox');

describe('default parameters', () => {
  test('OAEP defaults to SHA-1 with MGF1-SHA-1 and no label', () => {
    assert.deepEqual(completeParameter(Mechanism.RSA_PKCS_OAEP, undefined), {
      hashAlg: Mechanism.SHA_1,
      mgf: MGF.SHA1,
      sourceData: null,
    });
  });

  test('OAEP with only a hash gets the matching MGF, in object or tuple form; a label is kept', () => {
    const label = Buffer.from('label');
    const expected = { hashAlg: Mechanism.SHA256, mgf: MGF.SHA256, sourceData: label };
    assert.deepEqual(
      completeParameter(Mechanism.RSA_PKCS_OAEP, { hashAlg: Mechanism.SHA256, sourceData: label }),
      expected,
    );
    assert.deepEqual(
      completeParameter(Mechanism.RSA_PKCS_OAEP, [Mechanism.SHA256, undefined, label]),
      expected,
    );
    assert.deepEqual(completeParameter(Mechanism.RSA_PKCS_OAEP, { mgf: MGF.SHA384 }), {
      hashAlg: Mechanism.SHA384,
      mgf: MGF.SHA384,
      sourceData: null,
    });
  });

  test('raw bytes pass through untouched', () => {
    const raw = Uint8Array.of(1, 2, 3);
    assert.equal(completeParameter(Mechanism.RSA_PKCS_OAEP, raw), raw);
    assert.equal(completeParameter(Mechanism.SHA256_RSA_PKCS_PSS, raw), raw);
  });

  test('each SHAxxx_RSA_PKCS_PSS defaults to its own hash, MGF1 and a digest-long salt', () => {
    for (const s of HASHED_SIGNATURES.values()) {
      if (s.scheme !== 'pss') continue;
      assert.deepEqual(completeParameter(s.mechanism, undefined), {
        hashAlg: s.hash.mechanism,
        mgf: s.hash.mgf,
        saltLength: s.hash.size,
      });
    }
    assert.deepEqual(completeParameter(Mechanism.SHA256_RSA_PKCS_PSS, { saltLength: 0 }), {
      hashAlg: Mechanism.SHA256,
      mgf: MGF.SHA256,
      saltLength: 0,
    });
  });

  test('a PSS hash other than the mechanism’s own is refused', () => {
    assert.throws(
      () => completeParameter(Mechanism.SHA256_RSA_PKCS_PSS, { hashAlg: Mechanism.SHA_1 }),
      RangeError,
    );
  });

  test('raw RSA_PKCS_PSS takes its hash from the digest length', () => {
    for (const [size, hash, mgf] of [
      [20, Mechanism.SHA_1, MGF.SHA1],
      [28, Mechanism.SHA224, MGF.SHA224],
      [32, Mechanism.SHA256, MGF.SHA256],
      [48, Mechanism.SHA384, MGF.SHA384],
      [64, Mechanism.SHA512, MGF.SHA512],
    ] as const) {
      assert.deepEqual(completeParameter(Mechanism.RSA_PKCS_PSS, undefined, size), {
        hashAlg: hash,
        mgf,
        saltLength: size,
      });
    }
    assert.throws(() => completeParameter(Mechanism.RSA_PKCS_PSS, undefined, 33), RangeError);
    assert.throws(() => completeParameter(Mechanism.RSA_PKCS_PSS, undefined, undefined), TypeError);
    assert.deepEqual(completeParameter(Mechanism.RSA_PKCS_PSS, { hashAlg: Mechanism.SHA3_256 }), {
      hashAlg: Mechanism.SHA3_256,
      mgf: MGF.SHA3_256,
      saltLength: 32,
    });
  });

  test('mechanisms without defaults keep their parameter', () => {
    const ecdh = [KDF.NULL, null, Uint8Array.of(4)];
    assert.equal(completeParameter(Mechanism.ECDH1_DERIVE, ecdh), ecdh);
    assert.equal(completeParameter(Mechanism.ECDSA, undefined), undefined);
  });
});

describe('IVs', () => {
  test('CBC modes take the IV itself, of the block size', () => {
    for (const [m, size] of [
      [Mechanism.AES_CBC, 16],
      [Mechanism.AES_CBC_PAD, 16],
      [Mechanism.DES3_CBC, 8],
      [Mechanism.DES3_CBC_PAD, 8],
    ] as const) {
      const spec = IV_MECHANISMS.get(m)!;
      assert.equal(spec.length, size);
      assert.equal(spec.missing(undefined), true);
      assert.equal(spec.missing(Buffer.alloc(size)), false);
      const iv = crypto.randomBytes(size);
      assert.equal(spec.withIv(undefined, iv), iv);
    }
  });

  test('GCM: 12-byte IV, the caller’s AAD and tag length kept, tuple form too', () => {
    const gcm = IV_MECHANISMS.get(Mechanism.AES_GCM)!;
    const aad = Buffer.from('header');
    const iv = crypto.randomBytes(12);
    assert.equal(gcm.length, 12);
    assert.equal(gcm.missing({ aad }), true);
    assert.equal(gcm.missing([null, aad]), true);
    assert.equal(gcm.missing({ iv, aad }), false);
    assert.deepEqual(gcm.withIv({ aad, tagBits: 96 }, iv), { iv, aad, tagBits: 96 });
    assert.deepEqual(gcm.withIv([undefined, aad], iv), { iv, aad, tagBits: 128 });
    assert.deepEqual(gcm.withIv(undefined, iv), { iv, aad: undefined, tagBits: 128 });
  });

  test('CTR: a 16-byte counter block, 128 counter bits unless given', () => {
    const ctr = IV_MECHANISMS.get(Mechanism.AES_CTR)!;
    const block = crypto.randomBytes(16);
    assert.equal(ctr.missing({ counterBits: 32 }), true);
    assert.deepEqual(ctr.withIv({ counterBits: 32 }, block), { counterBits: 32, counterBlock: block });
    assert.deepEqual(ctr.withIv(undefined, block), { counterBits: 128, counterBlock: block });
  });

  test('parameterFields reads tuples by the struct’s field order', () => {
    const point = Uint8Array.of(4, 1, 2);
    assert.deepEqual(parameterFields(Mechanism.ECDH1_DERIVE, [KDF.NULL, null, point]), {
      kdf: KDF.NULL,
      sharedData: null,
      publicData: point,
    });
    assert.equal(parameterFields(Mechanism.AES_CBC, Uint8Array.of(1)), undefined);
    assert.equal(parameterFields(Mechanism.ECDH1_DERIVE, null), undefined);
  });

  test('splitLeadingStream gives the first bytes and the rest, however the stream is chunked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 16, maxLength: 200 }),
        fc.array(fc.integer({ min: 1, max: 40 })),
        async (bytes, cuts) => {
          const chunks: Uint8Array[] = [];
          let at = 0;
          for (const cut of cuts) {
            if (at >= bytes.length) break;
            chunks.push(bytes.subarray(at, at + cut));
            at += cut;
          }
          if (at < bytes.length) chunks.push(bytes.subarray(at));
          const [head, rest] = await splitLeadingStream(chunks, 16, 'the IV');
          const tail: Uint8Array[] = [];
          for await (const c of rest) tail.push(c);
          assert.deepEqual(Buffer.from(head), Buffer.from(bytes.subarray(0, 16)));
          assert.deepEqual(Buffer.concat(tail), Buffer.from(bytes.subarray(16)));
        },
      ),
    );
    await assert.rejects(splitLeadingStream([Uint8Array.of(1, 2)], 16, 'the IV'), RangeError);
  });
});

describe('the fallback decision', () => {
  const SIGN_VERIFY = MechanismFlag.SIGN | MechanismFlag.VERIFY;
  const base: RouteQuestion = {
    operation: 'sign',
    mechanism: Mechanism.ECDSA_SHA256,
    publicKey: false,
    allowFallback: true,
  };
  const route = (q: Partial<RouteQuestion>, flags: [number, number][] | undefined) =>
    chooseRoute({ ...base, ...q }, flags && new Map(flags));

  test('a token with the hashed mechanism does the work itself', () => {
    assert.equal(
      route({}, [
        [Mechanism.ECDSA_SHA256, SIGN_VERIFY],
        [Mechanism.ECDSA, SIGN_VERIFY],
      ]),
      'token',
    );
  });

  test('only the raw mechanism: hash on the host (sign and verify)', () => {
    const flags: [number, number][] = [
      [Mechanism.ECDSA_SHA256, 0],
      [Mechanism.ECDSA, SIGN_VERIFY],
    ];
    assert.equal(route({}, flags), 'hash');
    assert.equal(route({ operation: 'verify', publicKey: true }, flags), 'hash');
    assert.deepEqual(mechanismsToCheck(base), [Mechanism.ECDSA_SHA256, Mechanism.ECDSA]);
  });

  test('a listed mechanism without the operation’s flag counts as missing', () => {
    assert.equal(
      route({}, [
        [Mechanism.ECDSA_SHA256, MechanismFlag.VERIFY],
        [Mechanism.ECDSA, SIGN_VERIFY],
      ]),
      'hash',
    );
  });

  test('no verify at all on the token: a public key verifies on the host', () => {
    const flags: [number, number][] = [
      [Mechanism.ECDSA_SHA256, MechanismFlag.SIGN],
      [Mechanism.ECDSA, MechanismFlag.SIGN],
    ];
    assert.equal(route({ operation: 'verify', publicKey: true }, flags), 'host');
    assert.equal(
      route({ operation: 'encrypt', mechanism: Mechanism.RSA_PKCS, publicKey: true }, [
        [Mechanism.RSA_PKCS, MechanismFlag.DECRYPT],
      ]),
      'host',
    );
    assert.equal(
      route({ operation: 'wrap', mechanism: Mechanism.RSA_PKCS_OAEP, publicKey: true }, [
        [Mechanism.RSA_PKCS_OAEP, 0],
      ]),
      'host',
    );
  });

  test('private-key work and mechanisms the host lacks stay on the token', () => {
    assert.equal(
      route({}, [
        [Mechanism.ECDSA_SHA256, 0],
        [Mechanism.ECDSA, 0],
      ]),
      'token',
    );
    assert.equal(
      route({ operation: 'decrypt', mechanism: Mechanism.RSA_PKCS }, [[Mechanism.RSA_PKCS, 0]]),
      'token',
    );
    assert.equal(
      route({ operation: 'verify', mechanism: Mechanism.ECDSA, publicKey: true }, [[Mechanism.ECDSA, 0]]),
      'token',
    );
    assert.deepEqual(mechanismsToCheck({ ...base, operation: 'decrypt', mechanism: Mechanism.AES_CBC }), []);
  });

  test('allowFallback: false and an unknown mechanism list keep the work on the token', () => {
    const flags: [number, number][] = [
      [Mechanism.ECDSA_SHA256, 0],
      [Mechanism.ECDSA, SIGN_VERIFY],
    ];
    assert.equal(route({ allowFallback: false }, flags), 'token');
    assert.deepEqual(mechanismsToCheck({ ...base, allowFallback: false }), []);
    assert.equal(route({}, undefined), 'token');
  });

  test('forced routes apply only where they can', () => {
    assert.equal(route({ force: 'hash' }, undefined), 'hash');
    assert.equal(route({ force: 'host', operation: 'verify', publicKey: true }, undefined), 'host');
    assert.throws(() => route({ force: 'hash', mechanism: Mechanism.ECDSA }, undefined), TypeError);
    assert.throws(() => route({ force: 'host' }, undefined), TypeError);
    assert.throws(
      () =>
        route({ force: 'host', operation: 'verify', publicKey: true, mechanism: Mechanism.ECDSA }, undefined),
      TypeError,
    );
  });

  test('hostCanDo covers RSA encryption and every verification node:crypto can check', () => {
    assert.equal(hostCanDo('encrypt', Mechanism.RSA_PKCS_OAEP), true);
    assert.equal(hostCanDo('verify', Mechanism.SHA384_RSA_PKCS_PSS), true);
    assert.equal(hostCanDo('verify', Mechanism.EDDSA), true);
    assert.equal(hostCanDo('verify', Mechanism.ECDSA), false);
    assert.equal(hostCanDo('sign', Mechanism.SHA256_RSA_PKCS), false);
  });
});

describe('host-side crypto against node:crypto', () => {
  test('hash table: node names, sizes and MGF pairings agree with node:crypto', async () => {
    for (const h of HASHES.values()) {
      const digest = await hostDigest(h, data);
      assert.equal(digest.byteLength, h.size, h.name);
      assert.deepEqual(Buffer.from(digest), crypto.createHash(h.node).update(data).digest());
      assert.deepEqual(
        Buffer.from(await hostDigest(h, [data.subarray(0, 3), data.subarray(3)])),
        Buffer.from(digest),
      );
    }
    assert.equal(hashOfSize(32)?.mechanism, Mechanism.SHA256);
  });

  test('a raw PKCS#1 v1.5 signature of the DigestInfo is node’s signature, for every hash', () => {
    for (const s of HASHED_SIGNATURES.values()) {
      if (s.scheme !== 'pkcs1') continue;
      const digest = crypto.createHash(s.hash.node).update(data).digest();
      const raw = crypto.privateEncrypt(
        { key: rsa.privateKey, padding: crypto.constants.RSA_PKCS1_PADDING },
        digestInfo(s.hash, digest),
      );
      assert.deepEqual(raw, crypto.sign(s.hash.node, data, rsa.privateKey), s.hash.name);
    }
    assert.throws(() => digestInfo(HASHES.get(Mechanism.SHA256)!, Buffer.alloc(20)), RangeError);
  });

  test('hostVerify: PKCS#1 v1.5 and PSS over data, digests and streams; tampering is caught', async () => {
    const pkcs1 = crypto.sign('sha256', data, rsa.privateKey);
    assert.equal(await hostVerify(rsa.publicKey, Mechanism.SHA256_RSA_PKCS, undefined, data, pkcs1), true);
    assert.equal(await hostVerify(rsa.publicKey, Mechanism.SHA256_RSA_PKCS, undefined, [data], pkcs1), true);
    assert.equal(
      await hostVerify(rsa.publicKey, Mechanism.SHA256_RSA_PKCS, undefined, Buffer.from('other'), pkcs1),
      false,
    );
    for (const s of HASHED_SIGNATURES.values()) {
      if (s.scheme !== 'pss') continue;
      for (const saltLength of [0, s.hash.size]) {
        const sig = crypto.sign(s.hash.node, data, {
          key: rsa.privateKey,
          padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
          saltLength,
        });
        const param = completeParameter(s.mechanism, { saltLength });
        assert.equal(
          await hostVerify(rsa.publicKey, s.mechanism, param, data, sig),
          true,
          `${s.hash.name} salt ${saltLength}`,
        );
        const digest = crypto.createHash(s.hash.node).update(data).digest();
        assert.equal(await hostVerify(rsa.publicKey, Mechanism.RSA_PKCS_PSS, param, digest, sig), true);
        sig[10] = (sig[10] as number) ^ 1;
        assert.equal(await hostVerify(rsa.publicKey, s.mechanism, param, data, sig), false);
      }
    }
  });

  test('hostVerify: raw RSA_PKCS and RSA_X_509', async () => {
    const message = Buffer.from('any short message');
    const sig = crypto.privateEncrypt(
      { key: rsa.privateKey, padding: crypto.constants.RSA_PKCS1_PADDING },
      message,
    );
    const block = Buffer.alloc(256);
    block.set(message, 256 - message.length);
    const rawSig = crypto.privateEncrypt(
      { key: rsa.privateKey, padding: crypto.constants.RSA_NO_PADDING },
      block,
    );
    for (const [mechanism, signature, other] of [
      [Mechanism.RSA_PKCS, sig, 'another'],
      [Mechanism.RSA_X_509, rawSig, 'x'],
    ] as const) {
      assert.equal(await hostVerify(rsa.publicKey, mechanism, undefined, message, signature), true);
      assert.equal(
        await hostVerify(rsa.publicKey, mechanism, undefined, Buffer.from(other), signature),
        false,
      );
    }
  });

  test('hostVerify: ECDSA (raw r||s) streamed, DSA and Ed25519; raw ECDSA is refused', async () => {
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const sig = crypto.sign('sha384', data, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
    const chunks = (async function* () {
      yield data.subarray(0, 5);
      yield data.subarray(5);
    })();
    assert.equal(await hostVerify(ec.publicKey, Mechanism.ECDSA_SHA384, undefined, chunks, sig), true);
    assert.equal(
      await hostVerify(ec.publicKey, Mechanism.ECDSA_SHA384, undefined, Buffer.from('no'), sig),
      false,
    );
    await assert.rejects(hostVerify(ec.publicKey, Mechanism.ECDSA, undefined, data, sig), {
      name: 'NotSupportedError',
    });
    const dsa = crypto.generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 });
    const dsaSig = crypto.sign('sha256', data, { key: dsa.privateKey, dsaEncoding: 'ieee-p1363' });
    assert.equal(await hostVerify(dsa.publicKey, Mechanism.DSA_SHA256, undefined, data, dsaSig), true);
    const ed = crypto.generateKeyPairSync('ed25519');
    const edSig = crypto.sign(null, data, ed.privateKey);
    assert.equal(await hostVerify(ed.publicKey, Mechanism.EDDSA, undefined, data, edSig), true);
    assert.equal(await hostVerify(ed.publicKey, Mechanism.EDDSA, undefined, Buffer.from('x'), edSig), false);
    await assert.rejects(hostVerify(ed.publicKey, Mechanism.EDDSA, { phFlag: true }, data, edSig), {
      name: 'NotSupportedError',
    });
  });

  test('hostEncrypt: OAEP and PKCS#1 v1.5 and raw RSA decrypt back with the private key', () => {
    for (const hash of [Mechanism.SHA_1, Mechanism.SHA256, Mechanism.SHA512]) {
      const param = completeParameter(Mechanism.RSA_PKCS_OAEP, {
        hashAlg: hash,
        sourceData: Buffer.from('L'),
      });
      const ct = hostEncrypt(rsa.publicKey, Mechanism.RSA_PKCS_OAEP, param, data);
      const h = HASHES.get(hash)!;
      const pt = crypto.privateDecrypt(
        { key: rsa.privateKey, oaepHash: h.node, oaepLabel: Buffer.from('L') },
        ct,
      );
      assert.deepEqual(pt, data);
    }
    assert.throws(
      () =>
        hostEncrypt(
          rsa.publicKey,
          Mechanism.RSA_PKCS_OAEP,
          { hashAlg: Mechanism.SHA256, mgf: MGF.SHA1 },
          data,
        ),
      { name: 'NotSupportedError' },
    );
    // PKCS#1 v1.5 type 2 block: 00 02 <non-zero padding> 00 <data>
    const block = crypto.privateDecrypt(
      { key: rsa.privateKey, padding: crypto.constants.RSA_NO_PADDING },
      hostEncrypt(rsa.publicKey, Mechanism.RSA_PKCS, undefined, data),
    );
    assert.deepEqual([block[0], block[1]], [0, 2]);
    const end = block.indexOf(0, 2);
    assert.ok(end >= 10 && block.subarray(2, end).every((b) => b !== 0));
    assert.deepEqual(block.subarray(end + 1), data);
    const raw = crypto.privateDecrypt(
      { key: rsa.privateKey, padding: crypto.constants.RSA_NO_PADDING },
      hostEncrypt(rsa.publicKey, Mechanism.RSA_X_509, undefined, data),
    );
    assert.deepEqual(raw.subarray(256 - data.length), data);
    assert.ok(raw.subarray(0, 256 - data.length).every((b) => b === 0));
  });
});
