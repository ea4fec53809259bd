// Random and hostile arguments at the public API, against the test token: values of the wrong
// type, huge and negative lengths, NaN, bigints where numbers go and numbers where bigints go,
// closed sessions, a finalized library, templates with every attribute kind and random values,
// random mechanisms and parameters, random bytes and streams as data. Every call must end in a
// result or in one of the library's error types (TypeError, RangeError, Pkcs11Error and the small
// library classes); another error, a crash of the process or a hang fails the test.
//
// Nothing here can change the token for good: the fuzzed session is read-only (no token objects
// can be made, changed or destroyed), the real PINs are never among the random ones, and session
// objects a call makes are destroyed after it.
//
// Cases: PKCS11_TS_FUZZ_CASES in all (default 5000; `npm run fuzz:long` asks for 100,000), spread
// over the properties below. PKCS11_TS_FUZZ_SEED replays a run that failed; PKCS11_TS_FUZZ_TRACE=1
// adds the last C calls to a failure.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  Attribute,
  KDF,
  KeyPair,
  KeyType,
  Library,
  Mechanism,
  MGF,
  ModuleLoadError,
  MultipleObjectsError,
  MultipleTokensError,
  NoSuchKeyError,
  NoSuchTokenError,
  NotSupportedError,
  ObjectClass,
  Pkcs11Error,
  PkcsObject,
  Session,
  type Key,
} from '../../src/index.js';
import { CallLog } from '../support/call-log.js';
import { anyValue, fuzzRuns } from '../support/fuzz.js';
import { openFixture, openTestToken } from '../support/token.js';

/** The token has state: after a failure the first counterexample is the one to read, not a shrunk one. */
const runs = fuzzRuns(5000, { endOnFailure: true });

/** The error types a caller may meet. */
const TYPED = [
  TypeError,
  RangeError,
  Pkcs11Error,
  ModuleLoadError,
  NoSuchTokenError,
  MultipleTokensError,
  NoSuchKeyError,
  MultipleObjectsError,
  NotSupportedError,
];

// ---------------------------------------------------------------------------------------------
// The target: a read-only session with a few session keys, a closed session, a finalized library.

/** With PKCS11_TS_FUZZ_TRACE=1 the C calls are recorded, and a failure shows the last of them. */
const log = process.env.PKCS11_TS_FUZZ_TRACE === '1' ? new CallLog() : undefined;
const { env, lib, token, mechanisms, session, close } = await openFixture({
  rw: false,
  trace: log?.sink ?? false,
});
const closed = await token.open();
/** Made where the token can make it (the fuzz needs no particular key; tokens differ in what they make). */
const made = <T>(make: () => Promise<T>): Promise<T | undefined> => make().catch(() => undefined);
const closedKey = mechanisms.has(Mechanism.AES_KEY_GEN)
  ? await made(() => closed.generateKey(KeyType.AES, 128))
  : undefined;
await closed.close();
const { lib: finalized, token: finalizedToken } = await openTestToken();
await finalized.finalize();

/** The keys and objects the operations pick from. */
const keys: Key[] = [];
for (const make of [
  () => session.generateKeypair(KeyType.EC, 'secp256r1'),
  () => session.generateKeypair(KeyType.RSA, 1024),
  () => session.generateKey(KeyType.AES, 128, { template: { [Attribute.EXTRACTABLE]: true } }),
]) {
  const result = await made<KeyPair | Key>(make);
  if (result instanceof KeyPair) keys.push(result.publicKey, result.privateKey);
  else if (result) keys.push(result);
}
if (closedKey) keys.push(closedKey);
const data = await made(() =>
  session.createObject({ [Attribute.CLASS]: ObjectClass.DATA, [Attribute.LABEL]: 'fuzz' }),
);
const sessions = [session, closed];
/** The handles of the keys and the data object above: clean-up never destroys them. */
const fixtureHandles = new Set([data, ...keys].map((object) => object?.handle));

after(close);

/** Random PINs, never the real ones (a right SO PIN could re-initialise the token). */
const notAPin = (value: unknown): boolean => {
  const text =
    typeof value === 'string'
      ? value
      : value instanceof Uint8Array
        ? Buffer.from(value).toString('utf8')
        : '';
  return text !== env.pin && (env.soPin === undefined || text !== env.soPin);
};

// ---------------------------------------------------------------------------------------------
// Values.

