// ecdhSecret (src/model/ecdh.ts), the one way WebCrypto's deriveBits and file decryption get an
// ECDH secret out of the token: the secret equals node's with the peer point raw or DER-wrapped,
// on P-256, P-384 and X25519, with either ECDH mechanism; the temporary key it derives is a
// readable session object that is gone afterwards, also when reading it fails; bad arguments are
// refused before any C call.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Attribute, KeyType, Mechanism, ObjectClass } from '../../src/sys/constants.js';
import { type KeyPair, type PrivateKey, ecdhSecret } from '../../src/model/index.js';
import { encodeEcPoint } from '../../src/util/index.js';
import { rejectsWithPkcs11 } from '../support/assertions.js';
import { CallLog } from '../support/call-log.js';
import { testEnv } from '../support/env.js';
import { loadFaulty, prepareFaulty } from '../support/faulty.js';
import { nodeEcdhPeer } from '../support/keys.js';
import { lacks, openFixture } from '../support/token.js';

const log = new CallLog();
const fx = await openFixture({ trace: log.sink });
after(() => fx.close());

/** The handles of the session's secret keys (the temporary key would be one of them). */
const secretKeys = () => fx.session.findHandles({ [Attribute.CLASS]: ObjectClass.SECRET_KEY });

describe('ecdhSecret', () => {
  let pair: KeyPair;
  before(async () => {
    if (fx.mechanisms.has(Mechanism.EC_KEY_PAIR_GEN))
      pair = await fx.session.generateKeypair(KeyType.EC, 'secp256r1');
  });

  test('P-256: node’s secret, with the peer point raw or DER-wrapped; 32 bytes by default', async (t) => {
    if (lacks(t, fx, Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDH1_DERIVE)) return;
    const peer = nodeEcdhPeer('prime256v1');
    const expected = await peer.secretWith(pair.publicKey);
    assert.equal(expected.length, 32);
    assert.deepEqual(Buffer.from(await ecdhSecret(pair.privateKey, peer.point)), expected);
    assert.deepEqual(Buffer.from(await ecdhSecret(pair.privateKey, encodeEcPoint(peer.point))), expected);
    const other = nodeEcdhPeer('prime256v1');
    assert.notDeepEqual(Buffer.from(await ecdhSecret(pair.privateKey, other.point)), expected);
  });

  test('P-384: the default length is the curve’s field size (48 bytes)', async (t) => {
    if (lacks(t, fx, Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDH1_DERIVE)) return;
    const p384 = await fx.session.generateKeypair(KeyType.EC, 'secp384r1');
    const peer = nodeEcdhPeer('secp384r1');
    const secret = await ecdhSecret(p384.privateKey, peer.point);
    assert.equal(secret.length, 48);
    assert.deepEqual(Buffer.from(secret), await peer.secretWith(p384.publicKey));
  });

  test('X25519: node’s secret', async (t) => {
    if (lacks(t, fx, Mechanism.EC_MONTGOMERY_KEY_PAIR_GEN, Mechanism.ECDH1_DERIVE)) return;
    const x25519 = await fx.session.generateKeypair(KeyType.EC_MONTGOMERY, 'X25519');
    const peer = nodeEcdhPeer('x25519');
    const secret = await ecdhSecret(x25519.privateKey, peer.point);
    assert.deepEqual(Buffer.from(secret), await peer.secretWith(x25519.publicKey));
  });

  test('the cofactor mechanism gives the same secret on a prime curve', async (t) => {
    if (lacks(t, fx, Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDH1_COFACTOR_DERIVE)) return;
    const peer = nodeEcdhPeer('prime256v1');
    const mark = log.mark();
    const secret = await ecdhSecret(pair.privateKey, peer.point, {
      mechanism: Mechanism.ECDH1_COFACTOR_DERIVE,
    });
    assert.match(log.since(mark, 'C_DeriveKey')[0]!.args[1]!, /CKM_ECDH1_COFACTOR_DERIVE/);
    assert.deepEqual(Buffer.from(secret), await peer.secretWith(pair.publicKey));
  });

  test('with byteLength given, the key’s curve is not read', async (t) => {
    if (lacks(t, fx, Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDH1_DERIVE)) return;
    const peer = nodeEcdhPeer('prime256v1');
    const reads = async (byteLength?: number) => {
      const mark = log.mark();
      const secret = await ecdhSecret(pair.privateKey, peer.point, { byteLength });
      assert.deepEqual(Buffer.from(secret), await peer.secretWith(pair.publicKey));
      return log.since(mark, 'C_GetAttributeValue').length;
    };
    assert.ok((await reads(32)) < (await reads()));
  });

  test('the temporary key: a readable session key, its value read, then destroyed', async (t) => {
    if (lacks(t, fx, Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDH1_DERIVE)) return;
    const before = await secretKeys();
    const mark = log.mark();
    await ecdhSecret(pair.privateKey, nodeEcdhPeer('prime256v1').point);
    const [derive, ...more] = log.since(mark, 'C_DeriveKey');
    assert.equal(more.length, 0);
    for (const name of ['CKA_TOKEN', 'CKA_SENSITIVE', 'CKA_EXTRACTABLE'])
      assert.match(derive!.args[3]!, new RegExp(`\\b${name}\\b`), `the template sets ${name}`);
    const destroyed = log.since(mark, 'C_DestroyObject');
    assert.equal(destroyed.length, 1);
    const valueReads = log.since(mark, 'C_GetAttributeValue').filter((c) => c.args[2] === '[CKA_VALUE]');
    assert.ok(valueReads.length > 0);
    for (const read of valueReads)
      assert.equal(read.args[1], destroyed[0]!.args[1], 'the value read is the temporary key’s');
    assert.deepEqual(await secretKeys(), before);
  });

  test('bad arguments are refused before any C call', async (t) => {
    if (lacks(t, fx, Mechanism.EC_KEY_PAIR_GEN)) return;
    const key = pair.privateKey;
    const point = nodeEcdhPeer('prime256v1').point;
    const mark = log.mark();
    await assert.rejects(ecdhSecret({} as PrivateKey, point), /key must be a token PrivateKey/);
    await assert.rejects(ecdhSecret(key, 'point' as never), TypeError);
    await assert.rejects(ecdhSecret(key, new Uint8Array(0)), RangeError);
    await assert.rejects(ecdhSecret(key, point, null as never), /options must be an object/);
    await assert.rejects(ecdhSecret(key, point, { mechanism: Mechanism.ECDSA }), /options\.mechanism/);
    await assert.rejects(ecdhSecret(key, point, { byteLength: 0 }), /options\.byteLength/);
    await assert.rejects(ecdhSecret(key, point, { byteLength: 1.5 }), /options\.byteLength/);
    assert.deepEqual(log.names(mark), []);
  });
});

