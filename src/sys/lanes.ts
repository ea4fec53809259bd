/**
 * Lanes: worker threads of our own that run chains of C calls, in order, without coming back to
 * the main thread between the calls of a chain or between chains.
 *
 * koffi's asynchronous calls cost a round trip through the event loop each (15-25 µs), and a
 * session's next call can only start once the main thread has seen the previous one return. For
 * a call that takes 40-90 µs in the module (a SoftHSM sign, a 64 KiB AES update) that round trip
 * is a quarter of the time. A lane takes a chain (C_SignInit then C_Sign; one C_EncryptUpdate)
 * and, while the main thread prepares the next chain of the same session, is already running it:
 * the round trips overlap with the module's work instead of adding to it.
 *
 * Order: every chain of one session key goes to the lane that has that key's earlier chains still
 * pending, so a session's calls reach the module in the order they were submitted. Output calls
 * marked `sized` grow their own buffer on CKR_BUFFER_TOO_SMALL inside the lane (the operation stays
 * active until the call fits, and nothing of another chain may run on the session in between).
 *
 * Lanes start on first use (operations make their calls the usual way until one is ready), never
 * keep the process alive while idle, and end after {@link LANE_IDLE_MS} without work. A module
 * whose lane cannot start (no loader for the TypeScript sources, a thread that fails) simply
 * never gets lanes.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CArg, FunctionTable } from './binding.js';
import { ALL_FUNCTIONS, type FunctionName } from './functions.js';
import { ULONG_SIZE, addressOf } from './abi.js';
import { LANE_READY, type LaneSetup, type WireChain, type WireResult } from './lane-protocol.js';

/** One call of a chain. */
export interface ChainCall {
  readonly fn: FunctionName;
  readonly args: readonly CArg[];
  /**
   * The last two arguments are `(pOut, pulOutLen)`: on CKR_BUFFER_TOO_SMALL the lane retries with
   * a buffer of the reported size and answers the bytes in {@link ChainResult.outputs}.
   */
  readonly sized?: boolean;
}

/** What a chain did. */
export interface ChainResult {
  /** The CK_RV of each call made, in order; the chain stopped at the first that was not CKR_OK. */
  readonly rvs: readonly number[];
  /** For a sized call the lane had to grow: its output, in a buffer of the lane's. */
  readonly outputs: readonly (Uint8Array | null)[];
}

/** A lane with nothing to do for this long ends. */
export const LANE_IDLE_MS = 30_000;
/** Lanes per module: enough to keep the cores busy, few enough to stay cheap. */
const LANES = Math.min(4, Math.max(2, os.availableParallelism()));
const CKR_CRYPTOKI_NOT_INITIALIZED = 0x190;

/**
 * Starts the lane's script, which sits beside this file: lane-worker.js when built. Run from the
 * TypeScript sources (tests, benchmarks), it is lane-worker.ts, which a worker can only load
 * through tsx's loader, since a worker does not inherit the loader hooks of the main thread.
 */
function startLane(setup: LaneSetup): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./lane-worker.js', here), { workerData: setup });
  const tsx = import.meta.resolve('tsx/esm/api');
  const body = new URL('./lane-worker.ts', here).href;
  const load = `import(${JSON.stringify(tsx)}).then((api) => api.tsImport(${JSON.stringify(body)}, ${JSON.stringify(here)}))`;
  return new Worker(load, { eval: true, workerData: setup });
}

interface Pending {
  readonly resolve: (result: ChainResult) => void;
  readonly reject: (error: Error) => void;
  /** The chain's calls: their buffers stay referenced until the lane has answered. */
  readonly calls: readonly ChainCall[];
  readonly release: () => void;
}

/** What a lane tells its pool. */
interface LaneEvents {
  /** The lane ended (idle, or failed); `error` says why. */
  readonly gone: (lane: Lane, error: Error) => void;
  /** The lane had nothing to do for {@link LANE_IDLE_MS}: take it out of use before it ends. */
  readonly idle: (lane: Lane) => void;
}

/** One worker thread and the chains it has not answered yet. */
class Lane {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  /** Whether the lane's script has loaded and takes chains at once (until then they wait). */
  ready = false;
  #idle: NodeJS.Timeout | undefined;

  constructor(
    setup: LaneSetup,
    private readonly events: LaneEvents,
  ) {
    this.worker = startLane(setup);
    this.worker.on('message', (message: WireResult | typeof LANE_READY) => {
      if (message === LANE_READY) this.#becameReady();
      else this.#answer(message);
    });
    this.worker.on('error', (error) => this.events.gone(this, error));
    this.worker.on('exit', (code) =>
      this.events.gone(this, new Error(`lane worker exited with code ${code}`)),
    );
    this.worker.unref();
  }

  #becameReady(): void {
    this.ready = true;
    if (this.pending.size === 0) this.#idleLater();
  }

  #idleLater(): void {
    this.#idle = setTimeout(() => {
      this.events.idle(this);
      void this.worker.terminate();
    }, LANE_IDLE_MS).unref();
  }

  send(chain: WireChain, pending: Pending): void {
    if (this.pending.size === 0) {
      clearTimeout(this.#idle);
      this.worker.ref();
    }
    this.pending.set(chain.id, pending);
    this.worker.postMessage(chain);
  }

  #answer(result: WireResult): void {
    const p = this.pending.get(result.id);
    if (!p) return;
    this.pending.delete(result.id);
    if (this.pending.size === 0) {
      this.worker.unref();
      this.#idleLater();
    }
    p.release();
    if (result.error !== undefined) p.reject(new Error(`a lane could not make the call: ${result.error}`));
    else p.resolve({ rvs: result.rvs, outputs: result.outputs });
  }
}

