// Bad input never crashes the process: wrong types are TypeErrors, impossible numbers RangeErrors
// (both thrown before anything reaches C), values the token refuses are Pkcs11Errors, and so are
// calls on closed sessions and on libraries finalized under them. Loading what is not a PKCS#11
// module is a ModuleLoadError; loading one module with another init string is refused. (Finalize
// and reinitialize of a library used as intended are in library.test.ts.)
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { moduleReferences } from '../../src/sys/module.js';
import {
  Attribute,
  KeyType,
  Library,
  Mechanism,
  ModuleLoadError,
  ObjectClass,
  Pkcs11Error,
  type PrivateKey,
  type PublicKey,
  type SecretKey,
  type Session,
} from '../../src/index.js';
import { rejectsWithPkcs11 } from '../support/assertions.js';
import { testEnv } from '../support/env.js';
import { cannotGenerate } from '../support/key-capabilities.js';
import { loadLibrary, missing, openFixture, tokenMechanisms, type Fixture } from '../support/token.js';

const env = testEnv();
const mechanisms = await tokenMechanisms();

/** Asserts that calling `fn` throws or rejects with `Type` (sync throws count: they happen before C). */
async function refuses(
  fn: () => unknown,
  Type: typeof TypeError | typeof RangeError,
  message?: RegExp,
): Promise<void> {
  await assert.rejects(
    async () => fn(),
    (e: unknown) => {
      assert.ok(e instanceof Type, `expected ${Type.name}, got ${String(e)}`);
      if (message) assert.match((e as Error).message, message);
      return true;
    },
  );
}

