/**
 * `Session`: one PKCS#11 session. Every call on it goes through a FIFO queue, so concurrent
 * awaits never interleave inside the module (a session runs one operation at a time) and
 * multi-part operations hold the session from Init to Final.
 *
 * @example
 * await using session = await token.open({ userPin: '1234', rw: true });
 * const key = await session.getKey({ label: 'signing key', objectClass: ObjectClass.PRIVATE_KEY });
 */
import { ULONG_SIZE, allocBuffer, allocULong, readULong } from '../sys/abi.js';
import { Attribute, ReturnValue, SessionState, UserType } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';
import { MultipleObjectsError, NoSuchKeyError, Pkcs11Error, check } from '../core/errors.js';
import { CK_SESSION_INFO, decodeSessionInfo, type SessionInfo } from '../core/info.js';
import type { Invoke } from '../core/invoke.js';
import { SerialQueue } from '../core/queue.js';
import {
  checkHandle,
  checkULong,
  describeType,
  encodeTemplate,
  type EncodedTemplate,
  type Template,
} from '../core/template.js';
import { createObjects } from './quirks.js';
import { TokenMemory } from './token-state.js';
import { isOpenSession, sessionClosed } from './session-handles.js';
import type { ModuleContext } from './context.js';
import type { PkcsObject } from './objects.js';
import { adoptCreated, objectFor, objectsFor } from './object-factory.js';
import { withPin, type Pin } from './secret.js';
import { searchTemplate, type KeyQuery } from './search.js';
import type { Token } from './token.js';
import type { Key } from './keys.js';
import {
  createDomainParameters,
  generateDomainParameters,
  generateKey,
  generateKeypair,
  type KeyPair,
  type KeyPairOptions,
  type LocalDomainParameters,
} from './keygen.js';
import type { DomainParameters } from './keys.js';
import type { NewKeyOptions } from './templates.js';
import { digest, type DigestInput } from './digest.js';
import { UnfinishedOperation } from './unfinished.js';

/** Sessions dropped without `close()` are closed when garbage-collected, so handles are not leaked forever. */
const leaked = new FinalizationRegistry<{ ctx: ModuleContext; handle: bigint }>(({ ctx, handle }) => {
  sessionClosed(ctx.module, handle);
  void ctx.invoke('C_CloseSession', handle).catch(() => undefined);
});

/**
 * Logins and logouts of one token, one at a time. The login state is the token's, shared by every
 * session of the application, and a module may answer a login racing another one before it has
 * marked its sessions: NSS softokn answered CKR_USER_ALREADY_LOGGED_IN to a concurrent C_Login
 * while C_GetSessionInfo still gave that session as not logged in.
 */
const logins = new TokenMemory(() => new SerialQueue());

/** C_CloseSession return codes meaning the session no longer exists, so closing it succeeded. */
const ALREADY_CLOSED: ReadonlySet<number> = new Set([
  ReturnValue.SESSION_HANDLE_INVALID,
  ReturnValue.SESSION_CLOSED,
  ReturnValue.CRYPTOKI_NOT_INITIALIZED,
  // The token was pulled out: its sessions went with it (the first call after says so).
  ReturnValue.DEVICE_REMOVED,
]);

/** How many handles each `C_FindObjects` call asks for. */
const FIND_BATCH = 256;
/**
 * How many found objects have their summaries read in one turn of the session: enough to spread
 * the turn's cost, few enough that other callers of the session wait little in between.
 */
const SUMMARY_BATCH = 32;

/** The session states in which each user type is logged in. */
const LOGGED_IN_STATES: Readonly<Record<number, readonly number[]>> = {
  [UserType.SO]: [SessionState.RW_SO_FUNCTIONS],
  [UserType.USER]: [SessionState.RO_USER_FUNCTIONS, SessionState.RW_USER_FUNCTIONS],
};

/**
 * Whether the session's state shows `userType` logged in; true for other user types and when the
 * module will not tell.
 */
async function loggedInAs(invoke: Invoke, handle: bigint, userType: number): Promise<boolean> {
  const states = LOGGED_IN_STATES[userType];
  if (!states) return true;
  const buf = allocBuffer(CK_SESSION_INFO.size);
  if ((await invoke('C_GetSessionInfo', handle, buf)) !== ReturnValue.OK) return true;
  return states.includes(decodeSessionInfo(buf).state);
}

/** Access to the session's C handle and call path, for code running inside its queue. */
export interface SessionScope {
  readonly handle: bigint;
  readonly invoke: Invoke;
}

