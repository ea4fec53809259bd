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

function release(): void {
  inFlight--;
  waiting.shift()?.();
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

  /** The `CK_VERSION` at the head of the function list (2.x or 3.x). */
  readonly version: ApiVersion;
  /** How the list was obtained. */
  readonly via: 'C_GetInterface' | 'C_GetFunctionList';

  constructor(listAddress: bigint, via: 'C_GetInterface' | 'C_GetFunctionList') {
    this.via = via;
    const head = Buffer.from(koffi.view(listAddress, 2));
    this.version = { major: head[0] as number, minor: head[1] as number };
    const functions = this.version.major >= 3 ? ALL_FUNCTIONS : FUNCTIONS_2_40;
    // CK_VERSION is two bytes; the first function pointer follows at pointer alignment.
    const first = POINTER_SIZE;
    const table = Buffer.from(koffi.view(listAddress, first + functions.length * POINTER_SIZE));
    functions.forEach(([name, signature], i) => {
      const address = readPointer(table, first + i * POINTER_SIZE);
      if (address !== 0n) this.#fns.set(name, koffi.decode(address, prototypeFor(signature)) as KoffiFn);
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
   * referenced by this closure until the C function has returned.
   */
  async callAsync(name: FunctionName, ...args: CArg[]): Promise<number> {
    if (!this.#open) return CKR_CRYPTOKI_NOT_INITIALIZED;
    const fn = this.#fns.get(name);
    if (!fn) return CKR_FUNCTION_NOT_SUPPORTED;
    if (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => waiting.push(resolve));
    inFlight++;
    try {
      return await new Promise<number>((resolve, reject) => {
        fn.async(...args, (err: unknown, rv: number | bigint) => (err ? reject(err) : resolve(Number(rv))));
      });
    } finally {
      release();
    }
  }

  /** Makes every later call answer CKR_CRYPTOKI_NOT_INITIALIZED; used once the module is finalized. */
  close(): void {
    this.#open = false;
    this.#fns.clear();
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
    return lib.func(symbol, 'unsigned long', [...signature].map((c) => PARAM_TYPES[c] as string));
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
