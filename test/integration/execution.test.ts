// Where C calls run (model/execution.ts: inline on the main thread or on a worker thread) must
// never change what they return, nor keep the event loop. These tests drive the paths the
// benchmarks made fast (one-call attribute reads, signs queued on a session or spread over two
// sessions at once, streams) with data that forces their fallbacks (values larger than the first
// call's room, outputs larger than the buffer offered), and check every result against
// node:crypto or the bytes put in. (A refused attribute among readable ones, the other fallback of
// a one-call read, is in objects.test.ts.)
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import {
  Attribute,
  KeyType,
  Mechanism,
  ObjectClass,
  Pkcs11Error,
  type PrivateKey,
  type PublicKey,
} from '../../src/index.js';
import { DEFAULT_ROOM, MAX_ROOM } from '../../src/core/attribute-read.js';
import { cannotImport } from '../support/key-capabilities.js';
import { importSecretKey } from '../support/keys.js';
import { dataTemplate, findAll } from '../support/objects.js';
import { chunked, collect } from '../support/streams.js';
import { turnCounter } from '../support/turns.js';
import { missing, openFixture } from '../support/token.js';

const { session, mechanisms, close } = await openFixture();
after(close);

describe('attribute reads', () => {
  test('get() made at once on this thread still reads a large value whole, and a missing one as undefined', async () => {
    const value = randomBytes(DEFAULT_ROOM * 3 + 1);
    const object = await session.createObject(dataTemplate('execution: get at once', value));
    // Reads enough for the module to be measured cheap at them: later ones take the inline path.
    for (let i = 0; i < 50; i++) assert.equal(await object.get(Attribute.LABEL), 'execution: get at once');
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(Buffer.from((await object.get(Attribute.VALUE)) as Uint8Array), value);
      assert.equal(await object.get(Attribute.MODULUS), undefined, 'a data object has no modulus');
      assert.equal(await object.get(Attribute.CLASS), ObjectClass.DATA);
    }
    await object.destroy();
  });

  test('a value larger than the first call offers is read whole, the first time and the next', async () => {
    const value = randomBytes(DEFAULT_ROOM * 4 + 3);
    const object = await session.createObject(dataTemplate('execution: big value', value));
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
  'many signs queued on one session and spread over two',
  { skip: missing(mechanisms, Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDSA) },
  () => {
    test('signs queued on one session, with reads and a digest among them, each verify and stay in place', async () => {
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
    });

    test('two sessions signing at once give signatures that each verify', async () => {
      const { publicKey, privateKey } = await session.generateKeypair(KeyType.EC, 'secp256r1', {
        label: 'execution: two sessions',
        store: false,
      });
      await using second = await session.token.open();
      // The same key, reached from the second session: session objects are visible to every
      // session of the application.
      const again = (await second.getKey({
        label: 'execution: two sessions',
        objectClass: ObjectClass.PRIVATE_KEY,
      })) as PrivateKey;
      const digests = Array.from({ length: 400 }, (_, i) => createHash('sha256').update(`two ${i}`).digest());
      const loop = (key: PrivateKey, parity: number) =>
        Promise.all(
          digests
            .filter((_, i) => i % 2 === parity)
            .map(async (d) => ({ d, signature: await key.sign(d, { mechanism: Mechanism.ECDSA }) })),
        );
      const signed = (await Promise.all([loop(privateKey as PrivateKey, 0), loop(again, 1)])).flat();
      assert.equal(signed.length, digests.length);
      for (const { d, signature } of signed)
        assert.ok(await (publicKey as PublicKey).verify(d, signature, { mechanism: Mechanism.ECDSA }));
      await publicKey.destroy();
      await privateKey.destroy();
    });
  },
);

describe('objects made and found at once', () => {
  test('creations made at once keep their place behind queued work, and a search reads long labels whole', async (t) => {
    const application = `execution: at once ${randomBytes(4).toString('hex')}`;
    // Every seventh label is longer than a first call ever offers (it learns sizes up to
    // MAX_ROOM): the search's at-once read must finish those the standard way.
    const labelOf = (i: number): string => (i % 7 === 0 ? `long ${i} ${'x'.repeat(MAX_ROOM)}` : `short ${i}`);
    const turns = turnCounter();
    let sameTurn = 0;
    for (let i = 0; i < 300; i++) {
      const before = turns.turn();
      await session.createObject(
        dataTemplate(labelOf(i), Buffer.from([i & 0xff]), { [Attribute.APPLICATION]: application }),
      );
      if (turns.turn() === before) sameTurn++;
    }
    turns.stop();
    // A search started first holds the session: a creation asked for meanwhile waits behind it,
    // so the search does not see it, and the next one does.
    const earlier = findAll(session, { [Attribute.APPLICATION]: application });
    const late = await session.createObject(
      dataTemplate('late', Buffer.from('z'), { [Attribute.APPLICATION]: application }),
    );
    assert.equal((await earlier).length, 300, 'the search started before the creation');
    const found = await findAll(session, {
      [Attribute.CLASS]: ObjectClass.DATA,
      [Attribute.APPLICATION]: application,
    });
    assert.deepEqual(
      found.map((o) => o.label).sort(),
      [...Array.from({ length: 300 }, (_, i) => labelOf(i)), 'late'].sort(),
    );
    assert.ok(found.some((o) => o.handle === late.handle));
    for (const object of found) await object.destroy();
    if (sameTurn === 0)
      t.skip('no creation ran inline: this machine answered too slowly on threads for them to qualify');
  });

  test('a creation refused at once (no CKA_CLASS) throws a Pkcs11Error naming C_CreateObject, and the session goes on', async () => {
    for (let i = 0; i < 30; i++)
      await (await session.createObject(dataTemplate('execution: warm', Buffer.from('w')))).destroy();
    await assert.rejects(
      session.createObject({ [Attribute.TOKEN]: false, [Attribute.LABEL]: 'execution: refused' }),
      (e: unknown) => e instanceof Pkcs11Error && e.fn === 'C_CreateObject',
    );
    assert.equal((await findAll(session, { [Attribute.LABEL]: 'execution: refused' })).length, 0);
    const after = await session.createObject(dataTemplate('execution: after refusal', Buffer.from('a')));
    assert.equal(await after.get(Attribute.LABEL), 'execution: after refusal');
    await after.destroy();
  });
});

describe('the event loop between inline calls', () => {
  test('a loop of awaited reads run inline still lets a timer fire', async (t) => {
    const object = await session.createObject(dataTemplate('execution: turns', Buffer.from('x')));
    const turns = turnCounter();
    // Reads until the module has been measured cheap at them and one runs inline (a busy machine
    // can make a thread's answers slow for a while).
    let warmed = false;
    for (let i = 0; i < 5000 && !warmed; i++) {
      const before = turns.turn();
      await object.get(Attribute.LABEL);
      warmed = turns.turn() === before;
    }
    let fired = false;
    const timer = setTimeout(() => (fired = true), 1);
    let reads = 0;
    let inlineReads = 0;
    const started = performance.now();
    // Awaited inline reads resolve as microtasks, which would never let the timer in; the turn
    // budget of execution.ts makes a call wait for the next turn every few milliseconds.
    while (!fired && performance.now() - started < 2000) {
      const before = turns.turn();
      await object.get(Attribute.LABEL);
      if (turns.turn() === before) inlineReads++;
      reads++;
    }
    turns.stop();
    clearTimeout(timer);
    await object.destroy();
    if (!warmed || inlineReads === 0) {
      t.skip('no read ran inline: this machine answered too slowly on threads for them to qualify');
      return;
    }
    const ms = (performance.now() - started).toFixed(1);
    assert.ok(fired, `the timer fired during the loop (${reads} reads, ${inlineReads} inline, in ${ms} ms)`);
  });
});

describe(
  'streams whose output sizes vary',
  { skip: missing(mechanisms, Mechanism.AES_KEY_GEN, Mechanism.AES_CBC_PAD) },
  () => {
    const iv = randomBytes(16);
    const plaintext = randomBytes(16 * 1024 + 5);

    test('odd-sized chunks encrypt and decrypt like node:crypto', async (t) => {
      if (await cannotImport(t, session, 'AES')) return;
      const raw = randomBytes(32);
      const key = await importSecretKey(session, KeyType.AES, raw);
      const cipher = createCipheriv('aes-256-cbc', raw, iv);
      const reference = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const options = { mechanism: Mechanism.AES_CBC_PAD, mechanismParam: iv };
      const ciphertext = await collect(key.encrypt(chunked(plaintext, 1000), options));
      assert.deepEqual(ciphertext, reference);
      // 17-byte chunks reach the module re-cut into whole blocks (whole-blocks.ts), so each update
      // gives out nothing, one block or two, and the decryption holds back its last block.
      const decrypted = await collect(key.decrypt(chunked(ciphertext, 17), options));
      assert.deepEqual(decrypted, plaintext);
      await key.destroy();
    });
  },
);
