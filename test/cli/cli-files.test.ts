/**
 * `p11 encrypt-file` / `decrypt-file` / `file-info` against the test token: round trips with RSA
 * and EC keys, and the failures that must leave nothing behind: a tampered byte, a truncated
 * file, the wrong key, an existing output.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Mechanism } from '../../src/sys/constants.js';
import { lacking, p11, p11Json, removeObjects, scratchDirectory, tokenMechanisms } from './run.js';

const PREFIX = 'cli-files-';
const dir = scratchDirectory('p11-files');
const CHUNK = 1024;
/** A plaintext of several chunks and a partial last one. */
const plaintext = crypto.randomBytes(5 * CHUNK + 123);
const input = join(dir, 'plain.bin');
writeFileSync(input, plaintext);

let mechanisms: Set<number>;
before(async () => {
  mechanisms = await tokenMechanisms();
});
after(() => removeObjects(PREFIX));

interface FileJson {
  readonly output: string;
  readonly protection: string;
  readonly keyId: string;
  readonly chunkSize: number;
}

/** The files in the scratch directory, to check that a failure left nothing behind. */
function listing(): string[] {
  return readdirSync(dir).sort();
}

/** A copy of `source` changed by `change`, written next to it. */
function variant(source: string, name: string, change: (bytes: Buffer) => Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, change(Buffer.from(readFileSync(source))));
  return path;
}

/** Runs decrypt-file expecting a failure; checks that no output (or temporary file) appeared. */
async function failsToDecrypt(file: string, ...more: string[]): Promise<string> {
  const before = listing();
  const run = await p11(['decrypt-file', file, join(dir, 'must-not-exist'), ...more]);
  assert.equal(run.code, 1, run.stderr);
  assert.deepEqual(listing(), before, 'nothing was written');
  assert.equal(run.stderr.split('\n').length, 2, `one line: ${run.stderr}`);
  return run.stderr;
}

