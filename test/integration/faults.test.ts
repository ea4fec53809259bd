// Every public operation over the fault-injecting module (test/fixtures/faulty): when one of the C
// functions it calls fails, the caller gets a Pkcs11Error naming that function and its CKR code,
// whatever the operation opened is closed again (sessions after a failed login, searches after a
// failed C_FindObjects, objects it made and could not hand over), and the very next call works.
// Outputs are sized by the module however it changes its mind (an output that grows between the
// size query and the call, CKR_BUFFER_TOO_SMALL again and again), and a slow module never holds
// up the event loop. Pulling the token out is in faults-removal.test.ts.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createECDH, createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Attribute,
  KDF,
  KeyType,
  Library,
  Mechanism,
  ObjectClass,
  Pkcs11Error,
  ReturnValue,
  tokenQuirks,
  type KeyPair,
  type PkcsObject,
  type PrivateKey,
  type PublicKey,
  type SecretKey,
  type Session,
} from '../../src/index.js';
import { rejectsWithPkcs11 } from '../support/assertions.js';
import { type TracedCall } from '../support/call-log.js';
import { type FaultyModule, type FaultyToken, loadFaulty, prepareFaulty } from '../support/faulty.js';
import { testEnv } from '../support/env.js';
import { dataTemplate, objectRefused } from '../support/objects.js';
import { collect } from '../support/streams.js';
import { turnCounter } from '../support/turns.js';
import { missing, sessionIsOpen } from '../support/token.js';

const env = testEnv();
const faulty = prepareFaulty();

/** A tag unique to this run, so searches see only what this file made. */
const run = randomBytes(6).toString('hex');
const IV = Buffer.alloc(16, 7);
const MESSAGE = Buffer.from('fault injection: the library must stay usable');
const DIGEST = createHash('sha256').update(MESSAGE).digest();
/** Three chunks of {@link MESSAGE}, fresh for each use (a stream is consumed once). */
const chunks = (data: Uint8Array = MESSAGE): Uint8Array[] => [
  data.subarray(0, 16),
  data.subarray(16, 32),
  data.subarray(32),
];

/** What the operations below work with: a logged-in session and a few keys, all session objects. */
interface Fixture extends FaultyToken {
  readonly session: Session;
  readonly mechanisms: ReadonlySet<number>;
  readonly ec: KeyPair;
  readonly rsa: KeyPair;
  /** AES-256 for encryption, wrapping and derivation. */
  readonly aes: SecretKey;
  /** AES-128, readable and extractable: to wrap and to digest. */
  readonly plain: SecretKey;
  readonly ecSignature: Uint8Array;
  readonly rsaSignature: Uint8Array;
  readonly aesCiphertext: Uint8Array;
  readonly rsaCiphertext: Uint8Array;
  readonly wrapped: Uint8Array;
  readonly peerPoint: Uint8Array;
}

async function setUp(f: FaultyToken): Promise<Fixture> {
  const mechanisms = new Set(await f.token.slot.getMechanisms());
  const session = await f.token.open({ userPin: env.pin, rw: true });
  const ec = await session.generateKeypair(KeyType.EC, 'secp256r1', { label: `ec-${run}` });
  const rsa = await session.generateKeypair(KeyType.RSA, 2048, { label: `rsa-${run}` });
  const aes = (await session.generateKey(KeyType.AES, 256, { label: `aes-${run}` })) as SecretKey;
  const plain = (await session.generateKey(KeyType.AES, 128, {
    label: `plain-${run}`,
    template: { [Attribute.SENSITIVE]: false, [Attribute.EXTRACTABLE]: true },
  })) as SecretKey;
  const peer = createECDH('prime256v1');
  peer.generateKeys();
  return {
    ...f,
    session,
    mechanisms,
    ec,
    rsa,
    aes,
    plain,
    ecSignature: await ec.privateKey.sign(DIGEST, { mechanism: Mechanism.ECDSA }),
    rsaSignature: await rsa.privateKey.sign(MESSAGE, { mechanism: Mechanism.SHA256_RSA_PKCS }),
    aesCiphertext: await aes.encrypt(MESSAGE, { mechanism: Mechanism.AES_CBC_PAD, mechanismParam: IV }),
    rsaCiphertext: await rsa.publicKey.encrypt(MESSAGE, { mechanism: Mechanism.RSA_PKCS_OAEP }),
    wrapped: await aes.wrapKey(plain, { mechanism: Mechanism.AES_KEY_WRAP }),
    peerPoint: peer.getPublicKey(),
  };
}

/** The fixture, or why there is none (no fault module, or a token that cannot make the test keys). */
async function prepare(): Promise<Fixture | string> {
  if (typeof faulty === 'string') return faulty;
  const f = await loadFaulty(faulty, env);
  try {
    return await setUp(f);
  } catch (error) {
    await f.lib.finalize();
    return `the test keys cannot be made on this token: ${(error as Error).message}`;
  }
}

const prepared = await prepare();
const fixture = typeof prepared === 'string' ? undefined : prepared;
after(async () => {
  if (!fixture) return;
  fixture.control.clear();
  await fixture.session.close();
  await fixture.lib.finalize();
});

/** Skip reason for a test needing the fault module and `needs` mechanisms. */
function unavailable(needs: readonly number[] = []): string | false {
  return fixture ? missing(fixture.mechanisms, ...needs) : (prepared as string);
}

/** A fresh session data object of this run. */
function dataObject(x: Fixture): Promise<PkcsObject> {
  return x.session.createObject(dataTemplate(`data-${run}`, Uint8Array.of(1, 2, 3)));
}

