/**
 * Turning measurements into the report: one row per figure, the ratio of pkcs11-ts to the C
 * baseline of the same run, its speed against each peer, and the issue's target for that figure.
 */
import type { Machine } from './machine.js';
import { AES_COLD_WARM_UP, type Measurement, type Sizes } from './workloads.js';

/** The implementations a run compares. */
export const IMPLS = ['c', 'pkcs11-ts', 'pkcs11js', 'graphene'] as const;
/**
 * pkcs11-ts with parts of its execution design turned off (`--variants`), to show what each part
 * gives: the environment each variant's driver runs with.
 */
export const VARIANTS = {
  /** Nothing inline: every C call one koffi round trip (the first design's execution). */
  'pkcs11-ts, one hop per call': { PKCS11_TS_EXECUTION: 'worker' },
} as const;
/** A variant's name. */
export type Variant = keyof typeof VARIANTS;
/** One implementation, or a variant of pkcs11-ts. */
export type Impl = (typeof IMPLS)[number] | Variant;
const ALL_IMPLS: readonly Impl[] = [...IMPLS, ...(Object.keys(VARIANTS) as Variant[])];
/** The peers pkcs11-ts must beat. */
const PEERS = ['pkcs11js', 'graphene'] as const;

/** The best measurement of every implementation in every case (`attr`, `sign-2`, `sign-1-queued`, ...). */
export type Results = Map<string, Map<Impl, Measurement>>;

/** How a ratio or value is judged against the issue's target. */
type Target =
  | { readonly kind: 'ratio-max' | 'ratio-min'; readonly limit: number }
  | { readonly kind: 'value-max'; readonly limit: number };

/** One line of the report. */
export interface Row {
  readonly workload: string;
  readonly metric: string;
  /** Whether a larger value is better (rates) or worse (times, delays, memory). */
  readonly higherIsBetter: boolean;
  readonly values: Partial<Record<Impl, number>>;
  /** pkcs11-ts divided by `ratioBase` (C unless stated). */
  readonly ratio?: number;
  readonly ratioBase?: string;
  /** How many times faster pkcs11-ts is than each peer (above 1: faster). */
  readonly speedup: Partial<Record<(typeof PEERS)[number], number>>;
  readonly target?: string;
  readonly met?: boolean;
}

/** The whole report, as `--json` prints it. */
export interface Report {
  readonly machine: Machine;
  readonly sizes: Sizes;
  readonly rows: readonly Row[];
  readonly results: Record<string, Partial<Record<Impl, Measurement>>>;
}

function pick<W extends Measurement['workload']>(
  results: Results,
  key: string,
  workload: W,
): Partial<Record<Impl, Extract<Measurement, { workload: W }>>> {
  const out: Partial<Record<Impl, Extract<Measurement, { workload: W }>>> = {};
  for (const [impl, m] of results.get(key) ?? []) {
    if (m.workload === workload) out[impl] = m as Extract<Measurement, { workload: W }>;
  }
  return out;
}

function mapValues<T>(
  from: Partial<Record<Impl, T>>,
  f: (m: T, impl: Impl) => number | undefined,
): Partial<Record<Impl, number>> {
  const out: Partial<Record<Impl, number>> = {};
  for (const impl of ALL_IMPLS) {
    const m = from[impl];
    const v = m === undefined ? undefined : f(m, impl);
    if (v !== undefined && Number.isFinite(v)) out[impl] = v;
  }
  return out;
}

function judge(
  target: Target | undefined,
  ratio: number | undefined,
  value: number | undefined,
): boolean | undefined {
  if (!target) return undefined;
  const x = target.kind === 'value-max' ? value : ratio;
  if (x === undefined) return undefined;
  return target.kind === 'ratio-min' ? x >= target.limit : x <= target.limit;
}

function describe(target: Target | undefined): string | undefined {
  if (!target) return undefined;
  if (target.kind === 'ratio-max') return `<= ${target.limit}x`;
  if (target.kind === 'ratio-min') return `>= ${target.limit}x`;
  return `< ${target.limit}`;
}

/** Builds a row: ratio of pkcs11-ts to `base` (C's value unless given), speedups, target verdict. */
function row(
  workload: string,
  metric: string,
  higherIsBetter: boolean,
  values: Partial<Record<Impl, number>>,
  options: {
    target?: Target;
    base?: number;
    ratioBase?: string;
    noRatio?: boolean;
    noSpeedup?: boolean;
  } = {},
): Row {
  const ours = values['pkcs11-ts'];
  const base = options.base ?? values.c;
  const ratio =
    options.noRatio || ours === undefined || base === undefined || base === 0 ? undefined : ours / base;
  const speedup: Row['speedup'] = {};
  for (const peer of options.noSpeedup ? [] : PEERS) {
    const theirs = values[peer];
    if (ours === undefined || theirs === undefined || ours === 0 || theirs === 0) continue;
    speedup[peer] = higherIsBetter ? ours / theirs : theirs / ours;
  }
  const { target } = options;
  return {
    workload,
    metric,
    higherIsBetter,
    values,
    ratio,
    ratioBase: ratio === undefined ? undefined : (options.ratioBase ?? 'C'),
    speedup,
    target: describe(target),
    met: judge(target, ratio, ours),
  };
}