const specialNumbers = fc.constantFrom(
  NaN,
  Infinity,
  -Infinity,
  -0,
  -1,
  0.5,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 64,
  Number.MAX_VALUE,
);
const specialBigInts = fc.constantFrom(
  -1n,
  0n,
  1n,
  2n ** 32n,
  2n ** 63n,
  2n ** 64n - 1n,
  2n ** 64n,
  2n ** 70n,
);
/** Numbers of every sort, bigints where numbers go included. */
const anyNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.nat(),
  fc.double(),
  specialNumbers,
  fc.bigInt(),
  specialBigInts,
  fc.integer({ min: 0, max: 2 ** 31 - 1 }).map(BigInt),
);
/** Bytes, sized now and then like the parameter structs the library knows (16, 24, 40, 48 bytes). */
const bytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.constantFrom(8, 12, 16, 24, 32, 40, 48, 64).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
);
/** Anything at all. */
const anything: fc.Arbitrary<unknown> = fc.oneof(
  anyValue,
  anyNumber,
  bytes,
  fc.string(),
  fc.constant(Symbol('fuzz')),
  fc.constant(() => 0),
);
const attributeNumber = fc.oneof(
  fc.constantFrom(...Object.values(Attribute)),
  fc.nat(),
  fc.integer({ min: 0x80000000, max: 0xffffffff }),
);
/** Values for any attribute: each kind's own shape, and all the wrong ones. */
const attributeValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.boolean(),
    anyNumber,
    fc.string({ maxLength: 40 }),
    fc.date({ noInvalidDate: false }),
    fc.constant(null),
    fc.constant(undefined),
    bytes,
    fc.array(fc.oneof(fc.constantFrom(...Object.values(Mechanism)), anyNumber), { maxLength: 4 }),
    fc.dictionary(attributeNumber.map(String), tie('value'), { maxKeys: 3 }),
    anything,
  ),
})).value;
/** Templates keyed by attribute numbers (and by things that are not). */
const template: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.dictionary(
      fc.oneof(attributeNumber.map(String), fc.string({ maxLength: 6 })),
      attributeValue,
      { maxKeys: 6 },
    ),
  },
  { weight: 1, arbitrary: anything },
);
/** Mostly `valid`, now and then anything at all. */
const mostly = (valid: fc.Arbitrary<unknown>, weight = 6): fc.Arbitrary<unknown> =>
  fc.oneof({ weight, arbitrary: valid }, { weight: 1, arbitrary: anything });
/** Mostly absent, now and then `value` (an option most callers leave out). */
const rarely = (value: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: value });

/**
 * The token's own mechanisms but its vendor ones: their parameters are the vendor's structs, which
 * pkcs11-ts passes on as given (it cannot check them), so random bytes there would be random
 * pointers for the module to read and write through (NSS softokn's own mechanisms, J-PAKE and
 * the like, corrupt its heap and crash the process later). Vendor numbers still come, at random.
 */
