/**
 * PINs on their way into C. A PIN is copied into a buffer that is zeroed as soon as the call
 * returns; it never appears in a message, a trace or an inspected object.
 */
import { describeType } from '../core/template.js';

/** A PIN as callers may give it. */
export type Pin = string | Uint8Array;

/** Validates a PIN argument without ever showing its value. */
export function checkPin(pin: unknown, what: string): asserts pin is Pin {
  if (typeof pin !== 'string' && !(pin instanceof Uint8Array)) {
    throw new TypeError(`${what} must be a string or Uint8Array, got ${describeType(pin)}`);
  }
}

/**
 * Runs `use` with the PIN's bytes in a private buffer, then zeroes the buffer whatever happens.
 *
 * @example
 * await withPin(pin, 'userPin', (buf) => ctx.call('C_Login', h, UserType.USER, buf, buf.length));
 */
export async function withPin<T>(pin: unknown, what: string, use: (buf: Buffer) => Promise<T>): Promise<T> {
  checkPin(pin, what);
  const buf = typeof pin === 'string' ? Buffer.from(pin, 'utf8') : Buffer.from(pin);
  try {
    return await use(buf);
  } finally {
    buf.fill(0);
  }
}