const MB = 1024 * 1024;

/** MiB per second for `bytes` in `ns` nanoseconds. */
function mibPerSecond(bytes: number, ns: number): number {
  return bytes / MB / (ns / 1e9);
}

/** Microseconds per operation from a CPU time, when it was measured. */
function perOp(cpuNs: number | undefined, operations: number): number | undefined {
  return cpuNs === undefined ? undefined : cpuNs / operations / 1000;
}

/**
 * The CPU time the figure above cost, summed over every thread of the process: what the work
 * costs whatever else the machine runs, where wall-clock figures also count waiting for a CPU.
 */
function cpuRow(workload: string, unit: string, values: Partial<Record<Impl, number>>): Row {
  return row(workload, `same, CPU time of all threads, ${unit}`, false, values);
}

/** Every row of the report, from the best measurements. */
export function buildRows(results: Results, sizes: Sizes): Row[] {
  const rows: Row[] = [];
  const attr = pick(results, 'attr', 'attr');
  rows.push(
    row(
      'attr',
      `C_GetAttributeValue(CKA_LABEL), µs per read (${sizes.attrReads} awaited)`,
      false,
      mapValues(attr, (m) => m.ns / m.reads / 1000),
      { target: { kind: 'ratio-max', limit: 1.3 } },
    ),
  );
  rows.push(
    cpuRow(
      'attr',
      'µs per read',
      mapValues(attr, (m) => perOp(m.cpuNs, m.reads)),
    ),
  );
  const cOneCall = attr.c?.oneCallNs;
  if (cOneCall !== undefined && attr.c) {
    const oneCall = cOneCall / attr.c.reads / 1000;
    rows.push(
      row('attr', 'same, against C reading with one call into a 256-byte buffer', false, {
        c: oneCall,
        'pkcs11-ts': rows[0]?.values['pkcs11-ts'],
      }),
    );
  }

  const single = pick(results, `sign-${sizes.signSessions[0]}`, 'sign').c;
  const cRate = single ? single.signs / (single.ns / 1e9) : undefined;
  for (const sessions of sizes.signSessions) {
    for (const queued of [false, true]) {
      const key = `sign-${sessions}${queued ? '-queued' : ''}`;
      const sign = pick(results, key, 'sign');
      if (Object.keys(sign).length === 0) continue;
      const target: Target | undefined =
        queued || sessions > 2 ? undefined : { kind: 'ratio-min', limit: sessions === 1 ? 0.95 : 1.3 };
      const what = queued
        ? `ECDSA P-256, signs/s, ${sessions} session${sessions > 1 ? 's' : ''}, ${sizes.signDepth} queued per session`
        : `ECDSA P-256, signs/s, ${sessions} session${sessions > 1 ? 's' : ''}${sessions > 1 ? ' concurrently' : ''}`;
      rows.push(
        row(
          'sign',
          what,
          true,
          mapValues(sign, (m) => m.signs / (m.ns / 1e9)),
          {
            target,
            base: cRate,
            ratioBase: 'C, 1 thread',
          },
        ),
      );
      if (!queued)
        rows.push(
          cpuRow(
            'sign',
            'µs per sign',
            mapValues(sign, (m) => perOp(m.cpuNs, m.signs)),
          ),
        );
    }
  }

  const objects = pick(results, 'objects', 'objects');
  rows.push(
    row(
      'objects',
      `create ${sizes.objects} data objects, ms`,
      false,
      mapValues(objects, (m) => m.createNs / 1e6),
    ),
    row(
      'objects',
      `find them and read every label, ms`,
      false,
      mapValues(objects, (m) => m.findNs / 1e6),
      {
        target: { kind: 'ratio-max', limit: 1.2 },
      },
    ),
    cpuRow(
      'objects',
      'µs per object',
      mapValues(objects, (m) => perOp(m.findCpuNs, m.count)),
    ),
  );

  const aes = pick(results, 'aes', 'aes');
  rows.push(
    row(
      'aes',
      `AES-256-CBC-PAD, MiB/s (${sizes.aesBytes / MB} MiB in ${sizes.aesChunk / 1024} KiB chunks)`,
      true,
      mapValues(aes, (m) => mibPerSecond(m.bytes, m.ns)),
      { target: { kind: 'ratio-min', limit: 0.95 } },
    ),
    cpuRow(
      'aes',
      `µs per ${sizes.aesChunk / 1024} KiB chunk`,
      mapValues(aes, (m) => perOp(m.cpuNs, m.bytes / m.chunk)),
    ),
  );
  const ours = aes['pkcs11-ts'];
  const cAes = rows.find((r) => r.workload === 'aes')?.values.c;
  if (ours?.freshNs !== undefined)
    rows.push(
      row('aes', 'same, pkcs11-ts yielding a new buffer per chunk (no `options.output`)', true, {
        c: cAes,
        'pkcs11-ts': mibPerSecond(ours.bytes, ours.freshNs),
      }),
    );
  if (ours?.coldNs !== undefined)
    rows.push(
      row(
        'aes',
        `same, pkcs11-ts after a ${Math.min(sizes.aesBytes, AES_COLD_WARM_UP) / MB} MiB warm-up only (V8 still optimising its stream)`,
        true,
        {
          c: cAes,
          'pkcs11-ts': mibPerSecond(ours.bytes, ours.coldNs),
        },
      ),
    );

  const keygen = pick(results, 'keygen', 'keygen');
  rows.push(
    row(
      'keygen',
      `max event-loop delay during RSA-${sizes.keygenBits} generation, ms`,
      false,
      mapValues(keygen, (m) => m.maxDelayMs),
      { target: { kind: 'value-max', limit: 10 }, noRatio: true },
    ),
    row(
      'keygen',
      'same 1 ms timer over 1 s with nothing running (the noise floor), ms',
      false,
      mapValues(keygen, (m) => m.idleDelayMs),
      { noRatio: true, noSpeedup: true },
    ),
    row(
      'keygen',
      `RSA-${sizes.keygenBits} key pair generation, s (varies widely)`,
      false,
      mapValues(keygen, (m) => m.ns / 1e9),
      { noRatio: true, noSpeedup: true },
    ),
  );

  const leak = pick(results, 'leak', 'leak');
  rows.push(
    row(
      'leak',
      `RSS growth from ${sizes.leakFirst} to ${sizes.leakTotal} HMAC signs, MB`,
      false,
      mapValues(leak, (m) => (m.rssTotal - m.rssFirst) / 1e6),
      { target: { kind: 'value-max', limit: 10 }, noRatio: true, noSpeedup: true },
    ),
    row(
      'leak',
      'SHA256-HMAC sign, µs each (1 session, awaited)',
      false,
      mapValues(leak, (m) => m.ns / m.total / 1000),
    ),
  );
  return rows.filter((r) => Object.keys(r.values).length > 0);
}

