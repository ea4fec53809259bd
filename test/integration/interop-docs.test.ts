// docs/interop.md runs as written: its ```ts blocks, joined in order, form one program that is run
// against the test token (package imports pointed at the sources), and must finish without error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Mechanism } from '../../src/index.js';
import { importRefused } from '../support/key-capabilities.js';
import { missing, openFixture } from '../support/token.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const source = (path: string) => pathToFileURL(join(root, path)).href;

/** Where the page's imports lead when run from a temporary directory. */
const IMPORTS: Readonly<Record<string, string>> = {
  'pkcs11-ts': source('src/index.ts'),
  'pkcs11-ts/interop': source('src/interop/index.ts'),
  'pkcs11-ts/util': source('src/util/index.ts'),
  '@peculiar/x509': pathToFileURL(createRequire(import.meta.url).resolve('@peculiar/x509')).href,
};

/**
 * Why the token cannot run the page's examples, or false. They make a P-256 pair, import an RSA
 * private key and an AES key, encrypt with AES-CBC-PAD and agree on an ECDH secret; a token that
 * lacks any of that (p11-kit remoting filters CBC-PAD and ECDH; tpm2-pkcs11 imports no private or
 * secret keys) cannot run the page as written.
 */
async function cannotRunPage(): Promise<string | false> {
  const fixture = await openFixture();
  try {
    const absent = missing(
      fixture.mechanisms,
      Mechanism.EC_KEY_PAIR_GEN,
      Mechanism.ECDSA,
      Mechanism.AES_CBC_PAD,
      Mechanism.ECDH1_DERIVE,
    );
    if (absent) return absent;
    for (const kind of ['RSA private', 'AES'] as const) {
      const refused = await importRefused(fixture.session, kind);
      if (refused) return refused;
    }
    return false;
  } finally {
    await fixture.close();
  }
}

test('docs/interop.md: the examples run in order against the token', async (t) => {
  const refusal = await cannotRunPage();
  if (refusal) {
    t.skip(refusal);
    return;
  }
  const page = readFileSync(join(root, 'docs/interop.md'), 'utf8');
  const blocks = [...page.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(blocks.length >= 6, 'the page has its examples');
  const program = blocks
    .join('\n')
    .replace(/from '([^']+)'/g, (whole, name: string) => (IMPORTS[name] ? `from '${IMPORTS[name]}'` : whole));
  assert.doesNotMatch(program, /from 'pkcs11-ts/, 'every package import is pointed at the sources');
  const dir = mkdtempSync(join(tmpdir(), 'pkcs11-ts-docs-'));
  try {
    const file = join(dir, 'interop.mts');
    writeFileSync(file, `${program}\nconsole.log('docs example done');\n`);
    const run = spawnSync(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: process.env,
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /docs example done/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
