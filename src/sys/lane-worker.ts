/**
 * The body of a lane (sys/lanes.ts): a worker thread that makes the C calls of each chain it is
 * sent, in order, stopping at the first call that does not return CKR_OK, and answers their
 * return codes. Pointers arrive as addresses into the main thread's buffers, which the main
 * thread keeps alive until the answer; a `sized` output call that gets CKR_BUFFER_TOO_SMALL is
 * made again here with a buffer of the size the module asked for, as often as it asks (bounded).
 */
import { parentPort, workerData } from 'node:worker_threads';
import koffi from 'koffi';
import { LANE_READY, type LaneSetup, type WireChain, type WireResult } from './lane-protocol.js';

const CKR_OK = 0;
const CKR_CRYPTOKI_NOT_INITIALIZED = 0x190;
const CKR_FUNCTION_NOT_SUPPORTED = 0x54;
const CKR_BUFFER_TOO_SMALL = 0x150;
/** Retries of one sized call before its CKR_BUFFER_TOO_SMALL is answered as it is. */
const MAX_RESIZES = 8;
/** Lengths beyond this are not believed (CK_UNAVAILABLE_INFORMATION, or nonsense). */
const MAX_OUTPUT = 2 ** 31;

const setup = workerData as LaneSetup;
// koffi sets up a thread's call stack when the thread first loads a library; the module is
// already mapped in the process, so this only takes another reference to it.
const library = koffi.load(setup.path);
/** Pointers travel as addresses, so this thread's prototypes take them as integers. */
const PARAM: Record<string, string> = { U: 'unsigned long', B: 'uint8_t', P: 'uintptr_t' };

type CFunction = (...args: (number | bigint)[]) => number | bigint;
const functions = new Map<string, CFunction>();
for (const [name, address, signature] of setup.functions) {
  const proto = koffi.proto(
    'unsigned long',
    [...signature].map((c) => PARAM[c] as string),
  );
  functions.set(name, koffi.decode(address, proto) as CFunction);
}
void library;

function readLength(address: bigint): number {
  const view = Buffer.from(koffi.view(address, setup.ulongSize));
  const v = setup.ulongSize === 8 ? view.readBigUInt64LE(0) : BigInt(view.readUInt32LE(0));
  return v >= BigInt(MAX_OUTPUT) ? Number.POSITIVE_INFINITY : Number(v);
}

function lengthCell(value: number): Buffer {
  const cell = Buffer.alloc(setup.ulongSize);
  if (setup.ulongSize === 8) cell.writeBigUInt64LE(BigInt(value));
  else cell.writeUInt32LE(value);
  return cell;
}

/**
 * A sized call that answered a length (to a query, or with CKR_BUFFER_TOO_SMALL) into the caller's
 * length cell: made again with a buffer of ours of that length, grown as often as the module asks.
 */
function grow(fn: CFunction, args: (number | bigint)[]): { rv: number; output: Uint8Array | null } {
  let need = readLength(args[args.length - 1] as bigint);
  let rv = CKR_BUFFER_TOO_SMALL;
  for (let i = 0; i < MAX_RESIZES && rv === CKR_BUFFER_TOO_SMALL && Number.isFinite(need); i++) {
    const out = Buffer.alloc(Math.max(need, 1));
    const len = lengthCell(out.length);
    rv = Number(fn(...args.slice(0, -2), koffi.address(out), koffi.address(len)));
    need = readLength(koffi.address(len));
    if (rv === CKR_OK) return { rv, output: need <= out.length ? out.subarray(0, need) : null };
  }
  return { rv, output: null };
}

const closed = new Int32Array(setup.closed);

function run(chain: WireChain): WireResult {
  const rvs: number[] = [];
  const outputs: (Uint8Array | null)[] = [];
  // The module is being finalized: a chain not begun yet never reaches it (as with koffi's queue).
  if (Atomics.load(closed, 0) !== 0)
    return { id: chain.id, rvs: [CKR_CRYPTOKI_NOT_INITIALIZED], outputs: [null] };
  try {
    for (const call of chain.calls) {
      const fn = functions.get(call.fn);
      let rv = fn ? Number(fn(...call.args)) : CKR_FUNCTION_NOT_SUPPORTED;
      let output: Uint8Array | null = null;
      // A sized call offered a buffer too small, or none (a length query): make it with ours.
      const query = call.sized && call.args[call.args.length - 2] === 0n;
      if (fn && call.sized && (rv === CKR_BUFFER_TOO_SMALL || (query && rv === CKR_OK))) {
        ({ rv, output } = grow(fn, [...call.args]));
      }
      rvs.push(rv);
      outputs.push(output);
      if (rv !== CKR_OK) break;
    }
  } catch (e) {
    return { id: chain.id, rvs, outputs, error: e instanceof Error ? e.message : String(e) };
  }
  return { id: chain.id, rvs, outputs };
}

parentPort?.on('message', (chain: WireChain) => parentPort?.postMessage(run(chain)));
parentPort?.postMessage(LANE_READY);
