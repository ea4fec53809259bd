/**
 * `p11` against the test token: what the module and token say (info, slots, tokens, mechanisms,
 * objects, random), as tables and as JSON, and how failures are reported (one line naming the C
 * function and CKR code, exit codes, the stack only with --debug).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testEnv } from '../support/env.js';
import { p11, p11Json, removeObjects } from './run.js';

const env = testEnv();
const PREFIX = 'cli-basics-';

after(() => removeObjects(PREFIX));

describe('p11: module and token', () => {
  test('info, slots, tokens and mechanisms, as JSON and as tables', async () => {
    const [info, slots, tokens, mechanisms, table] = await Promise.all([
      p11Json<{ module: string; cryptokiVersion: string; manufacturer: string }>(['info']),
      p11Json<{ id: string; flags: string[]; token: { label: string } | null }[]>(['slots']),
      p11Json<{ label: string; serial: string; flags: string[]; pinLength: { min: number } }[]>(['tokens']),
      p11Json<{ name: string; flags: string[] }[]>(['mechanisms']),
      p11(['tokens']),
    ]);
    assert.equal(info.module, env.modulePath);
    assert.match(info.cryptokiVersion, /^\d+\.\d+$/);
    const ours = tokens.find((t) => t.label === env.tokenLabel);
    assert.ok(ours, `the test token is listed: ${JSON.stringify(tokens)}`);
    assert.ok(ours.flags.includes('CKF_TOKEN_INITIALIZED'));
    assert.ok(slots.some((slot) => slot.token?.label === env.tokenLabel));
    assert.ok(mechanisms.length > 0);
    assert.ok(mechanisms.every((m) => m.name.startsWith('CKM_') || m.name.startsWith('0x')));
    assert.equal(table.code, 0);
    assert.match(table.stdout, /^SLOT\s+LABEL\s+SERIAL/);
    assert.ok(table.stdout.includes(ours.serial));
  });

  test('objects lists what keygen made, filtered by label and class', async () => {
    const label = `${PREFIX}aes`;
    const made = await p11Json<{ id: string }>(['keygen', 'aes:128', '--label', label]);
    const listed = await p11Json<
      { class: string; label: string; id: string; bits: number; flags: Record<string, boolean> }[]
    >(['objects', '--label', label]);
    assert.equal(listed.length, 1);
    assert.deepEqual(
      {
        class: listed[0]!.class,
        id: listed[0]!.id,
        bits: listed[0]!.bits,
        sensitive: listed[0]!.flags.sensitive,
      },
      { class: 'CKO_SECRET_KEY', id: made.id, bits: 128, sensitive: true },
    );
    assert.deepEqual(await p11Json(['objects', '--label', label, '--class', 'public']), []);
    const table = await p11(['objects', '--label', label]);
    assert.match(table.stdout, /^CLASS\s+TYPE\s+SIZE\s+LABEL/);
    assert.match(table.stdout, new RegExp(`secret_key\\s+aes\\s+128\\s+${label}\\s+${made.id}`));
  });

  test('random gives the bytes asked for, in every encoding', async () => {
    const [json, hex, raw] = await Promise.all([
      p11Json<{ random: string }>(['random', '32']),
      p11(['random', '16', '--encoding', 'hex']),
      p11(['random', '24']),
    ]);
    assert.match(json.random, /^[0-9a-f]{64}$/);
    assert.match(hex.stdout, /^[0-9a-f]{32}\n$/);
    assert.equal(Buffer.byteLength(raw.stdout, 'latin1') > 0, true);
    assert.equal((await p11(['random', '0'])).code, 2);
  });
});

describe('p11: failures', () => {
  test('a token error is one line naming the C function and the CKR code, without a stack', async () => {
    const run = await p11(['objects', '--login'], { env: { PKCS11_PIN: 'not-the-pin' } });
    assert.equal(run.code, 1);
    assert.equal(run.stderr, 'p11: C_Login: CKR_PIN_INCORRECT (0xa0)\n');
    assert.equal(run.stdout, '');
  });

  test('--json adds an error document; --debug adds the stack', async () => {
    const run = await p11(['objects', '--json', '--debug'], { env: { PKCS11_PIN: 'not-the-pin' } });
    assert.equal(run.code, 1);
    assert.deepEqual(run.json(), {
      error: {
        name: 'Pkcs11Error',
        message: 'C_Login: CKR_PIN_INCORRECT (0xa0)',
        fn: 'C_Login',
        code: 'CKR_PIN_INCORRECT',
        rv: 0xa0,
      },
    });
    assert.match(run.stderr, /^p11: C_Login: CKR_PIN_INCORRECT \(0xa0\)\nPkcs11Error: .*\n\s+at /);
  });

  test('usage mistakes exit with 2 and say what is wrong', async () => {
    const [unknown, missing, noKey, badSpec] = await Promise.all([
      p11(['tokens', '--no-such-option']),
      p11(['sign', '--in', '-']),
      p11(['export', '--label', `${PREFIX}absent`]),
      p11(['keygen', 'dsa:1024']),
    ]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^p11: unknown option '--no-such-option'/);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /choose the signing key with --label or --id/);
    assert.equal(noKey.code, 1);
    assert.equal(
      noKey.stderr,
      `p11: no public key or private key with label "${PREFIX}absent" on the token\n`,
    );
    assert.equal(badSpec.code, 2);
    assert.match(badSpec.stderr, /unknown key spec "dsa:1024"/);
  });

  test('a module that cannot be loaded is reported as such', async () => {
    const run = await p11(['info'], { env: { PKCS11_MODULE: '/nonexistent/module.so' } });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^p11: .*\/nonexistent\/module\.so/);
    assert.equal(run.stderr.split('\n').length, 2, 'one line');
  });
});
