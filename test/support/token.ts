/**
 * The test token as the integration tests open it (the module of the run, loaded with its init
 * string; the token found by label; its mechanism list; a logged-in session), the skips by
 * capability that go with it (a test skips for what the token lacks or refuses, never for which
 * module it is), and what the module itself says about a session.
 *
 * @example
 * const fx = await openFixture();
 * after(() => fx.close());
 * test('ECDSA', { skip: missing(fx.mechanisms, Mechanism.ECDSA) }, async () => { ... });
 * test('AES', async (t) => {
 *   if (lacks(t, fx, Mechanism.AES_KEY_GEN)) return;
 *   ...
 * });
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import type { TestContext } from 'node:test';
import {
  Attribute,
  Library,
  Mechanism,
  Pkcs11Error,
  ReturnValue,
  nameOf,
  tokenQuirks,
  type Session,
  type Token,
} from '../../src/index.js';
import { allocBuffer } from '../../src/sys/abi.js';
import { CK_SESSION_INFO } from '../../src/core/info.js';
import type { TraceSink } from '../../src/model/trace.js';
import { testEnv, type TestEnv } from './env.js';

/** A vendor-defined mechanism number no module has, for tests of what a module refuses. */
export const MADE_UP_MECHANISM = 0x8000_7e57;

/** How to load the library under test. */
export interface LoadOptions {
  /** The module to load (default PKCS11_MODULE); the run's init string goes with PKCS11_MODULE only. */
  readonly modulePath?: string;
  /** Where the library's call trace goes (see test/support/call-log.ts); default: PKCS11_TS_TRACE. */
  readonly trace?: TraceSink | false;
}

/**
 * Loads PKCS11_MODULE (or `modulePath`) with the run's init string. The init string goes with the
 * test module under any spelling of its path, and never with another module (NSS softokn needs
 * one; other modules refuse it).
 */
export function loadLibrary(options: LoadOptions = {}): Promise<Library> {
  const env = testEnv();
  const path = options.modulePath ?? env.modulePath;
  const initReserved = resolve(path) === resolve(env.modulePath) ? env.initReserved : undefined;
  return Library.load(path, {
    initReserved,
    ...(options.trace === undefined ? {} : { trace: options.trace }),
  });
}

/** The test token of a freshly loaded library; `await using` closes it. */
export interface TestToken extends AsyncDisposable {
  readonly env: TestEnv;
  readonly lib: Library;
  readonly token: Token;
  /** The token's mechanism list, for skipping by capability. */
  readonly mechanisms: ReadonlySet<number>;
  /** Closes what was opened for the test and finalizes the library. */
  close(): Promise<void>;
}

/** Loads the library (see {@link loadLibrary}) and finds the test token and its mechanisms. */
export async function openTestToken(options: LoadOptions = {}): Promise<TestToken> {
  const env = testEnv();
  const lib = await loadLibrary(options);
  try {
    const token = await lib.getToken({ tokenLabel: env.tokenLabel });
    const mechanisms = new Set(await token.slot.getMechanisms());
    const close = () => lib.finalize();
    return { env, lib, token, mechanisms, close, [Symbol.asyncDispose]: close };
  } catch (error) {
    await lib.finalize();
    throw error;
  }
}

/** The mechanism list of the test token, read through a library loaded for the purpose and let go. */
export async function tokenMechanisms(): Promise<ReadonlySet<number>> {
  const { mechanisms, close } = await openTestToken();
  await close();
  return mechanisms;
}

/** The test token with a session open on it. */
export interface Fixture extends TestToken {
  readonly session: Session;
}

/** The handles of the token objects `session` sees. */
async function storedHandles(session: Session): Promise<ReadonlySet<bigint>> {
  return new Set(await session.findHandles({ [Attribute.TOKEN]: true }));
}

/**
 * On a token without session objects, where the library stored what the tests made for the session
 * only (see tokenQuirks), destroys the token objects `session` sees that were not there `before`:
 * they would stay on the token otherwise. Best effort: what the token will not destroy is left,
 * and a session the tests left unusable destroys nothing.
 */