/**
 * A data object made without a label, so that it is read back once made (an object whose template
 * gives its whole summary, class and label for data, is not: object-factory.ts `adoptCreated`).
 */
function unlabelledDataObject(x: Fixture): Promise<PkcsObject> {
  return x.session.createObject({
    [Attribute.CLASS]: ObjectClass.DATA,
    [Attribute.TOKEN]: false,
    [Attribute.APPLICATION]: `data-${run}`,
    [Attribute.VALUE]: Uint8Array.of(1, 2, 3),
  });
}

/** One public operation: the C functions whose failure it must report, and how to tell it worked. */
interface Operation {
  readonly name: string;
  readonly fails: readonly string[];
  readonly needs?: readonly number[];
  readonly run: (x: Fixture) => Promise<unknown>;
  /** Checks the result of a run without faults. */
  readonly check?: (result: unknown, x: Fixture) => void;
}

const isTrue = (result: unknown): void => assert.equal(result, true);
const isMessage = (result: unknown): void => assert.deepEqual(Buffer.from(result as Uint8Array), MESSAGE);
const isDigest = (result: unknown): void => assert.deepEqual(Buffer.from(result as Uint8Array), DIGEST);

const OPERATIONS: readonly Operation[] = [
  {
    name: 'open a session and log in',
    fails: ['C_OpenSession', 'C_Login', 'C_CloseSession'],
    run: async (x) => (await x.token.open({ userPin: env.pin })).close(),
  },
  { name: 'session info', fails: ['C_GetSessionInfo'], run: (x) => x.session.getInfo() },
  { name: 'library info', fails: ['C_GetInfo'], run: (x) => x.lib.getInfo() },
  {
    name: 'find the token',
    fails: ['C_GetSlotList', 'C_GetTokenInfo'],
    run: (x) => x.lib.getToken({ tokenLabel: env.tokenLabel }),
  },
  { name: 'slot info', fails: ['C_GetSlotInfo'], run: (x) => x.token.slot.getInfo() },
  { name: 'mechanism list', fails: ['C_GetMechanismList'], run: (x) => x.token.slot.getMechanisms() },
  {
    name: 'mechanism info',
    fails: ['C_GetMechanismInfo'],
    needs: [Mechanism.ECDSA],
    run: (x) => x.token.slot.getMechanismInfo(Mechanism.ECDSA),
  },
  {
    name: 'wait for a slot event',
    fails: ['C_WaitForSlotEvent'],
    run: (x) =>
      x.lib
        .waitForSlotEvent({ signal: AbortSignal.timeout(100), pollInterval: 10 })
        .catch((error: unknown) => {
          if (error instanceof Error && error.name === 'TimeoutError') return 'no event';
          throw error;
        }),
  },
  {
    name: 'getObjects',
    fails: ['C_FindObjectsInit', 'C_FindObjects', 'C_FindObjectsFinal', 'C_GetAttributeValue'],
    run: async (x) => {
      const labels: string[] = [];
      for await (const o of x.session.getObjects({ [Attribute.CLASS]: ObjectClass.PUBLIC_KEY }))
        labels.push(o.label);
      return labels;
    },
    check: (labels) => assert.ok((labels as string[]).includes(`ec-${run}`)),
  },
  {
    name: 'getKey',
    fails: ['C_FindObjectsInit', 'C_FindObjects', 'C_FindObjectsFinal', 'C_GetAttributeValue'],
    run: (x) => x.session.getKey({ label: `ec-${run}`, objectClass: ObjectClass.PRIVATE_KEY }),
    check: (key, x) => assert.equal((key as PkcsObject).handle, x.ec.privateKey.handle),
  },
  {
    name: 'getAttributes',
    fails: ['C_GetAttributeValue'],
    run: (x) => x.ec.publicKey.getAttributes([Attribute.LABEL, Attribute.EC_POINT, Attribute.VALUE]),
    check: (values) => assert.equal((values as Record<number, unknown>)[Attribute.LABEL], `ec-${run}`),
  },
  {
    name: 'createObject',
    fails: ['C_CreateObject', 'C_GetAttributeValue'],
    run: (x) => unlabelledDataObject(x),
  },
  {
    name: 'set attributes',
    fails: ['C_SetAttributeValue'],
    run: async (x) => (await dataObject(x)).set({ [Attribute.LABEL]: `renamed-${run}` }),
  },
  {
    name: 'copy an object',
    fails: ['C_CopyObject', 'C_GetAttributeValue'],
    run: async (x) => (await dataObject(x)).copy(),
  },
  {
    name: 'destroy an object',
    fails: ['C_DestroyObject'],
    run: async (x) => (await dataObject(x)).destroy(),
  },
  {
    name: 'generateKey',
    fails: ['C_GenerateKey', 'C_GetAttributeValue'],
    needs: [Mechanism.AES_KEY_GEN],
    run: (x) => x.session.generateKey(KeyType.AES, 128),
  },
  {
    name: 'generateKeypair',
    fails: ['C_GenerateKeyPair', 'C_GetAttributeValue'],
    needs: [Mechanism.EC_KEY_PAIR_GEN],
    run: (x) => x.session.generateKeypair(KeyType.EC, 'secp256r1'),
  },
  {
    name: 'generateDomainParameters',
    fails: ['C_GenerateKey', 'C_GetAttributeValue'],
    needs: [Mechanism.DSA_PARAMETER_GEN],
    run: (x) => x.session.generateDomainParameters(KeyType.DSA, 1024),
  },
  {
    name: 'sign (ECDSA, one-shot)',
    fails: ['C_SignInit', 'C_Sign'],
    needs: [Mechanism.ECDSA],
    run: (x) => x.ec.privateKey.sign(DIGEST, { mechanism: Mechanism.ECDSA }),
    check: (sig) => assert.equal((sig as Uint8Array).byteLength, 64),
  },
  {
    name: 'sign (RSA, streamed)',
    fails: ['C_SignInit', 'C_SignUpdate', 'C_SignFinal'],
    needs: [Mechanism.SHA256_RSA_PKCS],
    run: (x) => x.rsa.privateKey.sign(chunks(), { mechanism: Mechanism.SHA256_RSA_PKCS }),
    check: (sig, x) => assert.deepEqual(sig, x.rsaSignature),
  },
  {
    name: 'verify (ECDSA, one-shot)',
    fails: ['C_VerifyInit', 'C_Verify'],
    needs: [Mechanism.ECDSA],
    run: (x) => x.ec.publicKey.verify(DIGEST, x.ecSignature, { mechanism: Mechanism.ECDSA }),
    check: isTrue,
  },
  {
    name: 'verify (RSA, streamed)',
    fails: ['C_VerifyInit', 'C_VerifyUpdate', 'C_VerifyFinal'],
    needs: [Mechanism.SHA256_RSA_PKCS],
    run: (x) => x.rsa.publicKey.verify(chunks(), x.rsaSignature, { mechanism: Mechanism.SHA256_RSA_PKCS }),
    check: isTrue,
  },
  {
    name: 'encrypt (AES-CBC-PAD, one-shot)',
    fails: ['C_EncryptInit', 'C_Encrypt'],
    needs: [Mechanism.AES_CBC_PAD],
    run: (x) => x.aes.encrypt(MESSAGE, { mechanism: Mechanism.AES_CBC_PAD, mechanismParam: IV }),
    check: (ct, x) => assert.deepEqual(ct, x.aesCiphertext),
  },
  {
    name: 'encrypt (AES-CBC-PAD, streamed)',
    fails: ['C_EncryptInit', 'C_EncryptUpdate', 'C_EncryptFinal'],
    needs: [Mechanism.AES_CBC_PAD],
    run: (x) => collect(x.aes.encrypt(chunks(), { mechanism: Mechanism.AES_CBC_PAD, mechanismParam: IV })),
    check: (ct, x) => assert.deepEqual(ct, Buffer.from(x.aesCiphertext)),
  },
  {
    name: 'encrypt (RSA-OAEP, one-shot)',
    fails: ['C_EncryptInit', 'C_Encrypt'],
    needs: [Mechanism.RSA_PKCS_OAEP],
    run: (x) => x.rsa.publicKey.encrypt(MESSAGE, { mechanism: Mechanism.RSA_PKCS_OAEP }),
    check: (ct) => assert.equal((ct as Uint8Array).byteLength, 256),
  },
  {
    name: 'decrypt (AES-CBC-PAD, one-shot)',
    fails: ['C_DecryptInit', 'C_Decrypt'],
    needs: [Mechanism.AES_CBC_PAD],
    run: (x) => x.aes.decrypt(x.aesCiphertext, { mechanism: Mechanism.AES_CBC_PAD, mechanismParam: IV }),
    check: isMessage,
  },
  {
    name: 'decrypt (AES-CBC-PAD, streamed)',
    fails: ['C_DecryptInit', 'C_DecryptUpdate', 'C_DecryptFinal'],
    needs: [Mechanism.AES_CBC_PAD],
    run: (x) =>
      collect(
        x.aes.decrypt(chunks(x.aesCiphertext), { mechanism: Mechanism.AES_CBC_PAD, mechanismParam: IV }),
      ),
    check: isMessage,
  },
  {
    name: 'decrypt (RSA-OAEP, one-shot)',
    fails: ['C_DecryptInit', 'C_Decrypt'],
    needs: [Mechanism.RSA_PKCS_OAEP],
    run: (x) => x.rsa.privateKey.decrypt(x.rsaCiphertext, { mechanism: Mechanism.RSA_PKCS_OAEP }),
    check: isMessage,
  },
  {
    name: 'digest (one-shot)',
    fails: ['C_DigestInit', 'C_Digest'],
    needs: [Mechanism.SHA256],
    run: (x) => x.session.digest(MESSAGE),
    check: isDigest,
  },
  {
    name: 'digest (streamed)',
    fails: ['C_DigestInit', 'C_DigestUpdate', 'C_DigestFinal'],
    needs: [Mechanism.SHA256],
    run: (x) => x.session.digest(chunks()),
    check: isDigest,
  },
  {
    name: 'digest (a key)',
    fails: ['C_DigestInit', 'C_DigestKey', 'C_DigestFinal'],
    needs: [Mechanism.SHA256],
    run: (x) => x.session.digest(x.plain),
    check: (digest) => assert.equal((digest as Uint8Array).byteLength, 32),
  },
  {
    name: 'wrapKey',
    fails: ['C_WrapKey'],
    needs: [Mechanism.AES_KEY_WRAP],
    run: (x) => x.aes.wrapKey(x.plain, { mechanism: Mechanism.AES_KEY_WRAP }),
    check: (wrapped, x) => assert.deepEqual(wrapped, x.wrapped),
  },
  {
    name: 'unwrapKey',
    fails: ['C_UnwrapKey', 'C_GetAttributeValue'],
    needs: [Mechanism.AES_KEY_WRAP],
    run: (x) =>
      x.aes.unwrapKey(ObjectClass.SECRET_KEY, KeyType.AES, x.wrapped, { mechanism: Mechanism.AES_KEY_WRAP }),
  },
  {
    name: 'deriveKey (ECDH)',
    fails: ['C_DeriveKey', 'C_GetAttributeValue'],
    needs: [Mechanism.ECDH1_DERIVE],
    run: (x) =>
      x.ec.privateKey.deriveKey(KeyType.GENERIC_SECRET, 256, {
        mechanismParam: [KDF.NULL, null, x.peerPoint],
      }),
  },
  {
    name: 'deriveKey (AES_ECB_ENCRYPT_DATA, the data as plain bytes)',
    fails: ['C_DeriveKey'],
    needs: [Mechanism.AES_ECB_ENCRYPT_DATA],
    run: (x) => x.aes.deriveKey(KeyType.AES, 128, { mechanismParam: Buffer.alloc(16, 0x11) }),
  },
  {
    name: 'generateRandom',
    fails: ['C_GenerateRandom'],
    run: (x) => x.session.generateRandom(32),
    check: (bytes) => assert.equal((bytes as Uint8Array).byteLength, 32),
  },
  { name: 'seedRandom', fails: ['C_SeedRandom'], run: (x) => x.session.seedRandom(randomBytes(16)) },
  { name: 'setPin', fails: ['C_SetPIN'], run: (x) => x.token.setPin(env.pin, env.pin) },
];

