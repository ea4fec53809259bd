/**
 * The benchmark workloads written against this library's public API, the way its README shows:
 * every call awaited, outputs sized by the module, sessions queueing their callers.
 */
import type * as Api from '../../src/index.js';
import {
  clock,
  cpuClock,
  idleDelay,
  objectsWorkload,
  concurrently,
  rss,
  runDriver,
  settle,
  since,
  watchEventLoop,
  type BenchEnv,
} from '../harness.js';
import {
  AES_IV,
  AES_COLD_WARM_UP,
  aesWarmUp,
  SIGN_WARM_UP,
  ATTR_LABEL,
  SIGN_KEY_LABEL,
  aesChunk,
  objectLabel,
} from '../workloads.js';

type PrivateKey = Api.PrivateKey;
type SecretKey = Api.SecretKey;
type Session = Api.Session;
type Library = Api.Library;

/**
 * The library as users run it: the build in dist/ (`npm run bench` builds first), not the
 * TypeScript sources through tsx, whose `keepNames` wraps every closure made per call
 * (about 1 µs of an attribute read).
 */
const { Attribute, KeyType, Library, Mechanism, ObjectClass } = (await import(
  new URL('../../dist/index.js', import.meta.url).href
)) as typeof Api;

/** Runs `body` with a logged-in read-write session, then finalizes the library. */
async function withSession<T>(
  env: BenchEnv,
  body: (session: Session, lib: Library) => Promise<T>,
): Promise<T> {
  const lib = await Library.load(env.module);
  try {
    const token = await lib.getToken({ tokenLabel: env.tokenLabel });
    const session = await token.open({ userPin: env.pin, rw: true });
    return await body(session, lib);
  } finally {
    await lib.finalize();
  }
}

const digest = new Uint8Array(32).fill(0x5a);

await runDriver({
  attr: ({ reads }, env) =>
    withSession(env, async (session) => {
      const object = await session.createObject({
        [Attribute.CLASS]: ObjectClass.DATA,
        [Attribute.TOKEN]: false,
        [Attribute.PRIVATE]: false,
        [Attribute.LABEL]: ATTR_LABEL,
      });
      await settle();
      for (let i = 0; i < Math.min(reads, 1000); i++) await object.get(Attribute.LABEL);
      const cpu = cpuClock();
      const start = clock();
      for (let i = 0; i < reads; i++) await object.get(Attribute.LABEL);
      const ns = since(start);
      return { workload: 'attr', reads, ns, cpuNs: cpuClock() - cpu };
    }),

  sign: ({ signs, sessions, depth }, env) =>
    withSession(env, async (session) => {
      await session.generateKeypair(KeyType.EC, 'secp256r1', { label: SIGN_KEY_LABEL });
      const token = session.token;
      const opened = await Promise.all(Array.from({ length: sessions }, () => token.open({ rw: true })));
      const keys = await Promise.all(
        opened.map(
          (s) =>
            s.getKey({ label: SIGN_KEY_LABEL, objectClass: ObjectClass.PRIVATE_KEY }) as Promise<PrivateKey>,
        ),
      );
      const sign = (loop: number) =>
        (keys[loop % sessions] as PrivateKey).sign(digest, { mechanism: Mechanism.ECDSA });
      await concurrently(Math.min(signs, SIGN_WARM_UP), sessions * depth, sign);
      await settle();
      const cpu = cpuClock();
      const ns = await concurrently(signs, sessions * depth, sign);
      const cpuNs = cpuClock() - cpu;
      await Promise.all(opened.map((s) => s.close()));
      return { workload: 'sign', signs, sessions, depth, ns, cpuNs };
    }),

  objects: ({ count }, env) =>
    withSession(env, (session) =>
      objectsWorkload(
        count,
        async (application, n) => {
          for (let i = 0; i < n; i++) {
            await session.createObject({
              [Attribute.CLASS]: ObjectClass.DATA,
              [Attribute.TOKEN]: false,
              [Attribute.PRIVATE]: false,
              [Attribute.APPLICATION]: application,
              [Attribute.LABEL]: objectLabel(i),
            });
          }
        },
        async (application) => {
          const labels: string[] = [];
          for await (const object of session.getObjects({
            [Attribute.CLASS]: ObjectClass.DATA,
            [Attribute.APPLICATION]: application,
          })) {
            labels.push(object.label);
          }
          return labels;
        },
      ),
    ),

  aes: ({ bytes, chunk }, env) =>
    withSession(env, async (session) => {
      const key = (await session.generateKey(KeyType.AES, 256)) as SecretKey;
      const plain = aesChunk(chunk);
      // Each chunk's ciphertext written into one buffer of ours, as the C program does (the
      // README's bulk-stream form); `fresh` is the plain form, a new buffer per chunk.
      const output = new Uint8Array(chunk + 64);
      const encryptAll = async (total: number, fresh = false): Promise<number> => {
        function* chunks(): Generator<Uint8Array> {
          for (let done = 0; done < total; done += chunk) yield plain;
        }
        let produced = 0;
        for await (const out of key.encrypt(chunks(), {
          mechanism: Mechanism.AES_CBC_PAD,
          mechanismParam: AES_IV,
          ...(fresh ? {} : { output }),
        })) {
          produced += out.byteLength;
        }
        if (produced !== total + 16) throw new Error(`encrypted ${produced} bytes, expected ${total + 16}`);
        return produced;
      };
      /** Wall-clock and CPU nanoseconds of one timed run of `bytes`, after `warmUp` bytes and a pause. */
      const timed = async (warmUp: number, fresh = false): Promise<[number, number]> => {
        await encryptAll(warmUp, fresh);
        await settle();
        const cpu = cpuClock();
        const start = clock();
        await encryptAll(bytes, fresh);
        return [since(start), cpuClock() - cpu];
      };
      // First with the warm-up the drivers had before session 6, while V8 is still optimising
      // the stream (a figure of its own); then the steady figure, after the full warm-up.
      const [coldNs] = await timed(Math.min(bytes, AES_COLD_WARM_UP));
      const [ns, cpuNs] = await timed(aesWarmUp(bytes));
      // The form with a new buffer per chunk last: its garbage kept V8 marking during the figure
      // above even after a full collection.
      const [freshNs] = await timed(aesWarmUp(bytes), true);
      return { workload: 'aes', bytes, chunk, ns, cpuNs, freshNs, coldNs };
    }),

  keygen: ({ bits }, env) =>
    withSession(env, async (session) => {
      await settle();
      const stop = watchEventLoop();
      const start = clock();
      await session.generateKeypair(KeyType.RSA, bits);
      const ns = since(start);
      const maxDelayMs = stop();
      return { workload: 'keygen', bits, ns, maxDelayMs, idleDelayMs: await idleDelay() };
    }),

  leak: ({ first, total }, env) =>
    withSession(env, async (session) => {
      const key = (await session.generateKey(KeyType.GENERIC_SECRET, 256)) as SecretKey;
      await settle();
      let rssFirst = 0;
      const start = clock();
      for (let i = 1; i <= total; i++) {
        await key.sign(digest, { mechanism: Mechanism.SHA256_HMAC });
        if (i === first) rssFirst = rss();
      }
      const ns = since(start);
      return { workload: 'leak', first, total, rssFirst, rssTotal: rss(), ns };
    }),
});
