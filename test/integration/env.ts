/**
 * The integration-test environment, now in test/support/env.ts; re-exported here for the CLI tests
 * (test/cli), which still import it from this path.
 */
export { testEnv, type TestEnv } from '../support/env.js';