/**
 * What a failed operation must not leave behind, as the trace shows it: every search that began
 * ended in the same session, and every session it opened was closed.
 */
function assertNothingLeftOpen(calls: readonly TracedCall[]): void {
  calls.forEach((call, i) => {
    if (call.fn !== 'C_FindObjectsInit' || call.rv !== 'CKR_OK') return;
    const ended = calls
      .slice(i + 1)
      .some((later) => later.fn === 'C_FindObjectsFinal' && later.args[0] === call.args[0]);
    assert.ok(ended, `the search begun in session ${call.args[0]} was ended`);
  });
  const opened = calls.filter((c) => c.fn === 'C_OpenSession' && c.rv === 'CKR_OK').length;
  const closed = calls.filter((c) => c.fn === 'C_CloseSession').length;
  assert.ok(closed >= opened, `${opened} session(s) opened, ${closed} closed`);
}

describe('a failing C function surfaces as a typed error and the next call works', () => {
  for (const op of OPERATIONS) {
    for (const fn of op.fails) {
      test(`${op.name}: ${fn} fails`, { skip: unavailable(op.needs) }, async () => {
        const x = fixture!;
        x.control.set(`fail ${fn} 0x30 at=1`);
        const mark = x.log.mark();
        await rejectsWithPkcs11(op.run(x), fn, 'CKR_DEVICE_ERROR');
        const failed = x.log.since(mark, fn).find((c) => c.rv === 'CKR_DEVICE_ERROR');
        assert.ok(failed, `the trace shows ${fn} failing`);
        assertNothingLeftOpen(x.log.since(mark));
        x.control.clear();
        const result = await op.run(x);
        op.check?.(result, x);
      });
    }
  }
});

