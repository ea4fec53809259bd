/**
 * The benchmark workloads of issue 6, their sizes, and the shape of what each one measures.
 * Shared by the orchestrator (bench/run.ts), the C baseline (bench/c/bench.c takes the same
 * numbers on its command line) and the TypeScript drivers, so every implementation runs exactly
 * the same amount of work.
 */

/** The workloads, in the order they run and are reported. */
export const WORKLOADS = ['attr', 'sign', 'objects', 'aes', 'keygen', 'leak'] as const;
/** One workload's name. */
export type Workload = (typeof WORKLOADS)[number];

/** How much work each workload does. */
export interface Sizes {
  /** `C_GetAttributeValue(CKA_LABEL)` reads of one public session object. */
  readonly attrReads: number;
  /** ECDSA P-256 signatures per session configuration. */
  readonly signs: number;
  /** Session counts for the sign workload; the first is the single-session case. */
  readonly signSessions: readonly number[];
  /** Signs kept queued on one session by the "queued" variant (drivers whose sessions queue calls). */
  readonly signDepth: number;
  /** Data objects created, then found and labelled. */
  readonly objects: number;
  /** Bytes encrypted with AES-256-CBC-PAD, and the chunk size. */
  readonly aesBytes: number;
  readonly aesChunk: number;
  /** RSA modulus size of the key pair generated while the event loop is watched. */
  readonly keygenBits: number;
  /** HMAC signs before the first RSS sample, and in total. */
  readonly leakFirst: number;
  readonly leakTotal: number;
  /** Repetitions of every workload but the leak check; the best run counts. */
  readonly rounds: number;
}

/** The full run: the counts of the issue. */
export const FULL: Sizes = {
  attrReads: 200_000,
  signs: 10_000,
  signSessions: [1, 2, 4],
  signDepth: 16,
  objects: 5_000,
  aesBytes: 64 * 1024 * 1024,
  aesChunk: 64 * 1024,
  keygenBits: 4096,
  leakFirst: 10_000,
  leakTotal: 1_000_000,
  rounds: 3,
};

/** `--quick`: every code path once, with small counts, in a few seconds per implementation. */
export const QUICK: Sizes = {
  attrReads: 2_000,
  signs: 200,
  signSessions: [1, 2],
  signDepth: 4,
  objects: 200,
  aesBytes: 1024 * 1024,
  aesChunk: 64 * 1024,
  keygenBits: 2048,
  leakFirst: 100,
  leakTotal: 2_000,
  rounds: 1,
};

/** What one run of a workload measured. Times are nanoseconds; RSS is bytes. */
export type Measurement =
  | {
      readonly workload: 'attr';
      readonly reads: number;
      readonly ns: number;
      /** CPU time of the whole process (every thread) over the timed part. */
      readonly cpuNs?: number;
      readonly oneCallNs?: number;
    }
  | {
      readonly workload: 'sign';
      readonly signs: number;
      readonly sessions: number;
      /** Signs outstanding per session: 1 = each awaited before the next. */
      readonly depth?: number;
      readonly ns: number;
      readonly cpuNs?: number;
    }
  | {
      readonly workload: 'objects';
      readonly count: number;
      readonly createNs: number;
      readonly findNs: number;
      readonly findCpuNs?: number;
    }
  | {
      readonly workload: 'aes';
      readonly bytes: number;
      readonly chunk: number;
      readonly ns: number;
      readonly cpuNs?: number;
      /** pkcs11-ts only: the same encryption yielding a new buffer per chunk (no `options.output`). */
      readonly freshNs?: number;
      /** pkcs11-ts only: the same encryption after only {@link AES_COLD_WARM_UP} (V8 still optimising). */
      readonly coldNs?: number;
    }
  | {
      readonly workload: 'keygen';
      readonly bits: number;
      readonly ns: number;
      readonly maxDelayMs?: number;
      /** The same watch over a second with nothing running: the machine's own noise floor. */
      readonly idleDelayMs?: number;
    }
  | {
      readonly workload: 'leak';
      readonly first: number;
      readonly total: number;
      readonly rssFirst: number;
      readonly rssTotal: number;
      readonly ns: number;
    };

