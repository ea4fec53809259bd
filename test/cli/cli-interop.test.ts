/**
 * `p11` and OpenSC's `pkcs11-tool` on the same token: a key made by `p11 keygen` signs through
 * `pkcs11-tool --sign`, and a key made by `pkcs11-tool --keypairgen` signs through `p11 sign`;
 * every signature is checked with node:crypto. Skipped when pkcs11-tool is missing or cannot open
 * the test token (a module that needs an init string, for one).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Mechanism } from '../../src/sys/constants.js';
import { testEnv } from '../support/env.js';
import { lacking, p11, p11Json, removeObjects, scratchDirectory, tokenMechanisms } from './run.js';

const run = promisify(execFile);
const env = testEnv();
const PREFIX = 'cli-interop-';
const dir = scratchDirectory('p11-interop');
const dataFile = join(dir, 'data');
const data = Buffer.from('signed by one tool, checked by another');
writeFileSync(dataFile, data);

/** Runs pkcs11-tool on the test token, logged in. */
function pkcs11Tool(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run('pkcs11-tool', [
    '--module',
    env.modulePath,
    '--token-label',
    env.tokenLabel,
    '--login',
    '--pin',
    env.pin,
    ...args,
  ]);
}

/** Why pkcs11-tool cannot be used here, or undefined when it can. */
async function pkcs11ToolProblem(): Promise<string | undefined> {
  if (env.initReserved) return 'the module needs an init string, which pkcs11-tool cannot pass';
  try {
    await pkcs11Tool('--list-objects');
    return undefined;
  } catch (error) {
    const e = error as { code?: string; stderr?: string };
    return e.code === 'ENOENT'
      ? 'pkcs11-tool is not installed (Debian package opensc)'
      : `pkcs11-tool fails: ${e.stderr ?? e}`;
  }
}

let problem: string | undefined;
let mechanisms: Set<number>;
before(async () => {
  problem = await pkcs11ToolProblem();
  mechanisms = await tokenMechanisms();
});
after(() => removeObjects(PREFIX));

describe('p11 and pkcs11-tool', () => {
  test('keys made by p11 keygen sign through pkcs11-tool', async (t) => {
    if (problem) return t.skip(problem);
    if (lacking(t, mechanisms, Mechanism.SHA256_RSA_PKCS, Mechanism.ECDSA)) return;
    const rsa = await p11Json<{ publicKey: string }>([
      'keygen',
      'rsa:2048',
      '--label',
      `${PREFIX}rsa`,
      '--id',
      '1e01',
    ]);
    await pkcs11Tool(
      '--sign',
      '--id',
      '1e01',
      '-m',
      'SHA256-RSA-PKCS',
      '-i',
      dataFile,
      '-o',
      join(dir, 'rsa.sig'),
    );
    assert.equal(
      crypto.verify(
        'sha256',
        data,
        crypto.createPublicKey(rsa.publicKey),
        readFileSync(join(dir, 'rsa.sig')),
      ),
      true,
    );

    const ec = await p11Json<{ publicKey: string }>([
      'keygen',
      'ec:P-256',
      '--label',
      `${PREFIX}ec`,
      '--id',
      '1e02',
    ]);
    writeFileSync(join(dir, 'digest'), crypto.createHash('sha256').update(data).digest());
    await pkcs11Tool(
      '--sign',
      '--id',
      '1e02',
      '-m',
      'ECDSA',
      '-i',
      join(dir, 'digest'),
      '-o',
      join(dir, 'ec.sig'),
    );
    const key = { key: crypto.createPublicKey(ec.publicKey), dsaEncoding: 'ieee-p1363' as const };
    assert.equal(crypto.verify('sha256', data, key, readFileSync(join(dir, 'ec.sig'))), true);
  });

  test('keys made by pkcs11-tool --keypairgen sign through p11 sign', async (t) => {
    if (problem) return t.skip(problem);
    if (lacking(t, mechanisms, Mechanism.RSA_PKCS_KEY_PAIR_GEN, Mechanism.EC_KEY_PAIR_GEN)) return;
    for (const [keyType, id] of [
      ['rsa:2048', '1e11'],
      ['EC:prime256v1', '1e12'],
    ] as const) {
      await pkcs11Tool('--keypairgen', '--key-type', keyType, '--id', id, '--label', `${PREFIX}tool-${id}`);
      const signed = await p11(['sign', '--id', id, '--in', dataFile, '--out', join(dir, `${id}.sig`)]);
      assert.equal(signed.code, 0, signed.stderr);
      const exported = await p11(['export', '--id', id]);
      const publicKey = crypto.createPublicKey(exported.stdout);
      assert.equal(
        crypto.verify('sha256', data, publicKey, readFileSync(join(dir, `${id}.sig`))),
        true,
        keyType,
      );
      const read = await pkcs11Tool(
        '--read-object',
        '--type',
        'pubkey',
        '--id',
        id,
        '-o',
        join(dir, `${id}.der`),
      );
      assert.ok(read, 'pkcs11-tool reads the public key too');
      const theirs = readFileSync(join(dir, `${id}.der`));
      const asSpki = crypto.createPublicKey({ key: theirs, format: 'der', type: 'spki' });
      assert.ok(asSpki.equals(publicKey), 'p11 export and pkcs11-tool --read-object give the same key');
    }
  });
});
