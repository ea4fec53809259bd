// Library against a real module: info, slots, token info, token selection by every filter (the
// mechanism filter really filters), a cancellable waitForSlotEvent, finalize and reinitialize (with
// what still answers afterwards), one module held twice, and several modules loaded side by side.
// Loading what is no PKCS#11 module is in bad-input.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import {
  Mechanism,
  MultipleTokensError,
  NoSuchTokenError,
  Pkcs11Error,
  SessionState,
  SlotFlag,
  TokenFlag,
  type Token,
} from '../../src/index.js';
import { moduleReferences } from '../../src/sys/module.js';
import { rejectsWithPkcs11 } from '../support/assertions.js';
import { testEnv } from '../support/env.js';
import { MADE_UP_MECHANISM, loadLibrary } from '../support/token.js';

const env = testEnv();
const OPENSC = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';

/** Loads the module under test, or another one (see loadLibrary). */
const load = (modulePath?: string) => loadLibrary({ modulePath });

/** The serial numbers of some tokens, for comparing selections. */
const serials = (tokens: readonly Token[]): string[] => tokens.map((t) => t.serial);
/**
 * Whether `tokens` holds the token in `token`'s slot. By slot, not by serial: two tokens of one
 * module may share a serial number (NSS softokn's two slots both say 0000000000000000).
 */
const includes = (tokens: readonly Token[], token: Token): boolean =>
  tokens.some((t) => t.slot.id === token.slot.id);

