/**
 * tpm2-pkcs11 over a software TPM: swtpm on loopback ports, a private D-Bus session bus,
 * tpm2-abrmd (the resource manager; without it the TPM runs out of object slots after a couple
 * of keys) on that bus, and a tpm2-pkcs11 store with one token, all in a temporary directory.
 */
import { mkdir } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { findCommand, run, startDaemon, type ChildEnv } from './process.js';
import { findLibrary, multiarchLibDir, provisionWith, type ProvisionedModule } from './provisioned.js';

/** The label of the token `tpm2_ptool addtoken` makes. */
export const TPM2_TOKEN_LABEL = 'pkcs11-ts tpm2';

const TPM2_PIN = '1234';
const TPM2_SO_PIN = '12345678';

/** The well-known name tpm2-abrmd takes on its bus. */
const ABRMD_NAME = 'com.intel.tss2.Tabrmd';

/** Whether a TCP port on loopback can be bound right now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Whether something accepts TCP connections on a loopback port. */
function portListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Two consecutive free loopback ports (swtpm's command port and, one above it, its control port,
 * as the swtpm TCTI expects). Another process may still take them before swtpm does; the caller
 * retries then.
 */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + 2 * Math.floor(Math.random() * 20_000);
    if ((await portFree(port)) && (await portFree(port + 1))) return port;
  }
  throw new Error('no two consecutive free TCP ports on 127.0.0.1');
}

/**
 * Provisions a tpm2-pkcs11 token on a fresh software TPM (about 2-3 s).
 *
 * The environment carries TPM2_PKCS11_TCTI, TPM2_PKCS11_STORE and DBUS_SESSION_BUS_ADDRESS, which
 * the module reads in C_Initialize; teardown stops tpm2-abrmd, swtpm and the bus.
 *
 * @example
 * await using tpm = await provisionTpm2();
 * spawn(process.execPath, ['--test', 'sign.test.ts'], { env: { ...process.env, ...tpm.env } });
 */
export async function provisionTpm2(): Promise<ProvisionedModule> {
  const modulePath = await findLibrary('libtpm2-pkcs11-1', 'libtpm2_pkcs11.so', [
    `${multiarchLibDir()}/pkcs11/libtpm2_pkcs11.so`,
    '/usr/lib64/pkcs11/libtpm2_pkcs11.so',
  ]);
  const swtpm = await findCommand('swtpm', 'swtpm');
  const dbusDaemon = await findCommand('dbus-daemon', 'dbus');
  const dbusSend = await findCommand('dbus-send', 'dbus');
  const abrmd = await findCommand('tpm2-abrmd', 'tpm2-abrmd');
  const ptool = await findCommand('tpm2_ptool', 'libtpm2-pkcs11-tools');
  const lockout = await findCommand('tpm2_dictionarylockout', 'tpm2-tools'); // tpm2_ptool also uses tpm2-tools

  return provisionWith('tpm2', async (dir, teardown) => {
    const state = join(dir, 'state');
    const store = join(dir, 'store');
    await mkdir(state, { mode: 0o700 });
    await mkdir(store, { mode: 0o700 });

    // swtpm, on a pair of loopback ports; retried if another process took them first.
    let port = 0;
    for (let attempt = 1; port === 0; attempt++) {
      const candidate = await freePortPair();
      const tpm = startDaemon('swtpm', swtpm, [
        'socket',
        '--tpm2',
        '--server',
        `type=tcp,port=${candidate},bindaddr=127.0.0.1`,
        '--ctrl',
        `type=tcp,port=${candidate + 1},bindaddr=127.0.0.1`,
        '--tpmstate',
        `dir=${state}`,
        '--flags',
        'not-need-init,startup-clear',
      ]);
      teardown.defer(() => tpm.stop());
      try {
        // Probed on the control port: a connection there does not touch the TPM's command stream.
        await tpm.waitUntil('listening', async () =>
          (await portListening(candidate + 1)) ? true : undefined,
        );
        port = candidate;
      } catch (error) {
        await tpm.stop();
        if (attempt >= 3) throw error;
      }
    }

    // A private session bus, so tpm2-abrmd can take its well-known name without a system config.
    const bus = startDaemon('dbus-daemon', dbusDaemon, [
      '--session',
      '--nofork',
      '--print-address',
      `--address=unix:path=${join(dir, 'bus')}`,
    ]);
    teardown.defer(() => bus.stop());
    const address = await bus.waitUntil('listening', () => bus.output.match(/^unix:\S+$/m)?.[0]);
    const busEnv: ChildEnv = { DBUS_SESSION_BUS_ADDRESS: address };

    const manager = startDaemon(
      'tpm2-abrmd',
      abrmd,
      ['--session', '--allow-root', `--tcti=swtpm:host=127.0.0.1,port=${port}`],
      busEnv,
    );
    teardown.defer(() => manager.stop());
    const ownerQuery = [
      '--session',
      '--print-reply',
      '--dest=org.freedesktop.DBus',
      '/org/freedesktop/DBus',
      'org.freedesktop.DBus.NameHasOwner',
      `string:${ABRMD_NAME}`,
    ];
    await manager.waitUntil(`on the bus as ${ABRMD_NAME}`, async () =>
      (await run(dbusSend, ownerQuery, busEnv)).includes('boolean true') ? true : undefined,
    );

    const tcti = 'tabrmd:bus_type=session';
    const toolEnv: ChildEnv = { ...busEnv, TPM2TOOLS_TCTI: tcti, TPM2_PKCS11_TCTI: tcti };
    // Tests log in with wrong PINs on purpose; a real TPM would lock the PIN out after a few
    // (CKR_PIN_LOCKED for every later login). This throwaway TPM has dictionary-attack lockout off.
    const daOff = [
      '--setup-parameters',
      '--max-tries=4294967295',
      '--recovery-time=0',
      '--lockout-recovery-time=0',
    ];
    await run(lockout, daOff, toolEnv);
    const primary = /^id: (\d+)$/m.exec(await run(ptool, ['init', `--path=${store}`], toolEnv))?.[1];
    if (primary === undefined) throw new Error('tpm2_ptool init did not print the primary object id');
    const token = [
      `--pid=${primary}`,
      `--label=${TPM2_TOKEN_LABEL}`,
      `--userpin=${TPM2_PIN}`,
      `--sopin=${TPM2_SO_PIN}`,
    ];
    await run(ptool, ['addtoken', `--path=${store}`, ...token], toolEnv);

    return {
      PKCS11_MODULE: modulePath,
      PKCS11_TOKEN_LABEL: TPM2_TOKEN_LABEL,
      PKCS11_PIN: TPM2_PIN,
      PKCS11_SO_PIN: TPM2_SO_PIN,
      DBUS_SESSION_BUS_ADDRESS: address,
      TPM2_PKCS11_TCTI: tcti,
      TPM2_PKCS11_STORE: store,
      // tpm2-pkcs11 and the TSS log every refused call to stderr; keep the test output readable.
      TPM2_PKCS11_LOG_LEVEL: '0',
      TSS2_LOG: 'all+NONE',
    };
  });
}
