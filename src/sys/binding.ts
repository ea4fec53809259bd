/**
 * One loaded, initialised Cryptoki module: its function list resolved into callable koffi
 * functions, each usable synchronously or as a Promise that runs the C call on a libuv worker
 * thread so the event loop never waits on the token.
 *
 * This layer speaks only C: arguments are numbers, bigints (handles), buffers (pointers) or null,
 * and every call returns the raw `CK_RV`. Turning a non-zero `CK_RV` into an exception is the job
 * of the layer above.
 */
import koffi, { type LibraryHandle, type TypeObject } from 'koffi';
import { ALL_FUNCTIONS, FUNCTIONS_2_40, type FunctionName } from './functions.js';
import { POINTER_SIZE, allocBuffer, readPointer } from './abi.js';

/** A value that can be handed to a C parameter: CK_ULONG/CK_BBOOL as number or bigint, pointers as buffers. */
export type CArg = number | bigint | Uint8Array | null;

/** CKR_FUNCTION_NOT_SUPPORTED: what a NULL slot in the function list means. */
const CKR_FUNCTION_NOT_SUPPORTED = 0x54;
/** CKR_CRYPTOKI_NOT_INITIALIZED: what a call on a finalized binding gets instead of a crash. */
const CKR_CRYPTOKI_NOT_INITIALIZED = 0x190;

const PARAM_TYPES: Record<string, string> = { U: 'unsigned long', B: 'uint8_t', P: 'void *' };

/** koffi prototypes, built once per signature and shared by every module. */
const protoCache = new Map<string, TypeObject>();
function prototypeFor(signature: string): TypeObject {
  let proto = protoCache.get(signature);
  if (!proto) {
    proto = koffi.proto(
      'unsigned long',
      [...signature].map((c) => PARAM_TYPES[c] as string),
    );
    protoCache.set(signature, proto);
  }
  return proto;
}

type KoffiFn = ReturnType<LibraryHandle['func']>;

/**
 * At most this many C calls are handed to koffi's worker pool at once; the rest wait in order.
 * koffi throws when its own queue (256 by default) overflows, and sessions are the unit of
 * parallelism anyway, so a bound here turns overload into waiting instead of an exception.
 */
const MAX_IN_FLIGHT = 64;
let inFlight = 0;
const waiting: (() => void)[] = [];

/**
 * Takes one of the {@link MAX_IN_FLIGHT} slots: at once (undefined) when one is free, else a
 * promise that resolves in FIFO order when a finishing call hands its slot over (so the count
 * never overshoots).
 */
function acquireSlot(): Promise<void> | undefined {
  if (inFlight < MAX_IN_FLIGHT && waiting.length === 0) {
    inFlight++;
    return undefined;
  }
  return new Promise<void>((resolve) => waiting.push(resolve));
}

function releaseSlot(): void {
  const next = waiting.shift();
  if (next) next();
  else inFlight--;
}

/** Runs a koffi function on a worker thread and resolves to its CK_RV. */
function runOnWorker(fn: KoffiFn, args: readonly CArg[]): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    fn.async(...args, (err: unknown, rv: number | bigint) => (err ? reject(err) : resolve(Number(rv))));
  });
}

/** The version of the function list a module handed us. */
export interface ApiVersion {
  readonly major: number;
  readonly minor: number;
}

/** A resolved function list. Created by {@link resolveFunctionList}; owned by a module registry entry. */
export class FunctionTable {
  readonly #fns = new Map<FunctionName, KoffiFn>();
  #open = true;
  /** Calls of this table running on worker threads right now. */
  #running = 0;
  /** Resolves the wait of {@link shutdown} when the last running call returns. */
  #idle: (() => void) | undefined;

  /** The `CK_VERSION` at the head of the function list (2.x or 3.x). */
  readonly version: ApiVersion;
  /** How the list was obtained. */
  readonly via: 'C_GetInterface' | 'C_GetFunctionList';

  constructor(listAddress: bigint, via: 'C_GetInterface' | 'C_GetFunctionList') {
    this.via = via;
    const head = Buffer.from(koffi.view(listAddress, 2));
    this.version = { major: head[0] as number, minor: head[1] as number };
    // Only C_GetInterface promises the longer 3.x list; a list from C_GetFunctionList is read as
    // 2.40 whatever its version says, so we never read function pointers past its end.
    const functions = via === 'C_GetInterface' && this.version.major >= 3 ? ALL_FUNCTIONS : FUNCTIONS_2_40;
    // CK_VERSION is two bytes; the first function pointer follows at pointer alignment.
    const first = POINTER_SIZE;
    const table = Buffer.from(koffi.view(listAddress, first + functions.length * POINTER_SIZE));
    functions.forEach(([name, signature], i) => {
      const address = readPointer(table, first + i * POINTER_SIZE);
      if (address === 0n) return;
      this.#fns.set(name, koffi.decode(address, prototypeFor(signature)) as KoffiFn);
    });
  }

