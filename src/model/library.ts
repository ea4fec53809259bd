/**
 * `Library`: a loaded PKCS#11 module and the entry point to its slots and tokens.
 *
 * @example
 * const lib = await Library.load('/usr/lib/softhsm/libsofthsm2.so');
 * const token = await lib.getToken({ tokenLabel: 'my token' });
 * await using session = await token.open({ userPin: '1234' });
 */
import { ULONG_SIZE, allocBuffer, allocULong, readULong, writeULong } from '../sys/abi.js';
import { ReturnValue, WaitFlag } from '../sys/constants.js';
import { acquireModule, releaseModule, ModuleFailure, type LoadedModule } from '../sys/module.js';
import {
  ModuleLoadError,
  MultipleTokensError,
  NoSuchTokenError,
  Pkcs11Error,
  check,
} from '../core/errors.js';
import { CK_INFO, decodeLibraryInfo, type LibraryInfo } from '../core/info.js';
import { ModuleContext } from './context.js';
import { executionFromEnv, type ExecutionMode } from './execution.js';
import { sinkFromEnv, type TraceSink } from './trace.js';
import { Slot } from './slot.js';
import type { Token } from './token.js';
import { tokenMatches, type TokenFilter } from './token-filter.js';

/** Options of {@link Library.load}. */
export interface LoadOptions {
  /** The init string for `C_Initialize`'s `pReserved` (NSS softokn's `configdir=...`); omitted means NULL. */
  readonly initReserved?: string;
  /**
   * Log every C call (arguments with secrets redacted, return code, duration): `true` for
   * standard error or a function receiving each line. Default: the `PKCS11_TS_TRACE` environment
   * variable (`1`/`stderr`, or a file path).
   */
  readonly trace?: boolean | TraceSink;
  /**
   * Where C calls may run: `'auto'` (default) lets calls measured cheap on this module (attribute
   * reads, searches, Init calls) run inline on the main thread; `'worker'` keeps every call on a
   * worker thread. Default: the `PKCS11_TS_EXECUTION` environment variable, else `'auto'`.
   */
  readonly execution?: ExecutionMode;
}

/** Options of {@link Library.waitForSlotEvent}. */
export interface WaitOptions {
  /** Cancels the wait. The C call cannot be interrupted, so a blocking wait is done by polling. */
  readonly signal?: AbortSignal;
  /** How often to poll when waiting, in milliseconds (default 200). */
  readonly pollInterval?: number;
}

/** A loaded and initialised PKCS#11 module. Several may be loaded side by side. */
export class Library implements AsyncDisposable {
  #ctx: ModuleContext | undefined;
  readonly #path: string;
  readonly #options: LoadOptions;

  private constructor(path: string, options: LoadOptions, module: LoadedModule) {
    this.#path = path;
    this.#options = options;
    this.#ctx = contextFor(module, options);
  }

  /**
   * Loads a module by path and initialises it (with `CKF_OS_LOCKING_OK`, so it may be called
   * from several threads). Loading the same file twice shares one initialisation.
   *
   * @throws ModuleLoadError when the file is missing, is not a PKCS#11 module, or C_Initialize fails.
   */
  static async load(path: string, options: LoadOptions = {}): Promise<Library> {
    if (typeof path !== 'string' || path.length === 0) throw new TypeError('path must be a non-empty string');
    if (options.initReserved !== undefined && typeof options.initReserved !== 'string') {
      throw new TypeError('options.initReserved must be a string');
    }
    if (options.execution !== undefined && options.execution !== 'auto' && options.execution !== 'worker') {
      throw new TypeError("options.execution must be 'auto' or 'worker'");
    }
    if (
      options.trace !== undefined &&
      typeof options.trace !== 'boolean' &&
      typeof options.trace !== 'function'
    ) {
      throw new TypeError('options.trace must be a boolean or a function');
    }
    return new Library(path, options, await acquire(path, options));
  }

  /** The module path given to {@link load}. */
  get path(): string {
    return this.#path;
  }

