/**
 * The soak's engine: one loop per session, all running at once, each awaiting one operation of the
 * mix (bench/soak-ops.ts) after another until the total is reached; the resident set size sampled
 * after a full collection at fixed operation counts; unexpected errors counted and the first few
 * kept with their messages; a watchdog that ends the run when no operation finishes for a while
 * (a hang must fail the soak, not stall it forever).
 */
import { rss } from './harness.js';
import { pickKind, type Worker } from './soak-ops.js';

/** Memory after a full collection, once `ops` operations had finished. */
export interface MemorySample {
  readonly ops: number;
  readonly rss: number;
  readonly heapUsed: number;
  /** Session objects destroyed by then (a module may keep memory for each, see soak-report.ts). */
  readonly destroyed: number;
}

/** How often, and how long in total, one kind ran. */
export interface KindTally {
  count: number;
  ms: number;
}

/** An operation that threw, or gave a wrong result. */
export interface UnexpectedError {
  readonly kind: string;
  readonly session: number;
  /** Which operation of the run it was (1-based, in order of issue). */
  readonly op: number;
  readonly message: string;
}

/** What a run did. */
export interface RunResult {
  /** Operations finished. */
  readonly ops: number;
  /** Wall-clock time of the run, memory sampling included. */
  readonly ms: number;
  /** Time spent sampling memory (forced collections stop every session's loop). */
  readonly sampleMs: number;
  /** Per kind of operation, by name. */
  readonly tallies: ReadonlyMap<string, KindTally>;
  readonly unexpected: number;
  /** The first {@link KEPT_ERRORS} unexpected errors. */
  readonly firstErrors: readonly UnexpectedError[];
  /** In order of operation count, the first at 0 (before any operation). */
  readonly samples: readonly MemorySample[];
  /** Why the run stopped before the total, if it did. */
  readonly stopped?: string;
}

/** The first memory sample after the start, whatever the total (the issue reports RSS at 10k). */
export const EARLY_SAMPLE = 10_000;
/** How many unexpected errors are kept with their messages. */
const KEPT_ERRORS = 5;
/** After this many unexpected errors the run stops issuing operations: the outcome is clear. */
const GIVE_UP_AFTER = 1000;
/** No operation finishing for this long ends the run as hung. */
const STALL_MS = 120_000;

/** The operation count at `k` tenths of a run of `total` (k = 1 is the 10 % point, 10 the end). */
export function tenthPoint(total: number, k: number): number {
  return Math.round((k * total) / 10);
}

/** The operation counts of every tenth of a run of `total`: where progress is reported. */
function tenthPoints(total: number): ReadonlySet<number> {
  return new Set(Array.from({ length: 10 }, (_, i) => tenthPoint(total, i + 1)));
}

/** Operation counts at which memory is sampled: every 1 % (at least every 1,000), 10k, every tenth. */
function samplePoints(total: number, tenths: ReadonlySet<number>): (done: number) => boolean {
  const every = Math.max(1000, Math.round(total / 100));
  return (done) => done % every === 0 || done === EARLY_SAMPLE || tenths.has(done);
}

function sampleMemory(ops: number, destroyed: number): MemorySample {
  const bytes = rss();
  return { ops, rss: bytes, heapUsed: process.memoryUsage().heapUsed, destroyed };
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Runs `total` operations spread over `workers` (one loop per session, concurrently). `progress`
 * gets a line at every tenth of the run. Rejects only when the run hangs (see {@link STALL_MS});
 * operation failures are counted in the result.
 */
export async function runSoak(
  workers: readonly Worker[],
  total: number,
  progress: (line: string) => void,
): Promise<RunResult> {
  const tenths = tenthPoints(total);
  const sampleAt = samplePoints(total, tenths);
  const tallies = new Map<string, KindTally>();
  const firstErrors: UnexpectedError[] = [];
  const inFlight: string[] = workers.map(() => 'nothing');
  let issued = 0;
  let done = 0;
  let destroyed = 0;
  let unexpected = 0;
  let sampleMs = 0;
  let stopped: string | undefined;
  let lastFinish = performance.now();

  const sample = (): MemorySample => {
    const start = performance.now();
    const s = sampleMemory(done, destroyed);
    sampleMs += performance.now() - start;
    return s;
  };
  const samples = [sample()];
  const start = performance.now();

  const loop = async (worker: Worker): Promise<void> => {
    while (issued < total && stopped === undefined) {
      const op = ++issued;
      worker.serial++;
      const kind = pickKind(worker.random());
      inFlight[worker.index] = kind.name;
      const began = performance.now();
      try {
        await kind.run(worker);
        destroyed += kind.destroys;
      } catch (error) {
        unexpected++;
        if (firstErrors.length < KEPT_ERRORS)
          firstErrors.push({ kind: kind.name, session: worker.index, op, message: describeError(error) });
        if (unexpected >= GIVE_UP_AFTER) stopped = `${unexpected} unexpected errors`;
      }
      lastFinish = performance.now();
      const tally = tallies.get(kind.name) ?? { count: 0, ms: 0 };
      tally.count++;
      tally.ms += lastFinish - began;
      tallies.set(kind.name, tally);
      done++;
      if (sampleAt(done)) samples.push(sample());
      if (tenths.has(done)) {
        const seconds = (performance.now() - start) / 1000;
        const mb = ((samples.at(-1) as MemorySample).rss / 1e6).toFixed(1);
        progress(
          `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ops, ` +
            `${Math.round(done / seconds).toLocaleString('en-US')} ops/s, RSS ${mb} MB, ${unexpected} unexpected`,
        );
      }
    }
  };

  let watchdog: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    watchdog = setInterval(() => {
      if (performance.now() - lastFinish < STALL_MS) return;
      const busy = inFlight.map((name, i) => `session ${i}: ${name}`).join('; ');
      reject(
        new Error(`no operation finished for ${STALL_MS / 1000} s after ${done} ops (in flight: ${busy})`),
      );
    }, 1000);
  });
  try {
    await Promise.race([Promise.all(workers.map(loop)), hung]);
  } finally {
    clearInterval(watchdog);
  }
  if (samples.at(-1)?.ops !== done) samples.push(sample());
  const ms = performance.now() - start;
  return { ops: done, ms, sampleMs, tallies, unexpected, firstErrors, samples, stopped };
}
