/**
 * Where each C call runs: on a worker thread (the rule), or inline on the main thread when it is
 * measured cheap on this module (the exception that makes an attribute read cost what it costs in
 * C, and an ECDSA sign or a 64 KiB AES update close to it, instead of a thread round trip of
 * 12-25 µs on top).
 *
 * A call may run inline only if all of these hold:
 * - it is on the short list of calls that work on what the module holds in memory when the module
 *   runs in-process (attribute reads, searches, session info, the creation of a session object,
 *   and the Init, one-shot, Update and Final calls of sign, verify, encrypt, decrypt and digest),
 *   never one that makes keys, logs in, or writes token objects (which may write files or talk to
 *   a device whatever the module);
 * - the module has answered it quickly {@link PROBES} times in a row on a worker thread (round
 *   trip, hop included, under {@link PROBE_LIMIT_MS}), for this mechanism, and with at least as
 *   much input as this call has: a smart card's C_Sign (tens of milliseconds) never qualifies,
 *   nor does an RSA-4096 signature or a 16 MiB update on a module where a P-256 signature or a
 *   64 KiB update does;
 * - no call of ours that is not itself quick is running inside the module, so an inline call
 *   never waits on a lock held by one of our own slow calls (a card busy generating a key);
 * - this turn of the event loop has done less than {@link TURN_BUDGET_MS} of inline work: awaited
 *   inline calls resolve as microtasks, so without a budget a loop of them would keep timers and
 *   I/O out for as long as it runs. Past it the call waits for the next turn (timers and I/O run
 *   in between) and is judged again there. Waiting costs a `setImmediate`; sending the call to a
 *   thread instead, which ends the turn too, cost an ECDSA sign loop 10 µs per sign (one thread
 *   hop every 25 signs, docs/benchmarks.md);
 * - its inline runs stay quick: one over {@link INLINE_SOFT_LIMIT_MS} sends it back to be measured
 *   on worker threads; one over {@link INLINE_LIMIT_MS} is also a strike, and the {@link STRIKES}th
 *   strike keeps it on threads for good, so a module whose calls are sometimes slow stalls the
 *   event loop at most that many times per call. A busy machine can pause any thread for
 *   milliseconds, so {@link FORGIVE_AFTER} quick inline runs in a row wipe out one strike.
 *
 * Several sessions at work (more than one with a task running): the data calls of their
 * operations (C_Sign, C_EncryptUpdate, ...) go to worker threads, which run them in parallel,
 * while the Inits and reads stay inline. Measured with ECDSA signs (docs/benchmarks.md): 4
 * sessions 62 µs per sign this way against 106 µs with everything inline on the main thread;
 * sending the Inits to threads as well, or running one session inline while another's call is on
 * a thread, was slower.
 *
 * `'worker'` mode turns inlining off entirely for libraries that must never run C on the main
 * thread; the environment variable `PKCS11_TS_EXECUTION=worker` selects it process-wide.
 */
import { performance } from 'node:perf_hooks';
import type { CArg, FunctionTable } from '../sys/binding.js';
import type { LoadedModule } from '../sys/module.js';
import type { FunctionName } from '../sys/functions.js';
import { ULONG_SIZE, readULongNumber } from '../sys/abi.js';
import { makesTokenObject } from '../core/template.js';
import { turnSpent } from './turn.js';

/** `'auto'`: cheap calls inline once measured cheap (default); `'worker'`: every call on a worker thread. */
export type ExecutionMode = 'auto' | 'worker';

/**
 * Calls that may run inline once measured cheap, each with the Init of its operation when its
 * cost depends on the operation's mechanism (an ECDSA C_Sign takes 70 µs, an RSA-4096 one 5 ms):
 * those are measured per mechanism, the mechanism being the one the session's last Init named.
 */
const CANDIDATES: ReadonlyMap<FunctionName, FunctionName | null> = new Map<FunctionName, FunctionName | null>(
  [
    ['C_GetAttributeValue', null],
    ['C_FindObjectsInit', null],
    ['C_FindObjects', null],
    ['C_FindObjectsFinal', null],
    ['C_GetSessionInfo', null],
    ['C_CreateObject', null],
    ...(['Sign', 'Verify', 'Encrypt', 'Decrypt', 'Digest'] as const).flatMap((family) => {
      const init = `C_${family}Init` as FunctionName;
      const calls = [init, `C_${family}`, `C_${family}Update`, `C_${family}Final`] as FunctionName[];
      return calls.map((fn) => [fn, init] as [FunctionName, FunctionName]);
    }),
  ],
);

/**
 * Creating an object is a candidate only for a session object: a token object is written to the
 * token's storage (a file, a card), a session object lives in the module's memory on an
 * in-process module (SoftHSM2: 10 µs in C against a 15-25 µs thread round trip).
 */
function sessionObjectOnly(fn: FunctionName, args: readonly CArg[]): boolean {
  if (fn !== 'C_CreateObject') return true;
  const [, template, count] = args;
  return template instanceof Uint8Array && !makesTokenObject(template, Number(count));
}

