/**
 * Choosing how an operation runs, before anything runs: the mechanism (the caller's, or the
 * default for the key type), its parameter completed with the defaults of mechanism-defaults.ts,
 * the IV made or to be read back (iv.ts), and the route: on the token, hashed on the host then
 * signed on the token, or on the host (fallback.ts).
 */
import { ObjectClass } from '../sys/constants.js';
import type { MechanismParameter } from '../core/params.js';
import { checkULong, describeType } from '../core/template.js';
import { mechanismTable } from './capabilities.js';
import { defaultMechanism, type KeyOperation } from './defaults.js';
import { chooseRoute, mechanismsToCheck, type Route, type RouteQuestion } from './fallback.js';
import { HASHED_SIGNATURES, type HashedSignature } from './hashes.js';
import { IV_MECHANISMS, randomIv } from './iv.js';
import { checkKeyForMechanism } from './key-mechanisms.js';
import type { Key } from './keys.js';
import { completeParameter, type ParameterInput } from './mechanism-defaults.js';
import type { Pin } from './secret.js';

/** Options every key operation takes. */
export interface OperationOptions {
  /** The mechanism (a `Mechanism` value or a vendor number); default per key type in defaults.ts. */
  readonly mechanism?: number;
  /**
   * Its parameter: raw bytes (passed through as is), a number, or the structured form the
   * mechanism takes, as an object or a tuple. Missing parts are filled in by pkcs11-ts's defaults
   * (mechanism-defaults.ts); a missing IV is made and written before the ciphertext (iv.ts).
   */
  readonly mechanismParam?: ParameterInput;
  /** PIN for keys with `CKA_ALWAYS_AUTHENTICATE`: a context-specific login right after Init. */
  readonly pin?: Pin;
  /**
   * Whether the host may step in where the token cannot (default true): hash on the host for a
   * hash-then-sign mechanism the token lacks, and do public-key operations with node:crypto when
   * the token cannot. `false` keeps everything on the token (which then reports what it lacks).
   */
  readonly allowFallback?: boolean;
  /**
   * Forces a fallback route even when the token could do the work, for testing and comparison:
   * `'hash'` hashes on the host and signs/verifies the digest with the raw mechanism; `'host'`
   * does a public-key operation with node:crypto. Not meant for production use.
   */
  readonly fallback?: 'hash' | 'host';
}

/** Options of a streamed encryption or decryption: {@link OperationOptions} and where outputs go. */
export interface StreamOptions extends OperationOptions {
  /**
   * Memory to write each chunk's output into, instead of a new buffer per chunk: every chunk
   * yielded is then a view of it, valid until the next one is asked for (copy what you keep).
   * It saves the allocation and collection of a buffer per chunk (docs/benchmarks.md). Give it
   * at least each input chunk's size plus 64 bytes (the room pkcs11-ts offers an update); an
   * output that does not fit, a made IV, and a host-side result come in buffers of their own. A
   * larger buffer costs nothing more: a call writes only the room it is offered, at the start.
   * It must not overlap the input; a failed call leaves it zeroed.
   *
   * @example
   * const output = new Uint8Array(64 * 1024 + 64);
   * for await (const part of key.encrypt(fileStream, { mechanism: Mechanism.AES_CBC_PAD, mechanismParam: iv, output }))
   *   await sink.write(Buffer.from(part)); // a copy: `output` is rewritten by the next chunk
   */
  readonly output?: Uint8Array;
}

/** An IV to be read from the start of the input (decrypt and unwrap without an IV). */
export interface LeadingIv {
  readonly length: number;
  /** The mechanism's parameter with the IV read from the input. */
  parameter(iv: Uint8Array): MechanismParameter;
}

/** How an operation will run. */
export interface Plan {
  readonly route: Route;
  /** The mechanism asked for (or the default). */
  readonly mechanism: number;
  /** Its parameter, completed; on the `'hash'` route, the parameter of the raw mechanism. */
  readonly parameter: MechanismParameter;
  /** On the `'hash'` route: the raw mechanism and the hash. */
  readonly hashed?: HashedSignature;
  /** An IV made for this call, to be written before the output. */
  readonly prefix?: Uint8Array;
  /** An IV to take from the start of the input. */
  readonly leadingIv?: LeadingIv;
}

const ROUTES_FORCED = new Set(['hash', 'host']);
const MAKES_IV = new Set<KeyOperation>(['encrypt', 'wrap']);
const READS_IV = new Set<KeyOperation>(['decrypt', 'unwrap']);

function checkOptions(options: OperationOptions): void {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  if (options.allowFallback !== undefined && typeof options.allowFallback !== 'boolean') {
    throw new TypeError('options.allowFallback must be a boolean');
  }
  if (options.fallback !== undefined && !ROUTES_FORCED.has(options.fallback)) {
    throw new TypeError(`options.fallback must be 'hash' or 'host', got ${String(options.fallback)}`);
  }
  if (options.fallback !== undefined && options.allowFallback === false) {
    throw new TypeError('options.fallback forces a fallback that options.allowFallback: false forbids');
  }
}

/**
 * `options.output` of a stream, checked: absent, or a Uint8Array. Kept apart from
 * {@link checkOptions}, which one-shot calls run too, where `output` does not apply.
 */
export function streamOutput(options: StreamOptions): Uint8Array | undefined {
  const { output } = options;
  if (output !== undefined && !(output instanceof Uint8Array))
    throw new TypeError(`options.output must be a Uint8Array, got ${describeType(output)}`);
  return output;
}

/** The route for `question`, asking the token's (cached) mechanism table only when it matters. */
async function routeOf(key: Key, question: RouteQuestion): Promise<Route> {
  const needed = mechanismsToCheck(question);
  const flags =
    needed.length === 0 ? new Map<number, number>() : await mechanismTable(key.session.token).flagsOf(needed);
  return chooseRoute(question, flags);
}

/**
 * Decides how `operation` with `key` runs. `dataLength` is the size of one-shot input (undefined
 * for a stream): raw RSA_PKCS_PSS picks its hash from it.
 */
export async function planOperation(
  key: Key,
  operation: KeyOperation,
  options: OperationOptions,
  dataLength?: number,
): Promise<Plan> {
  checkOptions(options);
  const mechanism =
    options.mechanism === undefined
      ? defaultMechanism(key.keyType, operation)
      : Number(checkULong(options.mechanism, 'options.mechanism'));
  checkKeyForMechanism(key.keyType, mechanism);
  const route = await routeOf(key, {
    operation,
    mechanism,
    publicKey: key.objectClass === ObjectClass.PUBLIC_KEY,
    allowFallback: options.allowFallback ?? true,
    force: options.fallback,
  });
  const parameter = completeParameter(mechanism, options.mechanismParam, dataLength);
  if (route === 'hash') {
    const hashed = HASHED_SIGNATURES.get(mechanism) as HashedSignature;
    return { route, mechanism, parameter: hashed.scheme === 'pss' ? parameter : undefined, hashed };
  }
  const iv = route === 'token' ? IV_MECHANISMS.get(mechanism) : undefined;
  if (!iv || !iv.missing(parameter)) return { route, mechanism, parameter };
  if (MAKES_IV.has(operation)) {
    const prefix = await randomIv(key.session, iv.length);
    return { route, mechanism, parameter: iv.withIv(parameter, prefix), prefix };
  }
  if (READS_IV.has(operation)) {
    return {
      route,
      mechanism,
      parameter,
      leadingIv: { length: iv.length, parameter: (bytes) => iv.withIv(parameter, bytes) },
    };
  }
  return { route, mechanism, parameter };
}