  /** The module's context; throws once the library was finalized. @internal */
  get context(): ModuleContext {
    if (!this.#ctx)
      throw new Pkcs11Error('C_GetFunctionList', ReturnValue.CRYPTOKI_NOT_INITIALIZED, 'library finalized');
    return this.#ctx;
  }

  /** `C_GetInfo`: Cryptoki version, manufacturer, description, library version. */
  async getInfo(): Promise<LibraryInfo> {
    const buf = allocBuffer(CK_INFO.size);
    await this.context.call('C_GetInfo', buf);
    return decodeLibraryInfo(buf);
  }

  /** The function list version in use (3.x when obtained through C_GetInterface). */
  get apiVersion(): { major: number; minor: number } {
    return this.context.module.functions.version;
  }

  /** `C_GetSlotList`: the slots, by default only those with a token present. */
  async getSlots(options: { tokenPresent?: boolean } = {}): Promise<Slot[]> {
    const present = options.tokenPresent ?? true;
    if (typeof present !== 'boolean') throw new TypeError('options.tokenPresent must be a boolean');
    const ctx = this.context;
    const countBuf = allocULong();
    // The count may change between the two calls (a reader plugged in): retry on BUFFER_TOO_SMALL.
    for (;;) {
      writeULong(countBuf, 0, 0);
      await ctx.call('C_GetSlotList', present ? 1 : 0, null, countBuf);
      const count = Number(readULong(countBuf, 0));
      // No slots: done. (p11-kit's client answers a list call with a zero count BUFFER_TOO_SMALL, forever.)
      if (count === 0) return [];
      const ids = allocBuffer(count * ULONG_SIZE);
      const rv = await ctx.invoke('C_GetSlotList', present ? 1 : 0, ids, countBuf);
      if (rv === ReturnValue.BUFFER_TOO_SMALL) continue;
      check('C_GetSlotList', rv);
      const n = Number(readULong(countBuf, 0));
      return Array.from({ length: n }, (_, i) => new Slot(this, readULong(ids, i * ULONG_SIZE)));
    }
  }

  /**
   * The tokens present, optionally filtered. Every criterion given must match; `mechanisms`
   * keeps tokens that support all the listed mechanisms.
   */
  async getTokens(filter: TokenFilter = {}): Promise<Token[]> {
    const out: Token[] = [];
    for (const slot of await this.getSlots({ tokenPresent: true })) {
      const token = await slot.getToken();
      if (await tokenMatches(token, filter)) out.push(token);
    }
    return out;
  }

  /**
   * Exactly one token matching the filter.
   *
   * @throws NoSuchTokenError when none matches, MultipleTokensError when several do.
   */
  async getToken(filter: TokenFilter = {}): Promise<Token> {
    const tokens = await this.getTokens(filter);
    const what = describeFilter(filter);
    if (tokens.length === 0) throw new NoSuchTokenError(`no token matches ${what}`);
    if (tokens.length > 1)
      throw new MultipleTokensError(`${tokens.length} tokens match ${what}; narrow the filter`);
    return tokens[0] as Token;
  }

  /**
   * Waits for a slot event (token inserted or removed) and returns the slot it happened in.
   * Polls `C_WaitForSlotEvent(CKF_DONT_BLOCK)` so the wait can be cancelled and never occupies a
   * worker thread; rejects with the signal's reason when aborted.
   */
  async waitForSlotEvent(options: WaitOptions = {}): Promise<Slot> {
    const interval = options.pollInterval ?? 200;
    // Timers take at most 2^31-1 ms; a longer interval would silently become 1 ms.
    if (!Number.isFinite(interval) || interval < 1 || interval > 0x7fffffff) {
      throw new RangeError('options.pollInterval must be within 1..2147483647 ms');
    }
    const slotBuf = allocULong();
    for (;;) {
      options.signal?.throwIfAborted();
      const rv = await this.context.invoke('C_WaitForSlotEvent', WaitFlag.DONT_BLOCK, slotBuf, null);
      if (rv === ReturnValue.OK) return new Slot(this, readULong(slotBuf, 0));
      if (rv !== ReturnValue.NO_EVENT) check('C_WaitForSlotEvent', rv);
      await sleep(interval, options.signal);
    }
  }

  /**
   * Lets go of the module: the last holder in the process calls `C_Finalize`. Idempotent.
   * Sessions and objects of this library are unusable afterwards.
   */
  async finalize(): Promise<void> {
    const ctx = this.#ctx;
    this.#ctx = undefined;
    if (ctx) check('C_Finalize', await releaseModule(ctx.module));
  }

  /** Finalizes and initialises again (a fresh module state, as after a device reset). */
  async reinitialize(): Promise<void> {
    await this.finalize();
    this.#ctx = contextFor(await acquire(this.#path, this.#options), this.#options);
  }

  /** Same as {@link finalize}: the module is unloaded once no holder is left. */
  unload(): Promise<void> {
    return this.finalize();
  }

  /** `await using lib = await Library.load(...)` finalizes at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.finalize();
  }
}

async function acquire(path: string, options: LoadOptions): Promise<LoadedModule> {
  try {
    return await acquireModule(path, options);
  } catch (e) {
    if (e instanceof ModuleFailure) {
      const cause = e.fn !== undefined && e.rv !== undefined ? new Pkcs11Error(e.fn, e.rv) : undefined;
      throw new ModuleLoadError(cause ? `${e.message}: ${cause.message}` : e.message, cause);
    }
    throw e;
  }
}

function contextFor(module: LoadedModule, options: LoadOptions): ModuleContext {
  return new ModuleContext(module, traceSink(options.trace), options.execution ?? executionFromEnv());
}

function traceSink(option: LoadOptions['trace']): TraceSink | undefined {
  if (typeof option === 'function') return option;
  if (option === true) return sinkFromEnv('stderr');
  if (option === false) return undefined;
  return sinkFromEnv();
}

function describeFilter(filter: TokenFilter): string {
  const parts = Object.entries(filter)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(',')}]` : JSON.stringify(v)}`);
  return parts.length ? `{ ${parts.join(', ')} }` : 'the filter (no token present)';
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // Aborted while the last poll ran: its 'abort' event is gone, so waiting for it would wait out `ms`.
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', abort);
      resolve();
    }
    function abort(): void {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener('abort', abort, { once: true });
  });
}