describe('whatever the module answers, the caller gets a Pkcs11Error', () => {
  test(
    'every function failing at once: each operation rejects typed, then works',
    { skip: unavailable() },
    async () => {
      const x = fixture!;
      const usable = OPERATIONS.filter((op) => unavailable(op.needs) === false);
      x.control.set('fail * 0x5');
      for (const op of usable) await rejectsWithPkcs11(op.run(x), undefined, 'CKR_GENERAL_ERROR');
      x.control.clear();
      for (const op of usable) op.check?.(await op.run(x), x);
    },
  );

  test('every CKR code of the standard is reported by its name', { skip: unavailable() }, async () => {
    const x = fixture!;
    for (const [name, rv] of Object.entries(ReturnValue)) {
      if (rv === ReturnValue.OK) continue;
      x.control.set(`fail C_GenerateRandom 0x${rv.toString(16)} at=1`);
      const error = await rejectsWithPkcs11(x.session.generateRandom(8), 'C_GenerateRandom', `CKR_${name}`);
      assert.equal(error.rv, rv);
    }
    x.control.clear();
    assert.equal((await x.session.generateRandom(8)).byteLength, 8);
  });

  test('a vendor-defined code keeps its number', { skip: unavailable([Mechanism.ECDSA]) }, async () => {
    const x = fixture!;
    x.control.set('fail C_Sign 0x80000123 at=1');
    const error = await rejectsWithPkcs11(
      x.ec.privateKey.sign(DIGEST, { mechanism: Mechanism.ECDSA }),
      'C_Sign',
      '0x80000123',
    );
    assert.equal(error.rv, 0x80000123);
    assert.equal(error.message, 'C_Sign: vendor-defined return value 0x80000123');
    x.control.clear();
    assert.equal((await x.ec.privateKey.sign(DIGEST, { mechanism: Mechanism.ECDSA })).byteLength, 64);
  });

  test(
    'a refused ECDH point is tried once in its other encoding, then the first error is thrown',
    { skip: unavailable([Mechanism.ECDH1_DERIVE]) },
    async () => {
      const x = fixture!;
      x.control.set(`fail C_DeriveKey 0x${ReturnValue.MECHANISM_PARAM_INVALID.toString(16)}`);
      const mark = x.log.mark();
      const derive = x.ec.privateKey.deriveKey(KeyType.GENERIC_SECRET, 256, {
        mechanismParam: [KDF.NULL, null, x.peerPoint],
      });
      await rejectsWithPkcs11(derive, 'C_DeriveKey', 'CKR_MECHANISM_PARAM_INVALID');
      const tries = x.log.since(mark, 'C_DeriveKey');
      assert.equal(tries.length, 2, 'the raw point, then the DER-wrapped one');
      x.control.clear();
      await x.ec.privateKey.deriveKey(KeyType.GENERIC_SECRET, 256, {
        mechanismParam: [KDF.NULL, null, x.peerPoint],
      });
    },
  );
});

