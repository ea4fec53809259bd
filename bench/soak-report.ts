/**
 * The soak's report: figures from a run (bench/soak-run.ts) and from the token after it, the
 * verdict (no unexpected error, RSS growth within the limit, nothing left behind), and their
 * Markdown and JSON forms.
 */
import type { Machine } from './machine.js';
import {
  EARLY_SAMPLE,
  tenthPoint,
  type MemorySample,
  type RunResult,
  type UnexpectedError,
} from './soak-run.js';
import { KEY_OBJECTS, OP_KINDS } from './soak-ops.js';
import { retainedPerDestroyedObject } from './soak-retention.js';

/**
 * The largest RSS growth from the 10 % point to the end that passes, in MB, once the memory the
 * module keeps for destroyed session objects is subtracted (soak-retention.ts).
 */
export const GROWTH_LIMIT_MB = 10;

/** What the token holds once the soak is over. */
export interface Cleanup {
  /** The soak's data objects still on the token before the sessions closed (every one is destroyed). */
  readonly soakObjectsLeft: number;
  /** Every object visible before the sessions closed: the soak's keys only. */
  readonly objectsBeforeClose: number;
  /** `ulSessionCount` after the sessions closed, when the token reports it (SoftHSM2 does not). */
  readonly sessionCountAfterClose: number | undefined;
  /** Whether a fresh session found the user still logged in (some session of the process left open). */
  readonly loggedInAfterClose: boolean;
  /** Every object a fresh logged-in session finds after the soak's sessions closed. */
  readonly objectsAfterClose: number;
}

/** One kind of operation's share of the run. */
export interface KindFigure {
  readonly name: string;
  readonly failing: boolean;
  readonly count: number;
  /** Mean wall-clock time of one operation of this kind, with the other sessions' loops running. */
  readonly meanUs: number;
}

/** The soak's figures, in MB (10^6 bytes) for memory. */
export interface SoakReport {
  readonly machine: Machine;
  readonly sessions: number;
  /** Operations asked for. */
  readonly total: number;
  /** Operations finished. */
  readonly ops: number;
  readonly seconds: number;
  readonly sampleSeconds: number;
  /** Operations per second, the time spent sampling memory left out. */
  readonly opsPerSecond: number;
  readonly unexpected: number;
  readonly firstErrors: readonly UnexpectedError[];
  readonly expectedFailures: number;
  readonly stopped?: string;
  readonly kinds: readonly KindFigure[];
  readonly rssAtEarlyMB?: number;
  readonly rssAtTenthMB: number;
  readonly rssEndMB: number;
  readonly rssMaxMB: number;
  readonly rssMaxAtOps: number;
  /** RSS growth from the 10 % point to the end. */
  readonly growthMB: number;
  /** Session objects destroyed from the 10 % point to the end. */
  readonly destroyedInWindow: number;
  /** Bytes the module keeps per destroyed session object, when measured for its version. */
  readonly retainedPerObject?: number;
  /** What the module kept for the objects destroyed from the 10 % point to the end (0 when not measured). */
  readonly moduleRetainedMB: number;
  /** {@link growthMB} less {@link moduleRetainedMB}: the growth judged. */
  readonly judgedGrowthMB: number;
  /** Least-squares slope of RSS over the second half of the run, MB per 100,000 operations. */
  readonly slopeMBPer100k: number;
  /** The same with the module's retention subtracted from every sample. */
  readonly judgedSlopeMBPer100k: number;
  readonly heapEndMB: number;
  readonly cleanup: Cleanup;
  /** Why the soak failed; empty when it passed. */
  readonly failures: readonly string[];
  readonly samples: readonly MemorySample[];
}

const mb = (bytes: number): number => bytes / 1e6;

/** The last sample taken at or before `ops` operations. */
function sampleAt(samples: readonly MemorySample[], ops: number): MemorySample {
  return samples.filter((s) => s.ops <= ops).at(-1) ?? (samples[0] as MemorySample);
}

/**
 * Least-squares slope against operations of the memory `bytes` gives for each of `samples`, in MB
 * per 100,000 operations.
 */
function slope(samples: readonly MemorySample[], bytes: (s: MemorySample) => number): number {
  if (samples.length < 2) return 0;
  const n = samples.length;
  const meanX = samples.reduce((sum, s) => sum + s.ops, 0) / n;
  const meanY = samples.reduce((sum, s) => sum + bytes(s), 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const s of samples) {
    covariance += (s.ops - meanX) * (bytes(s) - meanY);
    variance += (s.ops - meanX) ** 2;
  }
  return variance === 0 ? 0 : mb((covariance / variance) * 100_000);
}

