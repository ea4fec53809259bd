// Where C calls run (model/execution.ts: inline or on a thread; sys/lanes.ts: chains on threads of
// ours) must never change what they return. These tests drive the paths the benchmarks made fast
// (one-call attribute reads, chains queued on a session, streams with several updates in flight)
// with data that forces their fallbacks (values larger than the first call's room, outputs larger
// than the buffer offered), and check every result against node:crypto or the bytes put in. (A
// refused attribute among readable ones, the other fallback of a one-call read, is in
// objects.test.ts.)
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import {
  Attribute,
  KeyType,
  Mechanism,
  ObjectClass,
  type PrivateKey,
  type PublicKey,
} from '../../src/index.js';
import { DEFAULT_ROOM } from '../../src/core/attribute-read.js';
import { importSecretKey } from '../support/keys.js';
import { dataTemplate } from '../support/objects.js';
import { chunked, collect } from '../support/streams.js';
import { missing, openFixture } from '../support/token.js';

const { lib, session, mechanisms, close } = await openFixture();
after(close);

/** Runs `body` with PKCS11_TS_LANES set to `value` ('1': lanes on; read at each operation), restoring it after. */
async function withLanes<T>(value: string | undefined, body: () => Promise<T>): Promise<T> {
  const before = process.env.PKCS11_TS_LANES;
  if (value === undefined) delete process.env.PKCS11_TS_LANES;
  else process.env.PKCS11_TS_LANES = value;
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env.PKCS11_TS_LANES;
    else process.env.PKCS11_TS_LANES = before;
  }
}

/**
 * Waits until the module's lanes are ready (asking starts one; PKCS11_TS_LANES must be 1), so the
 * operations below take the lane paths rather than the one-call-at-a-time path a program uses
 * while its first lane starts.
 */
async function lanesStarted(): Promise<void> {
  for (let waited = 0; !lib.context.chains; waited += 20) {
    assert.ok(waited < 10_000, 'a lane started within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('attribute reads', () => {
  test('a value larger than the first call offers is read whole, the first time and the next', async () => {
    const value = randomBytes(DEFAULT_ROOM * 4 + 3);
    const object = await session.createObject(
      dataTemplate('execution: big value', value, { [Attribute.PRIVATE]: false }),
    );
    for (let i = 0; i < 3; i++) {
      const got = await object.getAttributes([Attribute.LABEL, Attribute.VALUE, Attribute.CLASS]);
      assert.deepEqual(Buffer.from(got[Attribute.VALUE] as Uint8Array), value);
      assert.equal(got[Attribute.LABEL], 'execution: big value');
      assert.equal(got[Attribute.CLASS], ObjectClass.DATA);
    }
    await object.destroy();
  });
});

describe(
  'chains in a session lane',
  { skip: missing(mechanisms, Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDSA) },
  () => {
    test('signs queued on one session, with reads and a digest among them, each verify and stay in place', () =>
      withLanes('1', async () => {
        await lanesStarted();
        const { publicKey, privateKey } = await session.generateKeypair(KeyType.EC, 'secp256r1', {
          label: 'execution: lane',
        });
        const digests = Array.from({ length: 120 }, (_, i) =>
          createHash('sha256').update(`message ${i}`).digest(),
        );
        const work = digests.map((d, i) =>
          i % 10 === 5
            ? privateKey.get(Attribute.LABEL).then((label) => ({ label }))
            : (privateKey as PrivateKey)
                .sign(d, { mechanism: Mechanism.ECDSA })
                .then((signature) => ({ signature })),
        );
        const extra = session.digest(Buffer.from('abc'), { mechanism: Mechanism.SHA256 });
        const results = await Promise.all(work);
        assert.equal(
          Buffer.from(await extra).toString('hex'),
          createHash('sha256').update('abc').digest('hex'),
        );
        for (const [i, r] of results.entries()) {
          if ('label' in r) assert.equal(r.label, 'execution: lane');
          else
            assert.ok(
              await (publicKey as PublicKey).verify(digests[i] as Buffer, r.signature, {
                mechanism: Mechanism.ECDSA,
              }),
              `signature ${i}`,
            );
          // A signature checked against another message must fail: each one is in its own place.
          if ('signature' in r) {
            const other = digests[(i + 1) % digests.length] as Buffer;
            assert.equal(
              await (publicKey as PublicKey).verify(other, r.signature, { mechanism: Mechanism.ECDSA }),
              false,
            );
          }
        }
        await publicKey.destroy();
        await privateKey.destroy();
      }));
  },
);

describe(
  'streams with several updates in flight',
  { skip: missing(mechanisms, Mechanism.AES_KEY_GEN, Mechanism.AES_CBC_PAD) },
  () => {
    const iv = randomBytes(16);
    const plaintext = randomBytes(16 * 1024 + 5);

    for (const lanes of ['1', undefined]) {
      test(`odd-sized chunks encrypt and decrypt like node:crypto (lanes ${lanes === '1' ? 'on' : 'off'})`, async () => {
        const raw = randomBytes(32);
        const key = await importSecretKey(session, KeyType.AES, raw);
        const cipher = createCipheriv('aes-256-cbc', raw, iv);
        const reference = Buffer.concat([cipher.update(plaintext), cipher.final()]);
        await withLanes(lanes, async () => {
          if (lanes === '1') await lanesStarted();
          const options = { mechanism: Mechanism.AES_CBC_PAD, mechanismParam: iv };
          const ciphertext = await collect(key.encrypt(chunked(plaintext, 1000), options));
          assert.deepEqual(ciphertext, reference);
          // 17-byte chunks make a CBC-PAD decryption give out more than a chunk now and then, more
          // than the buffer first offered: the lane grows it.
          const decrypted = await collect(key.decrypt(chunked(ciphertext, 17), options));
          assert.deepEqual(decrypted, plaintext);
        });
        await key.destroy();
      });
    }
  },
);
