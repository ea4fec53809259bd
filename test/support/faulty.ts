/**
 * The fault-injecting module (test/fixtures/faulty) as the tests use it: built on first use by its
 * build.sh, driven through a control file that is replaced in one step (write a temporary file,
 * then rename it over the control file, so the module never reads half a plan), and watched
 * through the library's call trace (test/support/call-log.ts).
 *
 * The module reads FAULTY_CONTROL and FAULTY_TARGET once per process, when it is first loaded,
 * and its rules and call counters are per process too; so a test file (one process under node's
 * test runner) has one control file and states each plan in full.
 *
 * @example
 * const faulty = prepareFaulty();
 * if (typeof faulty === 'string') skip(faulty);
 * const log = new CallLog();
 * const lib = await Library.load(faulty.path, { trace: log.sink });
 * faulty.control.set('fail C_Sign 0x30 at=1');
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Library, type Token } from '../../src/index.js';
import { CallLog } from './call-log.js';
import type { TestEnv } from './env.js';

const BUILD_SCRIPT = fileURLToPath(new URL('../fixtures/faulty/build.sh', import.meta.url));

/**
 * The control file of this process's fault module. Every method replaces the whole plan (the
 * module then starts counting calls afresh).
 */
export class FaultControl {
  #serial = 0;

  constructor(
    /** Where the module looks for its plan (FAULTY_CONTROL). */
    readonly path: string,
  ) {}

  /**
   * Replaces the plan with these lines (README.md beside faulty.c has the grammar).
   *
   * @example
   * control.set('toosmall C_Sign times=3', 'delay C_GenerateRandom ms=100');
   */
  set(...lines: string[]): void {
    const temporary = `${this.path}.${process.pid}.${++this.#serial}`;
    writeFileSync(temporary, lines.map((line) => `${line}\n`).join(''));
    renameSync(temporary, this.path);
  }

  /** No rule, token in. */
  clear(): void {
    this.set();
  }
}

/** The fault module, built and ready to load, with its control file. */
export interface FaultyModule {
  /** Path of libfaulty.so, for `Library.load`. */
  readonly path: string;
  /** The plan of this process. */
  readonly control: FaultControl;
}

let prepared: FaultyModule | string | undefined;

/**
 * Builds the module (only when its sources changed) and points this process at a fresh, empty
 * control file; the same answer on later calls. The wrapped module is PKCS11_MODULE when set
 * (unless FAULTY_TARGET says otherwise), else the module's default, SoftHSM2. Returns a reason to
 * skip instead when the module cannot be built (no C compiler or no PKCS#11 header).
 */
export function prepareFaulty(): FaultyModule | string {
  prepared ??= build();
  return prepared;
}

function build(): FaultyModule | string {
  let path: string;
  try {
    path = execFileSync(BUILD_SCRIPT, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    return `the fault module cannot be built: ${stderr || (error as Error).message}`;
  }
  const dir = mkdtempSync(join(tmpdir(), 'pkcs11-ts-faulty-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const control = new FaultControl(join(dir, 'control'));
  control.clear();
  process.env.FAULTY_CONTROL = control.path;
  if (!process.env.FAULTY_TARGET && process.env.PKCS11_MODULE)
    process.env.FAULTY_TARGET = process.env.PKCS11_MODULE;
  return { path, control };
}

/** A library loaded through the fault module, its test token, and what it calls. */
export interface FaultyToken {
  readonly lib: Library;
  readonly token: Token;
  /** Every C call of {@link lib}, as traced. */
  readonly log: CallLog;
  readonly control: FaultControl;
}

/**
 * Loads the fault module (in front of the test run's module) with a call log, and finds the test
 * token through it. The plan is emptied first.
 */
export async function loadFaulty(faulty: FaultyModule, env: TestEnv): Promise<FaultyToken> {
  faulty.control.clear();
  const log = new CallLog();
  const lib = await Library.load(faulty.path, { initReserved: env.initReserved, trace: log.sink });
  return { lib, token: await lib.getToken({ tokenLabel: env.tokenLabel }), log, control: faulty.control };
}
