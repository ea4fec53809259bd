#!/usr/bin/env node
/**
 * `p11`: the command line of pkcs11-ts (docs/cli.md). Runs the program and turns every failure
 * into one line on stderr naming what failed (`p11: C_Login: CKR_PIN_INCORRECT (0xa0)`), a
 * non-zero exit code, the stack only with `--debug`, and a JSON error document with `--json`.
 *
 * @example
 * // from a clone: npm run p11 -- tokens      after `npm run build`: node dist/cli/p11.js tokens
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { CommanderError } from 'commander';
import { ExitCode, describeFailure } from './errors.js';
import { jsonText } from './output.js';
import { buildProgram } from './program.js';
import { rememberSecret } from './secrets.js';

/** Flags whose value is a secret, so it is redacted even from command-line parsing errors. */
const SECRET_FLAGS = ['--pin', '--so-pin', '--new-pin', '--passphrase'];

/** Remembers the secrets on the command line and in the environment before anything can print them. */
function rememberGivenSecrets(argv: readonly string[]): void {
  for (const name of ['PKCS11_PIN', 'PKCS11_SO_PIN', 'PKCS11_NEW_PIN', 'PKCS11_KEY_PASSPHRASE'])
    rememberSecret(process.env[name]);
  argv.forEach((arg, i) => {
    for (const flag of SECRET_FLAGS) {
      if (arg === flag) rememberSecret(argv[i + 1]);
      else if (arg.startsWith(`${flag}=`)) rememberSecret(arg.slice(flag.length + 1));
    }
  });
}

/**
 * Runs `p11` with `argv` (node's layout: executable, script, then the arguments) and resolves to
 * the exit code.
 */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  rememberGivenSecrets(argv);
  try {
    await buildProgram().parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has printed its message already; help and --version end here too.
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    const report = describeFailure(error);
    process.stderr.write(`p11: ${report.message}\n`);
    if (argv.includes('--debug')) process.stderr.write(`${report.detail}\n`);
    if (argv.includes('--json')) process.stdout.write(`${jsonText(report.json)}\n`);
    return report.exitCode;
  }
}

/** Whether this file is the program node was started with (also through an npm bin link). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) process.exitCode = await main();
