// The call trace: with `Library.load(path, { trace })` or PKCS11_TS_TRACE, every C call is logged
// with its arguments (PINs redacted, no buffer content, mechanism and attribute names instead of
// structs), its return code and its duration. The environment-variable form is checked in child
// processes, since it is read when a library is loaded.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Attribute, Library, Mechanism, Pkcs11Error } from '../../src/index.js';
import { CallLog, parseTraceLine, type TracedCall } from '../support/call-log.js';
import { testEnv } from '../support/env.js';
import { dataTemplate } from '../support/objects.js';
import { loadLibrary } from '../support/token.js';

const env = testEnv();
const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pkcs11-ts-trace-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * What an argument may look like in a trace line: a number in hex, NULL, a buffer's length, a
 * redacted PIN, a mechanism name, or a template's attribute names. Nothing else, so no value can
 * slip into a line.
 */
const ARGUMENT =
  /^(0x[0-9a-f]+|NULL|<\d+ bytes>|<secret>|CKM_\w+|\[(CKA_\w+|0x[0-9a-f]+)?( (CKA_\w+|0x[0-9a-f]+))*\])$/;

/** Asserts that every traced argument has one of the shapes of {@link ARGUMENT}. */
function assertArgumentsSafe(calls: readonly TracedCall[]): void {
  for (const call of calls) {
    for (const arg of call.args) assert.match(arg, ARGUMENT, `argument of ${call.line}`);
  }
}

describe('Library.load({ trace })', () => {
  test('logs each call with its arguments, return code and duration, secrets left out', async () => {
    const log = new CallLog();
    const lib = await loadLibrary({ trace: log.sink });
    const secretValue = Buffer.from('a value that must never be traced 5f3a9c');
    const secretLabel = 'label-that-must-not-be-traced-7d21';
    try {
      const token = await lib.getToken({ tokenLabel: env.tokenLabel });
      const wrongPin = `${env.pin}-wrong-2b7e`;
      await assert.rejects(
        token.open({ userPin: wrongPin }),
        (e: unknown) => e instanceof Pkcs11Error && e.code === 'CKR_PIN_INCORRECT',
      );
      await using session = await token.open({ userPin: env.pin, rw: true });
      const data = await session.createObject(dataTemplate(secretLabel, secretValue));
      assert.deepEqual(await data.get(Attribute.VALUE), secretValue);
      await session.findHandles({ [Attribute.LABEL]: secretLabel });
      await session.digest(secretValue, { mechanism: Mechanism.SHA256 });

      assert.deepEqual(log.malformed, [], 'every line has the documented shape');
      const calls = log.since();
      assertArgumentsSafe(calls);
      for (const call of calls) {
        assert.match(call.rv, /^CKR_\w+$/);
        assert.ok(call.ms >= 0 && Number.isFinite(call.ms));
        for (const secret of [
          env.pin,
          wrongPin,
          secretLabel,
          secretValue.toString('hex'),
          secretValue.toString('latin1'),
        ]) {
          assert.ok(!call.line.includes(secret), `a secret in ${call.line}`);
        }
      }

      const logins = calls.filter((c) => c.fn === 'C_Login');
      assert.deepEqual(
        logins.map((c) => [c.args.slice(2), c.rv]),
        [
          [['<secret>', '<secret>'], 'CKR_PIN_INCORRECT'],
          [['<secret>', '<secret>'], 'CKR_OK'],
        ],
      );
      const create = calls.find((c) => c.fn === 'C_CreateObject') as TracedCall;
      assert.equal(create.args[1], '[CKA_CLASS CKA_TOKEN CKA_LABEL CKA_VALUE]');
      assert.equal(create.args[2], '0x4');
      const find = calls.find((c) => c.fn === 'C_FindObjectsInit') as TracedCall;
      assert.equal(find.args[1], '[CKA_LABEL]');
      const digestInit = calls.find((c) => c.fn === 'C_DigestInit') as TracedCall;
      assert.equal(digestInit.args[1], 'CKM_SHA256');
      const digest = calls.filter((c) => c.fn === 'C_Digest').at(-1) as TracedCall;
      assert.equal(digest.args[1], `<${secretValue.byteLength} bytes>`);
      assert.equal(digest.rv, 'CKR_OK');
      for (const fn of [
        'C_GetSlotList',
        'C_GetTokenInfo',
        'C_OpenSession',
        'C_CloseSession',
        'C_GetAttributeValue',
      ]) {
        assert.ok(
          calls.some((c) => c.fn === fn),
          `${fn} is traced`,
        );
      }
    } finally {
      await lib.finalize();
    }
  });

  test('each library object has its own trace', async () => {
    const traced = new CallLog();
    const quiet = await loadLibrary({ trace: false });
    const loud = await loadLibrary({ trace: traced.sink });
    try {
      await quiet.getInfo();
      assert.deepEqual(traced.names(), []);
      await loud.getInfo();
      assert.deepEqual(traced.names(), ['C_GetInfo']);
    } finally {
      await quiet.finalize();
      await loud.finalize();
    }
  });

  test('a sink that throws does not fail the call it reports', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    const lib = await loadLibrary({
      trace: () => {
        throw new Error('the disk is full');
      },
    });
    try {
      await lib.getInfo();
      await lib.getSlots();
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(
        warnings.filter((w) => w.includes('the disk is full')).length,
        1,
        'one warning, not one per call',
      );
    } finally {
      process.off('warning', onWarning);
      await lib.finalize();
    }
  });

  test('a trace option of another type is a TypeError', async () => {
    for (const trace of ['yes', 1, {}, null]) {
      await assert.rejects(Library.load(env.modulePath, { trace: trace as never }), TypeError);
    }
  });
});