describe('a failure closes what the operation opened', () => {
  /** The handle (as traced) of the session a login was attempted in, and whether it was closed after. */
  function loginSession(calls: readonly TracedCall[]): { handle: string; closed: boolean } {
    const i = calls.findIndex((c) => c.fn === 'C_Login');
    assert.ok(i >= 0, 'a login was attempted');
    const handle = (calls[i] as TracedCall).args[0] as string;
    return {
      handle,
      closed: calls.slice(i + 1).some((c) => c.fn === 'C_CloseSession' && c.args[0] === handle),
    };
  }

  test(
    'a failed login closes the session it opened (injected failure)',
    { skip: unavailable() },
    async () => {
      const x = fixture!;
      x.control.set('fail C_Login 0x30');
      const mark = x.log.mark();
      await rejectsWithPkcs11(x.token.open({ userPin: env.pin }), 'C_Login', 'CKR_DEVICE_ERROR');
      const { handle, closed } = loginSession(x.log.since(mark));
      assert.ok(closed, 'C_CloseSession on the session of the failed login');
      x.control.clear();
      assert.equal(await sessionIsOpen(x.lib, BigInt(handle)), false);
    },
  );

  test('a wrong PIN closes the session it opened', { skip: unavailable() }, async () => {
    const x = fixture!;
    // Injected: this application is logged in already, so the token would not check a real wrong PIN.
    x.control.set(`fail C_Login 0x${ReturnValue.PIN_INCORRECT.toString(16)}`);
    const mark = x.log.mark();
    await rejectsWithPkcs11(x.token.open({ userPin: `${env.pin}-wrong` }), 'C_Login', 'CKR_PIN_INCORRECT');
    x.control.clear();
    const { handle, closed } = loginSession(x.log.since(mark));
    assert.ok(closed);
    assert.equal(await sessionIsOpen(x.lib, BigInt(handle)), false);
  });

  test(
    'a failed C_FindObjects is followed by C_FindObjectsFinal in its session',
    { skip: unavailable() },
    async () => {
      const x = fixture!;
      x.control.set('fail C_FindObjects 0x30 at=1');
      const mark = x.log.mark();
      await rejectsWithPkcs11(
        x.session.findHandles({ [Attribute.LABEL]: `ec-${run}` }),
        'C_FindObjects',
        'CKR_DEVICE_ERROR',
      );
      const calls = x.log.since(mark);
      assert.deepEqual(
        calls.map((c) => `${c.fn} ${c.rv}`),
        ['C_FindObjectsInit CKR_OK', 'C_FindObjects CKR_DEVICE_ERROR', 'C_FindObjectsFinal CKR_OK'],
      );
      assert.ok(
        calls.every((c) => c.args[0] === calls[0]?.args[0]),
        'all in the same session',
      );
      x.control.clear();
      assert.equal((await x.session.findHandles({ [Attribute.LABEL]: `ec-${run}` })).length, 2);
    },
  );

  test('a failed C_SetPIN closes the session setPin opened', { skip: unavailable() }, async () => {
    const x = fixture!;
    x.control.set('fail C_SetPIN 0x30');
    const mark = x.log.mark();
    await rejectsWithPkcs11(x.token.setPin(env.pin, env.pin), 'C_SetPIN', 'CKR_DEVICE_ERROR');
    const setPin = x.log.since(mark, 'C_SetPIN')[0] as TracedCall;
    assert.ok(x.log.since(mark, 'C_CloseSession').some((c) => c.args[0] === setPin.args[0]));
    x.control.clear();
  });

  test(
    'a stream abandoned by its consumer ends the operation',
    { skip: unavailable([Mechanism.AES_CBC_PAD]) },
    async () => {
      const x = fixture!;
      const mark = x.log.mark();
      const many = Array.from({ length: 8 }, () => Buffer.alloc(32, 1));
      for await (const part of x.aes.encrypt(many, {
        mechanism: Mechanism.AES_CBC_PAD,
        mechanismParam: IV,
      })) {
        assert.equal(part.byteLength, 32);
        break;
      }
      const names = x.log.names(mark);
      assert.equal(names.at(-1), 'C_EncryptFinal', names.join(' '));
      assert.ok(names.filter((n) => n === 'C_EncryptUpdate').length < many.length, 'not run to the end');
      assert.equal(
        (await x.aes.encrypt(MESSAGE, { mechanism: Mechanism.AES_CBC_PAD, mechanismParam: IV })).byteLength,
        48,
      );
    },
  );

  test(
    'a source stream that throws ends the operation and its error reaches the caller',
    { skip: unavailable([Mechanism.AES_CBC_PAD]) },
    async () => {
      const x = fixture!;
      const failure = new Error('the source broke');
      async function* source(): AsyncGenerator<Uint8Array> {
        yield Buffer.alloc(32, 1);
        throw failure;
      }
      const mark = x.log.mark();
      await assert.rejects(
        collect(x.aes.encrypt(source(), { mechanism: Mechanism.AES_CBC_PAD, mechanismParam: IV })),
        failure,
      );
      assert.ok(x.log.names(mark).includes('C_EncryptFinal'));
      await assert.rejects(x.session.digest(source()), failure);
      assert.equal((await x.session.digest(MESSAGE)).byteLength, 32);
    },
  );

  test(
    'a failed context-specific login ends the operation it was for',
    { skip: unavailable([Mechanism.ECDSA, Mechanism.AES_CBC_PAD]) },
    async () => {
      const x = fixture!;
      const runs: [(pin?: string) => Promise<unknown>, (result: unknown) => void][] = [
        [
          (pin) => x.ec.privateKey.sign(DIGEST, { mechanism: Mechanism.ECDSA, pin }),
          (sig) => assert.equal((sig as Uint8Array).byteLength, 64),
        ],
        [(pin) => x.ec.publicKey.verify(DIGEST, x.ecSignature, { mechanism: Mechanism.ECDSA, pin }), isTrue],
        [
          (pin) =>
            x.aes.decrypt(x.aesCiphertext, { mechanism: Mechanism.AES_CBC_PAD, mechanismParam: IV, pin }),
          isMessage,
        ],
      ];
      for (const [run, check] of runs) {
        x.control.set(`fail C_Login 0x${ReturnValue.PIN_INCORRECT.toString(16)}`);
        await rejectsWithPkcs11(run(`${env.pin}-wrong`), 'C_Login', 'CKR_PIN_INCORRECT');
        x.control.clear();
        check(await run());
      }
    },
  );

  /**
   * A stored data object, which not every token keeps (NSS softokn refuses it). `label` goes into
   * CKA_APPLICATION: with a CKA_LABEL the template would give the whole summary and the object
   * would not be read back (object-factory.ts `adoptCreated`).
   */
  const storedData = (label: string) => ({
    [Attribute.CLASS]: ObjectClass.DATA,
    [Attribute.TOKEN]: true,
    [Attribute.APPLICATION]: label,
  });
  const takesAll = async (): Promise<string | false> => false;
  for (const [name, make, refused] of [
    [
      'generateKey',
      (x: Fixture, label: string) => x.session.generateKey(KeyType.AES, 128, { store: true, label }),
      takesAll,
    ],
    [
      'generateKeypair',
      (x: Fixture, label: string) =>
        x.session.generateKeypair(KeyType.EC, 'secp256r1', { store: true, label }),
      takesAll,
    ],
    [
      'createObject',
      (x: Fixture, label: string) => x.session.createObject(storedData(label)),
      (x: Fixture) => objectRefused(x.session, 'token data objects', storedData(`probe-${run}`)),
    ],
  ] as const) {
    test(
      `${name}: an object that cannot be read back is not left on the token`,
      { skip: unavailable() },
      async (t) => {
        const x = fixture!;
        const reason = await refused(x);
        if (reason) return t.skip(reason);
        const label = `orphan-${name}-${run}`;
        x.control.set('fail C_GetAttributeValue 0x30 at=1');
        try {
          await rejectsWithPkcs11(make(x, label), 'C_GetAttributeValue', 'CKR_DEVICE_ERROR');
        } finally {
          x.control.clear();
        }
        const left = [
          ...(await x.session.findHandles({ [Attribute.LABEL]: label })),
          ...(await x.session.findHandles({ [Attribute.APPLICATION]: label })),
        ];
        for (const handle of left) await x.lib.context.invoke('C_DestroyObject', x.session.handle, handle);
        assert.deepEqual(left, [], 'no object of the failed call is left');
      },
    );
  }
});

