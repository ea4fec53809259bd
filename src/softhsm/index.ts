/**
 * `pkcs11-ts/softhsm`: a SoftHSM2 token of your own, for tests, demos and trying the library out.
 *
 * Standalone on purpose: it imports nothing from the rest of the library, so a test setup can
 * provision a token before anything loads a PKCS#11 module.
 *
 * @example
 * import { provisionToken, applyEnv } from 'pkcs11-ts/softhsm';
 * await using token = await provisionToken();
 * applyEnv(token); // SOFTHSM2_CONF, PKCS11_MODULE, PKCS11_TOKEN_LABEL, PKCS11_PIN, PKCS11_SO_PIN
 */
export { ensureSoftHsm, findSoftHsm, type SoftHsmPaths } from './install.js';
export {
  applyEnv,
  provisionPersistentToken,
  provisionToken,
  SoftHsmToken,
  type ProvisionOptions,
  type TokenEnv,
} from './provision.js';
export { defaultToken, defaultTokenDir, DEFAULT_TOKEN_LABEL } from './default-token.js';
