/**
 * The compatibility matrix's provisioners (test/support/modules): each one must give a token our
 * library can log in to and sign with, and must leave nothing behind. A module whose Debian
 * packages are missing is skipped with the package to install, except in CI (which installs them
 * all, see .ci/run), where it fails.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { access } from 'node:fs/promises';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyType, Library, Mechanism } from '../../src/index.js';
import { encodeEcPublicKey } from '../../src/util/index.js';
import {
  MissingPackageError,
  MODULES,
  type ModuleEnv,
  type ProvisionedModule,
} from '../support/modules/index.js';

/** Whether this is a CI run (CI set, and not to 0 or false): there a missing package is a failure. */
const inCi = !['', '0', 'false'].includes(process.env.CI ?? '');

/** Sets the module's variables in process.env (the module reads some in C_Initialize); returns the undo. */
function applyEnv(env: ModuleEnv): () => void {
  const previous = Object.keys(env).map((name) => [name, process.env[name]] as const);
  for (const [name, value] of Object.entries(env)) if (value !== undefined) process.env[name] = value;
  return () => {
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/** Logs in, makes a P-256 key pair and checks a token signature with node:crypto. */
async function signOnToken(module: ProvisionedModule, data: string): Promise<void> {
  const env = module.env;
  const lib = await Library.load(module.modulePath, { initReserved: env.PKCS11_INIT_RESERVED });
  try {
    const token = await lib.getToken({ tokenLabel: module.tokenLabel });
    await using session = await token.open({ userPin: env.PKCS11_PIN, rw: true });
    const { publicKey, privateKey } = await session.generateKeypair(KeyType.EC, 'secp256r1', {
      store: true,
      label: 'provisioner check',
    });
    const digest = createHash('sha256').update(data).digest();
    const signature = await privateKey.sign(digest, { mechanism: Mechanism.ECDSA });
    const key = createPublicKey({
      key: Buffer.from(await encodeEcPublicKey(publicKey)),
      format: 'der',
      type: 'spki',
    });
    assert.ok(verify('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' }, signature));
  } finally {
    await lib.finalize();
  }
}

describe('module provisioners', () => {
  for (const [id, spec] of Object.entries(MODULES)) {
    test(`${spec.title}: a token to log in to and sign with, gone after teardown`, async (t) => {
      let module: ProvisionedModule;
      try {
        module = await spec.provision();
      } catch (error) {
        if (error instanceof MissingPackageError && !inCi) return t.skip(error.message);
        throw error;
      }
      try {
        assert.equal(module.env.PKCS11_TOKEN_LABEL, module.tokenLabel);
        const restore = applyEnv(module.env);
        try {
          await signOnToken(module, `signed on ${id}`);
        } finally {
          restore();
        }
      } finally {
        await module.dispose();
      }
      await assert.rejects(access(module.dir), { code: 'ENOENT' });
      await module.dispose(); // idempotent
    });
  }

  test('the PINs stay out of util.inspect', async (t) => {
    let module: ProvisionedModule;
    try {
      module = await MODULES.softhsm.provision();
    } catch (error) {
      if (error instanceof MissingPackageError && !inCi) return t.skip(error.message);
      throw error;
    }
    try {
      const { inspect } = await import('node:util');
      assert.ok(!inspect(module, { showHidden: true }).includes(module.env.PKCS11_PIN));
    } finally {
      await module.dispose();
    }
  });
});