describe('a verification the token fails with an unclear error is settled another way', () => {
  /**
   * Runs `body` while every C_Verify fails with `rv`: CKR_DEVICE_ERROR unless told (as NSS softokn
   * answers a wrong HMAC).
   */
  async function verifyFailing(x: Fixture, body: () => Promise<void>, rv = 0x30): Promise<void> {
    x.control.set(`fail C_Verify 0x${rv.toString(16)}`);
    try {
      await body();
    } finally {
      x.control.clear();
    }
  }

  test(
    'a MAC is computed with C_Sign and compared: a wrong one is false, a right one the token’s error',
    { skip: unavailable([Mechanism.GENERIC_SECRET_KEY_GEN, Mechanism.SHA256_HMAC]) },
    async () => {
      const x = fixture!;
      const key = (await x.session.generateKey(KeyType.GENERIC_SECRET, 256)) as SecretKey;
      const options = { mechanism: Mechanism.SHA256_HMAC };
      const mac = await key.sign(MESSAGE, options);
      const wrong = Buffer.from(mac);
      wrong[0] = (wrong[0] as number) ^ 1;
      await verifyFailing(x, async () => {
        assert.equal(await key.verify(MESSAGE, wrong, options), false);
        await rejectsWithPkcs11(key.verify(MESSAGE, mac, options), 'C_Verify', 'CKR_DEVICE_ERROR');
      });
      assert.equal(tokenQuirks(x.session.token).macMismatchAsError, true, 'the token is known to do so');
      // From then on a streamed MAC verification is made as MAC-and-compare too.
      await verifyFailing(x, async () => {
        assert.equal(await key.verify(chunks(), wrong, options), false);
        assert.equal(await key.verify(chunks(), mac, options), true);
      });
      await key.destroy();
    },
  );

  test(
    'a signature node:crypto can check is checked on the host',
    { skip: unavailable([Mechanism.SHA256_RSA_PKCS]) },
    async () => {
      const x = fixture!;
      const options = { mechanism: Mechanism.SHA256_RSA_PKCS };
      await verifyFailing(x, async () => {
        assert.equal(await x.rsa.publicKey.verify(DIGEST, x.rsaSignature, options), false);
        await rejectsWithPkcs11(
          x.rsa.publicKey.verify(MESSAGE, x.rsaSignature, options),
          'C_Verify',
          'CKR_DEVICE_ERROR',
        );
      });
    },
  );

  test(
    'CKR_DATA_LEN_RANGE for an ECDSA signature of the wrong length (NSS softokn) is false',
    { skip: unavailable([Mechanism.ECDSA]) },
    async () => {
      const x = fixture!;
      const options = { mechanism: Mechanism.ECDSA_SHA256 };
      const signature = await x.ec.privateKey.sign(MESSAGE, options);
      const publicKey = x.ec.publicKey as PublicKey;
      await verifyFailing(
        x,
        async () => {
          assert.equal(await publicKey.verify(MESSAGE, signature.subarray(1), options), false);
          // The host finds the signature good: the token's answer was about something else.
          await rejectsWithPkcs11(
            publicKey.verify(MESSAGE, signature, options),
            'C_Verify',
            'CKR_DATA_LEN_RANGE',
          );
        },
        0x21,
      );
    },
  );
});

