/**
 * PINs and `p11`: no command ever prints one (stdout and stderr of every command, failed logins,
 * `--pin` on the command line, `--trace`, `--debug` and `--json` included); init-token, init-pin
 * and change-pin; and the built-in default token, whose PIN is shown once when it is created.
 *
 * These run on SoftHSM2 tokens of their own, with PINs that cannot turn up by chance in hex or
 * base64 output, so that a PIN found in the output is a leak. Skipped without SoftHSM2.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SoftHsmToken, findSoftHsm, provisionToken } from '../../src/softhsm/index.js';
import { type Run, type RunOptions, p11, p11CommandLine, scratchDirectory } from './run.js';

const USER_PIN = 'user-Pin-7c1e9a';
const SO_PIN = 'so-Pin-4d2b83';
const WRONG_PIN = 'wrong-Pin-5e60f1';
const NEW_PIN = 'new-Pin-a83d27';
const NEW_SO_PIN = 'new-So-Pin-19bc4e';
const SECRETS = [USER_PIN, SO_PIN, WRONG_PIN, NEW_PIN, NEW_SO_PIN];

const softhsm = await findSoftHsm();
const skip = softhsm ? false : 'SoftHSM2 is not installed';
/** util-linux's `script` runs a program on a pseudo-terminal, as a person would. */
const hasScript = spawnSync('script', ['--version']).status === 0;

/** A shell word for `text`. */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs `p11 ARGS` on a pseudo-terminal (through `script`), answering each prompt that matches
 * (in order) once it appears, and returns everything the terminal showed.
 */
function onTerminal(
  args: readonly string[],
  env: RunOptions['env'],
  answers: readonly [RegExp, string][],
): Promise<string> {
  const merged: Record<string, string | undefined> = { ...process.env, ...env };
  for (const [name, value] of Object.entries(merged)) if (value === undefined) delete merged[name];
  const line = p11CommandLine(args).map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', line, '/dev/null'], {
      env: merged,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    let next = 0;
    let seen = 0;
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      screen += text;
      const answer = answers[next];
      if (answer && answer[0].test(screen.slice(seen))) {
        seen = screen.length;
        next++;
        child.stdin.write(answer[1]);
      }
    });
    child.on('error', reject);
    child.on('close', () => resolve(screen));
    setTimeout(() => child.kill(), 15_000).unref();
  });
}

/** Asserts that `run` printed none of the PINs, on either stream. */
function printsNoPin(args: readonly string[], run: Run): Run {
  for (const secret of SECRETS) {
    assert.ok(!run.stdout.includes(secret), `p11 ${args.join(' ')} printed a PIN on stdout`);
    assert.ok(!run.stderr.includes(secret), `p11 ${args.join(' ')} printed a PIN on stderr`);
  }
  return run;
}

