/**
 * Where each C call runs: on a worker thread (the rule), or inline on the main thread when it is
 * measured cheap on this module (the exception that makes attribute reads and searches cost what
 * they cost in C instead of a thread round trip of 15-25 µs each).
 *
 * A function may run inline only if all of these hold:
 * - it is on the short list of calls that read state already in memory in every module we know
 *   (attribute reads, searches, operation set-up, session info), never a call that does the
 *   cryptography or talks to a device by nature (sign, decrypt, generate, login, create);
 * - the module has answered it quickly {@link PROBES} times in a row on a worker thread
 *   (round trip, hop included, under {@link PROBE_LIMIT_MS});
 * - no other call of this process is running inside the module, so an inline call can never
 *   wait on a lock held by one of our own slow calls (a card busy generating a key);
 * - its inline runs stay under {@link INLINE_LIMIT_MS}: one that does not is a strike and sends
 *   the function back to worker threads until it has been probed quick again; the
 *   {@link STRIKES}th strike keeps it there for good, so a module whose reads are sometimes slow
 *   (a card fetching a certificate on first use) stalls the event loop at most that many times
 *   per function. A busy machine can pause any thread for milliseconds, so {@link FORGIVE_AFTER}
 *   quick inline runs in a row wipe out one strike.
 *
 * `'worker'` mode turns inlining off entirely for libraries that must never run C on the main
 * thread; the environment variable `PKCS11_TS_EXECUTION=worker` selects it process-wide.
 *
 * With `PKCS11_TS_LANES=1`, operations may also hand whole chains of calls to a session's lane
 * (sys/lanes.ts), so the next chain is already running while the main thread handles the previous
 * one's result. While a session has chains pending, every other call on it joins its lane too,
 * behind them: the order of a session's calls is the order they were made in, whichever thread
 * makes them. A pending chain counts as a call running in the module (no inline call starts
 * meanwhile). Lanes are off by default: on the 2-CPU machine of docs/benchmarks.md, shared with
 * other work, their extra thread and messages cost more than the overlap gave back.
 */
import { performance } from 'node:perf_hooks';
import type { CArg, FunctionTable } from '../sys/binding.js';
import type { LoadedModule } from '../sys/module.js';
import { FUNCTIONS_2_40, FUNCTIONS_3_0, type FunctionName } from '../sys/functions.js';
import { LanePool, type ChainCall, type ChainResult } from '../sys/lanes.js';

/** `'auto'`: cheap calls inline once measured cheap (default); `'worker'`: every call on a worker thread. */
export type ExecutionMode = 'auto' | 'worker';

/** Calls that may run inline once measured cheap. */
const CANDIDATES: ReadonlySet<FunctionName> = new Set<FunctionName>([
  'C_GetAttributeValue',
  'C_FindObjectsInit',
  'C_FindObjects',
  'C_FindObjectsFinal',
  'C_GetSessionInfo',
  'C_SignInit',
  'C_VerifyInit',
  'C_EncryptInit',
  'C_DecryptInit',
  'C_DigestInit',
]);

/** Quick worker-thread answers in a row before a function may run inline. */
export const PROBES = 8;
/** The slowest worker-thread round trip (thread hop included) that counts as quick. */
export const PROBE_LIMIT_MS = 0.25;
/** An inline run longer than this is a strike: the function goes back to worker threads (the event-loop budget of DESIGN.md). */
export const INLINE_LIMIT_MS = 10;
/** Strikes after which a function stays on worker threads for good. */
export const STRIKES = 3;
/** Quick inline runs in a row that wipe out one strike. */
export const FORGIVE_AFTER = 256;

/** What we have learnt about one function of one module. */
interface Cost {
  /** Quick worker-thread answers in a row. */
  quick: number;
  /** Runs inline from now on (until an inline run is slow). */
  inline: boolean;
  /** Slow inline runs not yet forgiven. */
  strikes: number;
  /** Quick inline runs since the last strike or forgiveness. */
  clean: number;
  /** {@link STRIKES} slow inline runs: worker threads only, for good. */
  barred: boolean;
}

/** Functions whose first argument is not a session handle (everything before C_CloseSession, and these). */
const NOT_ON_A_SESSION: ReadonlySet<FunctionName> = new Set<FunctionName>([
  ...FUNCTIONS_2_40.slice(
    0,
    FUNCTIONS_2_40.findIndex(([name]) => name === 'C_CloseSession'),
  ).map(([name]) => name),
  'C_CloseAllSessions',
  'C_WaitForSlotEvent',
  ...FUNCTIONS_3_0.slice(0, 2).map(([name]) => name),
]);

/** Whether lanes may be used: only when `PKCS11_TS_LANES=1` (read at each operation). */
export function lanesOn(): boolean {
  return process.env.PKCS11_TS_LANES === '1';
}

