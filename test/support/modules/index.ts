/**
 * The real PKCS#11 modules the compatibility matrix runs the integration tests against, each
 * provisioned in a temporary directory of its own (see docs/compatibility.md).
 *
 * @example
 * import { MODULES } from './test/support/modules/index.js';
 * await using module = await MODULES.nss.provision();
 * // run tests with { ...process.env, ...module.env }
 */
import { provisionNss } from './nss.js';
import { provisionP11Kit } from './p11kit.js';
import { provisionSoftHsm } from './softhsm.js';
import { provisionTpm2 } from './tpm2.js';
import type { ProvisionedModule } from './provisioned.js';

export { ProvisionedModule, type ModuleEnv } from './provisioned.js';
export { MissingPackageError } from './process.js';
export { provisionNss, provisionP11Kit, provisionSoftHsm, provisionTpm2 };

/** One column of the matrix: how to get the module and what to expect of it. */
export interface ModuleSpec {
  /** Column heading. */
  readonly title: string;
  /** The Debian packages it needs (the first one's version is reported). */
  readonly packages: readonly string[];
  /** Makes a fresh token; dispose the result to tear it down. */
  readonly provision: () => Promise<ProvisionedModule>;
  /** What differs from the others, for the report (capabilities, not test verdicts). */
  readonly notes: string;
}

/** Every module of the matrix, SoftHSM2 (the reference) first. */
export const MODULES = {
  softhsm: {
    title: 'SoftHSM2',
    packages: ['softhsm2'],
    provision: provisionSoftHsm,
    notes:
      'Cryptoki 2.40 without C_GetInterface; pReserved must be NULL. Only raw CKM_ECDSA (no ECDSA_SHA*), ' +
      'OAEP with SHA-1 only, Ed25519/Ed448 but no X25519, GCM with the ulIvBits layout. Curves P-256/384/521, ' +
      'secp256k1, brainpoolP256r1/P384r1.',
  },
  nss: {
    title: 'NSS softokn',
    packages: ['libnss3', 'libnss3-tools'],
    provision: provisionNss,
    notes:
      'Cryptoki 3.0 through C_GetInterface. Starts only with its init string in pReserved. Two slots: the ' +
      'crypto slot (no login, session objects) and the database token used here (login, token objects). ' +
      'Refuses token CKO_DATA and does not keep public keys as token objects. Curves P-256/384/521. No SO PIN. ' +
      'Seen here: a wrong HMAC gives CKR_DEVICE_ERROR instead of CKR_SIGNATURE_INVALID; C_DecryptUpdate with ' +
      '*_CBC_PAD takes whole blocks only, and its error leaves the operation active; an output buffer that is ' +
      'too small ends C_Encrypt and hashed C_Sign operations (and fails RSA C_Encrypt with CKR_DEVICE_ERROR), ' +
      'and raw C_Sign answers CKR_BUFFER_TOO_SMALL without the needed length.',
  },
  tpm2: {
    title: 'tpm2-pkcs11 on swtpm',
    packages: [
      'libtpm2-pkcs11-1',
      'libtpm2-pkcs11-tools',
      'swtpm',
      'tpm2-tools',
      'tpm2-abrmd',
      'libtss2-tcti-tabrmd0',
      'dbus',
    ],
    provision: provisionTpm2,
    notes:
      'Cryptoki 2.40. Keys must be token objects; C_GenerateKey is not supported although AES_KEY_GEN is ' +
      'listed. No ECDH, no GCM. P-256/P-384 (P-521 signing fails). Runs over swtpm, a private D-Bus and ' +
      'tpm2-abrmd, with dictionary-attack lockout off (tests log in with wrong PINs). Seen here: ' +
      'C_CreateObject takes only RSA public keys and data objects (no key import); no C_CopyObject; ' +
      'C_GetAttributeValue sets pValue to NULL for an attribute the object lacks; a P-521 CKA_EC_POINT ' +
      'has its length in the wrong DER form; C_GetSessionInfo with a session handle it never gave can ' +
      'crash the process (sessions are made only for handles C_OpenSession gave); nothing is created in ' +
      'a read-only session; calls run one at a time.',
  },
  p11kit: {
    title: 'p11-kit remoting',
    packages: ['p11-kit', 'p11-kit-modules', 'softhsm2'],
    provision: provisionP11Kit,
    notes:
      'SoftHSM2 behind `p11-kit server`, reached through p11-kit-client.so over a unix socket. Mechanisms ' +
      'whose parameters the protocol cannot carry are filtered out (no CBC_PAD, GCM, ECDH, EdDSA); slot ids ' +
      'renumbered; a second C_Initialize returns CKR_OK. Seen here: a list call with a zero count answers ' +
      'CKR_BUFFER_TOO_SMALL; a template with a nested template (CKA_WRAP_TEMPLATE) gives CKR_DEVICE_ERROR.',
  },
} as const satisfies Record<string, ModuleSpec>;

/** The name of a module of the matrix: 'softhsm' | 'nss' | 'tpm2' | 'p11kit'. */
export type ModuleId = keyof typeof MODULES;

/** Type guard for a module name given on a command line. */
export function isModuleId(name: string): name is ModuleId {
  return Object.hasOwn(MODULES, name);
}