describe('p11 and PINs', { skip }, () => {
  let token: SoftHsmToken;
  const dir = scratchDirectory('p11-pins');
  const file = (name: string) => join(dir, name);

  before(async () => {
    token = await provisionToken({ label: 'cli pins', pin: USER_PIN, soPin: SO_PIN });
    writeFileSync(file('data'), 'data');
    const peer = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(file('peer.pem'), peer.publicKey.export({ format: 'pem', type: 'spki' }));
    writeFileSync(file('import.pem'), peer.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  });
  after(() => token?.dispose());

  /** Runs p11 on this file's token (its env, `more` on top) and checks no PIN was printed. */
  async function run(args: readonly string[], more: RunOptions['env'] = {}): Promise<Run> {
    const env = { ...token.env, PKCS11_INIT_RESERVED: undefined, PKCS11_NEW_PIN: undefined, ...more };
    return printsNoPin(args, await p11(args, { env }));
  }

  /** `run`, which must succeed. */
  async function ok(args: readonly string[], more: RunOptions['env'] = {}): Promise<Run> {
    const result = await run(args, more);
    assert.equal(result.code, 0, `p11 ${args.join(' ')}: ${result.stderr}`);
    return result;
  }

  test('no command prints a PIN, whatever it does', async () => {
    const commands = [
      ['info'],
      ['slots'],
      ['tokens', '--json'],
      ['mechanisms'],
      ['keygen', 'ec:P-256', '--label', 'k', '--id', '01', '--trace'],
      ['keygen', 'aes:256', '--label', 's', '--id', '02'],
      ['objects', '--trace', '--json'],
      ['export', '--id', '01', '--format', 'jwk'],
      ['sign', '--id', '01', '--in', file('data'), '--out', file('sig'), '--trace'],
      ['verify', '--id', '01', '--in', file('data'), '--signature', file('sig')],
      ['encrypt', '--id', '02', '--in', file('data'), '--out', file('ct')],
      ['decrypt', '--id', '02', '--in', file('ct'), '--json'],
      ['derive', '--id', '01', '--peer', file('peer.pem'), '--out', '-', '--encoding', 'base64'],
      ['csr', '--id', '01', '--subject', 'CN=pins'],
      ['selfsign', '--id', '01', '--subject', 'CN=pins', '--store', '--json'],
      ['import', file('import.pem'), '--label', 'imported'],
      ['random', '64', '--encoding', 'base64'],
      ['encrypt-file', file('data'), file('data.p11'), '--id', '01', '--trace'],
      ['file-info', file('data.p11'), '--json'],
      ['decrypt-file', file('data.p11'), file('data.out'), '--debug'],
      ['delete', '--id', '02', '--yes', '--json'],
    ];
    for (const args of commands) await ok(args);
  });

  test('nor do failed logins, PINs on the command line, --debug and --json', async () => {
    const wrong = await run(['objects', '--login', '--debug', '--json', '--trace'], {
      PKCS11_PIN: WRONG_PIN,
    });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /p11: C_Login: CKR_PIN_INCORRECT \(0xa0\)/);
    assert.match(wrong.stderr, /C_Login\(0x[0-9a-f]+, 0x1, <secret>, <secret>\) = CKR_PIN_INCORRECT/);

    const flag = await run(
      ['sign', '--id', '01', '--in', file('data'), '--pin', WRONG_PIN, '--debug', '--json'],
      {
        PKCS11_PIN: undefined,
      },
    );
    assert.equal(flag.code, 1);
    assert.match(flag.stderr, /^p11: warning: --pin on the command line can be read by other users/);
    assert.equal(flag.json<{ error: { code: string } }>().error.code, 'CKR_PIN_INCORRECT');

    const good = await run(['objects', '--pin', USER_PIN, '--json'], { PKCS11_PIN: undefined });
    assert.equal(good.code, 0);
    assert.ok(good.json<unknown[]>().length > 0, 'logged in with the PIN from the command line');

    const so = await run(['init-pin', '--so-pin', WRONG_PIN, '--new-pin', NEW_PIN, '--debug'], {
      PKCS11_SO_PIN: undefined,
    });
    assert.equal(so.code, 1);
    assert.match(so.stderr, /p11: C_Login: CKR_PIN_INCORRECT/);

    const typo = await run(['tokens', `--pni=${USER_PIN}`]);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown option '--pni=<redacted>'/);
    const noPin = await run(['objects', '--login'], { PKCS11_PIN: undefined });
    assert.equal(noPin.code, 2);
    assert.match(
      noPin.stderr,
      /^p11: no User PIN: set PKCS11_PIN, pass --pin, or run on a terminal to be asked\n$/,
    );
  });

  test('on a terminal the PIN is asked for without echo, and deleting asks for confirmation', async (t) => {
    if (!hasScript) return t.skip('util-linux script is not installed');
    const env = { ...token.env, PKCS11_PIN: undefined, PKCS11_INIT_RESERVED: undefined };
    const listed = await onTerminal(['objects', '--login', '--class', 'private'], env, [
      [/User PIN for token "cli pins": /, `${USER_PIN}\r`],
    ]);
    assert.ok(!listed.includes(USER_PIN), `the PIN was echoed: ${listed}`);
    assert.match(listed, /private_key\s+ec\s+secp256r1\s+k\s+01/);
    const kept = await onTerminal(['delete', '--label', 'imported'], env, [
      [/User PIN[^:]*: /, `${USER_PIN}\r`],
      [/Delete these 2 objects\? \[y\/N\] /, 'n\r'],
    ]);
    assert.match(kept, /p11: nothing was changed/);
    assert.ok(!kept.includes(USER_PIN));
    const wrong = await onTerminal(['objects', '--login'], env, [[/User PIN[^:]*: /, `${WRONG_PIN}\r`]]);
    assert.match(wrong, /p11: C_Login: CKR_PIN_INCORRECT/);
    assert.ok(!wrong.includes(WRONG_PIN));
  });

  test('init-token, init-pin and change-pin, on the empty slot', async () => {
    const slots = JSON.parse((await ok(['slots', '--json'])).stdout) as {
      id: string;
      token: { initialized: boolean } | null;
    }[];
    const empty = slots.find((slot) => slot.token && !slot.token.initialized);
    assert.ok(empty, 'SoftHSM2 keeps one empty slot');
    const refused = await run(['init-token', '--slot', empty.id, '--label', 'second']);
    assert.equal(refused.code, 2, 'init-token wants --yes without a terminal');
    await ok(['init-token', '--slot', empty.id, '--label', 'second', '--yes']);
    const second = { PKCS11_TOKEN_LABEL: 'second' };
    await ok(['init-pin'], { ...second, PKCS11_NEW_PIN: NEW_PIN });
    assert.equal(
      (await ok(['objects', '--login', '--json'], { ...second, PKCS11_PIN: NEW_PIN })).stdout.trim(),
      '[]',
    );
    await ok(['change-pin'], { ...second, PKCS11_PIN: NEW_PIN, PKCS11_NEW_PIN: USER_PIN });
    await ok(['change-pin', '--so'], { ...second, PKCS11_NEW_PIN: NEW_SO_PIN });
    assert.equal(
      (await run(['objects', '--login'], { ...second, PKCS11_PIN: NEW_PIN })).code,
      1,
      'the old PIN is gone',
    );
    await ok(['objects', '--login'], { ...second, PKCS11_PIN: USER_PIN });
    const oldSo = await run(['init-pin'], { ...second, PKCS11_NEW_PIN: NEW_PIN });
    assert.match(oldSo.stderr, /CKR_PIN_INCORRECT/, 'the old SO PIN is gone');
    await ok(['init-pin'], { ...second, PKCS11_SO_PIN: NEW_SO_PIN, PKCS11_NEW_PIN: NEW_PIN });
  });
});

