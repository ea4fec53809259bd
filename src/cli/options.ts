/**
 * Where `p11` takes its module, token and PINs from, in this order: command-line flags, the
 * environment (`PKCS11_MODULE`, `PKCS11_TOKEN_LABEL`, `PKCS11_PIN`, `PKCS11_SO_PIN`,
 * `PKCS11_NEW_PIN`, `PKCS11_INIT_RESERVED`), the project's default SoftHSM2 token when no module is
 * configured (its PINs are known), and last a no-echo prompt on a terminal. A PIN given as a flag
 * works but earns a warning: other users can read command lines.
 */
import { randomBytes } from 'node:crypto';
import { type Command, Option } from 'commander';
import { UsageError } from './errors.js';
import { canPrompt, promptSecret } from './prompt.js';
import { rememberSecret } from './secrets.js';

/** The options every command takes. */
export interface GlobalOptions {
  readonly module?: string;
  readonly token?: string;
  readonly serial?: string;
  readonly slot?: string;
  readonly pin?: string;
  readonly initReserved?: string;
  readonly json?: boolean;
  readonly trace?: boolean;
  readonly debug?: boolean;
}

/** Adds the options every command takes to the program (commander lets them appear anywhere). */
export function addGlobalOptions(program: Command): void {
  program
    .addOption(
      new Option('--module <path>', 'PKCS#11 module to load (default: the built-in SoftHSM2 token)').env(
        'PKCS11_MODULE',
      ),
    )
    .addOption(new Option('--token <label>', 'token label').env('PKCS11_TOKEN_LABEL'))
    .option('--serial <serial>', 'token serial number')
    .option('--slot <id>', 'slot id (decimal, or hex with 0x)')
    .addOption(
      new Option('--pin <pin>', 'user PIN (visible to other users: prefer PKCS11_PIN or the prompt)').env(
        'PKCS11_PIN',
      ),
    )
    .addOption(
      new Option(
        '--init-reserved <text>',
        "C_Initialize's init string (NSS softokn needs configdir=...)",
      ).env('PKCS11_INIT_RESERVED'),
    )
    .option('--json', 'print JSON (for scripts)')
    .option('--trace', 'log every PKCS#11 call to stderr (PINs never shown)')
    .option('--debug', 'show the stack of an error');
}

/** Adds `--so-pin` (env `PKCS11_SO_PIN`) to a command. */
export function addSoPinOption(command: Command): Command {
  return command.addOption(
    new Option('--so-pin <pin>', 'Security Officer PIN (prefer PKCS11_SO_PIN or the prompt)').env(
      'PKCS11_SO_PIN',
    ),
  );
}

/** Adds `--new-pin` (env `PKCS11_NEW_PIN`) to a command. */
export function addNewPinOption(command: Command): Command {
  return command.addOption(
    new Option('--new-pin <pin>', 'the new PIN (prefer PKCS11_NEW_PIN or the prompt)').env('PKCS11_NEW_PIN'),
  );
}

/** Where one secret may come from. */
export interface SecretSources {
  /** The option's name in commander (`pin`, `soPin`, `newPin`). */
  readonly option: string;
  /** Its flag and environment variable, for messages. */
  readonly flag: string;
  readonly env: string;
  /** How the prompt names it: `User PIN for "my token"`. */
  readonly prompt: string;
  /** A value known without asking (the default token's PINs). */
  readonly fallback?: string;
  /** Ask twice on a terminal (new PINs). */
  readonly confirm?: boolean;
  /** Whether a terminal prompt may be shown when nothing else gives the value. */
  readonly interactive: boolean;
}

/**
 * The secret from the first source that has it, or undefined. A value from the command line is
 * used with a warning (through `warn`); every value found is remembered for redaction.
 */
export async function resolveSecret(
  command: Command,
  sources: SecretSources,
  warn: (message: string) => void,
): Promise<string | undefined> {
  const given = command.optsWithGlobals()[sources.option] as string | undefined;
  if (given !== undefined && given !== '') {
    rememberSecret(given);
    if (command.getOptionValueSourceWithGlobals(sources.option) === 'cli') {
      warn(
        `${sources.flag} on the command line can be read by other users (ps, shell history): prefer ${sources.env} or the prompt`,
      );
    }
    return given;
  }
  if (sources.fallback !== undefined) return sources.fallback;
  if (!sources.interactive || !canPrompt()) return undefined;
  const value = await promptSecret(`${sources.prompt}: `);
  rememberSecret(value);
  if (sources.confirm && (await promptSecret(`${sources.prompt} (again): `)) !== value) {
    throw new UsageError('the two entries differ');
  }
  return value;
}

/** A `--slot` value as a slot id. */
export function parseSlotId(text: string): bigint {
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(text.trim()))
    throw new UsageError(`--slot must be a number, got ${JSON.stringify(text)}`);
  return BigInt(text.trim());
}

/** A `--id` value (hex, optionally with 0x and `:` separators) as bytes. */
export function parseId(text: string, what = '--id'): Uint8Array {
  const hex = text.trim().replace(/^0x/i, '').replace(/:/g, '');
  if (!/^([0-9a-f]{2})+$/i.test(hex))
    throw new UsageError(`${what} must be hex bytes (e.g. 01a2), got ${JSON.stringify(text)}`);
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** The CKA_ID of a new object: the `--id` given, else 8 random bytes. */
export function newId(given: string | undefined): Uint8Array {
  return given === undefined ? Uint8Array.from(randomBytes(8)) : parseId(given);
}