describe('sessions and objects stay consistent', () => {
  test(
    'operations of other sessions go on while one fails',
    { skip: unavailable([Mechanism.ECDSA]) },
    async () => {
      const x = fixture!;
      await using other = await x.token.open({ userPin: env.pin });
      const key = (await other.getKey({
        label: `ec-${run}`,
        objectClass: ObjectClass.PRIVATE_KEY,
      })) as PrivateKey;
      x.control.set('fail C_Sign 0x30 at=2');
      const results = await Promise.allSettled([
        key.sign(DIGEST, { mechanism: Mechanism.ECDSA }),
        x.ec.privateKey.sign(DIGEST, { mechanism: Mechanism.ECDSA }),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.ok(rejected.reason instanceof Pkcs11Error && rejected.reason.fn === 'C_Sign');
      x.control.clear();
      const again = await Promise.all(
        [key, x.ec.privateKey].map((k) => k.sign(DIGEST, { mechanism: Mechanism.ECDSA })),
      );
      for (const sig of again)
        assert.ok(await (x.ec.publicKey as PublicKey).verify(DIGEST, sig, { mechanism: Mechanism.ECDSA }));
    },
  );

  test(
    'logins of one token run one at a time, however many sessions open at once',
    { skip: unavailable() },
    async () => {
      const x = fixture!;
      // Slow logins make any overlap plain: NSS softokn, its logins racing, once answered one with
      // CKR_USER_ALREADY_LOGGED_IN while that session was not yet marked logged in.
      x.control.set('delay C_Login ms=150');
      const mark = x.log.mark();
      try {
        const sessions = await Promise.all([1, 2, 3].map(() => x.token.open({ userPin: env.pin })));
        await Promise.all(sessions.map((s) => s.close()));
      } finally {
        x.control.clear();
      }
      const logins = x.log
        .since(mark, 'C_Login')
        .map((c) => ({ start: (c.at as number) - c.ms, end: c.at as number }));
      assert.equal(logins.length, 3);
      logins.sort((a, b) => a.start - b.start);
      for (let i = 1; i < logins.length; i++) {
        const [before, next] = [logins[i - 1]!, logins[i]!];
        assert.ok(
          next.start >= before.end - 1,
          `login ${i + 1} began ${(before.end - next.start).toFixed(1)} ms before login ${i} ended`,
        );
      }
    },
  );
});

/** The functions with an output buffer sized by the size-query convention (faulty's `size`, `toosmall`). */
const SIZED = new Set([
  'C_GetAttributeValue',
  'C_Encrypt',
  'C_EncryptUpdate',
  'C_EncryptFinal',
  'C_Decrypt',
  'C_DecryptUpdate',
  'C_DecryptFinal',
  'C_Digest',
  'C_DigestFinal',
  'C_Sign',
  'C_SignFinal',
  'C_WrapKey',
]);

/** How many of `fn`'s calls since `mark` the module answered CKR_BUFFER_TOO_SMALL. */
function tooSmallAnswers(x: Fixture, mark: number, fn: string): number {
  return x.log.since(mark, fn).filter((c) => c.rv === 'CKR_BUFFER_TOO_SMALL').length;
}

describe('outputs are sized by the module, however often it changes its mind', () => {
  for (const op of OPERATIONS) {
    const sized = op.fails.filter((fn) => SIZED.has(fn));
    if (sized.length === 0) continue;

    test(
      `${op.name}: every output grows between the size query and the call`,
      { skip: unavailable(op.needs) },
      async () => {
        const x = fixture!;
        x.control.set('size * grow=16');
        const mark = x.log.mark();
        const result = await op.run(x);
        x.control.clear();
        op.check?.(result, x);
        // The rule fires on a call that follows a size query; a call made straight away with a
        // remembered size is not raced, so only a query that was made must have been answered short.
        const calls = x.log.since(mark);
        const queried = sized.filter((fn) => calls.some((c) => c.fn === fn && c.args.at(-2) === 'NULL'));
        for (const fn of queried)
          assert.ok(tooSmallAnswers(x, mark, fn) > 0, `${fn} was queried, then answered short`);
      },
    );

    for (const fn of sized) {
      test(
        `${op.name}: ${fn} says CKR_BUFFER_TOO_SMALL three times`,
        { skip: unavailable(op.needs) },
        async () => {
          const x = fixture!;
          x.control.set(`toosmall ${fn} times=3`);
          const mark = x.log.mark();
          const result = await op.run(x);
          x.control.clear();
          op.check?.(result, x);
          assert.equal(tooSmallAnswers(x, mark, fn), 3);
        },
      );

      test(
        `${op.name}: ${fn} says CKR_BUFFER_TOO_SMALL forever`,
        { skip: unavailable(op.needs) },
        async () => {
          const x = fixture!;
          x.control.set(`toosmall ${fn} times=forever`);
          const mark = x.log.mark();
          await rejectsWithPkcs11(op.run(x), fn, 'CKR_BUFFER_TOO_SMALL');
          x.control.clear();
          const tries = tooSmallAnswers(x, mark, fn);
          assert.ok(tries >= 2 && tries <= 20, `gave up after a few tries, not ${tries}`);
          const again = await op.run(x);
          op.check?.(again, x);
        },
      );
    }
  }
});

describe('a slow module leaves the event loop free', () => {
  test(
    'timers fire and other sessions work while a call is delayed',
    { skip: unavailable([Mechanism.SHA256]) },
    async () => {
      const x = fixture!;
      const DELAY_MS = 1000;
      x.control.set(`delay C_GenerateRandom ms=${DELAY_MS}`);
      await using other = await x.token.open();
      let ticks = 0;
      const timer = setInterval(() => ticks++, 20);
      const mark = x.log.mark();
      let settled = false;
      const slow = x.session.generateRandom(16).finally(() => (settled = true));
      try {
        await sleep(100);
        assert.equal(settled, false, 'the delayed call is still running');
        assert.ok(ticks >= 2, `the timer fired ${ticks} times while the call ran`);
        assert.deepEqual(Buffer.from(await other.digest(MESSAGE)), DIGEST, 'another session works meanwhile');
        assert.equal(settled, false);
        assert.equal((await slow).byteLength, 16);
      } finally {
        clearInterval(timer);
        x.control.clear();
      }
      assert.ok(ticks >= 10, `the timer kept firing (${ticks} ticks in ${DELAY_MS} ms)`);
      const traced = x.log.since(mark, 'C_GenerateRandom')[0] as TracedCall;
      assert.ok(traced.ms >= DELAY_MS * 0.9, `the trace shows the call's duration: ${traced.ms} ms`);
    },
  );

  test(
    'a call that is delayed, then fails, still reports its failure',
    { skip: unavailable([Mechanism.ECDSA]) },
    async () => {
      const x = fixture!;
      x.control.set('delay C_SignInit ms=300', 'fail C_SignInit 0x30 at=1');
      const started = performance.now();
      await rejectsWithPkcs11(
        x.ec.privateKey.sign(DIGEST, { mechanism: Mechanism.ECDSA }),
        'C_SignInit',
        'CKR_DEVICE_ERROR',
      );
      assert.ok(performance.now() - started >= 250);
      x.control.clear();
      assert.equal((await x.ec.privateKey.sign(DIGEST, { mechanism: Mechanism.ECDSA })).byteLength, 64);
    },
  );
});

describe('one-shot operations made at once on the main thread (model/operations.ts)', () => {
  test(
    'a signature too large for its room and a failing C_Sign, after signs made at once, are finished in turn',
    { skip: unavailable([Mechanism.ECDSA]) },
    async (t) => {
      const x = fixture!;
      // The same module without a trace: traced calls never run inline.
      const lib = await Library.load((faulty as FaultyModule).path, { initReserved: env.initReserved });
      const turns = turnCounter();
      try {
        const token = await lib.getToken({ tokenLabel: env.tokenLabel });
        await using session = await token.open();
        const key = (await session.getKey({
          label: `ec-${run}`,
          objectClass: ObjectClass.PRIVATE_KEY,
        })) as PrivateKey;
        const sign = (): Promise<Uint8Array> => key.sign(DIGEST, { mechanism: Mechanism.ECDSA });
        const verified = async (signature: Uint8Array): Promise<void> =>
          assert.ok(await x.ec.publicKey.verify(DIGEST, signature, { mechanism: Mechanism.ECDSA }));
        // Signs until one is made within a turn: both calls at once, none on a thread.
        let atOnce = false;
        for (let i = 0; i < 3000 && !atOnce; i++) {
          const before = turns.turn();
          await sign();
          atOnce = turns.turn() === before;
        }
        if (!atOnce) return t.skip('no sign ran at once: this machine answered too slowly on threads');

        x.control.set('toosmall C_Sign times=1');
        await verified(await sign());
        x.control.set('fail C_Sign 0x30 at=1');
        await rejectsWithPkcs11(sign(), 'C_Sign', 'CKR_DEVICE_ERROR');
        x.control.set('fail C_SignInit 0x30 at=1');
        await rejectsWithPkcs11(sign(), 'C_SignInit', 'CKR_DEVICE_ERROR');
        x.control.clear();
        // The failed operations were ended: the session signs on.
        await verified(await sign());
      } finally {
        turns.stop();
        x.control.clear();
        await lib.finalize();
      }
    },
  );
});
