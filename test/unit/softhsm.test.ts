// The SoftHSM2 provisioning that every test run and the demo stand on, checked with softhsm2-util itself.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, constants, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect, promisify } from 'node:util';
import {
  applyEnv,
  ensureSoftHsm,
  findSoftHsm,
  provisionPersistentToken,
  provisionToken,
} from '../../src/softhsm/index.js';

const found = await findSoftHsm();
const skip =
  found === undefined && process.env.PKCS11_MODULE
    ? 'SoftHSM2 is absent and another module is configured'
    : false;

/** `softhsm2-util --show-slots` for one configuration, run independently of the code under test. */
async function showSlots(confPath: string): Promise<string> {
  const { utilPath } = await ensureSoftHsm();
  const { stdout } = await promisify(execFile)(utilPath, ['--show-slots'], {
    env: { ...process.env, SOFTHSM2_CONF: confPath },
  });
  return stdout;
}

/** How many tokens in that listing carry this label. */
function countLabel(slots: string, label: string): number {
  return slots.split('\n').filter((line) => /^\s*Label:\s+(.*?)\s*$/.exec(line)?.[1] === label).length;
}

/** A fresh scratch directory for one test. */
function scratch(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'pkcs11-ts-unit-'));
}

describe('SoftHSM2 provisioning', { skip }, () => {
  test('ensureSoftHsm finds a readable module and an executable softhsm2-util', async () => {
    const { modulePath, utilPath } = await ensureSoftHsm();
    assert.match(modulePath, /libsofthsm2\.so$/);
    await access(modulePath, constants.R_OK);
    await access(utilPath, constants.X_OK);
  });

  test('provisionToken writes its own conf, initialises the token and removes it on dispose', async () => {
    const pin = 'pin-Qx7#';
    const soPin = 'so-pin-Zw3$';
    const token = await provisionToken({ label: 'unit softhsm', pin, soPin });
    try {
      assert.ok(token.dir.startsWith(tmpdir()), token.dir);
      assert.equal(token.confPath, join(token.dir, 'softhsm2.conf'));
      const conf = (await readFile(token.confPath, 'utf8')).split('\n');
      assert.ok(conf.includes(`directories.tokendir = ${join(token.dir, 'tokens')}`), conf.join('\n'));
      assert.ok(conf.includes('objectstore.backend = file'));
      assert.ok(conf.includes('log.level = ERROR'));

      const slots = await showSlots(token.confPath);
      assert.equal(countLabel(slots, 'unit softhsm'), 1, slots);
      assert.match(token.serial, /^[0-9a-f]{16}$/);
      assert.match(slots, new RegExp(`Serial number:\\s+${token.serial}\\s*$`, 'm'));

      assert.equal(token.tokenLabel, 'unit softhsm');
      assert.equal(token.created, true);
      assert.equal(token.pin, pin);
      assert.equal(token.soPin, soPin);
      assert.deepEqual(token.env, {
        SOFTHSM2_CONF: token.confPath,
        PKCS11_MODULE: (await ensureSoftHsm()).modulePath,
        PKCS11_TOKEN_LABEL: 'unit softhsm',
        PKCS11_PIN: pin,
        PKCS11_SO_PIN: soPin,
      });
      for (const shown of [inspect(token, { showHidden: true, depth: 5 }), JSON.stringify(token)]) {
        assert.ok(!shown.includes(pin) && !shown.includes(soPin), 'a PIN is visible');
      }
    } finally {
      await token.dispose();
    }
    await assert.rejects(access(token.dir), { code: 'ENOENT' });
    await token.dispose(); // idempotent
  });

  test('`await using` removes the token directory at the end of the block', async () => {
    let dir: string;
    {
      await using token = await provisionToken();
      dir = token.dir;
      await access(join(dir, 'softhsm2.conf'));
    }
    await assert.rejects(access(dir), { code: 'ENOENT' });
  });

  test('provisionToken uses a given dir, and refuses one that is not empty', async () => {
    const base = await scratch();
    try {
      const dir = join(base, 'token');
      const token = await provisionToken({ dir });
      assert.equal(token.dir, dir);
      assert.equal(countLabel(await showSlots(token.confPath), 'pkcs11-ts'), 1);
      await token.dispose();
      await assert.rejects(access(dir), { code: 'ENOENT' });

      const busy = join(base, 'busy');
      await mkdir(busy);
      await writeFile(join(busy, 'keep.txt'), 'mine');
      await assert.rejects(provisionToken({ dir: busy }), /dir must be empty/);
      assert.equal(await readFile(join(busy, 'keep.txt'), 'utf8'), 'mine');
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  test('bad options are refused with TypeError or RangeError, never echoing a PIN', async () => {
    await assert.rejects(provisionToken({ label: '' }), { name: 'RangeError', message: /label/ });
    await assert.rejects(provisionToken({ label: 'x'.repeat(33) }), { name: 'RangeError', message: /label/ });
    await assert.rejects(provisionToken({ label: 42 as unknown as string }), { name: 'TypeError' });
    await assert.rejects(provisionToken({ pin: 'abc' }), (error: Error) => {
      assert.equal(error.name, 'RangeError');
      assert.match(error.message, /^pin /);
      assert.ok(!error.message.includes('abc'));
      return true;
    });
    await assert.rejects(provisionToken({ soPin: 'ab\0cdefg' }), { name: 'RangeError', message: /soPin/ });
    await assert.rejects(provisionToken({ dir: '' }), { name: 'RangeError', message: /dir/ });
    await assert.rejects(provisionPersistentToken(''), { name: 'RangeError', message: /cacheDir/ });
    await assert.rejects(provisionPersistentToken(7 as unknown as string), { name: 'TypeError' });
  });

  test('provisionPersistentToken is idempotent and keeps its directory', async () => {
    const cacheDir = await scratch();
    try {
      const first = await provisionPersistentToken(cacheDir, { label: 'persist' });
      assert.equal(first.created, true);
      const second = await provisionPersistentToken(cacheDir, { label: 'persist' });
      assert.equal(second.created, false);
      assert.equal(second.serial, first.serial);
      assert.equal(countLabel(await showSlots(second.confPath), 'persist'), 1);

      await second.dispose();
      await access(second.confPath);
      assert.equal(countLabel(await showSlots(second.confPath), 'persist'), 1);

      const other = await provisionPersistentToken(cacheDir, { label: 'another' });
      assert.equal(other.created, true);
      assert.notEqual(other.serial, first.serial);
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  });

  test('applyEnv points process.env at the token and its restore puts the old values back', async () => {
    await using token = await provisionToken({ label: 'env' });
    const names = Object.keys(token.env) as (keyof typeof token.env)[];
    const before = names.map((name) => process.env[name]);
    const restore = applyEnv(token);
    try {
      for (const name of names) assert.equal(process.env[name], token.env[name]);
    } finally {
      restore();
    }
    assert.deepEqual(
      names.map((name) => process.env[name]),
      before,
    );
  });
});