const standardMechanisms = [...mechanisms].filter((m) => m < Mechanism.VENDOR_DEFINED);
/** Mechanisms: mostly the token's own, then any of the standard's, vendor numbers, and anything. */
const mechanism: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...standardMechanisms) },
  { weight: 2, arbitrary: fc.constantFrom(...Object.values(Mechanism)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) },
  { weight: 1, arbitrary: anything },
);
const PARAMETER_FIELDS = [
  'iv',
  'aad',
  'tagBits',
  'hashAlg',
  'mgf',
  'saltLength',
  'sourceData',
  'kdf',
  'sharedData',
  'publicData',
  'otherInfo',
  'phFlag',
  'contextData',
  'counterBits',
  'counterBlock',
  'data',
] as const;
const fieldValue = fc.oneof(
  { weight: 3, arbitrary: bytes },
  {
    weight: 3,
    arbitrary: fc.constantFrom(...Object.values(Mechanism), ...Object.values(MGF), ...Object.values(KDF)),
  },
  { weight: 2, arbitrary: fc.oneof(fc.nat(256), fc.boolean()) },
  { weight: 1, arbitrary: anyNumber },
  { weight: 1, arbitrary: anything },
);
/** Parameters: none, an IV or raw bytes, a struct as an object or a tuple, a number, anything. */
const mechanismParam: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: bytes },
  { weight: 3, arbitrary: fc.dictionary(fc.constantFrom(...PARAMETER_FIELDS), fieldValue, { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.array(fieldValue, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.oneof(fc.constant(null), anyNumber) },
  { weight: 1, arbitrary: anything },
);
/** Options of key operations and key creation: mostly a mechanism and its parameter, the rest now and then. */
const operationOptions: fc.Arbitrary<unknown> = mostly(
  fc.record({
    mechanism: fc.oneof(
      { weight: 4, arbitrary: mechanism },
      { weight: 1, arbitrary: fc.constant(undefined) },
    ),
    mechanismParam,
    pin: rarely(fc.oneof(fc.string({ maxLength: 12 }), bytes, anything).filter(notAPin)),
    allowFallback: rarely(fc.oneof(fc.boolean(), anything)),
    fallback: rarely(fc.oneof(fc.constantFrom('hash', 'host'), anything)),
    store: rarely(fc.oneof(fc.boolean(), anything)),
    label: rarely(fc.oneof(fc.string({ maxLength: 12 }), anything)),
    id: rarely(fc.oneof(bytes, anything)),
    capabilities: rarely(
      fc.oneof(
        fc.array(fc.constantFrom('encrypt', 'decrypt', 'sign', 'verify', 'wrap', 'unwrap', 'derive', 'fly')),
        anything,
      ),
    ),
    template: rarely(template),
  }),
);
/** Input to process: bytes, text, a stream of chunks (now and then not bytes), or anything. */
const input: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: bytes },
  { weight: 1, arbitrary: fc.string({ maxLength: 64 }) },
  { weight: 2, arbitrary: fc.array(mostly(bytes, 8), { maxLength: 4 }) },
  {
    weight: 1,
    arbitrary: fc.array(bytes, { maxLength: 4 }).map((chunks) =>
      (async function* () {
        yield* chunks;
      })(),
    ),
  },
  { weight: 1, arbitrary: anything },
);
/** Lengths and sizes: hostile, and whole numbers small enough not to allocate gigabytes for real. */
const size: fc.Arbitrary<unknown> = fc
  .oneof(anyNumber, fc.nat(4096), anything)
  .filter(
    (n) =>
      !(typeof n === 'number' && Number.isSafeInteger(n) && n > 65536) &&
      !(typeof n === 'bigint' && n > 0n && n < 2n ** 31n),
  );
/** Key sizes: as {@link size}, but no real RSA key larger than 1024 bits nor domain parameters larger than 512. */
const keySize = size.filter((n) => !(typeof n === 'number' && Number.isSafeInteger(n) && n > 1024));
const keyType: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...Object.values(KeyType)) },
  { weight: 1, arbitrary: anything },
);
/** The domain argument of generateKeypair: sizes, curve names, encoded parameters, templates. */
const domain: fc.Arbitrary<unknown> = fc.oneof(
  keySize,
  fc.constantFrom(
    'secp256r1',
    'prime256v1',
    'Ed25519',
    'X25519',
    'brainpoolP256r1',
    '1.2.840.10045.3.1.7',
    'nonsense',
  ),
  bytes,
  template,
);
const pick = <T>(list: readonly T[]): fc.Arbitrary<T> => fc.nat().map((i) => list[i % list.length] as T);
/** The keys that have method `name` (and now and then any key, which then has no such method). */
const keyWith = (name: string): fc.Arbitrary<Key> => {
  const able = keys.filter((k) => typeof (k as unknown as Record<string, unknown>)[name] === 'function');
  return fc.oneof(
    { weight: 8, arbitrary: pick(able.length ? able : keys) },
    { weight: 1, arbitrary: pick(keys) },
  );
};
const aKey = pick(keys);
/** A handle: any number or bigint, but never one that could be a session of this process (a dropped Session closes its handle). */
const foreignHandle = fc.oneof(
  fc.bigInt({ min: 2n ** 40n, max: 2n ** 64n - 1n }),
  specialBigInts.filter((h) => h < 0n || h >= 2n ** 40n),
  fc.oneof(fc.double(), fc.string(), fc.constant(null)),
);

// ---------------------------------------------------------------------------------------------
// Calls.

/** One call of the public API with its random arguments. */
interface Call {
  readonly name: string;
  readonly run: () => unknown;
}

const call = <A extends unknown[]>(
  name: string,
  args: fc.Arbitrary<A>,
  run: (...a: A) => unknown,
): fc.Arbitrary<Call> =>
  args.map((a) => ({ name, run: () => run(...a), toString: () => `${name}(${fc.stringify(a)})` }) as Call);