/** What a child process printed, running a few calls with `PKCS11_TS_TRACE` and the trace option given. */
async function child(
  trace: string | undefined,
  option: 'true' | 'false' | 'none',
): Promise<{ stderr: string }> {
  const source = pathToFileURL(join(root, 'src/index.ts')).href;
  const script = `
    const { Library } = await import(${JSON.stringify(source)});
    const option = process.env.TRACE_OPTION;
    const lib = await Library.load(process.env.PKCS11_MODULE, {
      initReserved: process.env.PKCS11_INIT_RESERVED || undefined,
      ...(option === 'none' ? {} : { trace: option === 'true' }),
    });
    const token = await lib.getToken({ tokenLabel: process.env.PKCS11_TOKEN_LABEL });
    const session = await token.open({ userPin: process.env.PKCS11_PIN });
    await session.generateRandom(8);
    await session.close();
    await lib.finalize();
  `;
  const childEnv: NodeJS.ProcessEnv = { ...process.env, TRACE_OPTION: option };
  delete childEnv.PKCS11_TS_TRACE;
  if (trace !== undefined) childEnv.PKCS11_TS_TRACE = trace;
  const run = promisify(execFile);
  const { stderr } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    env: childEnv,
  });
  return { stderr };
}

/** The trace lines in a child's standard error (prefixed `pkcs11-ts: `), parsed. */
function stderrCalls(stderr: string): TracedCall[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('pkcs11-ts: C_'))
    .map((line) => parseTraceLine(line.slice('pkcs11-ts: '.length)) as TracedCall);
}

function fileCalls(path: string): TracedCall[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const call = parseTraceLine(line);
      assert.ok(call, `a trace line: ${line}`);
      return call;
    });
}

describe('PKCS11_TS_TRACE', () => {
  test('a path: each process appends its calls to the file', async () => {
    const file = join(dir, 'calls.log');
    await child(file, 'none');
    const first = fileCalls(file);
    assert.ok(first.some((c) => c.fn === 'C_GenerateRandom' && c.rv === 'CKR_OK'));
    assert.ok(first.some((c) => c.fn === 'C_Login' && c.args[2] === '<secret>'));
    assertArgumentsSafe(first);
    assert.ok(!readFileSync(file, 'utf8').includes(env.pin), 'no PIN in the file');
    await child(file, 'none');
    const both = fileCalls(file);
    assert.equal(both.length, first.length * 2, 'the second run appended');
    assert.deepEqual(
      both.slice(first.length).map((c) => c.fn),
      first.map((c) => c.fn),
    );
  });

  test('1: standard error, one prefixed line per call', async () => {
    const { stderr } = await child('1', 'none');
    const calls = stderrCalls(stderr);
    assert.ok(calls.length > 0);
    assert.ok(calls.every(Boolean), 'every prefixed line parses');
    assert.ok(calls.some((c) => c.fn === 'C_GenerateRandom'));
  });

  test('unset or 0: nothing', async () => {
    assert.deepEqual(stderrCalls((await child(undefined, 'none')).stderr), []);
    assert.deepEqual(stderrCalls((await child('0', 'none')).stderr), []);
  });

  test('the trace option wins over the variable', async () => {
    const file = join(dir, 'never.log');
    await child(file, 'false');
    assert.equal(existsSync(file), false, 'trace: false writes nothing');
    const { stderr } = await child(file, 'true');
    assert.ok(
      stderrCalls(stderr).some((c) => c.fn === 'C_GenerateRandom'),
      'trace: true writes to standard error',
    );
    assert.equal(existsSync(file), false);
  });
});
