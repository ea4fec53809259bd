/**
 * How `p11` reports failure: one line on stderr (`p11: C_Login: CKR_PIN_INCORRECT (0xa0)`), a
 * non-zero exit code, the stack only with `--debug`, and with `--json` an error document on
 * stdout as well. Every text passes through `redact`, so no PIN is ever printed.
 */
import { Pkcs11Error } from '../core/errors.js';
import { FileEncryptionError } from '../fileenc/errors.js';
import { redact } from './secrets.js';

/** Exit codes of `p11`. */
export const ExitCode = {
  OK: 0,
  /** The operation failed (a token error, a bad file, an invalid signature). */
  FAILURE: 1,
  /** The command line was wrong (unknown option, missing argument, conflicting choices). */
  USAGE: 2,
  /** Interrupted (Ctrl-C), like a shell reports SIGINT. */
  CANCELLED: 130,
} as const;
/** An {@link ExitCode} value. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A mistake in how `p11` was called: reported with exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The user stopped the command (Ctrl-C at a prompt or during a long operation): exit code 130. */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** A failure as `p11` prints it. */
export interface Report {
  /** The one line for stderr (without the `p11: ` prefix). */
  readonly message: string;
  readonly exitCode: ExitCode;
  /** The stack and causes, for `--debug`. */
  readonly detail: string;
  /** The `--json` error document. */
  readonly json: { readonly error: Record<string, unknown> };
}

/** The stack of an error and of each of its causes. */
function stacks(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e !== undefined && e !== null; e = e instanceof Error ? e.cause : undefined) {
    parts.push(e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e));
    if (!(e instanceof Error)) break;
  }
  return parts.join('\ncaused by: ');
}

/**
 * Turns anything thrown into what `p11` prints: the message (a `Pkcs11Error`'s names the C
 * function and the CKR code), the exit code, and the JSON error document.
 *
 * @example
 * describeFailure(new Pkcs11Error('C_Login', 0xa0)).message; // 'C_Login: CKR_PIN_INCORRECT (0xa0)'
 */
export function describeFailure(error: unknown): Report {
  const message = redact(error instanceof Error ? error.message : String(error));
  const exitCode =
    error instanceof UsageError
      ? ExitCode.USAGE
      : error instanceof CancelledError
        ? ExitCode.CANCELLED
        : ExitCode.FAILURE;
  const fields: Record<string, unknown> = { name: error instanceof Error ? error.name : 'Error', message };
  if (error instanceof Pkcs11Error) Object.assign(fields, { fn: error.fn, code: error.code, rv: error.rv });
  if (error instanceof FileEncryptionError) fields.reason = error.reason;
  return { message, exitCode, detail: redact(stacks(error)), json: { error: fields } };
}
