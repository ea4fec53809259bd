// The host fallbacks, against the token's own results and node:crypto: hashing on the host for a
// hash-then-sign mechanism the token lacks (ECDSA_SHA1/SHA256 on SoftHSM2), forced for RSA and DSA
// to show the bytes equal the token's own mechanism; public-key operations done by node:crypto,
// compared with the token doing them; and the decision itself, made from the token's mechanism flags.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  Attribute,
  KeyType,
  Mechanism,
  MechanismFlag,
  ObjectClass,
  ReturnValue,
} from '../../src/sys/constants.js';
import { NotSupportedError, Pkcs11Error } from '../../src/core/errors.js';
import type { Template } from '../../src/core/template.js';
import type { KeyPair } from '../../src/model/index.js';
import { mechanismTable } from '../../src/model/capabilities.js';
import { chooseRoute, mechanismsToCheck, type RouteQuestion } from '../../src/model/fallback.js';
import { HASHED_SIGNATURES } from '../../src/model/hashes.js';
import { decodeDsaPublicKey } from '../../src/util/index.js';
import { cannotGenerate, cannotImport } from '../support/key-capabilities.js';
import { importSecretKey, nodePublicKey, READABLE } from '../support/keys.js';
import { asyncChunked, collect } from '../support/streams.js';
import { lacks, openFixture } from '../support/token.js';

const data = Buffer.from('fallbacks give the bytes a capable token would');

/** `bytes` in 5-byte chunks, as an async stream. */
const streamOf = (bytes: Buffer) => asyncChunked(bytes, 5);

/** The test token and a logged-in read-write session, for every test of this file. */
const fx = await openFixture();
after(() => fx.close());

describe('hashing on the host', () => {
  let ec: KeyPair;
  let rsa: KeyPair;
  before(async () => {
    ec = await fx.session.generateKeypair(KeyType.EC, 'secp256r1');
    rsa = await fx.session.generateKeypair(KeyType.RSA, 2048);
  });

  for (const [mechanism, hash] of [
    [Mechanism.ECDSA_SHA1, 'sha1'],
    [Mechanism.ECDSA_SHA256, 'sha256'],
  ] as const) {
    test(`${hash}: a token with raw ECDSA only signs and verifies through the host hash`, async (t) => {
      if (lacks(t, fx, Mechanism.ECDSA)) return;
      if (fx.mechanisms.has(mechanism)) {
        t.skip('the token has the hashing mechanism itself: no fallback to show');
        return;
      }
      const nodePub = await nodePublicKey(ec.publicKey);
      const sig = await ec.privateKey.sign(data, { mechanism });
      assert.equal(crypto.verify(hash, data, { key: nodePub, dsaEncoding: 'ieee-p1363' }, sig), true);
      const streamed = await ec.privateKey.sign(streamOf(data), { mechanism });
      assert.equal(crypto.verify(hash, data, { key: nodePub, dsaEncoding: 'ieee-p1363' }, streamed), true);
      assert.equal(await ec.publicKey.verify(data, sig, { mechanism }), true);
      assert.equal(await ec.publicKey.verify(streamOf(data), sig, { mechanism }), true);
      assert.equal(await ec.publicKey.verify(Buffer.from('other'), sig, { mechanism }), false);
      // With the fallback forbidden the token is asked as is, and says it lacks the mechanism.
      await assert.rejects(ec.privateKey.sign(data, { mechanism, allowFallback: false }), (e: unknown) => {
        assert.ok(e instanceof Pkcs11Error);
        assert.equal(e.rv, ReturnValue.MECHANISM_INVALID);
        return true;
      });
    });
  }

  test('PKCS#1 v1.5 hashed on the host (DigestInfo + RSA_PKCS) gives the token’s own signature, byte for byte', async (t) => {
    if (lacks(t, fx, Mechanism.RSA_PKCS)) return;
    for (const s of HASHED_SIGNATURES.values()) {
      if (s.scheme !== 'pkcs1' || !fx.mechanisms.has(s.mechanism)) continue;
      const own = await rsa.privateKey.sign(data, { mechanism: s.mechanism, allowFallback: false });
      const viaHost = await rsa.privateKey.sign(data, { mechanism: s.mechanism, fallback: 'hash' });
      assert.deepEqual(Buffer.from(viaHost), Buffer.from(own), s.hash.name);
      assert.equal(await rsa.publicKey.verify(data, own, { mechanism: s.mechanism, fallback: 'hash' }), true);
      assert.equal(
        await rsa.publicKey.verify(Buffer.from('x'), own, { mechanism: s.mechanism, fallback: 'hash' }),
        false,
      );
    }
  });

  test('PSS hashed on the host verifies with the token’s own PSS and with node', async (t) => {
    if (lacks(t, fx, Mechanism.RSA_PKCS_PSS)) return;
    const nodePub = await nodePublicKey(rsa.publicKey);
    for (const s of HASHED_SIGNATURES.values()) {
      if (s.scheme !== 'pss' || !fx.mechanisms.has(s.mechanism)) continue;
      const viaHost = await rsa.privateKey.sign(streamOf(data), { mechanism: s.mechanism, fallback: 'hash' });
      assert.equal(
        await rsa.publicKey.verify(data, viaHost, { mechanism: s.mechanism, allowFallback: false }),
        true,
        s.hash.name,
      );
      const pss = { key: nodePub, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: s.hash.size };
      assert.equal(crypto.verify(s.hash.node, data, pss, viaHost), true);
    }
  });

  test('DSA hashed on the host verifies with node', async (t) => {
    if (lacks(t, fx, Mechanism.DSA_KEY_PAIR_GEN, Mechanism.DSA, Mechanism.DSA_SHA256)) return;
    const nodeDsa = crypto.generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 });
    const domain = decodeDsaPublicKey(nodeDsa.publicKey.export({ format: 'der', type: 'spki' }));
    const pair = await fx.session.generateKeypair(KeyType.DSA, {
      [Attribute.PRIME]: domain[Attribute.PRIME],
      [Attribute.SUBPRIME]: domain[Attribute.SUBPRIME],
      [Attribute.BASE]: domain[Attribute.BASE],
    } as Template);
    const sig = await pair.privateKey.sign(data, { mechanism: Mechanism.DSA_SHA256, fallback: 'hash' });
    assert.equal(
      await pair.publicKey.verify(data, sig, { mechanism: Mechanism.DSA_SHA256, allowFallback: false }),
      true,
    );
    assert.equal(
      await pair.publicKey.verify(data, sig, { mechanism: Mechanism.DSA_SHA256, fallback: 'host' }),
      true,
    );
    assert.equal(
      await pair.publicKey.verify(Buffer.from('x'), sig, {
        mechanism: Mechanism.DSA_SHA256,
        fallback: 'host',
      }),
      false,
    );
  });
});