/** Everything that makes the soak fail. */
function judge(report: Omit<SoakReport, 'failures'>): string[] {
  const failures: string[] = [];
  if (report.unexpected > 0) failures.push(`${report.unexpected} unexpected error(s)`);
  if (report.stopped) failures.push(`stopped early: ${report.stopped}`);
  if (report.ops < report.total) failures.push(`${report.ops} of ${report.total} operations finished`);
  if (report.judgedGrowthMB > GROWTH_LIMIT_MB) {
    const module = report.moduleRetainedMB
      ? ` (${report.moduleRetainedMB.toFixed(1)} MB of it the module's subtracted)`
      : '';
    failures.push(`RSS grew ${report.judgedGrowthMB.toFixed(1)} MB from the 10 % point to the end${module}`);
  }
  const c = report.cleanup;
  if (c.soakObjectsLeft > 0) failures.push(`${c.soakObjectsLeft} soak data object(s) left on the token`);
  if (c.objectsBeforeClose !== KEY_OBJECTS + c.soakObjectsLeft)
    failures.push(`${c.objectsBeforeClose} objects before closing, expected the ${KEY_OBJECTS} keys only`);
  if (c.objectsAfterClose > 0) failures.push(`${c.objectsAfterClose} object(s) left after closing`);
  if (c.loggedInAfterClose) failures.push('the user was still logged in after every session closed');
  if (c.sessionCountAfterClose) failures.push(`${c.sessionCountAfterClose} session(s) open after closing`);
  return failures;
}

/** The report of a run, with its verdict. */
export function buildReport(
  machine: Machine,
  sessions: number,
  total: number,
  run: RunResult,
  cleanup: Cleanup,
): SoakReport {
  const { samples } = run;
  const kinds = OP_KINDS.map((kind) => {
    const tally = run.tallies.get(kind.name) ?? { count: 0, ms: 0 };
    const meanUs = tally.count ? (tally.ms * 1000) / tally.count : 0;
    return { name: kind.name, failing: kind.failing, count: tally.count, meanUs };
  });
  const tenth = sampleAt(samples, tenthPoint(total, 1));
  const end = samples.at(-1) as MemorySample;
  const max = samples.reduce((a, b) => (b.rss > a.rss ? b : a));
  const early = samples.find((s) => s.ops === EARLY_SAMPLE);
  const perObject = retainedPerDestroyedObject(machine);
  const judged = (s: MemorySample): number => s.rss - s.destroyed * (perObject ?? 0);
  const secondHalf = samples.filter((s) => s.ops >= run.ops / 2);
  const destroyedInWindow = end.destroyed - tenth.destroyed;
  const report = {
    machine,
    sessions,
    total,
    ops: run.ops,
    seconds: run.ms / 1000,
    sampleSeconds: run.sampleMs / 1000,
    opsPerSecond: run.ops / ((run.ms - run.sampleMs) / 1000),
    unexpected: run.unexpected,
    firstErrors: run.firstErrors,
    expectedFailures: kinds.filter((k) => k.failing).reduce((sum, k) => sum + k.count, 0),
    ...(run.stopped === undefined ? {} : { stopped: run.stopped }),
    kinds,
    ...(early === undefined ? {} : { rssAtEarlyMB: mb(early.rss) }),
    rssAtTenthMB: mb(tenth.rss),
    rssEndMB: mb(end.rss),
    rssMaxMB: mb(max.rss),
    rssMaxAtOps: max.ops,
    growthMB: mb(end.rss - tenth.rss),
    destroyedInWindow,
    ...(perObject === undefined ? {} : { retainedPerObject: perObject }),
    moduleRetainedMB: mb(destroyedInWindow * (perObject ?? 0)),
    judgedGrowthMB: mb(judged(end) - judged(tenth)),
    slopeMBPer100k: slope(secondHalf, (s) => s.rss),
    judgedSlopeMBPer100k: slope(secondHalf, judged),
    heapEndMB: mb(end.heapUsed),
    cleanup,
    samples,
  };
  return { ...report, failures: judge(report) };
}

const count = (n: number): string => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, digits = 1): string => n.toFixed(digits);
const signed = (n: number): string => `${n >= 0 ? '+' : ''}${fixed(n)}`;

