/**
 * The library's call trace as the tests read it: each line parsed into the function, its
 * arguments, its return code and its duration, and a log that collects the lines of one library
 * (pass {@link CallLog.sink} as `Library.load`'s `trace` option).
 *
 * @example
 * const log = new CallLog();
 * const lib = await Library.load(path, { trace: log.sink });
 * const mark = log.mark();
 * await session.findHandles({});
 * log.names(mark); // ['C_FindObjectsInit', 'C_FindObjects', 'C_FindObjectsFinal']
 */
import type { TraceSink } from '../../src/model/trace.js';

/** One C call as the library's trace reports it. */
export interface TracedCall {
  /** The Cryptoki function, e.g. `C_Sign`. */
  readonly fn: string;
  /** The arguments as printed: handles and numbers in hex, `NULL`, `<N bytes>`, mechanism names, `<secret>`. */
  readonly args: readonly string[];
  /** The return code's name, e.g. `CKR_OK`. */
  readonly rv: string;
  /** The duration in milliseconds. */
  readonly ms: number;
  /** The whole line. */
  readonly line: string;
  /** When the line reached the log (`performance.now()`): the call's end, so it began `ms` before. */
  readonly at?: number;
}

const TRACE_LINE = /^(C_\w+)\((.*)\) = (\S+) \[(\d+\.\d+) ms\]$/;

/**
 * Parses a trace line such as `C_Login(0x2, 0x1, <secret>, <secret>) = CKR_PIN_INCORRECT [0.104 ms]`;
 * undefined when the line does not have that shape.
 */
export function parseTraceLine(line: string): TracedCall | undefined {
  const m = TRACE_LINE.exec(line);
  if (!m) return undefined;
  const list = m[2] as string;
  return {
    fn: m[1] as string,
    args: list === '' ? [] : list.split(', '),
    rv: m[3] as string,
    ms: Number(m[4]),
    line,
  };
}

/**
 * Records what a library's trace reports: pass {@link sink} as `Library.load`'s `trace` option.
 * A line that does not parse is kept in {@link malformed} so a test can insist there is none.
 */
export class CallLog {
  readonly #calls: TracedCall[] = [];
  /** Trace lines that did not have the expected shape. */
  readonly malformed: string[] = [];
  /** The trace sink that feeds this log. */
  readonly sink: TraceSink = (line) => {
    const call = parseTraceLine(line);
    if (call) this.#calls.push({ ...call, at: performance.now() });
    else this.malformed.push(line);
  };

  /** A position in the log, for {@link since}. */
  mark(): number {
    return this.#calls.length;
  }

  /** The calls recorded after `mark` (all of them by default), optionally only those of `fn`. */
  since(mark = 0, fn?: string): TracedCall[] {
    const calls = this.#calls.slice(mark);
    return fn === undefined ? calls : calls.filter((c) => c.fn === fn);
  }

  /** The function names after `mark`, in order: `['C_SignInit', 'C_Sign', ...]`. */
  names(mark = 0): string[] {
    return this.since(mark).map((c) => c.fn);
  }
}
