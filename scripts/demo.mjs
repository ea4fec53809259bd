// `npm run demo`: the seed walkthrough (examples/seed-smartcard-hsm.ts) on a real token.
//
// With PKCS11_MODULE unset it uses the project's own SoftHSM2 token under the user's cache directory,
// created on first use (SoftHSM2 is installed with apt-get when missing and running as root).
// With PKCS11_MODULE, PKCS11_TOKEN_LABEL and PKCS11_PIN set, it runs against that token instead.
import { ensureNodeModules } from './bootstrap.mjs';

ensureNodeModules();
const { tsImport } = await import('tsx/esm/api');

try {
  let env = process.env;
  if (!process.env.PKCS11_MODULE) {
    const { defaultToken } = await tsImport('../src/softhsm/index.ts', import.meta.url);
    const token = await defaultToken();
    if (token.created) {
      console.log(`Created the demo token "${token.tokenLabel}" in ${token.dir}`);
      console.log(`Its user PIN is ${token.pin} (kept in that directory; shown only this once).\n`);
    }
    env = { ...process.env, ...token.env };
    process.env.SOFTHSM2_CONF = token.env.SOFTHSM2_CONF;
  }
  const { main } = await tsImport('../examples/seed-smartcard-hsm.ts', import.meta.url);
  await main(env, console.log);
} catch (error) {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