describe('public-key operations on the host', () => {
  let rsa: KeyPair;
  before(async () => {
    rsa = await fx.session.generateKeypair(KeyType.RSA, 2048);
  });

  test('verification on the host agrees with the token on good, bad and wrongly sized signatures', async () => {
    const ec = await fx.session.generateKeypair(KeyType.EC, 'secp384r1');
    const cases: [KeyPair, number, Buffer][] = [
      [rsa, Mechanism.SHA256_RSA_PKCS, data],
      [rsa, Mechanism.SHA384_RSA_PKCS_PSS, data],
      [rsa, Mechanism.RSA_PKCS, data],
      [rsa, Mechanism.RSA_PKCS_PSS, crypto.createHash('sha256').update(data).digest()],
      [ec, Mechanism.ECDSA_SHA384, data],
    ];
    if (fx.mechanisms.has(Mechanism.EDDSA))
      cases.push([await fx.session.generateKeypair(KeyType.EC_EDWARDS, 'Ed25519'), Mechanism.EDDSA, data]);
    for (const [pair, mechanism, message] of cases) {
      const sig = await pair.privateKey.sign(message, { mechanism });
      const bad = Buffer.from(sig);
      bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0x40;
      // Cut short or too long, a signature is a bad one on both (the token's CKR_SIGNATURE_LEN_RANGE).
      const sized = [sig.subarray(0, sig.length - 1), sig.subarray(0, 7), Buffer.concat([sig, sig])];
      for (const signature of [sig, bad, ...sized]) {
        const host = await pair.publicKey.verify(message, signature, { mechanism, fallback: 'host' });
        const token = await pair.publicKey.verify(message, signature, { mechanism });
        assert.equal(host, token, `mechanism 0x${mechanism.toString(16)}`);
      }
      assert.equal(await pair.publicKey.verify(message, sig, { mechanism, fallback: 'host' }), true);
    }
  });

  test('encryption on the host decrypts in the token; raw RSA equals the token’s byte for byte', async (t) => {
    if (lacks(t, fx, Mechanism.RSA_PKCS, Mechanism.RSA_PKCS_OAEP)) return;
    for (const mechanism of [Mechanism.RSA_PKCS, Mechanism.RSA_PKCS_OAEP]) {
      const crypttext = await rsa.publicKey.encrypt(data, { mechanism, fallback: 'host' });
      assert.deepEqual(Buffer.from(await rsa.privateKey.decrypt(crypttext, { mechanism })), data);
    }
    if (fx.mechanisms.has(Mechanism.RSA_X_509)) {
      // A whole block, the data after zero bytes: the same number to RSA, and the only input some
      // tokens (tpm2-pkcs11) take. The host takes the data as it is and pads it itself.
      const raw = { mechanism: Mechanism.RSA_X_509 };
      const block = Buffer.concat([Buffer.alloc(256 - data.length), data]);
      const host = Buffer.from(await rsa.publicKey.encrypt(block, { ...raw, fallback: 'host' }));
      assert.deepEqual(host, Buffer.from(await rsa.publicKey.encrypt(block, raw)));
      assert.deepEqual(Buffer.from(await rsa.publicKey.encrypt(data, { ...raw, fallback: 'host' })), host);
    }
    const streamed = await rsa.publicKey.encrypt(streamOf(data), {
      mechanism: Mechanism.RSA_PKCS,
      fallback: 'host',
    });
    assert.deepEqual(
      Buffer.from(await rsa.privateKey.decrypt(await collect(streamed), { mechanism: Mechanism.RSA_PKCS })),
      data,
    );
  });

  test('encryption on the host takes as much as the padding leaves, and refuses more with a RangeError', async (t) => {
    if (lacks(t, fx, Mechanism.RSA_PKCS, Mechanism.RSA_PKCS_OAEP)) return;
    // 2048-bit key: PKCS#1 v1.5 leaves 256 - 11 bytes; OAEP with SHA-1 (the default) 256 - 42.
    for (const [mechanism, limit] of [
      [Mechanism.RSA_PKCS, 245],
      [Mechanism.RSA_PKCS_OAEP, 214],
    ] as const) {
      const most = crypto.randomBytes(limit);
      const crypttext = await rsa.publicKey.encrypt(most, { mechanism, fallback: 'host' });
      assert.deepEqual(Buffer.from(await rsa.privateKey.decrypt(crypttext, { mechanism })), most);
      await assert.rejects(
        rsa.publicKey.encrypt(crypto.randomBytes(limit + 1), { mechanism, fallback: 'host' }),
        (e: unknown) => e instanceof RangeError && e.message.includes(`at most ${limit} bytes`),
      );
    }
    if (fx.mechanisms.has(Mechanism.RSA_X_509)) {
      const raw = { mechanism: Mechanism.RSA_X_509, fallback: 'host' } as const;
      await assert.rejects(
        rsa.publicKey.encrypt(Buffer.alloc(256, 0xff), raw),
        /below the RSA key’s modulus/,
      );
      await assert.rejects(rsa.publicKey.encrypt(Buffer.alloc(257, 1), raw), /at most 256 bytes/);
    }
  });

  test('wrapping on the host: an extractable key unwraps in the token; a sensitive one cannot be wrapped there', async (t) => {
    if (lacks(t, fx, Mechanism.RSA_PKCS_OAEP)) return;
    if (await cannotImport(t, fx.session, 'AES')) return;
    if (await cannotGenerate(t, fx.session, KeyType.AES, 256)) return;
    const secret = crypto.randomBytes(32);
    const target = await importSecretKey(fx.session, KeyType.AES, secret);
    const wrapped = await rsa.publicKey.wrapKey(target, {
      mechanism: Mechanism.RSA_PKCS_OAEP,
      fallback: 'host',
    });
    const back = await rsa.privateKey.unwrapKey(ObjectClass.SECRET_KEY, KeyType.AES, wrapped, {
      mechanism: Mechanism.RSA_PKCS_OAEP,
      template: READABLE,
    });
    assert.deepEqual(Buffer.from((await back.get(Attribute.VALUE)) as Uint8Array), secret);
    const sensitive = await fx.session.generateKey(KeyType.AES, 256);
    await assert.rejects(
      rsa.publicKey.wrapKey(sensitive, { mechanism: Mechanism.RSA_PKCS_OAEP, fallback: 'host' }),
      NotSupportedError,
    );
  });

  test('the decision: the token’s own flags keep the work on the token; the same list without VERIFY sends it to the host', async () => {
    const table = mechanismTable(fx.session.token);
    const question: RouteQuestion = {
      operation: 'verify',
      mechanism: Mechanism.SHA256_RSA_PKCS,
      publicKey: true,
      allowFallback: true,
    };
    const flags = await table.flagsOf(mechanismsToCheck(question));
    assert.ok(flags);
    assert.equal(
      chooseRoute(question, flags),
      fx.mechanisms.has(Mechanism.SHA256_RSA_PKCS) ? 'token' : 'hash',
    );
    const withoutVerify = new Map([...flags].map(([m, f]) => [m, f & ~MechanismFlag.VERIFY]));
    assert.equal(chooseRoute(question, withoutVerify), 'host');
    assert.equal(chooseRoute({ ...question, allowFallback: false }, withoutVerify), 'token');
  });

  test('the mechanism table is read once per token and shared by every Token object for it', async () => {
    const again = await fx.lib.getToken({ tokenLabel: fx.env.tokenLabel });
    assert.notEqual(again, fx.session.token);
    assert.equal(mechanismTable(again), mechanismTable(fx.session.token));
    const table = mechanismTable(again);
    assert.equal(table.list(), table.list(), 'one C_GetMechanismList for every question');
    assert.deepEqual(await table.list(), fx.mechanisms);
  });

  test('forcing a route that cannot apply, or forcing and forbidding at once, is a TypeError', async () => {
    await assert.rejects(
      rsa.privateKey.sign(data, { mechanism: Mechanism.RSA_PKCS, fallback: 'hash' }),
      TypeError,
    );
    await assert.rejects(
      rsa.privateKey.decrypt(data, { mechanism: Mechanism.RSA_PKCS, fallback: 'host' }),
      TypeError,
    );
    await assert.rejects(
      rsa.publicKey.verify(data, data, { fallback: 'host', allowFallback: false }),
      TypeError,
    );
    await assert.rejects(rsa.publicKey.verify(data, data, { fallback: 'sideways' as never }), TypeError);
  });
});
