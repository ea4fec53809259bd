/**
 * What the main thread and a lane (sys/lanes.ts, sys/lane-worker.ts) send each other. Pointers
 * travel as addresses (bigint) into buffers the main thread keeps alive until the answer.
 */
import type { FunctionName } from './functions.js';

/** The wire form of a chain, as the lane receives it (sys/lane-worker.ts). */
export interface WireChain {
  readonly id: number;
  readonly calls: readonly {
    readonly fn: FunctionName;
    readonly args: readonly (number | bigint)[];
    readonly sized: boolean;
  }[];
}

/** What a lane posts once, when its script has loaded. */
export const LANE_READY = 'ready';

/** The wire form of a chain's result. */
export interface WireResult {
  readonly id: number;
  readonly rvs: number[];
  readonly outputs: (Uint8Array | null)[];
  /** Set when the lane could not make a call at all (an argument koffi refused). */
  readonly error?: string;
}

/** What a lane is started with: the module's file and functions by address, and the platform's CK_ULONG size. */
export interface LaneSetup {
  /** The module's file: koffi calls nothing on a thread before that thread has loaded a library. */
  readonly path: string;
  /** One Int32 the main thread sets to 1 when the module is finalized: chains not begun then are not begun. */
  readonly closed: SharedArrayBuffer;
  readonly functions: readonly (readonly [FunctionName, bigint, string])[];
  readonly ulongSize: number;
}
