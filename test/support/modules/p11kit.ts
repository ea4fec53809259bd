/**
 * p11-kit remoting over SoftHSM2: a SoftHSM2 token exported by `p11-kit server` on a unix socket,
 * reached through `p11-kit-client.so` (Debian p11-kit + p11-kit-modules). This is how a user
 * reaches a token on another machine; the client filters out mechanisms whose parameters the
 * protocol cannot carry, and renumbers slots.
 */
import { join } from 'node:path';
import { provisionToken } from '../../../src/softhsm/index.js';
import { findCommand, startDaemon } from './process.js';
import { findLibrary, multiarchLibDir, provisionWith, type ProvisionedModule } from './provisioned.js';

/** The label of the SoftHSM2 token behind the server. */
export const P11KIT_TOKEN_LABEL = 'pkcs11-ts p11-kit';

/**
 * Provisions a SoftHSM2 token and serves it with `p11-kit server`. The environment points the
 * client module at the socket (P11_KIT_SERVER_ADDRESS); SOFTHSM2_CONF is given to the server only,
 * so a test cannot reach SoftHSM2 directly by accident.
 *
 * @example
 * await using remote = await provisionP11Kit();
 * const lib = await Library.load(remote.modulePath); // with remote.env applied
 */
export async function provisionP11Kit(): Promise<ProvisionedModule> {
  const modulePath = await findLibrary('p11-kit-modules', 'p11-kit-client.so', [
    `${multiarchLibDir()}/pkcs11/p11-kit-client.so`,
    '/usr/lib64/pkcs11/p11-kit-client.so',
  ]);
  const p11kit = await findCommand('p11-kit', 'p11-kit');
  return provisionWith('p11kit', async (dir, teardown) => {
    const token = await provisionToken({ dir: join(dir, 'softhsm'), label: P11KIT_TOKEN_LABEL });
    teardown.defer(() => token.dispose());
    const socket = join(dir, 'socket');
    const server = startDaemon(
      'p11-kit server',
      p11kit,
      [
        'server',
        '--foreground',
        '--sh',
        '-n',
        socket,
        '--provider',
        token.modulePath,
        `pkcs11:token=${encodeURIComponent(token.tokenLabel)}`,
      ],
      { SOFTHSM2_CONF: token.confPath },
    );
    teardown.defer(() => server.stop());
    // With --sh it prints `P11_KIT_SERVER_ADDRESS=...; export ...` once the socket is listening.
    const address = await server.waitUntil(
      'listening',
      () => /^P11_KIT_SERVER_ADDRESS=([^;\s]+);/m.exec(server.output)?.[1],
    );
    return {
      PKCS11_MODULE: modulePath,
      PKCS11_TOKEN_LABEL: token.tokenLabel,
      PKCS11_PIN: token.pin,
      PKCS11_SO_PIN: token.soPin,
      P11_KIT_SERVER_ADDRESS: address,
    };
  });
}