/** Calls a method by name on whatever the target is (a missing method gives a TypeError, like any caller would get). */
const method = (target: unknown, name: string, ...args: unknown[]): unknown =>
  (target as Record<string, (...a: unknown[]) => unknown>)[name]!(...args);

const keyCalls: fc.Arbitrary<Call>[] = [
  call('sign', fc.tuple(keyWith('sign'), input, operationOptions), (k, d, o) => method(k, 'sign', d, o)),
  call(
    'verify',
    fc.tuple(keyWith('verify'), input, fc.oneof(bytes, anything), operationOptions),
    (k, d, s, o) => method(k, 'verify', d, s, o),
  ),
  call('encrypt', fc.tuple(keyWith('encrypt'), input, operationOptions), (k, d, o) =>
    method(k, 'encrypt', d, o),
  ),
  call('decrypt', fc.tuple(keyWith('decrypt'), input, operationOptions), (k, d, o) =>
    method(k, 'decrypt', d, o),
  ),
  call('wrapKey', fc.tuple(keyWith('wrapKey'), fc.oneof(aKey, anything), operationOptions), (k, w, o) =>
    method(k, 'wrapKey', w, o),
  ),
  call(
    'unwrapKey',
    fc.tuple(
      keyWith('unwrapKey'),
      fc.oneof(fc.constantFrom(...Object.values(ObjectClass)), anything),
      keyType,
      fc.oneof(bytes, anything),
      operationOptions,
    ),
    (k, c, t, w, o) => method(k, 'unwrapKey', c, t, w, o),
  ),
  call('deriveKey', fc.tuple(keyWith('deriveKey'), keyType, keySize, operationOptions), (k, t, l, o) =>
    method(k, 'deriveKey', t, l, o),
  ),
  call(
    'getAttributes',
    fc.tuple(aKey, fc.oneof(fc.array(fc.oneof(attributeNumber, anything), { maxLength: 6 }), anything)),
    (k, a) => method(k, 'getAttributes', a),
  ),
  call('get', fc.tuple(aKey, fc.oneof(attributeNumber, anything)), (k, a) => method(k, 'get', a)),
  call('set (a fresh data object)', fc.tuple(template), async (t) => {
    if (!data) return;
    const fresh = await data.copy();
    try {
      await fresh.set(t as never);
    } finally {
      await fresh.destroy();
    }
  }),
  call('copy', fc.tuple(data ? fc.oneof(aKey, fc.constant(data)) : aKey, template), (k, t) =>
    k.copy(t as never),
  ),
];

const sessionCalls: fc.Arbitrary<Call>[] = [
  call('generateRandom', fc.tuple(pick(sessions), size), (s, n) => s.generateRandom(n as never)),
  call('seedRandom', fc.tuple(pick(sessions), fc.oneof(bytes, anything)), (s, b) => s.seedRandom(b as never)),
  call('createObject', fc.tuple(pick(sessions), template), (s, t) => s.createObject(t as never)),
  call('findHandles', fc.tuple(pick(sessions), template), (s, t) => s.findHandles(t as never)),
  call('getObjects', fc.tuple(pick(sessions), template), async (s, t) => {
    for await (const o of s.getObjects(t as never)) assert.ok(o instanceof PkcsObject);
  }),
  call(
    'getKey',
    fc.tuple(
      pick(sessions),
      fc.oneof(
        fc.record(
          { objectClass: anything, keyType, label: anything, id: anything, template },
          { requiredKeys: [] },
        ),
        anything,
      ),
    ),
    (s, q) => s.getKey(q as never),
  ),
  call(
    'digest',
    fc.tuple(
      pick(sessions),
      fc.oneof(input, aKey),
      fc.oneof(fc.record({ mechanism }, { requiredKeys: [] }), anything),
    ),
    (s, d, o) => s.digest(d as never, o as never),
  ),
  call('generateKey', fc.tuple(pick(sessions), keyType, keySize, operationOptions), (s, t, l, o) =>
    s.generateKey(t as never, l as never, o as never),
  ),
  call('generateKeypair', fc.tuple(pick(sessions), keyType, domain, operationOptions), (s, t, d, o) =>
    s.generateKeypair(t as never, d as never, o as never),
  ),
  call(
    'createDomainParameters',
    fc.tuple(
      pick(sessions),
      keyType,
      template,
      fc.oneof(
        fc.record({ local: fc.boolean(), store: anything, label: anything }, { requiredKeys: [] }),
        anything,
      ),
    ),
    (s, t, a, o) => s.createDomainParameters(t as never, a as never, o as never),
  ),
  call(
    'generateDomainParameters',
    fc.tuple(
      pick(sessions),
      keyType,
      keySize.filter((n) => !(typeof n === 'number' && n > 512)),
      operationOptions,
    ),
    (s, t, b, o) => s.generateDomainParameters(t as never, b as never, o as never),
  ),
  call(
    'login',
    fc.tuple(
      pick(sessions),
      fc.oneof(fc.string({ maxLength: 12 }), bytes, anything).filter(notAPin),
      fc.oneof(fc.record({ userType: anything, username: anything }, { requiredKeys: [] }), anything),
    ),
    (s, p, o) => s.login(p as never, o as never),
  ),
  call(
    'setPin (session)',
    fc.tuple(pick(sessions), fc.string().filter(notAPin), fc.oneof(fc.string(), anything)),
    (s, a, b) => s.setPin(a, b as never),
  ),
  call('getInfo (session)', fc.tuple(pick(sessions)), (s) => s.getInfo()),
];

