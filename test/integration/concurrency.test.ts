// Concurrency on a real token: many awaits on one session never meet CKR_OPERATION_ACTIVE (the
// per-session queue), several sessions sign, generate keys and draw random bytes in parallel
// without corrupting the module (the CKF_OS_LOCKING_OK initialisation), and every signature is
// checked by node:crypto, so an output handed to the wrong caller would show.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, verify as nodeVerify, type KeyObject } from 'node:crypto';
import {
  Attribute,
  KeyType,
  Mechanism,
  ObjectClass,
  Pkcs11Error,
  type PrivateKey,
  type PublicKey,
  type Session,
} from '../../src/index.js';
import { generationRefused } from '../support/key-capabilities.js';
import { nodePublicKey } from '../support/keys.js';
import { missing, openFixture } from '../support/token.js';

const { session: main, token, mechanisms, close } = await openFixture();
after(close);
const skip = missing(mechanisms, Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDSA);

const label = `concurrency-${process.pid}`;
let publicKey: PublicKey | undefined;
let privateKey: PrivateKey | undefined;
let verifier: KeyObject | undefined;
if (!skip) {
  ({ publicKey, privateKey } = await main.generateKeypair(KeyType.EC, 'secp256r1', { label }));
  verifier = await nodePublicKey(publicKey);
}

/** The message signed as number `i` by signer `who`: distinct, so a swapped output fails to verify. */
function message(who: number, i: number): Buffer {
  return createHash('sha256').update(`${who}/${i}`).digest();
}

/** Whether `signature` is signer `who`'s CKM_ECDSA signature of message `i` (raw r || s). */
function check(who: number, i: number, signature: Uint8Array): boolean {
  return nodeVerify(
    'sha256',
    Buffer.from(`${who}/${i}`),
    { key: verifier as KeyObject, dsaEncoding: 'ieee-p1363' },
    signature,
  );
}

/** Counts the errors by code, so a failure says what went wrong and how often. */
function tally(results: PromiseSettledResult<unknown>[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) {
    if (r.status === 'fulfilled') continue;
    const code = r.reason instanceof Pkcs11Error ? r.reason.code : String(r.reason);
    counts[code] = (counts[code] ?? 0) + 1;
  }
  return counts;
}

describe('one session, many concurrent awaits', { skip }, () => {
  test('200 concurrent signs: no CKR_OPERATION_ACTIVE, every signature valid and in its place', async () => {
    const key = privateKey as PrivateKey;
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => key.sign(message(0, i), { mechanism: Mechanism.ECDSA })),
    );
    assert.deepEqual(tally(results), {});
    results.forEach((r, i) =>
      assert.ok(check(0, i, (r as PromiseFulfilledResult<Uint8Array>).value), `signature ${i}`),
    );
  });

  test('different operations interleaved on one session', async () => {
    const key = privateKey as PrivateKey;
    const pub = publicKey as PublicKey;
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      work.push(key.sign(message(1, i), { mechanism: Mechanism.ECDSA }));
      work.push(main.digest(`data ${i}`));
      work.push(main.generateRandom(16));
      work.push(pub.getAttributes([Attribute.EC_POINT, Attribute.LABEL]));
      work.push(main.findHandles({ [Attribute.LABEL]: label, [Attribute.CLASS]: ObjectClass.PRIVATE_KEY }));
      work.push(main.getInfo());
    }
    const results = await Promise.allSettled(work);
    assert.deepEqual(tally(results), {});
    const found = (results[4] as PromiseFulfilledResult<bigint[]>).value;
    assert.deepEqual(found, [key.handle]);
    assert.ok(check(1, 0, (results[0] as PromiseFulfilledResult<Uint8Array>).value));
  });

  test('a streamed operation holds the session from Init to Final', async () => {
    const key = privateKey as PrivateKey;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 5; i++) {
        yield Buffer.from(`part ${i};`);
        await new Promise((resolve) => setTimeout(resolve, 2)); // room for other callers to cut in
      }
    }
    const digests = Array.from({ length: 5 }, () => main.digest(chunks()));
    const signs = Array.from({ length: 20 }, (_, i) =>
      key.sign(message(2, i), { mechanism: Mechanism.ECDSA }),
    );
    const results = await Promise.allSettled([...digests, ...signs]);
    assert.deepEqual(tally(results), {});
    const expected = createHash('sha256')
      .update(Array.from({ length: 5 }, (_, i) => `part ${i};`).join(''))
      .digest();
    for (const d of results.slice(0, 5))
      assert.deepEqual((d as PromiseFulfilledResult<Uint8Array>).value, expected);
  });
});

describe('several sessions in parallel', { skip }, () => {
  test('four sessions, 10,000 signs in total: no crash, no CKR_GENERAL_ERROR, valid signatures', async () => {
    const perSession = 2500;
    const sessions: Session[] = await Promise.all([0, 1, 2, 3].map(() => token.open()));
    try {
      // Each session signs with the key as found through itself (session objects are shared).
      const keys = await Promise.all(
        sessions.map((s) => s.getKey({ label, objectClass: ObjectClass.PRIVATE_KEY }) as Promise<PrivateKey>),
      );
      const runs = keys.map((key, who) =>
        Promise.allSettled(
          Array.from({ length: perSession }, (_, i) =>
            key.sign(message(10 + who, i), { mechanism: Mechanism.ECDSA }),
          ),
        ),
      );
      const all = await Promise.all(runs);
      assert.deepEqual(tally(all.flat()), {});
      assert.equal(all.flat().length, 10_000);
      // Every signature has the size of one; every 25th is verified (node's verify costs more than the sign).
      let checked = 0;
      all.forEach((results, who) =>
        results.forEach((r, i) => {
          const signature = (r as PromiseFulfilledResult<Uint8Array>).value;
          assert.equal(signature.length, 64);
          if (i % 25 !== who) return;
          assert.ok(check(10 + who, i, signature), `session ${who}, signature ${i}`);
          checked++;
        }),
      );
      assert.equal(checked, 400);
    } finally {
      await Promise.all(sessions.map((s) => s.close()));
    }
  });

  test('sessions opened, used and closed concurrently, each signing, making keys and drawing random bytes at once', async () => {
    const makesAes =
      mechanisms.has(Mechanism.AES_KEY_GEN) && !(await generationRefused(main, KeyType.AES, 256));
    const rounds = await Promise.allSettled(
      Array.from({ length: 16 }, async (_, i) => {
        // Read-write: some tokens (tpm2-pkcs11) make no key, not even a session one, in a read-only session.
        await using s = await token.open({ rw: true });
        // Each session signs with the key through its own handle of it, and makes keys of its own.
        const key = (await s.getKey({ label, objectClass: ObjectClass.PRIVATE_KEY })) as PrivateKey;
        await Promise.all(
          Array.from({ length: 10 }, async (_, j) => {
            const n = i * 10 + j;
            const signature = await key.sign(message(30, n), { mechanism: Mechanism.ECDSA });
            assert.ok(check(30, n, signature), `session ${i}, signature ${j}`);
            if (makesAes && j % 5 === 0) await s.generateKey(KeyType.AES, 256);
            assert.equal((await s.generateRandom(32)).length, 32);
          }),
        );
      }),
    );
    assert.deepEqual(tally(rounds), {});
  });
});