function wire(arg: CArg): number | bigint {
  if (arg === null) return 0n;
  if (typeof arg === 'number' || typeof arg === 'bigint') return arg;
  return addressOf(arg);
}

/** The lanes of one module (function table). */
export class LanePool {
  readonly #lanes: Lane[] = [];
  /** Which lane each session key's pending chains are on, and how many there are. */
  readonly #bound = new Map<bigint, { lane: Lane; chains: number }>();
  #nextId = 1;
  #pending = 0;
  /** Set when a lane could not start or failed before it was ready: no more lanes for this module. */
  #broken = false;

  /** Shared with every lane: set when the table closes (see {@link LaneSetup.closed}). */
  readonly #closed = new SharedArrayBuffer(4);

  constructor(
    private readonly table: FunctionTable,
    /** The module's file, which every lane loads too (the process already has it mapped). */
    private readonly path: string,
  ) {
    table.onClose(() => Atomics.store(new Int32Array(this.#closed), 0, 1));
  }

  /** Chains submitted and not answered yet, over all keys. */
  get pending(): number {
    return this.#pending;
  }

  /** Whether `key` has chains pending: its next calls must go through its lane to keep their order. */
  busy(key: bigint): boolean {
    return this.#bound.has(key);
  }

  /**
   * Whether a lane is ready to take a chain at once. When none is, one is started, and the caller
   * should make its calls the usual way meanwhile rather than wait for a thread to start.
   */
  get ready(): boolean {
    if (this.#lanes.some((l) => l.ready)) return true;
    if (this.#lanes.length === 0 && !this.#broken) this.#start();
    return false;
  }

  /**
   * Runs `calls` in order on the lane of `key` (a session handle) and resolves to what they did.
   * The chain is ordered after every earlier chain of `key` at once, when this returns.
   */
  run(key: bigint, calls: readonly ChainCall[]): Promise<ChainResult> {
    const release = this.table.hold();
    if (!release) return Promise.resolve({ rvs: [CKR_CRYPTOKI_NOT_INITIALIZED], outputs: [null] });
    let wireCalls: WireChain['calls'];
    try {
      wireCalls = calls.map((c) => ({ fn: c.fn, args: c.args.map(wire), sized: c.sized === true }));
    } catch (e) {
      release();
      return Promise.reject(e);
    }
    const binding = this.#bind(key);
    binding.chains++;
    this.#pending++;
    const id = this.#nextId++;
    return new Promise<ChainResult>((resolve, reject) => {
      const done = (): void => {
        release();
        this.#pending--;
        if (--binding.chains === 0 && this.#bound.get(key) === binding) this.#bound.delete(key);
      };
      binding.lane.send({ id, calls: wireCalls }, { resolve, reject, calls, release: done });
    });
  }

  #bind(key: bigint): { lane: Lane; chains: number } {
    const bound = this.#bound.get(key);
    if (bound) return bound;
    const binding = { lane: this.#pick(), chains: 0 };
    this.#bound.set(key, binding);
    return binding;
  }

  /**
   * A ready lane with nothing pending; failing that, the least busy ready lane, and another lane is
   * started for next time while there may be more. Only with no ready lane at all does a chain
   * wait for one to start.
   */
  #pick(): Lane {
    const ready = this.#lanes.filter((l) => l.ready);
    const idle = ready.find((l) => l.pending.size === 0);
    if (idle) return idle;
    if (this.#lanes.length < LANES && this.#lanes.every((l) => l.ready)) this.#start();
    const candidates = ready.length > 0 ? ready : this.#lanes;
    if (candidates.length === 0) throw new Error('no lane could be started for this module');
    return candidates.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  }

  /** Starts a lane; a lane that cannot even be created leaves the module without lanes. */
  #start(): void {
    if (this.#broken) return;
    try {
      this.#lanes.push(
        new Lane(this.#setup(), {
          gone: (lane, error) => this.#gone(lane, error),
          idle: (lane) => this.#retire(lane),
        }),
      );
    } catch {
      this.#broken = true;
    }
  }

  /** Takes a lane out of use (it is about to end); its keys, none pending, are free. */
  #retire(lane: Lane): void {
    const at = this.#lanes.indexOf(lane);
    if (at >= 0) this.#lanes.splice(at, 1);
  }

  #setup(): LaneSetup {
    const functions: (readonly [FunctionName, bigint, string])[] = [];
    for (const [name, signature] of ALL_FUNCTIONS) {
      const address = this.table.functionAddress(name);
      if (address !== undefined) functions.push([name, address, signature]);
    }
    return { path: this.path, closed: this.#closed, functions, ulongSize: ULONG_SIZE };
  }

  /**
   * A lane ended: its unanswered chains fail. One that ends before it was ever ready could not
   * start, and no other will be tried.
   */
  #gone(lane: Lane, error: Error): void {
    if (!lane.ready) this.#broken = true;
    this.#retire(lane);
    for (const p of lane.pending.values()) {
      p.release();
      p.reject(error);
    }
    lane.pending.clear();
  }
}