const tokenCalls: fc.Arbitrary<Call>[] = [
  call(
    'open',
    fc.tuple(
      fc.oneof(
        fc.record(
          {
            userPin: fc.oneof(fc.string({ maxLength: 12 }), bytes, anything).filter(notAPin),
            soPin: fc.oneof(fc.string({ maxLength: 12 }), anything).filter(notAPin),
            rw: fc.oneof(fc.boolean(), anything),
            userType: anything,
            username: anything,
          },
          { requiredKeys: [] },
        ),
        anything,
      ),
    ),
    async (o) => {
      const opened = await token.open(o as never);
      await opened.close();
    },
  ),
  call(
    'setPin (token)',
    fc.tuple(
      fc.oneof(fc.string(), anything).filter(notAPin),
      fc.oneof(fc.string(), anything),
      fc.oneof(fc.record({ userType: anything }), anything),
    ),
    (a, b, o) => token.setPin(a as never, b as never, o as never),
  ),
  call(
    'initPin',
    fc.tuple(fc.oneof(fc.string(), anything).filter(notAPin), fc.oneof(fc.string(), anything)),
    (a, b) => token.initPin(a as never, b as never),
  ),
  // Only where an SO PIN is configured: a token without one may not check it (NSS softokn's
  // C_InitToken ignores the SO PIN and wipes the token, so every later login fails).
  ...(env.soPin === undefined
    ? []
    : [
        call(
          'initToken',
          fc.tuple(fc.oneof(fc.string(), anything).filter(notAPin), fc.oneof(fc.string(), anything)),
          (a, b) => token.initToken(a as never, b as never),
        ),
      ]),
  call('getMechanismInfo', fc.tuple(mechanism), (m) => token.slot.getMechanismInfo(m as never)),
  call(
    'getTokens',
    fc.tuple(
      fc.oneof(
        fc.record(
          {
            tokenLabel: anything,
            tokenSerial: anything,
            tokenFlags: anything,
            slotFlags: anything,
            mechanisms: fc.oneof(fc.array(mechanism), anything),
          },
          { requiredKeys: [] },
        ),
        anything,
      ),
    ),
    (f) => lib.getTokens(f as never),
  ),
  call(
    'getSlots',
    fc.tuple(fc.oneof(fc.record({ tokenPresent: anything }, { requiredKeys: [] }), anything)),
    (o) => lib.getSlots(o as never),
  ),
  call('waitForSlotEvent', fc.tuple(fc.oneof(anyNumber, anything)), (p) =>
    lib.waitForSlotEvent({ signal: AbortSignal.timeout(5), pollInterval: p as never }),
  ),
  call('a session of another handle', fc.tuple(foreignHandle, anything), async (h, rw) =>
    new Session(token, h as never, rw as never).getInfo(),
  ),
  call(
    'an object of another handle',
    fc.tuple(foreignHandle, fc.oneof(attributeNumber, anything)),
    async (h, a) => new PkcsObject(session, h as never, new Map()).get(a as never),
  ),
  call('the finalized library', fc.tuple(fc.nat()), (i) =>
    [
      () => finalized.getSlots(),
      () => finalized.getInfo(),
      () => finalizedToken.open({ userPin: env.pin }),
      () => finalizedToken.slot.getMechanisms(),
    ][i % 4]!(),
  ),
  call(
    'Library.load',
    fc.tuple(
      fc.oneof(
        fc.constant(env.modulePath),
        fc.string({ maxLength: 20 }),
        fc.constant('/'),
        fc.constant('/etc/hostname'),
        anything,
      ),
      fc.oneof(
        fc.record(
          { initReserved: fc.oneof(fc.string(), anything), trace: fc.oneof(fc.boolean(), anything) },
          { requiredKeys: [] },
        ),
        anything,
      ),
    ),
    async (path, o) => {
      const loaded = await Library.load(path as never, o as never);
      await loaded.finalize();
    },
  ),
];