function fmt(v: number | undefined): string {
  if (v === undefined) return '–';
  const a = Math.abs(v);
  return a >= 1000
    ? Math.round(v).toLocaleString('en-US')
    : a >= 100
      ? v.toFixed(0)
      : a >= 10
        ? v.toFixed(1)
        : v.toFixed(2);
}

function ratioText(v: number | undefined): string {
  return v === undefined ? '–' : `${v.toFixed(2)}x`;
}

/** The report as Markdown: the machine, then one table row per figure. */
export function markdown(report: Report): string {
  const m = report.machine;
  const lines = [
    `Run ${m.date} with \`${m.command}\`.`,
    '',
    `Machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}; ` +
      `${m.moduleVersion === 'unknown' ? m.module : `SoftHSM ${m.moduleVersion}`}; load average ${m.loadAverage} at start.`,
    '',
    '| workload | figure | C | pkcs11-ts | pkcs11js | graphene | pkcs11-ts / C | target | vs pkcs11js | vs graphene |',
    '|---|---|---:|---:|---:|---:|---:|---|---:|---:|',
  ];
  for (const r of report.rows) {
    const ratio =
      r.ratio === undefined
        ? '–'
        : `${ratioText(r.ratio)}${r.ratioBase === 'C' ? '' : ` (of ${r.ratioBase})`}`;
    const target =
      r.target === undefined ? '' : `${r.target} ${r.met === undefined ? '' : r.met ? '✅' : '❌'}`;
    lines.push(
      `| ${r.workload} | ${r.metric} | ${fmt(r.values.c)} | ${fmt(r.values['pkcs11-ts'])} | ${fmt(r.values.pkcs11js)} | ` +
        `${fmt(r.values.graphene)} | ${ratio} | ${target} | ${ratioText(r.speedup.pkcs11js)} | ${ratioText(r.speedup.graphene)} |`,
    );
  }
  const variants = (Object.keys(VARIANTS) as Variant[]).filter((v) =>
    report.rows.some((r) => r.values[v] !== undefined),
  );
  if (variants.length > 0) {
    lines.push(
      '',
      `| figure | C | pkcs11-ts | ${variants.join(' | ')} |`,
      `|---|---:|---:|${variants.map(() => '---:|').join('')}`,
    );
    for (const r of report.rows.filter((row) => variants.some((v) => row.values[v] !== undefined))) {
      const base = r.values.c;
      const cell = (v: number | undefined): string =>
        v === undefined ? '–' : base === undefined ? fmt(v) : `${fmt(v)} (${ratioText(v / base)})`;
      lines.push(
        `| ${r.metric} | ${fmt(base)} | ${cell(r.values['pkcs11-ts'])} | ${variants.map((v) => cell(r.values[v])).join(' | ')} |`,
      );
    }
  }
  lines.push(
    '',
    '"vs" columns: how many times faster pkcs11-ts is than the peer on that figure (above 1.00x: pkcs11-ts wins). ' +
      `Every workload but the leak check ran ${report.sizes.rounds} time(s), the implementations interleaved, and the best run of each counts (for key generation: the smallest delay).`,
  );
  return lines.join('\n');
}