/** Per module (function table): what is known about each candidate, and how many calls are inside it. */
class ModuleState {
  /** Calls dispatched to worker threads that have not returned yet. */
  running = 0;
  readonly costs = new Map<FunctionName, Cost>();
  #lanes: LanePool | undefined;

  constructor(private readonly module: LoadedModule) {}

  /** The module's lanes, made on first use. */
  get lanes(): LanePool {
    this.#lanes ??= new LanePool(this.module.functions, this.module.path);
    return this.#lanes;
  }

  /** Whether any call of ours is inside the module: on koffi's threads or pending in a lane. */
  get idle(): boolean {
    return this.running === 0 && (this.#lanes?.pending ?? 0) === 0;
  }

  /** The session `args[0]` of a call to `fn`, when that session has chains pending in a lane. */
  busySession(fn: FunctionName, args: readonly CArg[]): bigint | undefined {
    if (!this.#lanes || this.#lanes.pending === 0 || NOT_ON_A_SESSION.has(fn)) return undefined;
    const session = args[0];
    return typeof session === 'bigint' && this.#lanes.busy(session) ? session : undefined;
  }

  cost(fn: FunctionName): Cost {
    let c = this.costs.get(fn);
    if (!c) {
      c = { quick: 0, inline: false, strikes: 0, clean: 0, barred: false };
      this.costs.set(fn, c);
    }
    return c;
  }
}

const states = new WeakMap<FunctionTable, ModuleState>();

function stateOf(module: LoadedModule): ModuleState {
  let s = states.get(module.functions);
  if (!s) {
    s = new ModuleState(module);
    states.set(module.functions, s);
  }
  return s;
}

/** The mode asked for by `PKCS11_TS_EXECUTION` ('worker' or 'auto'), 'auto' when unset. */
export function executionFromEnv(value: string | undefined = process.env.PKCS11_TS_EXECUTION): ExecutionMode {
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  if (value === 'worker') return 'worker';
  throw new RangeError(`PKCS11_TS_EXECUTION must be 'auto' or 'worker', got ${JSON.stringify(value)}`);
}

async function onWorker(
  table: FunctionTable,
  state: ModuleState,
  fn: FunctionName,
  args: CArg[],
  cost: Cost | undefined,
): Promise<number> {
  state.running++;
  const start = cost ? performance.now() : 0;
  try {
    return await table.callAsync(fn, ...args);
  } finally {
    state.running--;
    if (cost && !cost.barred) {
      cost.quick = performance.now() - start <= PROBE_LIMIT_MS ? cost.quick + 1 : 0;
      if (cost.quick >= PROBES) cost.inline = true;
    }
  }
}

function inline(table: FunctionTable, fn: FunctionName, args: CArg[], cost: Cost): Promise<number> {
  const start = performance.now();
  let rv: number;
  try {
    rv = table.call(fn, ...args);
  } catch (e) {
    return Promise.reject(e);
  }
  if (performance.now() - start > INLINE_LIMIT_MS) {
    cost.inline = false;
    cost.quick = 0;
    cost.clean = 0;
    cost.barred = ++cost.strikes >= STRIKES;
  } else if (cost.strikes > 0 && ++cost.clean >= FORGIVE_AFTER) {
    cost.strikes--;
    cost.clean = 0;
  }
  return Promise.resolve(rv);
}

/**
 * Runs `fn` of `module` under `mode` and resolves to its CK_RV: inline when every condition of
 * this module's doc holds, else on a worker thread. The buffers in `args` stay referenced until
 * the promise settles.
 */
export function dispatch(
  module: LoadedModule,
  mode: ExecutionMode,
  fn: FunctionName,
  args: CArg[],
): Promise<number> {
  const table = module.functions;
  const state = stateOf(module);
  const busy = state.busySession(fn, args);
  if (busy !== undefined) return state.lanes.run(busy, [{ fn, args }]).then((r) => r.rvs[0] as number);
  if (mode === 'worker' || !CANDIDATES.has(fn)) return onWorker(table, state, fn, args, undefined);
  const cost = state.cost(fn);
  if (cost.inline && state.idle) return inline(table, fn, args, cost);
  return onWorker(table, state, fn, args, cost.barred || cost.inline ? undefined : cost);
}

/**
 * Hands `calls` to the lane of `session` as one chain (see the module doc); undefined when lanes
 * are off, and the caller makes the calls one by one instead. The chain is in the session's order
 * as soon as this returns.
 */
export function runChain(
  module: LoadedModule,
  session: bigint,
  calls: readonly ChainCall[],
): Promise<ChainResult> | undefined {
  if (!lanesOn()) return undefined;
  return stateOf(module).lanes.run(session, calls);
}

/**
 * Whether operations should hand their calls to lanes now: lanes are on and one is ready. The
 * first ask starts one, so a program's first operations never wait for a thread to start.
 */
export function lanesReady(module: LoadedModule): boolean {
  return lanesOn() && stateOf(module).lanes.ready;
}