async function destroyStoredSince(session: Session, before: ReadonlySet<bigint>): Promise<void> {
  if (session.closed || !tokenQuirks(session.token).tokenObjectsOnly) return;
  const now = await storedHandles(session).catch(() => new Set<bigint>());
  for (const object of [...now].filter((h) => !before.has(h))) {
    await session.exclusive('C_DestroyObject', ({ handle, invoke }) =>
      invoke('C_DestroyObject', handle, object),
    );
  }
}

/**
 * Opens a session on the test token: logged in as the user and read-write unless told otherwise.
 * `close()` (or the end of an `await using` scope) closes the session and finalizes the library,
 * destroying first what the tests had to store on a token without session objects.
 */
export async function openFixture(
  options: LoadOptions & { readonly rw?: boolean; readonly login?: boolean } = {},
): Promise<Fixture> {
  const opened = await openTestToken(options);
  try {
    const session = await opened.token.open({
      rw: options.rw ?? true,
      ...(options.login === false ? {} : { userPin: opened.env.pin }),
    });
    const before = await storedHandles(session);
    const close = async () => {
      await destroyStoredSince(session, before);
      await session.close();
      await opened.lib.finalize();
    };
    return { ...opened, session, close, [Symbol.asyncDispose]: close };
  } catch (error) {
    await opened.close();
    throw error;
  }
}

/**
 * Why a test needing every one of `needed` cannot run on this token (`the token lacks CKM_A, CKM_B`),
 * or false when it can: the value for a test's `skip` option.
 */
export function missing(mechanisms: ReadonlySet<number>, ...needed: number[]): string | false {
  const absent = needed.filter((m) => !mechanisms.has(m));
  return absent.length > 0 && `the token lacks ${absent.map((m) => nameOf(Mechanism, m)).join(', ')}`;
}

/** Skips the running test (and returns true) when the token lists not all of `needed`. */
export function lacks(
  t: TestContext,
  fixture: { readonly mechanisms: ReadonlySet<number> },
  ...needed: number[]
): boolean {
  const reason = missing(fixture.mechanisms, ...needed);
  if (reason === false) return false;
  t.skip(reason);
  return true;
}

/** Skips the running test (and returns true) when the token lists none of `alternatives` (any one will do). */
export function lacksAll(
  t: TestContext,
  fixture: { readonly mechanisms: ReadonlySet<number> },
  ...alternatives: number[]
): boolean {
  if (alternatives.some((m) => fixture.mechanisms.has(m))) return false;
  t.skip(`the token lacks ${alternatives.map((m) => nameOf(Mechanism, m)).join(' and ')}`);
  return true;
}

/** Parameter refusals: what tokens answer for a parameter they do not support. */
export const PARAMETER_REFUSED: readonly number[] = [
  ReturnValue.MECHANISM_PARAM_INVALID,
  ReturnValue.ARGUMENTS_BAD,
];

/** Curve refusals: what tokens answer for a curve they do not know. */
export const CURVE_REFUSED: readonly number[] = [
  ReturnValue.CURVE_NOT_SUPPORTED,
  ReturnValue.DOMAIN_PARAMS_INVALID,
  ReturnValue.ATTRIBUTE_VALUE_INVALID,
  ReturnValue.TEMPLATE_INCONSISTENT,
];

/**
 * Runs `attempt`; when the token refuses with one of `codes` (a parameter or curve it does not
 * support), skips the test with `why` and resolves to undefined.
 */
export async function unlessRefused<T>(
  t: TestContext,
  codes: readonly number[],
  why: string,
  attempt: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await attempt();
  } catch (e) {
    if (e instanceof Pkcs11Error && codes.includes(e.rv)) {
      t.skip(`${why} (${e.code})`);
      return undefined;
    }
    throw e;
  }
}

/**
 * Whether the module still has a session with this handle, asked with C_GetSessionInfo on the raw
 * handle (past the library's own bookkeeping); a session it does not have must be
 * CKR_SESSION_HANDLE_INVALID to it.
 */
export async function sessionIsOpen(lib: Library, handle: bigint): Promise<boolean> {
  const rv = await lib.context.invoke('C_GetSessionInfo', handle, allocBuffer(CK_SESSION_INFO.size));
  if (rv === ReturnValue.OK) return true;
  assert.equal(rv, ReturnValue.SESSION_HANDLE_INVALID, 'a closed session is unknown to the module');
  return false;
}
