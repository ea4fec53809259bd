/**
 * `npm run bench:soak`: the soak benchmark of issue 7. One process, one fresh SoftHSM2 token, four
 * logged-in sessions each running a loop over a mixed workload at the same time (signatures, MACs,
 * AES round trips, digests, random bytes, data objects made and destroyed, searches, attribute
 * reads, and failures provoked on purpose: see bench/soak-ops.ts), one million operations in all.
 * Memory is sampled after a forced collection as it runs; at the end the sessions are closed and the
 * token checked for anything left behind.
 *
 * Usage: npm run bench:soak [-- --ops N] [--quick] [--json]
 *   --ops N   operations in all (default 1,000,000)
 *   --quick   20,000 operations, for trying it out
 *   --json    print the report as JSON instead of Markdown
 *
 * Progress goes to stderr, the report to stdout. Exits 1 on any unexpected error, on RSS growth of
 * more than 10 MB from the 10 % point to the end, or when something is left on the token.
 */
import { Attribute, Library, ObjectClass, SessionState, type Session, type Token } from '../src/index.js';
import { applyEnv, provisionToken } from '../src/softhsm/index.js';
import { describeMachine, type Machine } from './machine.js';
import { findKeys, generateKeys, seededRandom, SOAK_APPLICATION, type Worker } from './soak-ops.js';
import { buildReport, markdown, type Cleanup, type SoakReport } from './soak-report.js';
import { runSoak } from './soak-run.js';

/** Sessions running the mix at once. */
const SESSIONS = 4;
const FULL_OPS = 1_000_000;
const QUICK_OPS = 20_000;
/**
 * Seed of the first session's random sequence (the others follow): each session draws the same
 * operations and sizes in every run; only how many each gets through depends on timing.
 */
const SEED = 0x50a6;

interface Options {
  readonly ops: number;
  readonly json: boolean;
}

function parseArgs(args: readonly string[]): Options {
  let ops: number | undefined;
  let quick = false;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--quick') quick = true;
    else if (arg === '--json') json = true;
    else if (arg === '--ops' || arg.startsWith('--ops=')) {
      const text = arg === '--ops' ? args[++i] : arg.slice('--ops='.length);
      ops = Number(text);
      if (!Number.isSafeInteger(ops) || ops < 1)
        throw new RangeError(`--ops needs a whole number of operations >= 1, got ${JSON.stringify(text)}`);
    } else throw new RangeError(`unknown argument ${JSON.stringify(arg)} (use --ops N, --quick, --json)`);
  }
  return { ops: ops ?? (quick ? QUICK_OPS : FULL_OPS), json };
}

/** The session states of a logged-in user. */
const LOGGED_IN: ReadonlySet<number> = new Set([
  SessionState.RO_USER_FUNCTIONS,
  SessionState.RW_USER_FUNCTIONS,
  SessionState.RW_SO_FUNCTIONS,
]);

/**
 * Counts what the soak left, closes its sessions, then looks at the token from a fresh session:
 * still logged in means one of this process's sessions stayed open (login ends with the last one),
 * and any object found means something outlived the sessions that made it.
 */
async function closeAndCount(token: Token, sessions: readonly Session[], pin: string): Promise<Cleanup> {
  const first = sessions[0] as Session;
  const soakObjectsLeft = (
    await first.findHandles({
      [Attribute.CLASS]: ObjectClass.DATA,
      [Attribute.APPLICATION]: SOAK_APPLICATION,
    })
  ).length;
  const objectsBeforeClose = (await first.findHandles()).length;
  await Promise.all(sessions.map((session) => session.close()));
  const { sessionCount } = await token.getInfo();
  const fresh = await token.open();
  try {
    const loggedInAfterClose = LOGGED_IN.has((await fresh.getInfo()).state);
    await fresh.login(pin);
    const objectsAfterClose = (await fresh.findHandles()).length;
    return {
      soakObjectsLeft,
      objectsBeforeClose,
      sessionCountAfterClose: sessionCount === undefined ? undefined : sessionCount - 1,
      loggedInAfterClose,
      objectsAfterClose,
    };
  } finally {
    await fresh.close();
  }
}

/** Runs the soak on a provisioned token (its environment already applied) and reports. */
async function soak(modulePath: string, tokenLabel: string, pin: string, ops: number, machine: Machine) {
  const lib = await Library.load(modulePath);
  const token = await lib.getToken({ tokenLabel });
  const sessions = await Promise.all(
    Array.from({ length: SESSIONS }, () => token.open({ userPin: pin, rw: true })),
  );
  await generateKeys(sessions[0] as Session);
  const workers: Worker[] = await Promise.all(
    sessions.map(async (session, index) => ({
      index,
      session,
      keys: await findKeys(session),
      random: seededRandom(SEED + index),
      serial: 0,
    })),
  );
  process.stderr.write(`soak: ${ops.toLocaleString('en-US')} operations on ${SESSIONS} sessions\n`);
  const run = await runSoak(workers, ops, (line) => process.stderr.write(`soak: ${line}\n`));
  const cleanup = await closeAndCount(token, sessions, pin);
  await lib.finalize();
  return buildReport(machine, SESSIONS, ops, run, cleanup);
}

async function main(): Promise<SoakReport> {
  const args = process.argv.slice(2);
  const options = parseArgs(args);
  if (typeof (globalThis as { gc?: unknown }).gc !== 'function') {
    throw new Error(
      'run node with --expose-gc (npm run bench:soak does): RSS is sampled after a forced collection',
    );
  }
  const token = await provisionToken({ label: 'pkcs11-soak' });
  const restoreEnv = applyEnv(token);
  try {
    const machine: Machine = {
      ...describeMachine(args, token.modulePath),
      command: ['npm run bench:soak', ...(args.length ? ['--', ...args] : [])].join(' '),
    };
    const report = await soak(token.modulePath, token.tokenLabel, token.pin, options.ops, machine);
    process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${markdown(report)}\n`);
    return report;
  } finally {
    restoreEnv();
    await token.dispose();
  }
}

main().then(
  (report) => {
    if (report.failures.length > 0) process.exitCode = 1;
  },
  (error: unknown) => {
    process.stderr.write(`soak: ${error instanceof Error ? error.message : String(error)}\n`);
    // A hung module call would keep the process alive: leave at once.
    process.exit(1);
  },
);