/** A request to a driver process: one workload with its numbers. */
export type Request =
  | { readonly workload: 'attr'; readonly reads: number }
  | { readonly workload: 'sign'; readonly signs: number; readonly sessions: number; readonly depth: number }
  | { readonly workload: 'objects'; readonly count: number }
  | { readonly workload: 'aes'; readonly bytes: number; readonly chunk: number }
  | { readonly workload: 'keygen'; readonly bits: number }
  | { readonly workload: 'leak'; readonly first: number; readonly total: number };

/** The label of the object the attr workload reads; the same bytes in every implementation. */
export const ATTR_LABEL = 'pkcs11-bench label';
/** CKA_APPLICATION of the objects workload's data objects, which is what the search matches. */
export const FIND_APPLICATION = 'pkcs11-bench find';
/**
 * Every implementation, the C program too, first creates this many objects under
 * {@link WARM_UP_APPLICATION}, then finds them and reads their labels
 * {@link OBJECTS_WARM_UP_SEARCHES} times, untimed: the JavaScript of a creation and of a search
 * is then compiled (one search of 500 left V8 optimising the search path on its compiler threads
 * during the timed one), and every token holds the same objects when the timed part starts.
 */
export const OBJECTS_WARM_UP = 500;
/** Searches of the warm-up objects before the timed part. */
export const OBJECTS_WARM_UP_SEARCHES = 10;
/** CKA_APPLICATION of the warm-up objects. */
export const WARM_UP_APPLICATION = 'pkcs11-bench warm-up';
/** CKA_LABEL of the n-th data object of the objects workload. */
export function objectLabel(n: number): string {
  return `object-${String(n).padStart(5, '0')}`;
}
/** CKA_LABEL of the EC key the sign workload's extra sessions look up. */
export const SIGN_KEY_LABEL = 'pkcs11-bench ec';
/**
 * Signs every driver makes before the timed sign runs (at most the run's own count). A few
 * thousand: pkcs11-ts's deeper JavaScript takes that long to reach its steady speed (200 left it
 * 10-20 % slower in the timed part; the peers were unchanged).
 */
export const SIGN_WARM_UP = 3000;
/**
 * Bytes every driver encrypts before the timed aes run (JIT, threads and buffers warm): 4,096
 * chunks, at most four times the run's own size. pkcs11-ts's stream takes about 3,000 chunks
 * before V8 has finished optimising it (docs/benchmarks.md section 23: after 256 chunks its next
 * 1,024 ran 100-111 µs each, with the compiler threads adding 50-80 µs of CPU per chunk, and 76-91
 * µs three runs later); the peers' loops of one call per chunk were warm after 256.
 */
export const AES_WARM_UP = 256 * 1024 * 1024;
/** The warm-up of pkcs11-ts's extra cold aes figure: the 256 chunks all drivers had before session 6. */
export const AES_COLD_WARM_UP = 16 * 1024 * 1024;

/** The warm-up of an aes run of `bytes`: {@link AES_WARM_UP}, at most four runs' worth (small `--quick` runs). */
export function aesWarmUp(bytes: number): number {
  return Math.min(AES_WARM_UP, 4 * bytes);
}
/** The AES-CBC IV of the aes workload (any fixed value; the C program uses the same). */
export const AES_IV = new Uint8Array(16).fill(7);

/** The plaintext chunk of the aes workload: the same bytes as the C program's. */
export function aesChunk(size: number): Buffer {
  const chunk = Buffer.alloc(size);
  for (let i = 0; i < size; i++) chunk[i] = (i * 31 + 7) & 0xff;
  return chunk;
}