  /** Whether the module fills this function's slot (a NULL slot means "not supported"). */
  has(name: FunctionName): boolean {
    return this.#open && this.#fns.has(name);
  }

  /**
   * Calls a function on the current thread and returns its `CK_RV`. A missing function gives
   * CKR_FUNCTION_NOT_SUPPORTED, a closed table CKR_CRYPTOKI_NOT_INITIALIZED; neither reaches C.
   */
  call(name: FunctionName, ...args: CArg[]): number {
    if (!this.#open) return CKR_CRYPTOKI_NOT_INITIALIZED;
    const fn = this.#fns.get(name);
    if (!fn) return CKR_FUNCTION_NOT_SUPPORTED;
    return Number(fn(...args));
  }

  /**
   * Calls a function on a worker thread. The argument array (and so every buffer in it) stays
   * referenced by this closure until the C function has returned. A call still waiting for a
   * worker when the table is closed never reaches C.
   */
  async callAsync(name: FunctionName, ...args: CArg[]): Promise<number> {
    if (!this.#fns.has(name)) return this.#open ? CKR_FUNCTION_NOT_SUPPORTED : CKR_CRYPTOKI_NOT_INITIALIZED;
    const turn = acquireSlot();
    if (turn) await turn;
    try {
      const fn = this.#fns.get(name);
      if (!this.#open || !fn) return CKR_CRYPTOKI_NOT_INITIALIZED;
      this.#running++;
      try {
        return await runOnWorker(fn, args);
      } finally {
        if (--this.#running === 0) this.#idle?.();
      }
    } finally {
      releaseSlot();
    }
  }

  /** Makes every later call answer CKR_CRYPTOKI_NOT_INITIALIZED, without waiting for running ones. */
  close(): void {
    this.#open = false;
    this.#fns.clear();
  }

  /**
   * Closes the table, waits until no call of it is running on a worker thread, then, when
   * `finalize` is true, calls `C_Finalize` (calling it while other threads are inside the module
   * is undefined behaviour in the standard, and a crash in practice). Returns its CK_RV, or 0.
   */
  async shutdown(finalize: boolean): Promise<number> {
    const cFinalize = this.#fns.get('C_Finalize');
    this.close();
    if (this.#running > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
    this.#idle = undefined;
    if (!finalize) return 0;
    return cFinalize ? runOnWorker(cFinalize, [null]) : CKR_FUNCTION_NOT_SUPPORTED;
  }
}

/** The `CK_INTERFACE` name every PKCS#11 3.x module offers its standard function list under. */
const INTERFACE_NAME = Buffer.from('PKCS 11\0', 'latin1');
/** Versions asked of C_GetInterface, newest first; an older module answers only the ones it has. */
const INTERFACE_VERSIONS: readonly ApiVersion[] = [
  { major: 3, minor: 1 },
  { major: 3, minor: 0 },
];

function lookup(lib: LibraryHandle, symbol: string, signature: string): KoffiFn | undefined {
  try {
    return lib.func(
      symbol,
      'unsigned long',
      [...signature].map((c) => PARAM_TYPES[c] as string),
    );
  } catch {
    return undefined;
  }
}

/**
 * Finds the module's function list: `C_GetInterface("PKCS 11", 3.x)` when the module exports it
 * (to reach the 3.0 functions), otherwise `C_GetFunctionList`. Returns undefined when neither
 * symbol exists or both fail, with the last CK_RV for the error message.
 */
export function resolveFunctionList(lib: LibraryHandle): FunctionTable | { rv: number; symbol: string } {
  const out = allocBuffer(POINTER_SIZE);
  const getInterface = lookup(lib, 'C_GetInterface', 'PPPU');
  if (getInterface) {
    for (const v of INTERFACE_VERSIONS) {
      const version = Buffer.from([v.major, v.minor]);
      if (Number(getInterface(INTERFACE_NAME, version, out, 0)) === 0) {
        const iface = readPointer(out, 0);
        // CK_INTERFACE { CK_CHAR *pInterfaceName; CK_VOID_PTR pFunctionList; CK_FLAGS flags; }
        const list = readPointer(Buffer.from(koffi.view(iface, 2 * POINTER_SIZE)), POINTER_SIZE);
        if (list !== 0n) return new FunctionTable(list, 'C_GetInterface');
      }
    }
  }
  const getFunctionList = lookup(lib, 'C_GetFunctionList', 'P');
  if (!getFunctionList) return { rv: CKR_FUNCTION_NOT_SUPPORTED, symbol: 'C_GetFunctionList' };
  const rv = Number(getFunctionList(out));
  const list = readPointer(out, 0);
  if (rv !== 0 || list === 0n) return { rv: rv || CKR_FUNCTION_NOT_SUPPORTED, symbol: 'C_GetFunctionList' };
  return new FunctionTable(list, 'C_GetFunctionList');
}