describe('p11 without a module: the built-in token', { skip }, () => {
  test('is created on first use, its PIN shown once, then used with that PIN', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'p11-cache-'));
    after(() => rmSync(cache, { recursive: true, force: true }));
    const env = {
      XDG_CACHE_HOME: cache,
      PKCS11_MODULE: undefined,
      PKCS11_TOKEN_LABEL: undefined,
      PKCS11_PIN: undefined,
      PKCS11_SO_PIN: undefined,
      PKCS11_INIT_RESERVED: undefined,
      SOFTHSM2_CONF: undefined,
    };
    const first = await p11(['keygen', 'ec:P-256', '--label', 'first', '--json'], { env });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /built-in SoftHSM2 token "pkcs11-ts default" was created in /);
    const pin = /its user PIN is (\S+) \(shown only this once/.exec(first.stderr)?.[1];
    assert.ok(pin, first.stderr);
    const second = await p11(['objects', '--json'], { env });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stderr, '', 'the PIN is shown once');
    assert.ok(!second.stdout.includes(pin));
    const objects = second.json<{ class: string; label: string }[]>();
    assert.ok(
      objects.some((o) => o.class === 'CKO_PRIVATE_KEY' && o.label === 'first'),
      'logged in with the remembered PIN',
    );
    const refused = await p11(['change-pin'], { env });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /the built-in token's PINs are managed by pkcs11-ts/);
  });
});