describe('Library', () => {
  test('getInfo and apiVersion describe the module', async () => {
    await using lib = await load();
    const info = await lib.getInfo();
    assert.ok([2, 3].includes(info.cryptokiVersion.major), `Cryptoki ${info.cryptokiVersion.major}`);
    assert.ok(info.manufacturerId.length > 0 && info.manufacturerId === info.manufacturerId.trim());
    assert.equal(typeof info.libraryDescription, 'string');
    assert.equal(info.libraryDescription, info.libraryDescription.trimEnd());
    assert.ok(Number.isInteger(info.libraryVersion.major) && Number.isInteger(info.libraryVersion.minor));
    assert.ok([2, 3].includes(lib.apiVersion.major), `API ${lib.apiVersion.major}`);
    assert.equal(lib.path, env.modulePath);
  });

  test('getSlots: slots with a token by default, every slot with tokenPresent: false', async () => {
    await using lib = await load();
    const present = await lib.getSlots();
    const all = await lib.getSlots({ tokenPresent: false });
    assert.ok(present.length >= 1);
    assert.ok(present.every((slot) => typeof slot.id === 'bigint'));
    const allIds = new Set(all.map((slot) => slot.id));
    assert.ok(
      present.every((slot) => allIds.has(slot.id)),
      'the present slots are among all slots',
    );
    for (const slot of present) {
      const info = await slot.getInfo();
      assert.ok((info.flags & SlotFlag.TOKEN_PRESENT) !== 0, 'a slot listed as present has its token');
      assert.equal(info.slotDescription, info.slotDescription.trimEnd());
    }
    const token = await lib.getToken({ tokenLabel: env.tokenLabel });
    assert.ok(present.some((slot) => slot.id === token.slot.id));
    await assert.rejects(lib.getSlots({ tokenPresent: 'yes' as unknown as boolean }), TypeError);
  });

  test('token info: label, flags, serial number and PIN lengths', async () => {
    await using lib = await load();
    const token = await lib.getToken({ tokenLabel: env.tokenLabel });
    const info = await token.getInfo();
    assert.equal(info.label, env.tokenLabel);
    assert.equal(token.label, env.tokenLabel);
    assert.ok(info.flags & TokenFlag.TOKEN_INITIALIZED);
    assert.ok(info.flags & TokenFlag.USER_PIN_INITIALIZED);
    assert.ok(info.serialNumber.length > 0 && info.serialNumber === info.serialNumber.trimEnd());
    if (info.minPinLength !== undefined && info.maxPinLength !== undefined) {
      assert.ok(info.minPinLength <= env.pin.length && env.pin.length <= info.maxPinLength);
    }
  });

  test('slot mechanisms and mechanism info; a made-up mechanism is refused by the module', async () => {
    await using lib = await load();
    const { slot } = await lib.getToken({ tokenLabel: env.tokenLabel });
    const mechanisms = await slot.getMechanisms();
    assert.ok(mechanisms.length > 0);
    for (const mechanism of mechanisms.slice(0, 10)) {
      const info = await slot.getMechanismInfo(mechanism);
      assert.ok(
        info.minKeySize <= info.maxKeySize || info.maxKeySize === 0,
        `key sizes of 0x${mechanism.toString(16)}`,
      );
      assert.equal(typeof info.flags, 'number');
    }
    await rejectsWithPkcs11(
      slot.getMechanismInfo(MADE_UP_MECHANISM),
      'C_GetMechanismInfo',
      'CKR_MECHANISM_INVALID',
    );
  });

  test('getTokens / getToken by label and by serial', async () => {
    await using lib = await load();
    const token = await lib.getToken({ tokenLabel: env.tokenLabel });
    assert.equal(token.label, env.tokenLabel);
    const again = await lib.getToken({ tokenLabel: env.tokenLabel, tokenSerial: token.serial });
    assert.equal(again.slot.id, token.slot.id);
    const bySerial = await lib.getTokens({ tokenSerial: token.serial });
    assert.ok(includes(bySerial, token));
    assert.ok(serials(bySerial).every((serial) => serial === token.serial));
    assert.deepEqual(
      serials(await lib.getTokens({ tokenLabel: env.tokenLabel, tokenSerial: token.serial })),
      [token.serial],
    );
    assert.deepEqual(await lib.getTokens({ tokenLabel: `${env.tokenLabel} (no such token)` }), []);
    assert.deepEqual(
      await lib.getTokens({ tokenLabel: env.tokenLabel, tokenSerial: `${token.serial}0` }),
      [],
    );
    await assert.rejects(lib.getToken({ tokenLabel: 'no such token' }), (error: Error) => {
      assert.ok(error instanceof NoSuchTokenError);
      assert.match(error.message, /no such token/);
      return true;
    });
    const everyToken = await lib.getTokens();
    if (everyToken.length > 1) await assert.rejects(lib.getToken(), MultipleTokensError);
  });

  test('getTokens by token flags and slot flags: set bits match, missing bits do not', async () => {
    await using lib = await load();
    const token = await lib.getToken({ tokenLabel: env.tokenLabel });
    const mine = (tokens: readonly Token[]) => includes(tokens, token);
    const initialised = TokenFlag.TOKEN_INITIALIZED;
    assert.ok((token.flags & initialised) !== 0);
    assert.ok(mine(await lib.getTokens({ tokenFlags: initialised | (token.flags & TokenFlag.RNG) })));
    const lacking = Object.values(TokenFlag).find((bit) => (token.flags & bit) === 0) as number;
    assert.equal(mine(await lib.getTokens({ tokenFlags: initialised | lacking })), false);

    const slotFlags = (await token.slot.getInfo()).flags;
    assert.ok(mine(await lib.getTokens({ slotFlags: SlotFlag.TOKEN_PRESENT })));
    const slotLacking = Object.values(SlotFlag).find((bit) => (slotFlags & bit) === 0);
    if (slotLacking !== undefined) assert.equal(mine(await lib.getTokens({ slotFlags: slotLacking })), false);
    await assert.rejects(lib.getTokens({ tokenFlags: -1 }), TypeError);
  });

  test('getTokens by mechanisms really filters: one it has matches, a made-up one does not', async () => {
    await using lib = await load();
    const token = await lib.getToken({ tokenLabel: env.tokenLabel });
    const has = await token.slot.getMechanisms();
    const some = has.slice(0, 3);
    const mine = (tokens: readonly Token[]) => includes(tokens, token);
    assert.ok(mine(await lib.getTokens({ mechanisms: some })));
    assert.deepEqual(serials(await lib.getTokens({ tokenLabel: env.tokenLabel, mechanisms: some })), [
      token.serial,
    ]);
    assert.ok(mine(await lib.getTokens({ mechanisms: [] })), 'no mechanism asked, no restriction');
    assert.equal(mine(await lib.getTokens({ mechanisms: [MADE_UP_MECHANISM] })), false);
    assert.deepEqual(
      await lib.getTokens({ tokenLabel: env.tokenLabel, mechanisms: [MADE_UP_MECHANISM] }),
      [],
    );
    assert.equal(
      mine(await lib.getTokens({ mechanisms: [...some, MADE_UP_MECHANISM] })),
      false,
      'all must be supported',
    );
    const missingStandard = [Mechanism.SHA256, Mechanism.AES_GCM, Mechanism.ECDSA].find(
      (m) => !has.includes(m),
    );
    if (missingStandard !== undefined)
      assert.equal(mine(await lib.getTokens({ mechanisms: [missingStandard] })), false);
    await assert.rejects(
      lib.getToken({ tokenLabel: env.tokenLabel, mechanisms: [MADE_UP_MECHANISM] }),
      (error: Error) => error instanceof NoSuchTokenError && /0x80007e57|2147515991/.test(error.message),
    );
    await assert.rejects(lib.getTokens({ mechanisms: 'CKM_SHA256' as unknown as number[] }), TypeError);
  });

  test('waitForSlotEvent is cancelled by an AbortSignal (or reports that the module has no events)', async () => {
    await using lib = await load();
    const reason = new Error('stop waiting');
    await assert.rejects(
      lib.waitForSlotEvent({ signal: AbortSignal.abort(reason) }),
      (error) => error === reason,
    );

    const controller = new AbortController();
    const started = Date.now();
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    setTimeout(() => controller.abort(reason), 150);
    try {
      await assert.rejects(
        lib.waitForSlotEvent({ signal: controller.signal, pollInterval: 20 }),
        (error: unknown) => {
          if (error instanceof Pkcs11Error) {
            // Modules without slot events say so at once.
            assert.equal(error.code, 'CKR_FUNCTION_NOT_SUPPORTED');
            assert.equal(error.fn, 'C_WaitForSlotEvent');
          } else {
            // Modules that answer CKR_NO_EVENT are polled until the abort.
            assert.equal(error, reason);
            assert.ok(Date.now() - started >= 140, 'the wait lasted until the abort');
            assert.ok(ticks >= 5, `the event loop kept running (${ticks} ticks)`);
          }
          return true;
        },
      );
    } finally {
      clearInterval(ticker);
    }
    assert.ok(Date.now() - started < 2000, 'the abort ended the wait promptly');
    await assert.rejects(lib.waitForSlotEvent({ pollInterval: 0 }), RangeError);
  });

  test('finalize: idempotent; the library, its tokens and sessions are unusable afterwards', async () => {
    assert.equal(moduleReferences(env.modulePath), 0, 'this test needs to hold the only reference');
    const lib = await load();
    const token = await lib.getToken({ tokenLabel: env.tokenLabel });
    const session = await token.open({ userPin: env.pin });
    await lib.finalize();
    await lib.finalize();
    for (const call of [
      () => lib.getSlots(),
      () => lib.getInfo(),
      () => token.getInfo(),
      () => token.open(),
    ]) {
      await rejectsWithPkcs11(call(), undefined, 'CKR_CRYPTOKI_NOT_INITIALIZED');
    }
    await rejectsWithPkcs11(session.generateRandom(4), 'C_GenerateRandom', 'CKR_CRYPTOKI_NOT_INITIALIZED');
    await session.close(); // the module closed every session when it was finalized: quietly done
    assert.equal(moduleReferences(env.modulePath), 0, 'the last holder let go of the module');

    // initialize -> finalize -> initialize in one process
    await using again = await load();
    assert.ok((await again.getSlots()).length > 0);
  });

  test('two holders of one module share its initialisation: finalizing one leaves the other working', async () => {
    assert.equal(moduleReferences(env.modulePath), 0, 'this test needs to hold the only references');
    const first = await load();
    // Another spelling of the same file shares the one initialisation.
    const second = await load(`${dirname(env.modulePath)}/./${basename(env.modulePath)}`);
    try {
      assert.equal(moduleReferences(env.modulePath), 2);
      const token = await second.getToken({ tokenLabel: env.tokenLabel });
      await using session = await token.open({ userPin: env.pin });
      await first.finalize();
      assert.equal(moduleReferences(env.modulePath), 1);
      await first.finalize(); // idempotent
      assert.equal(moduleReferences(env.modulePath), 1);
      await rejectsWithPkcs11(first.getSlots(), undefined, 'CKR_CRYPTOKI_NOT_INITIALIZED');
      assert.equal((await session.generateRandom(16)).length, 16);
      assert.equal((await session.getInfo()).state, SessionState.RO_USER_FUNCTIONS);
    } finally {
      await first.finalize();
      await second.finalize();
    }
    assert.equal(moduleReferences(env.modulePath), 0);
  });

  test('reinitialize: a fresh module state; old sessions are gone, new ones work', async () => {
    await using lib = await load();
    const before = await (await lib.getToken({ tokenLabel: env.tokenLabel })).open({ userPin: env.pin });
    assert.equal((await before.getInfo()).state, SessionState.RO_USER_FUNCTIONS);
    await lib.reinitialize();
    await assert.rejects(before.generateRandom(4), Pkcs11Error);
    const token = await lib.getToken({ tokenLabel: env.tokenLabel });
    await using after = await token.open();
    assert.equal(
      (await after.getInfo()).state,
      SessionState.RO_PUBLIC_SESSION,
      'the old login did not survive',
    );
    assert.equal((await after.generateRandom(4)).length, 4);
  });

  test(
    'several modules at once: OpenSC beside the module under test',
    { skip: !existsSync(OPENSC) && 'OpenSC is not installed' },
    async () => {
      if (env.modulePath === OPENSC) return;
      await using lib = await load();
      const opensc = await load(OPENSC);
      try {
        const info = await opensc.getInfo();
        assert.match(info.manufacturerId, /OpenSC/);
        const slots = await opensc.getSlots({ tokenPresent: false });
        assert.ok(Array.isArray(slots), 'OpenSC lists its readers (none without pcscd)');
        assert.notEqual(opensc.context.module, lib.context.module);
        const token = await lib.getToken({ tokenLabel: env.tokenLabel });
        await using session = await token.open({ userPin: env.pin });
        assert.equal((await session.digest('abc')).length, 32);
      } finally {
        await opensc.finalize();
      }
      assert.equal(moduleReferences(OPENSC), 0);
      const token = await lib.getToken({ tokenLabel: env.tokenLabel });
      await using session = await token.open();
      assert.equal((await session.generateRandom(8)).length, 8, 'the other module is unaffected');
    },
  );
});
