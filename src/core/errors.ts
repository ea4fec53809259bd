/**
 * The library's error types. One class, {@link Pkcs11Error}, for every failure a module reports
 * (it carries the raw `CK_RV`, its spec name and the function that returned it); a few small
 * classes for failures the library itself detects. Argument mistakes are plain `TypeError` /
 * `RangeError`, thrown before anything reaches C.
 *
 * No message ever contains a PIN, key material or attribute value: only function names, codes,
 * attribute and mechanism names, and counts.
 */
import { ReturnValue } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';

/**
 * A PKCS#11 function returned something other than CKR_OK.
 *
 * @example
 * try { await token.open({ userPin: 'wrong' }); }
 * catch (e) { if (e instanceof Pkcs11Error && e.code === 'CKR_PIN_INCORRECT') ... }
 * // e.message: 'C_Login: CKR_PIN_INCORRECT (0xa0)'
 */
export class Pkcs11Error extends Error {
  /** The raw `CK_RV` value. */
  readonly rv: number;
  /** The spec name of {@link rv}, e.g. `'CKR_PIN_INCORRECT'`; vendor and unknown values as hex (`'0x80000001'`). */
  readonly code: string;
  /** The Cryptoki function that returned it, e.g. `'C_Login'`. */
  readonly fn: string;

  constructor(fn: string, rv: number, detail?: string) {
    const code = codeOf(rv);
    super(`${fn}: ${describeCode(code, rv)}${detail ? `: ${detail}` : ''}`);
    this.name = 'Pkcs11Error';
    this.rv = rv;
    this.code = code;
    this.fn = fn;
  }
}

/** The spec name of a CK_RV, hex for unnamed ones; a value no CK_RV can be (a module's garbage) stays readable. */
function codeOf(rv: number): string {
  return Number.isSafeInteger(rv) && rv >= 0 ? nameOf(ReturnValue, rv) : `invalid return value ${rv}`;
}

/**
 * The message text of a code: `CKR_PIN_INCORRECT (0xa0)` for named codes; for unnamed ones the
 * hex once, said to be vendor-defined (from CKR_VENDOR_DEFINED up) or unknown.
 */
function describeCode(code: string, rv: number): string {
  if (code.startsWith('CKR_')) return `${code} (0x${rv.toString(16)})`;
  if (!code.startsWith('0x')) return code;
  return `${rv >= ReturnValue.VENDOR_DEFINED ? 'vendor-defined' : 'unknown'} return value ${code}`;
}

/** Throws {@link Pkcs11Error} unless `rv` is CKR_OK. The single place return codes become exceptions. */
export function check(fn: string, rv: number): void {
  if (rv !== ReturnValue.OK) throw new Pkcs11Error(fn, rv);
}

/** A module file could not be loaded, is not a PKCS#11 module, or refused C_Initialize. */
export class ModuleLoadError extends Error {
  constructor(
    message: string,
    /** The underlying Cryptoki error, when the module answered with one. */
    override readonly cause?: Pkcs11Error,
  ) {
    super(message);
    this.name = 'ModuleLoadError';
  }
}

/** No token matched the filter given to `getToken`. */
export class NoSuchTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoSuchTokenError';
  }
}

/** Several tokens matched where exactly one was asked for. */
export class MultipleTokensError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MultipleTokensError';
  }
}

/** No object matched the search given to `getKey` / `getObject`. */
export class NoSuchKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoSuchKeyError';
  }
}

/** Several objects matched where exactly one was asked for. */
export class MultipleObjectsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MultipleObjectsError';
  }
}

/** The operation needs something the token lacks and no host fallback is allowed or possible. */
export class NotSupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotSupportedError';
  }
}