/** Calls whose third argument is the length of their input: the input size is part of their cost. */
const SIZED_INPUT: ReadonlySet<FunctionName> = new Set<FunctionName>(
  (['Sign', 'Verify', 'Encrypt', 'Decrypt', 'Digest'] as const).flatMap((family) => [
    `C_${family}` as FunctionName,
    `C_${family}Update` as FunctionName,
  ]),
);

/** Quick worker-thread answers in a row before a function may run inline. */
export const PROBES = 8;
/** The slowest worker-thread round trip (thread hop included) that counts as quick. */
export const PROBE_LIMIT_MS = 0.5;
/** An inline run longer than this sends the call back to being measured on worker threads. */
export const INLINE_SOFT_LIMIT_MS = 2;
/** An inline run longer than this is a strike (the event-loop budget of DESIGN.md). */
export const INLINE_LIMIT_MS = 10;
/** Strikes after which a function stays on worker threads for good. */
export const STRIKES = 3;
/** Quick inline runs in a row that wipe out one strike. */
export const FORGIVE_AFTER = 256;
/**
 * Inline work one turn of the event loop may do: past it, the next call waits for the next turn,
 * which lets timers and I/O in. Without it a loop of awaited inline calls, which resolve as
 * microtasks, would keep the event loop for as long as it runs.
 */
export const TURN_BUDGET_MS = 2;

/** What we have learnt about one function of one module (for one mechanism, where it matters). */
interface Cost {
  /** Quick worker-thread answers in a row. */
  quick: number;
  /** Runs inline from now on (until an inline run is slow). */
  inline: boolean;
  /** The largest input a quick run had: larger inputs go to worker threads to be measured. */
  maxInput: number;
  /** Slow inline runs not yet forgiven. */
  strikes: number;
  /** Quick inline runs since the last strike or forgiveness. */
  clean: number;
  /** {@link STRIKES} slow inline runs: worker threads only, for good. */
  barred: boolean;
}

/** Per module (function table): what is known about each candidate, and how many calls are inside it. */
class ModuleState {
  /** Calls dispatched to worker threads that have not returned yet. */
  running = 0;
  /** Of {@link running}, the calls measured quick that took a thread anyway (several sessions at work). */
  quickRunning = 0;
  /** Sessions of this module with a task running (model/session.ts tells, through the context). */
  busySessions = 0;
  /**
   * Per function, per mechanism (-1 for calls whose cost has no mechanism): numbers as keys, not
   * a string built per call (building and hashing `C_Sign:4161` showed in the profile of a sign).
   */
  readonly costs = new Map<FunctionName, Map<number, Cost>>();
  /** The mechanism of each session's last Init, per Init function: what its data calls cost depends on. */
  readonly mechanisms = new Map<bigint, Map<FunctionName, number>>();

  /**
   * The cost record of `fn` called with `args`: per function, and per mechanism for the calls of
   * an operation (an Init names its mechanism; the later calls use the one their session's last
   * Init named).
   */
  cost(fn: FunctionName, init: FunctionName | null, args: readonly CArg[]): Cost {
    let mechanism: number | undefined;
    if (init !== null) {
      const session = args[0] as bigint;
      if (fn === init) {
        const encoded = args[1];
        // The CK_MECHANISM starts with its type.
        mechanism =
          Buffer.isBuffer(encoded) && encoded.byteLength >= ULONG_SIZE ? readULongNumber(encoded, 0) : -1;
        let known = this.mechanisms.get(session);
        if (!known) this.mechanisms.set(session, (known = new Map()));
        known.set(init, mechanism);
      } else mechanism = this.mechanisms.get(session)?.get(init);
    }
    let perMechanism = this.costs.get(fn);
    if (!perMechanism) this.costs.set(fn, (perMechanism = new Map()));
    const key = mechanism ?? -1;
    let c = perMechanism.get(key);
    if (!c) {
      c = { quick: 0, inline: false, maxInput: 0, strikes: 0, clean: 0, barred: false };
      perMechanism.set(key, c);
    }
    return c;
  }
}

const states = new WeakMap<FunctionTable, ModuleState>();

