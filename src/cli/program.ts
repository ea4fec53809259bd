/**
 * The `p11` command line: the commander program with the global options and every command.
 * Errors of the command line itself (unknown option, missing argument) are thrown rather than
 * exiting, so `p11.ts` reports every failure the same way.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerDelete } from './commands/delete.js';
import { registerDerive } from './commands/derive.js';
import { registerEncryption } from './commands/encryption.js';
import { registerExport } from './commands/export.js';
import { registerFiles } from './commands/files.js';
import { registerImport } from './commands/import.js';
import { registerInfo } from './commands/info.js';
import { registerKeygen } from './commands/keygen.js';
import { registerMechanisms } from './commands/mechanisms.js';
import { registerObjects } from './commands/objects.js';
import { registerPins } from './commands/pins.js';
import { registerRandom } from './commands/random.js';
import { registerSignatures } from './commands/signatures.js';
import { registerSlots } from './commands/slots.js';
import { registerTokens } from './commands/tokens.js';
import { registerX509 } from './commands/x509.js';
import { addGlobalOptions } from './options.js';
import { redact } from './secrets.js';

/** The package version, from package.json (two levels up from both src/cli and dist/cli). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/**
 * A fresh `p11` program. Parse with `parseAsync(argv)`; usage errors reject with commander's
 * `CommanderError` after a one-line message on stderr.
 *
 * @example
 * await buildProgram().parseAsync(['node', 'p11', 'tokens', '--json']);
 */
export function buildProgram(): Command {
  const program = new Command('p11')
    .description('PKCS#11 tokens from the command line: keys, signatures, encryption, certificates, PINs')
    .version(packageVersion())
    .exitOverride()
    .configureOutput({
      writeErr: (text) => process.stderr.write(redact(text)),
      outputError: (text, write) => write(`p11: ${text.replace(/^error: /, '')}`),
    })
    .showHelpAfterError('(p11 help <command> shows its options)')
    .configureHelp({ showGlobalOptions: true });
  addGlobalOptions(program);
  for (const register of [
    registerInfo,
    registerSlots,
    registerTokens,
    registerMechanisms,
    registerObjects,
    registerKeygen,
    registerExport,
    registerImport,
    registerSignatures,
    registerEncryption,
    registerDerive,
    registerX509,
    registerPins,
    registerDelete,
    registerRandom,
    registerFiles,
  ]) {
    register(program);
  }
  return program;
}
