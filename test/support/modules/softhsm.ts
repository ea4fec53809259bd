/**
 * SoftHSM2 loaded directly: the reference column of the compatibility matrix, provisioned the way
 * `npm test` does it (src/softhsm), wrapped in the same shape as the other modules.
 */
import { join } from 'node:path';
import { provisionToken } from '../../../src/softhsm/index.js';
import { provisionWith, type ProvisionedModule } from './provisioned.js';

/**
 * Provisions a throwaway SoftHSM2 token; its environment carries SOFTHSM2_CONF.
 *
 * @example
 * await using softhsm = await provisionSoftHsm();
 */
export function provisionSoftHsm(): Promise<ProvisionedModule> {
  return provisionWith('softhsm', async (dir, teardown) => {
    const token = await provisionToken({ dir: join(dir, 'token') });
    teardown.defer(() => token.dispose());
    return { ...token.env };
  });
}
