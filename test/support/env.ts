/**
 * The module and token the integration tests run against, read from the environment that
 * `npm test` sets up (a throwaway SoftHSM2 token unless PKCS11_MODULE was given).
 */

/** What an integration test needs to open its token. */
export interface TestEnv {
  /** PKCS11_MODULE: path of the PKCS#11 module to load. */
  readonly modulePath: string;
  /** PKCS11_TOKEN_LABEL: label of the token to use. */
  readonly tokenLabel: string;
  /** PKCS11_PIN: the user PIN. */
  readonly pin: string;
  /** PKCS11_SO_PIN: the Security Officer PIN, when known (tests that need it skip without it). */
  readonly soPin: string | undefined;
  /** PKCS11_INIT_RESERVED: the init string some modules (NSS softokn) need in C_Initialize's pReserved. */
  readonly initReserved: string | undefined;
}

/** The value of a required variable, or an error that says how to get one. */
function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(
      `${name} is not set: run the integration tests with \`npm test\` (it provisions a SoftHSM2 token), ` +
        'or set PKCS11_MODULE, PKCS11_TOKEN_LABEL and PKCS11_PIN (and PKCS11_SO_PIN, PKCS11_INIT_RESERVED if needed)',
    );
  }
  return value;
}

/**
 * Reads the integration-test environment; throws naming the first missing variable.
 *
 * @example
 * const { modulePath, tokenLabel, pin } = testEnv();
 */
export function testEnv(): TestEnv {
  return {
    modulePath: required('PKCS11_MODULE'),
    tokenLabel: required('PKCS11_TOKEN_LABEL'),
    pin: required('PKCS11_PIN'),
    soPin: process.env.PKCS11_SO_PIN || undefined,
    initReserved: process.env.PKCS11_INIT_RESERVED || undefined,
  };
}

/**
 * The skip reason of a test that logs in as the Security Officer: set when PKCS11_SO_PIN is not
 * (NSS softokn has no SO PIN), false otherwise.
 *
 * @example
 * test('initPin', { skip: withoutSoPin() }, async () => { ... });
 */
export function withoutSoPin(env: TestEnv = testEnv()): string | false {
  return env.soPin === undefined ? 'PKCS11_SO_PIN is not set' : false;
}