const faulty = prepareFaulty();

describe('ecdhSecret when reading the secret fails', { skip: typeof faulty === 'string' && faulty }, () => {
  test('the temporary key is destroyed and the token’s error comes through', async (t) => {
    if (typeof faulty === 'string') return;
    const env = testEnv();
    const f = await loadFaulty(faulty, env);
    const session = await f.token.open({ userPin: env.pin, rw: true });
    try {
      if (
        lacks(
          t,
          { mechanisms: new Set(await f.token.slot.getMechanisms()) },
          Mechanism.EC_KEY_PAIR_GEN,
          Mechanism.ECDH1_DERIVE,
        )
      )
        return;
      const { privateKey } = await session.generateKeypair(KeyType.EC, 'secp256r1');
      const point = nodeEcdhPeer('prime256v1').point;
      // Which C_GetAttributeValue reads the value: the last one before the key is destroyed.
      let mark = f.log.mark();
      await ecdhSecret(privateKey, point, { byteLength: 32 });
      const calls = f.log.since(mark);
      const destroyAt = calls.findIndex((c) => c.fn === 'C_DestroyObject');
      const readAt = calls.slice(0, destroyAt).filter((c) => c.fn === 'C_GetAttributeValue').length;
      assert.ok(readAt > 0, 'the value is read before the key is destroyed');
      f.control.set(`fail C_GetAttributeValue 0x30 at=${readAt}`);
      mark = f.log.mark();
      await rejectsWithPkcs11(
        ecdhSecret(privateKey, point, { byteLength: 32 }),
        'C_GetAttributeValue',
        'CKR_DEVICE_ERROR',
      );
      const destroyed = f.log.since(mark, 'C_DestroyObject');
      assert.equal(destroyed.length, 1);
      assert.equal(destroyed[0]!.rv, 'CKR_OK');
    } finally {
      f.control.clear();
      await session.close();
      await f.lib.finalize();
    }
  });
});
