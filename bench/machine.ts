/**
 * The facts a benchmark report must carry so its numbers mean something: the machine, the
 * software versions, the command and the date.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Where and how a run happened. */
export interface Machine {
  readonly date: string;
  readonly command: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly module: string;
  readonly moduleVersion: string;
  /** The 1-minute load average when the run started (other work on the machine skews figures). */
  readonly loadAverage: number;
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // not Linux: fall through to what node knows
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

/** SoftHSM2's version as its utility prints it, or 'unknown' for another module. */
function softHsmVersion(): string {
  try {
    return execFileSync('softhsm2-util', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Describes this machine, for a run started with `args` on module `modulePath`. */
export function describeMachine(args: readonly string[], modulePath: string): Machine {
  return {
    date: new Date().toISOString(),
    command: ['npm run bench', ...(args.length ? ['--', ...args] : [])].join(' '),
    cpus: os.availableParallelism(),
    cpuModel: cpuModel(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    module: modulePath,
    moduleVersion: softHsmVersion(),
    loadAverage: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
  };
}