describe('p11 encrypt-file and decrypt-file', () => {
  test('RSA-OAEP: round trip, the header names the key, the key is found by it', async (t) => {
    if (lacking(t, mechanisms, Mechanism.RSA_PKCS_KEY_PAIR_GEN, Mechanism.RSA_PKCS_OAEP)) return;
    await p11Json(['keygen', 'rsa:2048', '--label', `${PREFIX}rsa`, '--id', 'f11e01']);
    const sealed = await p11Json<FileJson>([
      'encrypt-file',
      input,
      '--label',
      `${PREFIX}rsa`,
      '--chunk-size',
      String(CHUNK),
    ]);
    assert.deepEqual(
      [sealed.output, sealed.protection, sealed.keyId, sealed.chunkSize],
      [`${input}.p11`, 'RSA-OAEP-SHA1', 'f11e01', CHUNK],
    );
    const info = await p11Json<{ protection: string; keyId: string; cipher: string }>([
      'file-info',
      sealed.output,
    ]);
    assert.deepEqual([info.protection, info.keyId, info.cipher], ['RSA-OAEP-SHA1', 'f11e01', 'AES-256-GCM']);
    const size = readFileSync(sealed.output).length;
    assert.ok(size > plaintext.length + 6 * 16 && size < plaintext.length + 1024, `size ${size}`);
    const out = join(dir, 'rsa.out');
    const opened = await p11(['decrypt-file', sealed.output, out]);
    assert.equal(opened.code, 0, opened.stderr);
    assert.equal(opened.stdout, `decrypted ${sealed.output} to ${out}\n`);
    assert.deepEqual(readFileSync(out), plaintext);
  });

  test('ECDH: round trip with an ephemeral key, the file key unwrapped through the token', async (t) => {
    if (lacking(t, mechanisms, Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDH1_DERIVE)) return;
    await p11Json(['keygen', 'ec:P-384', '--label', `${PREFIX}ec`, '--id', 'f11e02']);
    const target = join(dir, 'ec.p11');
    const sealed = await p11Json<FileJson>(['encrypt-file', input, target, '--id', 'f11e02']);
    assert.equal(sealed.protection, 'ECDH-HKDF-SHA256-A256KW');
    const out = join(dir, 'ec.out');
    assert.equal((await p11(['decrypt-file', target, out])).code, 0);
    assert.deepEqual(readFileSync(out), plaintext);
  });

  test('a tampered byte, a cut-off end or another key fail with a clear message and leave nothing behind', async (t) => {
    if (lacking(t, mechanisms, Mechanism.RSA_PKCS_KEY_PAIR_GEN, Mechanism.RSA_PKCS_OAEP)) return;
    const sealed = `${input}.p11`;
    assert.ok(existsSync(sealed), 'made by the RSA test');
    const { headerBytes } = await p11Json<{ headerBytes: number }>(['file-info', sealed]);
    const record = CHUNK + 16;

    const flipped = variant(sealed, 'flipped.p11', (b) => {
      b[headerBytes + 2 * record + 5]! ^= 0x01;
      return b;
    });
    assert.match(await failsToDecrypt(flipped), /^p11: chunk 2 failed authentication/);

    const header = variant(sealed, 'header.p11', (b) => {
      b[headerBytes - 1]! ^= 0x80; // a byte of the wrapped key
      return b;
    });
    assert.match(await failsToDecrypt(header), /^p11: the file key could not be unwrapped with this key/);

    const atBoundary = variant(sealed, 'cut.p11', (b) => b.subarray(0, headerBytes + 3 * record));
    assert.equal(
      await failsToDecrypt(atBoundary),
      'p11: the file ends after chunk 2, before its final chunk: truncated\n',
    );
    const midChunk = variant(sealed, 'cut2.p11', (b) => b.subarray(0, b.length - 40));
    assert.match(await failsToDecrypt(midChunk), /^p11: chunk 5 failed authentication: .*cut short/);
    const headerOnly = variant(sealed, 'cut3.p11', (b) => b.subarray(0, headerBytes));
    assert.match(await failsToDecrypt(headerOnly), /^p11: the file ends before its first chunk: truncated/);
    const appended = variant(sealed, 'longer.p11', (b) => Buffer.concat([b, Buffer.alloc(CHUNK + 16)]));
    assert.match(await failsToDecrypt(appended), /failed authentication/);

    await p11Json(['keygen', 'rsa:2048', '--label', `${PREFIX}other`, '--id', 'f11e03']);
    assert.match(
      await failsToDecrypt(sealed, '--id', 'f11e03'),
      /^p11: the file key could not be unwrapped with this key: C_Decrypt: CKR_/,
    );
    if (mechanisms.has(Mechanism.EC_KEY_PAIR_GEN)) {
      await p11Json(['keygen', 'ec:P-256', '--label', `${PREFIX}ec-other`, '--id', 'f11e04']);
      assert.match(
        await failsToDecrypt(sealed, '--id', 'f11e04'),
        /^p11: the file key could not be unwrapped with this key: the file is for a CKK_RSA key, this is a CKK_EC key/,
      );
    }
    assert.match(await failsToDecrypt(input), /^p11: not a file encrypted by p11 encrypt-file/);
  });

  test('an existing output is kept unless --force', async (t) => {
    if (lacking(t, mechanisms, Mechanism.RSA_PKCS_OAEP)) return;
    const sealed = `${input}.p11`;
    const out = join(dir, 'existing.out');
    writeFileSync(out, 'keep me');
    const refused = await p11(['decrypt-file', sealed, out]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /exists: pass --force/);
    assert.equal(readFileSync(out, 'utf8'), 'keep me');
    assert.equal((await p11(['decrypt-file', sealed, out, '--force'])).code, 0);
    assert.deepEqual(readFileSync(out), plaintext);
    const noName = await p11(['decrypt-file', input]);
    assert.equal(noName.code, 2);
    assert.match(noName.stderr, /give the output file/);
  });
});