/**
 * Destroys the session objects a call made, so thousands of cases do not pile them up. An object
 * handed back with the handle of a fixture (`getKey` finds the keys) is the fixture itself.
 */
async function cleanUp(result: unknown): Promise<void> {
  const made = result instanceof KeyPair ? [...result] : result instanceof PkcsObject ? [result] : [];
  for (const object of made)
    if (!fixtureHandles.has(object.handle)) await object.destroy().catch(() => undefined);
}

/** How each call ended, per call name (`ok`, `TypeError`, `CKR_...`): shown at the end, to see what the cases reached. */
const outcomes = new Map<string, Map<string, number>>();

function count(name: string, outcome: string): void {
  const byOutcome = outcomes.get(name) ?? new Map<string, number>();
  byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1);
  outcomes.set(name, byOutcome);
}

/** The last C calls, for a failure message (with PKCS11_TS_FUZZ_TRACE=1). */
function lastCalls(): string {
  return log
    ? `\nlast calls:\n${log
        .since(Math.max(0, log.mark() - 12))
        .map((c) => c.line)
        .join('\n')}`
    : '';
}

/** How long one call may take before the test calls it a hang. */
const HANG_MS = 30_000;

/** The call's result, or a failure naming it when it has not settled after {@link HANG_MS}. */
async function settles(c: Call): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new assert.AssertionError({ message: `${String(c)} hangs${lastCalls()}` })),
      HANG_MS,
    );
  });
  try {
    return await Promise.race([c.run(), hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a call and asserts its outcome: a result (cleaned up), or an error of the library's types. */
async function check(c: Call): Promise<void> {
  let result: unknown;
  let outcome = 'ok';
  try {
    result = await settles(c);
    if (result !== null && typeof result === 'object' && Symbol.asyncIterator in result) {
      for await (const chunk of result as AsyncIterable<unknown>) assert.ok(chunk instanceof Uint8Array);
    }
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    outcome = error instanceof Pkcs11Error ? error.code : String((error as Error)?.constructor?.name);
    const timeout =
      c.name === 'waitForSlotEvent' && error instanceof DOMException && error.name === 'TimeoutError';
    if (!timeout && !TYPED.some((type) => error instanceof type)) {
      assert.fail(
        `${String(c)} threw ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}${lastCalls()}`,
      );
    }
  }
  count(c.name, outcome);
  await cleanUp(result);
  // Whatever the call did, it left no operation active: the session takes a new one.
  await session.findHandles({ [Attribute.CLASS]: ObjectClass.DATA }).catch((error: unknown) => {
    assert.fail(
      `after ${String(c)} (${outcome}) the session is stuck: ${(error as Error).message}${lastCalls()}`,
    );
  });
}

describe('hostile arguments at the public API end in a result or a typed error', () => {
  test('key operations', { skip: keys.length === 0 && 'the token made none of the keys' }, async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(...keyCalls), check), runs(0.45));
  });

  test('session operations', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(...sessionCalls), check), runs(0.35));
  });

  test('library, slot and token operations', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(...tokenCalls), check), runs(0.2));
  });

  test('the token is still as it was', async (t) => {
    const again = await lib.getToken({ tokenLabel: env.tokenLabel });
    await using s = await again.open({ userPin: env.pin });
    assert.equal((await s.generateRandom(16)).byteLength, 16);
    for (const [name, byOutcome] of [...outcomes].sort()) {
      t.diagnostic(`${name}: ${[...byOutcome].map(([outcome, n]) => `${outcome} ${n}`).join(', ')}`);
    }
    for (const key of keys.filter((k) => k.session === session))
      assert.ok((await key.getAttributes([Attribute.CLASS]))[Attribute.CLASS] !== undefined);
  });
});