function stateOf(module: LoadedModule): ModuleState {
  let s = states.get(module.functions);
  if (!s) {
    s = new ModuleState();
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

/** The input length of a call of {@link SIZED_INPUT}; 0 for the others. */
function inputOf(fn: FunctionName, args: readonly CArg[]): number {
  return SIZED_INPUT.has(fn) ? Number(args[2] ?? 0) : 0;
}

async function onWorker(
  table: FunctionTable,
  state: ModuleState,
  fn: FunctionName,
  args: CArg[],
  cost: Cost | undefined,
  quick: boolean,
): Promise<number> {
  state.running++;
  if (quick) state.quickRunning++;
  const start = cost ? performance.now() : 0;
  try {
    return await table.callAsync(fn, ...args);
  } finally {
    state.running--;
    if (quick) state.quickRunning--;
    if (cost && !cost.barred) {
      if (performance.now() - start <= PROBE_LIMIT_MS) {
        cost.quick++;
        cost.maxInput = Math.max(cost.maxInput, inputOf(fn, args));
      } else cost.quick = 0;
      if (cost.quick >= PROBES) cost.inline = true;
    }
  }
}

/** Runs `fn` on this thread now and learns from how long it took. Throws what koffi throws. */
function inline(table: FunctionTable, fn: FunctionName, args: CArg[], cost: Cost, start: number): number {
  const rv = table.call(fn, ...args);
  const took = performance.now() - start;
  if (took > INLINE_LIMIT_MS) {
    cost.inline = false;
    cost.quick = 0;
    cost.clean = 0;
    cost.barred = ++cost.strikes >= STRIKES;
  } else if (took > INLINE_SOFT_LIMIT_MS) {
    // Slower than it was measured: measure it again on worker threads.
    cost.inline = false;
    cost.quick = 0;
  } else if (cost.strikes > 0 && ++cost.clean >= FORGIVE_AFTER) {
    cost.strikes--;
    cost.clean = 0;
  }
  return rv;
}

/**
 * Runs `fn` of `module` on this thread at once and answers its CK_RV, when every condition of this
 * module's doc allows it now; undefined (and nothing called) otherwise. What {@link dispatch}
 * does first; callers with a synchronous path of their own (attribute reads) use it directly.
 */
export function inlineNow(
  module: LoadedModule,
  mode: ExecutionMode,
  fn: FunctionName,
  args: CArg[],
): number | undefined {
  const state = stateOf(module);
  const judged = judge(state, mode, fn, args);
  const rv = judged && tryInline(state, module.functions, fn, args, judged);
  return rv === NEXT_TURN ? undefined : rv;
}

/** What is known of a candidate call: its cost record, its operation's Init, whether it qualifies. */
interface Judged {
  readonly cost: Cost;
  readonly init: FunctionName | null;
  /** Measured quick, for this mechanism and at least this much input. */
  readonly eligible: boolean;
}

/** {@link Judged} for `fn`, or undefined when it may never run inline (not a candidate, or `'worker'` mode). */
function judge(state: ModuleState, mode: ExecutionMode, fn: FunctionName, args: CArg[]): Judged | undefined {
  const init = mode === 'worker' ? undefined : CANDIDATES.get(fn);
  if (init === undefined || !sessionObjectOnly(fn, args)) return undefined;
  const cost = state.cost(fn, init, args);
  return { cost, init, eligible: cost.inline && inputOf(fn, args) <= cost.maxInput };
}

/** What {@link tryInline} answers for a call that may run inline, but not in this turn: its budget is spent. */
const NEXT_TURN = Symbol('next turn');

/** Resolves once the event loop has turned (timers and I/O had their chance). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Runs a judged call inline when the module's state and this turn allow it now; undefined when it
 * must take a thread, {@link NEXT_TURN} when only the turn's budget stops it.
 */
function tryInline(
  state: ModuleState,
  table: FunctionTable,
  fn: FunctionName,
  args: CArg[],
  judged: Judged,
): number | typeof NEXT_TURN | undefined {
  const { cost, init, eligible } = judged;
  if (!eligible) return undefined;
  // Only quick calls of ours may be inside the module (never one that may hold a lock for long).
  if (state.running !== state.quickRunning) return undefined;
  // Several sessions at work: their operations' data calls go to threads, which run them in
  // parallel, while the main thread keeps the Inits and reads.
  if (state.busySessions > 1 && init !== null && init !== fn) return undefined;
  const now = performance.now();
  // The turn has done its share: the call waits for the next one.
  if (turnSpent(now) > TURN_BUDGET_MS) return NEXT_TURN;
  return inline(table, fn, args, cost, now);
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
  if (fn === 'C_CloseSession') state.mechanisms.delete(args[0] as bigint);
  else if (fn === 'C_CloseAllSessions') state.mechanisms.clear();
  const judged = judge(state, mode, fn, args);
  if (judged === undefined) return onWorker(table, state, fn, args, undefined, false);
  let rv: number | typeof NEXT_TURN | undefined;
  try {
    rv = tryInline(state, table, fn, args, judged);
  } catch (e) {
    return Promise.reject(e);
  }
  if (rv === NEXT_TURN) return nextTurn().then(() => dispatch(module, mode, fn, args));
  if (rv !== undefined) return Promise.resolve(rv);
  const { cost, eligible } = judged;
  // A call that could have run inline is quick: it does not keep others off the main thread.
  return onWorker(table, state, fn, args, cost.barred || eligible ? undefined : cost, eligible);
}

/** Tells the module's execution state that a session of it started (+1) or ended (-1) a task. */
export function sessionBusy(module: LoadedModule, delta: 1 | -1): void {
  stateOf(module).busySessions += delta;
}