/** `312 s` as `5 min 12 s`. */
function duration(seconds: number): string {
  const s = Math.round(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

function sessionsLeft(c: Cleanup): string {
  const login = c.loggedInAfterClose
    ? 'a fresh session found the user still logged in'
    : 'a fresh session found the user logged out, so none of ours was left open';
  return c.sessionCountAfterClose === undefined
    ? `not reported by the token; ${login}`
    : `${c.sessionCountAfterClose}; ${login}`;
}

/** The report as Markdown: the run's facts, the figures with the verdict, then the mix. */
export function markdown(r: SoakReport): string {
  const m = r.machine;
  const module = m.moduleVersion === 'unknown' ? m.module : `SoftHSM ${m.moduleVersion}`;
  const tick = (ok: boolean): string => (ok ? '✅' : '❌');
  const c = r.cleanup;
  const retention =
    r.retainedPerObject === undefined
      ? `not measured for ${module}: nothing subtracted`
      : `${fixed(r.moduleRetainedMB)} MB (${r.retainedPerObject} bytes each, ${module})`;
  const lines = [
    `Run ${m.date} with \`${m.command}\`: ${duration(r.seconds)}.`,
    '',
    `Machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}; ${module}; ` +
      `load average ${m.loadAverage} at start.`,
    '',
    '| figure | value |',
    '|---|---:|',
    `| operations, ${r.sessions} sessions at once | ${count(r.ops)} of ${count(r.total)} |`,
    `| duration (of which forced GC for the ${r.samples.length} memory samples) | ${duration(r.seconds)} (${fixed(r.sampleSeconds)} s) |`,
    `| throughput, sampling excluded | ${count(r.opsPerSecond)} ops/s |`,
    `| unexpected errors | ${count(r.unexpected)} ${tick(r.unexpected === 0)} |`,
    `| expected failures (provoked, and checked to be the expected result) | ${count(r.expectedFailures)} |`,
    ...(r.rssAtEarlyMB === undefined
      ? []
      : [`| RSS at ${count(EARLY_SAMPLE)} ops | ${fixed(r.rssAtEarlyMB)} MB |`]),
    `| RSS at ${count(tenthPoint(r.total, 1))} ops (10 %) | ${fixed(r.rssAtTenthMB)} MB |`,
    `| RSS at the end | ${fixed(r.rssEndMB)} MB |`,
    `| RSS max (at ${count(r.rssMaxAtOps)} ops) | ${fixed(r.rssMaxMB)} MB |`,
    `| RSS growth from 10 % to the end | ${signed(r.growthMB)} MB |`,
    `| of which kept by the module for the ${count(r.destroyedInWindow)} session objects destroyed meanwhile | ${retention} |`,
    `| growth judged: the rest (limit ${GROWTH_LIMIT_MB} MB) | ${signed(r.judgedGrowthMB)} MB ${tick(r.judgedGrowthMB <= GROWTH_LIMIT_MB)} |`,
    `| RSS slope over the second half, MB per 100,000 ops (the module's retention subtracted) | ${fixed(r.slopeMBPer100k, 2)} (${fixed(r.judgedSlopeMBPer100k, 2)}) |`,
    `| V8 heap used at the end | ${fixed(r.heapEndMB)} MB |`,
    `| soak data objects left before closing | ${c.soakObjectsLeft} ${tick(c.soakObjectsLeft === 0)} |`,
    `| objects after closing the sessions (the ${c.objectsBeforeClose} key objects were session objects) | ${c.objectsAfterClose} ${tick(c.objectsAfterClose === 0)} |`,
    `| sessions open after closing | ${sessionsLeft(c)} ${tick(!c.loggedInAfterClose && !c.sessionCountAfterClose)} |`,
    '',
    '| operation | count | share | mean µs |',
    '|---|---:|---:|---:|',
    ...r.kinds.map(
      (k) =>
        `| ${k.name}${k.failing ? ' (expected failure)' : ''} | ${count(k.count)} | ` +
        `${fixed((100 * k.count) / Math.max(1, r.ops))} % | ${count(k.meanUs)} |`,
    ),
  ];
  const tenths = Array.from({ length: 10 }, (_, i) => sampleAt(r.samples, tenthPoint(r.total, i + 1)));
  lines.push('', `RSS at each tenth of the run, MB: ${tenths.map((s) => fixed(mb(s.rss))).join(', ')}.`);
  if (r.firstErrors.length > 0) {
    lines.push('', `First unexpected errors (of ${count(r.unexpected)}):`, '');
    for (const e of r.firstErrors) lines.push(`- op ${e.op}, session ${e.session}, ${e.kind}: ${e.message}`);
  }
  lines.push('', r.failures.length ? `FAILED: ${r.failures.join('; ')}.` : 'Passed.');
  return lines.join('\n');
}
