/**
 * The per-process registry of loaded Cryptoki modules.
 *
 * A module's state (its C_Initialize) belongs to the whole process, so every `Library` object,
 * worker and caller that names the same file shares one initialised binding. References are
 * counted and `C_Finalize` runs only when the last holder lets go.
 */
import { realpathSync } from 'node:fs';
import koffi, { type LibraryHandle } from 'koffi';
import { FunctionTable, resolveFunctionList } from './binding.js';
import { layout, writeULong, writePointer, addressOf, allocBuffer } from './abi.js';

/** CK_C_INITIALIZE_ARGS: four mutex callbacks (NULL: use the OS), flags, pReserved. */
const CK_C_INITIALIZE_ARGS = layout({
  CreateMutex: 'pointer',
  DestroyMutex: 'pointer',
  LockMutex: 'pointer',
  UnlockMutex: 'pointer',
  flags: 'ulong',
  pReserved: 'pointer',
});
const CKF_OS_LOCKING_OK = 0x2;
const CKR_CRYPTOKI_ALREADY_INITIALIZED = 0x191;

/** Options for {@link acquireModule}. */
export interface ModuleOptions {
  /**
   * A string for `CK_C_INITIALIZE_ARGS.pReserved`, which some modules read configuration from
   * (NSS softokn's `configdir='sql:DIR' ...`). Sent only when given: SoftHSM rejects anything
   * but NULL there.
   */
  readonly initReserved?: string;
}

/** Why a module could not be loaded or initialised; the layer above turns this into its error types. */
export class ModuleFailure extends Error {
  constructor(
    message: string,
    /** The Cryptoki function that failed, when one did. */
    readonly fn?: string,
    /** Its CK_RV, when one was returned. */
    readonly rv?: number,
  ) {
    super(message);
    this.name = 'ModuleFailure';
  }
}

interface Entry {
  readonly key: string;
  readonly initReserved: string | undefined;
  refs: number;
  ready: Promise<LoadedModule>;
}

const registry = new Map<string, Entry>();
/**
 * Finalizations still running, by registry key. A new load of the same file waits for them, or
 * its C_Initialize could run before the old C_Finalize and be undone by it.
 */
const finalizing = new Map<string, Promise<unknown>>();

/** A loaded and initialised module, shared by everyone holding a reference. */
export class LoadedModule {
  /** Kept referenced for the module's lifetime: some modules keep the pReserved pointer. */
  readonly #initArgs: Buffer[];

  constructor(
    /** The resolved file path the module was loaded from (the registry key). */
    readonly path: string,
    readonly functions: FunctionTable,
    readonly lib: LibraryHandle,
    initArgs: Buffer[],
    /** False when another component of this process had initialised the module before us. */
    readonly ownsInitialize: boolean,
  ) {
    this.#initArgs = initArgs;
  }

  /**
   * Closes the function table (later calls answer CKR_CRYPTOKI_NOT_INITIALIZED), waits for the
   * calls still running, then calls C_Finalize when we initialised. The file stays mapped: some
   * modules leave threads or exit handlers behind that would crash the process after `dlclose`,
   * and a later load of the same path reuses the mapping.
   */
  async finalize(): Promise<number> {
    const rv = await this.functions.shutdown(this.ownsInitialize);
    this.#initArgs.length = 0;
    return rv;
  }
}

function initArgs(initReserved: string | undefined): Buffer[] {
  const args = allocBuffer(CK_C_INITIALIZE_ARGS.size);
  writeULong(args, CK_C_INITIALIZE_ARGS.fields.flags.offset, CKF_OS_LOCKING_OK);
  if (initReserved === undefined) return [args];
  const reserved = Buffer.concat([Buffer.from(initReserved, 'utf8'), Buffer.from([0])]);
  writePointer(args, CK_C_INITIALIZE_ARGS.fields.pReserved.offset, addressOf(reserved));
  return [args, reserved];
}

async function load(path: string, initReserved: string | undefined): Promise<LoadedModule> {
  let lib: LibraryHandle;
  try {
    // RTLD_DEEPBIND (Linux, FreeBSD): the module binds to the libraries it was linked against, as
    // in any C program. Without it SoftHSM2's OpenSSL calls resolve to the copy built into node,
    // and an ECDSA sign cost 12-15 % more CPU (docs/benchmarks.md).
    lib = koffi.load(path, { deep: true });
  } catch (e) {
    throw new ModuleFailure(`cannot load PKCS#11 module ${path}: ${(e as Error).message}`);
  }
  const table = resolveFunctionList(lib);
  if (!(table instanceof FunctionTable)) {
    lib.unload();
    throw new ModuleFailure(
      `${path} is not a PKCS#11 module: ${table.symbol} failed (0x${table.rv.toString(16)})`,
      table.symbol,
      table.rv,
    );
  }
  const buffers = initArgs(initReserved);
  const rv = await table.callAsync('C_Initialize', buffers[0] as Buffer);
  if (rv !== 0 && rv !== CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    table.close();
    lib.unload();
    throw new ModuleFailure(`C_Initialize of ${path} failed`, 'C_Initialize', rv);
  }
  return new LoadedModule(path, table, lib, buffers, rv === 0);
}

/** The registry key: the file's real path when it exists, so two spellings share one binding. */
function keyOf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Loads and initialises a module, or takes another reference to the one already loaded from the
 * same file. Each successful call must be paired with one {@link releaseModule}.
 */
export async function acquireModule(path: string, options: ModuleOptions = {}): Promise<LoadedModule> {
  const key = keyOf(path);
  let entry = registry.get(key);
  if (entry && entry.initReserved !== options.initReserved) {
    throw new ModuleFailure(
      `${path} is already initialised in this process with a different initReserved string; ` +
        'a module has one initialisation per process',
    );
  }
  if (!entry) {
    const previous = finalizing.get(key);
    const ready = previous
      ? previous.then(() => load(key, options.initReserved))
      : load(key, options.initReserved);
    const created: Entry = { key, initReserved: options.initReserved, refs: 0, ready };
    registry.set(key, created);
    ready.catch(() => {
      if (registry.get(key) === created) registry.delete(key);
    });
    entry = created;
  }
  entry.refs++;
  try {
    return await entry.ready;
  } catch (e) {
    entry.refs--;
    throw e;
  }
}

/**
 * Drops one reference; the last one finalizes and unloads the module. Returns the C_Finalize
 * CK_RV (0 when the module stays loaded for other holders).
 */
export async function releaseModule(module: LoadedModule): Promise<number> {
  const entry = registry.get(module.path);
  // A module already finalized (its entry gone, or replaced by a newer load) holds no reference.
  if (!entry || entry.refs <= 0 || (await entry.ready.catch(() => undefined)) !== module) return 0;
  if (registry.get(module.path) !== entry || entry.refs <= 0) return 0;
  entry.refs--;
  if (entry.refs > 0) return 0;
  registry.delete(module.path);
  const done = module.finalize();
  const settled = done
    .catch(() => undefined)
    .finally(() => {
      if (finalizing.get(module.path) === settled) finalizing.delete(module.path);
    });
  finalizing.set(module.path, settled);
  return done;
}

/** How many holders share the module loaded from `path` (0 when it is not loaded). For tests and diagnostics. */
export function moduleReferences(path: string): number {
  return registry.get(keyOf(path))?.refs ?? 0;
}
