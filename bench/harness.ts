/**
 * What every TypeScript driver shares: the token it is pointed at, the clock, the event-loop
 * watch, the RSS sample, and the entry point that runs one request and prints one JSON line.
 *
 * A driver file calls {@link runDriver} with its implementation of every workload; bench/run.ts
 * starts it as `node --expose-gc --import tsx bench/drivers/<name>.ts '<request JSON>'` with the
 * token's environment, once per workload and round, so implementations never share a process
 * (each one initialises the module its own way).
 */
import {
  FIND_APPLICATION,
  OBJECTS_WARM_UP,
  OBJECTS_WARM_UP_SEARCHES,
  WARM_UP_APPLICATION,
  type Measurement,
  type Request,
  type Workload,
} from './workloads.js';

/** Where the module and token are, from the environment bench/run.ts sets. */
export interface BenchEnv {
  readonly module: string;
  readonly tokenLabel: string;
  readonly pin: string;
}

/** One workload's implementation in a driver. */
type Handler<W extends Workload> = (
  request: Extract<Request, { workload: W }>,
  env: BenchEnv,
) => Promise<Measurement>;

/** A driver: every workload, written against one library. */
export type Driver = { readonly [W in Workload]: Handler<W> };

/** Nanoseconds since `start` (from {@link clock}). */
export function since(start: bigint): number {
  return Number(process.hrtime.bigint() - start);
}

/** CPU time of the whole process (every thread, user and system), in nanoseconds. */
export function cpuClock(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
}

/** The monotonic clock, in nanoseconds. */
export function clock(): bigint {
  return process.hrtime.bigint();
}

/**
 * Watches the event loop with a 1 ms interval timer until the returned function is called, which
 * answers the largest lateness of any tick in milliseconds (the largest gap between two ticks
 * minus the 1 ms asked for).
 */
export function watchEventLoop(): () => number {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 1);
    last = now;
  }, 1);
  return () => {
    clearInterval(timer);
    worst = Math.max(worst, performance.now() - last - 1);
    return Math.max(0, worst);
  };
}

/** The largest lateness of a 1 ms timer over `ms` milliseconds with nothing else running: the noise floor. */
export async function idleDelay(ms = 1000): Promise<number> {
  const stop = watchEventLoop();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return stop();
}

/** Resident set size in bytes, after a full collection when the process runs with `--expose-gc`. */
export function rss(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return process.memoryUsage().rss;
}

/** How long every driver pauses between setting up a workload and timing it. */
export const SETTLE_MS = 1000;

/**
 * Before the timed part of a workload, in every driver alike: collects garbage (with
 * `--expose-gc`), so no driver pays for the set-up's garbage while timed, then pauses
 * {@link SETTLE_MS}, so a library that starts threads of its own is measured running, not
 * starting, and V8's own work after the collection is done before the clock starts.
 */
export async function settle(): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (bench/run.ts sets it)`);
  return value;
}

/**
 * The entry point of a driver process: runs the request given as the first argument and prints
 * its measurement as one JSON line on stdout.
 */
export async function runDriver(driver: Driver): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '{}') as Request;
  const handler = driver[request.workload] as Handler<Workload> | undefined;
  if (!handler) throw new Error(`unknown workload ${JSON.stringify(request.workload)}`);
  const benchEnv = {
    module: env('PKCS11_MODULE'),
    tokenLabel: env('PKCS11_TOKEN_LABEL'),
    pin: env('PKCS11_PIN'),
  };
  const measurement = await handler(request as never, benchEnv);
  process.stdout.write(`${JSON.stringify(measurement)}\n`);
}

/**
 * Runs `count` jobs `width` at a time: `width` loops, each awaiting its jobs one after another;
 * `job(loop)` is the work of one job of that loop. Answers the elapsed nanoseconds.
 */
export async function concurrently(
  count: number,
  width: number,
  job: (loop: number) => Promise<unknown>,
): Promise<number> {
  let issued = 0;
  const start = clock();
  await Promise.all(
    Array.from({ length: width }, async (_, loop) => {
      while (issued < count) {
        issued++;
        await job(loop);
      }
    }),
  );
  return since(start);
}

/**
 * The objects workload, the same sequence for every driver: warm-up objects of their own searched
 * {@link OBJECTS_WARM_UP_SEARCHES} times, then `count` objects created (timed), the garbage
 * collected, then one search of them with every label read (timed). `create(application, n)`
 * makes n public session data objects; `find(application)` answers their labels.
 */
export async function objectsWorkload(
  count: number,
  create: (application: string, n: number) => unknown,
  find: (application: string) => readonly string[] | Promise<readonly string[]>,
): Promise<Extract<Measurement, { workload: 'objects' }>> {
  const findAll = async (application: string, n: number): Promise<void> => {
    const labels = await find(application);
    if (labels.length !== n) throw new Error(`found ${labels.length} objects, expected ${n}`);
  };
  await create(WARM_UP_APPLICATION, OBJECTS_WARM_UP);
  for (let i = 0; i < OBJECTS_WARM_UP_SEARCHES; i++) await findAll(WARM_UP_APPLICATION, OBJECTS_WARM_UP);
  await settle();
  let start = clock();
  await create(FIND_APPLICATION, count);
  const createNs = since(start);
  // The creations' garbage is collected now, not during the search (a figure of its own).
  await settle();
  const cpu = cpuClock();
  start = clock();
  await findAll(FIND_APPLICATION, count);
  const findNs = since(start);
  const findCpuNs = cpuClock() - cpu;
  return { workload: 'objects', count, createNs, findNs, findCpuNs };
}