/** An open session with a token. */
export class Session implements AsyncDisposable {
  readonly #queue = new SerialQueue();
  readonly #ctx: ModuleContext;
  /** An operation the module kept after we gave up on its output, ended before the next task. */
  readonly #unfinished = new UnfinishedOperation();
  /** The context's invoke, watched by {@link #unfinished}. */
  readonly #invoke: Invoke;
  /** What every task of this session is given (one object, made once). */
  readonly #scope: SessionScope;
  #closed = false;

  constructor(
    /** The token this session is open with. */
    readonly token: Token,
    /** The module's `CK_SESSION_HANDLE` (kept as bigint: any 64-bit value is possible). */
    readonly handle: bigint,
    /** Whether the session is read-write. */
    readonly rw: boolean,
  ) {
    this.handle = checkHandle(handle, 'handle');
    this.#ctx = token.slot.library.context;
    if (!isOpenSession(this.#ctx.module, this.handle))
      throw new RangeError('handle is not a session this process opened on this module (use token.open)');
    this.#invoke = this.#unfinished.watch(this.#ctx.invoke);
    this.#scope = { handle: this.handle, invoke: this.#invoke };
    leaked.register(this, { ctx: this.#ctx, handle: this.handle }, this);
  }

  /** Whether {@link close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The module context. @internal */
  get context(): ModuleContext {
    return this.#ctx;
  }

  /**
   * Runs `task` alone on this session (after every earlier call, before every later one).
   * `fn` names the first C function for the error thrown when the session is already closed.
   * @internal
   */
  exclusive<T>(fn: string, task: (scope: SessionScope) => Promise<T>): Promise<T> {
    return this.#queue.run(async () => {
      if (this.#closed) throw new Pkcs11Error(fn, ReturnValue.SESSION_CLOSED, 'the session was closed');
      this.#ctx.sessionBusy(1);
      try {
        const ending = this.#unfinished.finish(this.#invoke);
        if (ending) await ending;
        return await task(this.#scope);
      } finally {
        this.#ctx.sessionBusy(-1);
      }
    });
  }

  /**
   * Runs `task` at once, on this thread, when nothing holds or waits for the session, it is open
   * and no operation waits to be ended: the fast path of a synchronous first attempt (an attribute
   * read made inline). Answers undefined, without running it, otherwise. `task` must not await:
   * it holds the session only while it runs.
   * @internal
   */
  now<T>(task: (handle: bigint) => T | undefined): T | undefined {
    if (this.#closed || !this.#queue.idle || this.#unfinished.pending) return undefined;
    return task(this.handle);
  }

  /**
   * Closes the session (idempotent), after the calls already queued on it. Other sessions with
   * the token stay open and stay logged in.
   */
  async close(): Promise<void> {
    await this.#queue.run(async () => {
      if (this.#closed) return;
      this.#closed = true;
      leaked.unregister(this);
      const rv = await this.#ctx.invoke('C_CloseSession', this.handle);
      // A session the module already dropped (device removed, C_CloseAllSessions, or every session
      // ended by C_Finalize) counts as closed.
      if (!ALREADY_CLOSED.has(rv)) check('C_CloseSession', rv);
      sessionClosed(this.#ctx.module, this.handle);
    });
  }

  /** `await using session = ...` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** `C_GetSessionInfo`: state (`SessionState`), flags, device error. */
  getInfo(): Promise<SessionInfo> {
    return this.exclusive('C_GetSessionInfo', async ({ handle, invoke }) => {
      const buf = allocBuffer(CK_SESSION_INFO.size);
      check('C_GetSessionInfo', await invoke('C_GetSessionInfo', handle, buf));
      return decodeSessionInfo(buf);
    });
  }

  /**
   * `C_Login` (or `C_LoginUser` with a `username`). Logging in a user who is already logged in
   * through another session of this application is not an error. `pin` may be `PROTECTED_AUTH`
   * (a symbol) to use the token's PIN pad. Logins and logouts of one token run one at a time, in
   * the order they were asked for.
   */
  login(
    pin: Pin | symbol,
    options: { userType?: number; username?: string | undefined } = {},
  ): Promise<void> {
    const userType = Number(checkULong(options.userType ?? UserType.USER, 'options.userType'));
    const username = options.username;
    const fn = username === undefined ? 'C_Login' : 'C_LoginUser';
    return logins.of(this.token).run(() => this.#login(fn, pin, userType, username));
  }

  #login(
    fn: 'C_Login' | 'C_LoginUser',
    pin: Pin | symbol,
    userType: number,
    username: string | undefined,
  ): Promise<void> {
    return this.exclusive(fn, async ({ handle, invoke }) => {
      const rv =
        typeof pin === 'symbol'
          ? await invoke('C_Login', handle, userType, null, 0)
          : await withPin(pin, 'pin', (p) => {
              if (username === undefined) return invoke('C_Login', handle, userType, p, p.length);
              const name = Buffer.from(username, 'utf8');
              return invoke('C_LoginUser', handle, userType, p, p.length, name, name.length);
            });
      if (rv !== ReturnValue.USER_ALREADY_LOGGED_IN) return check(fn, rv);
      // Joining the application's login is right only when it is this user's: tpm2-pkcs11 1.9
      // answers CKR_USER_ALREADY_LOGGED_IN to an SO login while the normal user is logged in.
      if (!(await loggedInAs(invoke, handle, userType)))
        throw new Pkcs11Error(
          fn,
          ReturnValue.USER_ANOTHER_ALREADY_LOGGED_IN,
          `the module answered CKR_USER_ALREADY_LOGGED_IN, but the session is not logged in as ${nameOf(UserType, userType)}`,
        );
    });
  }

  /** `C_Logout`: logs the user out of every session of this application with the token. */
  logout(): Promise<void> {
    return logins
      .of(this.token)
      .run(() =>
        this.exclusive('C_Logout', async ({ handle, invoke }) =>
          check('C_Logout', await invoke('C_Logout', handle)),
        ),
      );
  }

  /** `C_InitPIN`: sets the normal user's PIN; the session must be logged in as SO. */
  initPin(userPin: Pin): Promise<void> {
    return this.exclusive('C_InitPIN', ({ handle, invoke }) =>
      withPin(userPin, 'userPin', async (p) =>
        check('C_InitPIN', await invoke('C_InitPIN', handle, p, p.length)),
      ),
    );
  }

  /** `C_SetPIN`: changes the PIN of the logged-in user (or of the normal user when nobody is logged in). */
  setPin(oldPin: Pin, newPin: Pin): Promise<void> {
    return this.exclusive('C_SetPIN', ({ handle, invoke }) =>
      withPin(oldPin, 'oldPin', (o) =>
        withPin(newPin, 'newPin', async (n) =>
          check('C_SetPIN', await invoke('C_SetPIN', handle, o, o.length, n, n.length)),
        ),
      ),
    );
  }

  /** `C_GenerateRandom`: `length` random bytes from the token's generator. */
  generateRandom(length: number): Promise<Uint8Array> {
    if (typeof length !== 'number')
      throw new TypeError(`length must be a number, got ${describeType(length)}`);
    if (!Number.isSafeInteger(length) || length < 0)
      throw new RangeError(`length must be a whole number >= 0, got ${length}`);
    if (length > 0x7fffffff) throw new RangeError('length must be below 2^31');
    return this.exclusive('C_GenerateRandom', async ({ handle, invoke }) => {
      const out = allocBuffer(length);
      if (length > 0) check('C_GenerateRandom', await invoke('C_GenerateRandom', handle, out, length));
      return out;
    });
  }

  /** `C_SeedRandom`: mixes `seed` into the token's generator. */
  seedRandom(seed: Uint8Array): Promise<void> {
    if (!(seed instanceof Uint8Array))
      throw new TypeError(`seed must be a Uint8Array, got ${describeType(seed)}`);
    return this.exclusive('C_SeedRandom', async ({ handle, invoke }) =>
      check('C_SeedRandom', await invoke('C_SeedRandom', handle, seed, seed.byteLength)),
    );
  }

  /**
   * `C_CreateObject`: creates an object from a full template. On a token without session objects
   * (the SmartCard-HSM), `CKA_TOKEN: false` is retried once as a token object, as for generated keys.
   */
  async createObject(template: Template): Promise<PkcsObject> {
    const h = await createObjects(this, [template], async ([encoded]) => {
      const t = encoded as EncodedTemplate;
      const out = allocULong();
      // Made at once when the session is free and the call may run inline now (a session object
      // on a module where creation is measured quick): no queue turn, no promise per layer.
      const rv =
        this.now((handle) => this.#ctx.callNow('C_CreateObject', handle, t.buf, t.count, out)) ??
        (await this.exclusive('C_CreateObject', ({ handle, invoke }) =>
          invoke('C_CreateObject', handle, t.buf, t.count, out),
        ));
      check('C_CreateObject', rv);
      return readULong(out, 0);
    });
    return adoptCreated(this, h, template);
  }

  /**
   * Every handle matching `template`, found in batches of {@link FIND_BATCH} under one hold of the
   * session; `C_FindObjectsFinal` runs whatever happens.
   */
  async findHandles(template: Template = {}): Promise<bigint[]> {
    const encoded = encodeTemplate(template);
    return this.exclusive('C_FindObjectsInit', async ({ handle, invoke }) => {
      check('C_FindObjectsInit', await invoke('C_FindObjectsInit', handle, encoded.buf, encoded.count));
      const found: bigint[] = [];
      let failure: unknown;
      try {
        const batch = allocBuffer(FIND_BATCH * ULONG_SIZE);
        const countBuf = allocULong();
        for (;;) {
          check('C_FindObjects', await invoke('C_FindObjects', handle, batch, FIND_BATCH, countBuf));
          const n = Number(readULong(countBuf, 0));
          for (let i = 0; i < n; i++) found.push(readULong(batch, i * ULONG_SIZE));
          if (n < FIND_BATCH) break;
        }
      } catch (e) {
        failure = e;
      }
      // Always end the search; a failure of the search itself wins over one of the ending. A
      // failed ending is tried once more: a search left active would block every later operation.
      const rv = await invoke('C_FindObjectsFinal', handle);
      if (rv !== ReturnValue.OK) await invoke('C_FindObjectsFinal', handle);
      if (failure) throw failure;
      check('C_FindObjectsFinal', rv);
      return found;
    });
  }

  /**
   * The objects matching `template`, as an async iterator. The search itself completes (and
   * `C_FindObjectsFinal` runs) before the first object is yielded, so the loop body may call the
   * session freely and breaking out early leaves nothing open.
   *
   * @example
   * for await (const obj of session.getObjects({ [Attribute.CLASS]: ObjectClass.CERTIFICATE })) console.log(obj.label);
   */
  async *getObjects(template: Template = {}): AsyncGenerator<PkcsObject, void, undefined> {
    const handles = await this.findHandles(template);
    const objectClass = template[Attribute.CLASS];
    for (let i = 0; i < handles.length; i += SUMMARY_BATCH) {
      const batch = handles.slice(i, i + SUMMARY_BATCH);
      const { objects, failure } = await objectsFor(this, batch, objectClass);
      // A loop, not `yield*`: delegating to an array wraps it in an async iterator, which cost
      // about 200 ns more per object (540 against 340 ns in a bare loop of 32-object batches).
      for (const object of objects) yield object;
      if (failure !== undefined) throw failure;
    }
  }

  /**
   * Exactly one key (or other object) matching the query.
   *
   * @throws NoSuchKeyError when none matches, MultipleObjectsError when several do.
   */
  async getKey(query: KeyQuery = {}): Promise<PkcsObject> {
    const { template, description } = searchTemplate(query);
    const handles = await this.findHandles(template);
    if (handles.length === 0) throw new NoSuchKeyError(`no object matches ${description}`);
    if (handles.length > 1) throw new MultipleObjectsError(`${handles.length} objects match ${description}`);
    return objectFor(this, handles[0] as bigint);
  }

  /**
   * `C_GenerateKey`: a secret key.
   *
   * @example
   * const aes = await session.generateKey(KeyType.AES, 256, { label: 'file key' });
   */
  generateKey(
    keyType: number,
    keyLength?: number,
    options?: NewKeyOptions & { mechanism?: number },
  ): Promise<Key> {
    return generateKey(this, keyType, keyLength, options);
  }

  /**
   * `C_GenerateKeyPair`. The second argument is the RSA modulus size in bits, an EC/EdDSA curve
   * (name such as 'secp256r1' or 'Ed25519', dotted OID, or encoded EC_PARAMS), or domain
   * parameters for DSA/DH/X9.42 DH.
   *
   * @example
   * const { publicKey, privateKey } = await session.generateKeypair(KeyType.RSA, 2048, { store: true, label: 'My RSA Keypair' });
   */
  generateKeypair(
    keyType: number,
    domain: number | string | Uint8Array | Template | LocalDomainParameters | DomainParameters,
    options?: KeyPairOptions,
  ): Promise<KeyPair> {
    return generateKeypair(this, keyType, domain, options);
  }

  /** Domain parameters from known values, in memory (`local: true`) or on the token. */
  createDomainParameters(
    keyType: number,
    attributes: Template,
    options?: { local?: boolean; store?: boolean; label?: string },
  ): Promise<LocalDomainParameters | DomainParameters> {
    return createDomainParameters(this, keyType, attributes, options);
  }

  /** New DSA / DH / X9.42 DH domain parameters of `bits` bits, generated by the token. */
  generateDomainParameters(
    keyType: number,
    bits: number,
    options?: { mechanism?: number; store?: boolean; label?: string; template?: Template },
  ): Promise<DomainParameters> {
    return generateDomainParameters(this, keyType, bits, options);
  }

  /** Digest of bytes, a stream of chunks, or a secret key's value (`C_DigestKey`); default SHA-256. */
  digest(data: DigestInput, options?: { mechanism?: number }): Promise<Uint8Array> {
    return digest(this, data, options);
  }
}