describe('loading modules', () => {
  test('a path of the wrong type is a TypeError', async () => {
    await refuses(() => Library.load(''), TypeError);
    await refuses(() => Library.load(42 as never), TypeError);
    await refuses(
      () => Library.load(env.modulePath, { initReserved: 5 as never }),
      TypeError,
      /initReserved/,
    );
  });

  test('a missing file is a ModuleLoadError naming it', async () => {
    const absent = '/nonexistent/dir/libnothing-pkcs11.so';
    await assert.rejects(
      Library.load(absent),
      (e: unknown) => e instanceof ModuleLoadError && e.message.includes(absent),
    );
    assert.equal(moduleReferences(absent), 0);
  });

  const notModules = [
    '/usr/lib/x86_64-linux-gnu/libz.so.1',
    '/usr/lib/aarch64-linux-gnu/libz.so.1',
    '/lib/x86_64-linux-gnu/libz.so.1',
  ].filter((p) => existsSync(p));
  test(
    'a shared library that is no PKCS#11 module is a ModuleLoadError',
    { skip: notModules.length === 0 && 'no libz.so.1 found' },
    async () => {
      const path = notModules[0] as string;
      await assert.rejects(Library.load(path), (e: unknown) => {
        assert.ok(e instanceof ModuleLoadError, String(e));
        assert.match(e.message, /not a PKCS#11 module/);
        return true;
      });
      assert.equal(moduleReferences(path), 0);
    },
  );

  test('a directory and a text file are ModuleLoadErrors', async () => {
    await assert.rejects(Library.load('/tmp'), ModuleLoadError);
    await assert.rejects(
      Library.load(fileURLToPath(new URL('../../package.json', import.meta.url))),
      ModuleLoadError,
    );
  });

  test('one module loaded with a different init string is refused, not re-initialised', async () => {
    const a = await loadLibrary();
    try {
      await assert.rejects(
        Library.load(env.modulePath, { initReserved: `${env.initReserved ?? ''}other` }),
        (e: unknown) => e instanceof ModuleLoadError && /different initReserved/.test(e.message),
      );
      assert.ok((await a.getSlots()).length > 0);
    } finally {
      await a.finalize();
    }
  });
});

describe('arguments', () => {
  let fx: Fixture;
  let session: Session;
  before(async () => {
    fx = await openFixture();
    session = fx.session;
  });
  after(async () => {
    // Every refusal above left the session usable.
    assert.equal((await session.generateRandom(4)).length, 4);
    await fx.close();
  });

  test('generateRandom: negative, huge, NaN, fractional and non-number lengths', async () => {
    await refuses(() => session.generateRandom(-1), RangeError, /length/);
    await refuses(() => session.generateRandom(2 ** 40), RangeError, /length/);
    await refuses(() => session.generateRandom(2 ** 31), RangeError, /length/);
    await refuses(() => session.generateRandom(NaN), RangeError, /length/);
    await refuses(() => session.generateRandom(1.5), RangeError, /length/);
    await refuses(() => session.generateRandom(Infinity), RangeError, /length/);
    await refuses(() => session.generateRandom('16' as never), TypeError, /length/);
    await refuses(() => session.generateRandom(16n as never), TypeError, /length/);
    await refuses(() => session.generateRandom(undefined as never), TypeError, /length/);
    assert.equal((await session.generateRandom(0)).length, 0);
  });

  test('other session calls with arguments of the wrong type', async () => {
    await refuses(() => session.seedRandom('seed' as never), TypeError, /seed/);
    await refuses(() => session.digest(42 as never), TypeError);
    await refuses(() => session.createObject(null as never), TypeError, /template/);
    await refuses(() => session.createObject('x' as never), TypeError, /template/);
    await refuses(() => session.findHandles({ [Attribute.LABEL]: 5 } as never), TypeError, /CKA_LABEL/);
    await refuses(() => session.getKey(null as never), TypeError);
    await refuses(() => session.getKey({ label: 5 } as never), TypeError, /CKA_LABEL/);
    await refuses(() => session.login(1234 as never), TypeError, /pin/);
  });

  test('template values: wrong types, negative, huge and NaN numbers', async () => {
    const data = { [Attribute.CLASS]: ObjectClass.DATA, [Attribute.TOKEN]: false };
    await refuses(
      () => session.createObject({ ...data, [Attribute.CLASS]: 'data' as never }),
      TypeError,
      /CKA_CLASS/,
    );
    await refuses(
      () => session.createObject({ ...data, [Attribute.TOKEN]: 'yes' as never }),
      TypeError,
      /CKA_TOKEN/,
    );
    await refuses(
      () => session.createObject({ ...data, [Attribute.VALUE]: 'text' as never }),
      TypeError,
      /CKA_VALUE/,
    );
    await refuses(() => session.createObject({ ...data, [Attribute.CLASS]: -1 }), RangeError, /CKA_CLASS/);
    await refuses(
      () => session.createObject({ ...data, [Attribute.CLASS]: 2 ** 64 }),
      RangeError,
      /CKA_CLASS/,
    );
    await refuses(() => session.createObject({ ...data, [Attribute.CLASS]: NaN }), RangeError, /CKA_CLASS/);
    await refuses(() => session.createObject({ ...data, [Attribute.CLASS]: -1n }), RangeError, /CKA_CLASS/);
  });

  test('unknown attribute values and types are Pkcs11Errors from the token, or taken by it', async () => {
    const data = {
      [Attribute.CLASS]: ObjectClass.DATA,
      [Attribute.TOKEN]: false,
      [Attribute.VALUE]: Uint8Array.of(1),
    };
    const fromToken = (e: unknown) => e instanceof Pkcs11Error && e.fn === 'C_CreateObject';
    await assert.rejects(session.createObject({ ...data, [Attribute.CLASS]: 0x7ffffff0 }), fromToken);
    // An attribute a data object has no use for: refused by most tokens, kept by some (tpm2-pkcs11).
    for (const extra of [{ [0x8fff0001]: Uint8Array.of(1) }, { [Attribute.KEY_TYPE]: KeyType.AES }]) {
      const made = await session.createObject({ ...data, ...extra }).catch((e: unknown) => {
        assert.ok(fromToken(e), String(e));
        return undefined;
      });
      await made?.destroy();
    }
  });

  test('bigints where numbers are expected, and numbers where bigints are', async () => {
    // A CK_ULONG template value may be either; it reads back as a number when it fits one.
    const obj = await session.createObject({
      [Attribute.CLASS]: BigInt(ObjectClass.DATA),
      [Attribute.TOKEN]: false,
      [Attribute.VALUE]: Uint8Array.of(1),
    });
    assert.equal(await obj.get(Attribute.CLASS), ObjectClass.DATA);
    await obj.destroy();
    // Attribute lists and key types are plain numbers.
    await refuses(() => obj.getAttributes([BigInt(Attribute.LABEL)] as never), TypeError);
    await refuses(() => obj.getAttributes('label' as never), TypeError);
    await refuses(() => obj.getAttributes([-1]), TypeError);
    await refuses(() => obj.getAttributes([NaN]), TypeError);
    await refuses(() => session.generateKey(BigInt(KeyType.AES) as never, 128), TypeError, /keyType/);
    // Mechanism numbers are checked; one given as a bigint is accepted where a CK_ULONG is read.
    const info = await session.token.slot.getMechanismInfo(BigInt([...mechanisms][0] as number) as never);
    assert.equal(typeof info.flags, 'number');
    await refuses(() => session.token.slot.getMechanismInfo(-1), RangeError, /mechanism/);
    await refuses(() => session.token.slot.getMechanismInfo('CKM_ECDSA' as never), TypeError, /mechanism/);
    await rejectsWithPkcs11(
      session.token.slot.getMechanismInfo(0x8fff1234),
      'C_GetMechanismInfo',
      'CKR_MECHANISM_INVALID',
    );
  });

  test('token.open with bad options', async () => {
    const token = session.token;
    await refuses(() => token.open(null as never), TypeError);
    await refuses(() => token.open({ rw: 'yes' } as never), TypeError, /rw/);
    await refuses(() => token.open({ userPin: env.pin, soPin: env.pin }), TypeError);
    await refuses(() => token.open({ userPin: env.pin, userType: -1 }), RangeError, /userType/);
    await refuses(() => token.open({ username: 7 } as never), TypeError, /username/);
  });

  test(
    'key generation with bad sizes and types',
    { skip: missing(mechanisms, Mechanism.RSA_PKCS_KEY_PAIR_GEN, Mechanism.AES_KEY_GEN) },
    async () => {
      await refuses(() => session.generateKeypair(KeyType.RSA, -1), RangeError);
      await refuses(() => session.generateKeypair(KeyType.RSA, 2 ** 40), RangeError);
      await refuses(() => session.generateKeypair(KeyType.RSA, NaN), RangeError);
      await refuses(() => session.generateKeypair('RSA' as never, 2048), TypeError, /keyType/);
      await refuses(() => session.generateKeypair(KeyType.EC, 'no-such-curve'), RangeError, /curve/);
      await refuses(() => session.generateKeypair(KeyType.EC, 256 as never), TypeError, /curve/);
      await refuses(() => session.generateKey(KeyType.AES, 7), RangeError);
      await refuses(() => session.generateKey(KeyType.AES, -128), RangeError);
      await refuses(() => session.generateKey(KeyType.AES, NaN), RangeError);
      await refuses(() => session.generateKey(KeyType.AES, 256, { label: 5 } as never), TypeError, /label/);
      // A size the token refuses is its error, not a crash.
      await assert.rejects(session.generateKey(KeyType.AES, 8), Pkcs11Error);
    },
  );

  describe('operations', { skip: missing(mechanisms, Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDSA) }, () => {
    let privateKey: PrivateKey;
    let publicKey: PublicKey;
    before(async () => {
      ({ privateKey, publicKey } = await session.generateKeypair(KeyType.EC, 'secp256r1'));
    });

    test('bad data, signatures and mechanisms', async () => {
      const digest = new Uint8Array(32);
      await refuses(() => privateKey.sign(42 as never, { mechanism: Mechanism.ECDSA }), TypeError, /data/);
      await refuses(() => privateKey.sign(digest, { mechanism: 'ECDSA' as never }), TypeError, /mechanism/);
      await refuses(() => privateKey.sign(digest, { mechanism: -1 }), RangeError, /mechanism/);
      await refuses(() => privateKey.sign(digest, { mechanism: NaN }), RangeError, /mechanism/);
      await refuses(
        () => privateKey.sign(digest, { mechanism: Mechanism.ECDSA, mechanismParam: { x: 1 } as never }),
        TypeError,
        /CKM_ECDSA/,
      );
      await refuses(() => privateKey.sign(digest, null as never), TypeError, /options/);
      await refuses(
        () => publicKey.verify(digest, 'signature' as never, { mechanism: Mechanism.ECDSA }),
        TypeError,
        /signature/,
      );
      await rejectsWithPkcs11(
        privateKey.sign(digest, { mechanism: 0x8fff1234 }),
        'C_SignInit',
        'CKR_MECHANISM_INVALID',
      );
      assert.equal(await publicKey.verify(digest, new Uint8Array(64), { mechanism: Mechanism.ECDSA }), false);
      // The session still signs after all that.
      assert.equal((await privateKey.sign(digest, { mechanism: Mechanism.ECDSA })).length, 64);
    });

    test('a bad chunk in a stream ends the operation and frees the session', async () => {
      async function* chunks(): AsyncGenerator<unknown> {
        yield Uint8Array.of(1, 2, 3);
        yield 42;
      }
      await refuses(() => session.digest(chunks() as never), TypeError, /chunk/);
      assert.equal((await session.digest('abc')).length, 32);
      assert.equal((await privateKey.sign(new Uint8Array(32), { mechanism: Mechanism.ECDSA })).length, 64);
    });
  });

  test(
    'a mechanism parameter of the wrong shape never reaches the token; one the token refuses is its error',
    { skip: missing(mechanisms, Mechanism.AES_KEY_GEN, Mechanism.AES_CBC_PAD) },
    async (t) => {
      if (await cannotGenerate(t, session, KeyType.AES, 128)) return;
      const key = (await session.generateKey(KeyType.AES, 128)) as SecretKey;
      // The standard's shapes (required-params.ts): a module would read 16 bytes from these 3, or
      // follow a NULL parameter (NSS softokn crashes on CKM_AES_MAC_GENERAL without one).
      const short = { mechanism: Mechanism.AES_CBC_PAD, mechanismParam: new Uint8Array(3) };
      await refuses(
        () => key.encrypt(Uint8Array.of(1), short),
        RangeError,
        /CKM_AES_CBC_PAD must be a 16-byte IV/,
      );
      const macLength = { mechanism: Mechanism.AES_MAC_GENERAL };
      await refuses(
        () => key.sign(Uint8Array.of(1), macLength),
        TypeError,
        /CKM_AES_MAC_GENERAL is required/,
      );
      // The right shape with a value the token refuses: a GCM tag of 256 bits.
      if (mechanisms.has(Mechanism.AES_GCM))
        await assert.rejects(
          key.encrypt(Uint8Array.of(1), {
            mechanism: Mechanism.AES_GCM,
            mechanismParam: { iv: new Uint8Array(12), tagBits: 256 },
          }),
          (e: unknown) => e instanceof Pkcs11Error && e.fn === 'C_EncryptInit',
        );
      const iv = new Uint8Array(16);
      const ciphertext = await key.encrypt(Uint8Array.of(1, 2, 3), {
        mechanism: Mechanism.AES_CBC_PAD,
        mechanismParam: iv,
      });
      assert.equal(ciphertext.length, 16);
    },
  );
});

describe('closed sessions', () => {
  test('every call on a closed session is a Pkcs11Error CKR_SESSION_CLOSED', async () => {
    await using lib = await loadLibrary();
    const token = await lib.getToken({ tokenLabel: env.tokenLabel });
    const session = await token.open({ userPin: env.pin, rw: true });
    const obj = await session.createObject({
      [Attribute.CLASS]: ObjectClass.DATA,
      [Attribute.TOKEN]: false,
      [Attribute.LABEL]: 'x',
      [Attribute.VALUE]: Uint8Array.of(1),
    });
    const pair = !missing(mechanisms, Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDSA)
      ? await session.generateKeypair(KeyType.EC, 'secp256r1')
      : undefined;
    await session.close();

    const calls: [string, () => Promise<unknown>][] = [
      ['getInfo', () => session.getInfo()],
      ['login', () => session.login(env.pin)],
      ['logout', () => session.logout()],
      ['generateRandom', () => session.generateRandom(4)],
      ['seedRandom', () => session.seedRandom(Uint8Array.of(1))],
      ['createObject', () => session.createObject({ [Attribute.CLASS]: ObjectClass.DATA })],
      ['findHandles', () => session.findHandles()],
      [
        'getObjects',
        async () => {
          for await (const o of session.getObjects()) void o;
        },
      ],
      ['getKey', () => session.getKey({ label: 'x' })],
      ['digest', () => session.digest('abc')],
      ['object.get', () => obj.get(Attribute.LABEL)],
      ['object.set', () => obj.set({ [Attribute.LABEL]: 'y' })],
      ['object.copy', () => obj.copy()],
      ['object.destroy', () => obj.destroy()],
    ];
    if (mechanisms.has(Mechanism.AES_KEY_GEN))
      calls.push(['generateKey', () => session.generateKey(KeyType.AES, 128)]);
    if (pair) {
      calls.push(['sign', () => pair.privateKey.sign(new Uint8Array(32), { mechanism: Mechanism.ECDSA })]);
      calls.push([
        'verify',
        () => pair.publicKey.verify(new Uint8Array(32), new Uint8Array(64), { mechanism: Mechanism.ECDSA }),
      ]);
      calls.push(['generateKeypair', () => session.generateKeypair(KeyType.EC, 'secp256r1')]);
    }
    for (const [name, call] of calls) {
      await assert.rejects(call(), (e: unknown) => {
        assert.ok(e instanceof Pkcs11Error, `${name}: expected a Pkcs11Error, got ${String(e)}`);
        assert.equal(e.code, 'CKR_SESSION_CLOSED', name);
        return true;
      });
    }
    await session.close();
  });
});

describe('finalized libraries', () => {
  test(
    'finalize while calls are running: each call either completes or is a Pkcs11Error',
    { skip: missing(mechanisms, Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDSA) },
    async () => {
      assert.equal(moduleReferences(env.modulePath), 0, 'this test needs to hold the only reference');
      // Finalized at the end even when the test fails, so the next test still holds the only reference.
      await using lib = await loadLibrary();
      const token = await lib.getToken({ tokenLabel: env.tokenLabel });
      const sessions = await Promise.all([0, 1, 2].map(() => token.open({ userPin: env.pin, rw: true })));
      const keys = await Promise.all(sessions.map((s) => s.generateKeypair(KeyType.EC, 'secp256r1')));
      const signs = keys.flatMap(({ privateKey }) =>
        Array.from({ length: 150 }, () =>
          privateKey.sign(new Uint8Array(32), { mechanism: Mechanism.ECDSA }),
        ),
      );
      const settled = Promise.allSettled(signs);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await lib.finalize();
      const results = await settled;
      const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      for (const f of failures) {
        assert.ok(f.reason instanceof Pkcs11Error, String(f.reason));
        assert.equal(f.reason.code, 'CKR_CRYPTOKI_NOT_INITIALIZED');
      }
      assert.ok(failures.length > 0, 'finalize came before the last sign');
      await Promise.all(sessions.map((s) => s.close()));
    },
  );

  test('finalize then load again at once: the new initialisation is not undone by the old finalize', async () => {
    assert.equal(moduleReferences(env.modulePath), 0, 'this test needs to hold the only reference');
    for (let round = 0; round < 20; round++) {
      const old = await loadLibrary();
      await old.getSlots();
      const [, fresh] = await Promise.all([old.finalize(), loadLibrary()]);
      const token = await fresh.getToken({ tokenLabel: env.tokenLabel });
      await using session = await token.open();
      assert.equal((await session.generateRandom(4)).length, 4, `round ${round}`);
      await session.close();
      await fresh.finalize();
    }
    assert.equal(moduleReferences(env.modulePath), 0);
  });
});
