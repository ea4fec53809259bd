/**
 * The benchmark workloads written against graphene-pk11 (an object layer over pkcs11js), with its
 * asynchronous callbacks where it has them (sign, key generation) and its synchronous calls
 * otherwise. Initialised with OS locking so concurrent sessions are safe.
 */
import {
  KeyGenMechanism,
  KeyType,
  Module,
  ObjectClass,
  SessionFlag,
  type Key,
  type PrivateKey,
  type Session,
  type SecretKey,
  type Slot,
} from 'graphene-pk11';
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
  aesWarmUp,
  SIGN_WARM_UP,
  ATTR_LABEL,
  SIGN_KEY_LABEL,
  aesChunk,
  objectLabel,
} from '../workloads.js';

const CKF_OS_LOCKING_OK = 2;
const RW = SessionFlag.SERIAL_SESSION | SessionFlag.RW_SESSION;

/** Loads the module with OS locking, opens a logged-in read-write session, and finalizes after `body`. */
async function withSession<T>(env: BenchEnv, body: (session: Session, slot: Slot) => Promise<T>): Promise<T> {
  const mod = Module.load(env.module, 'bench');
  mod.initialize({ flags: CKF_OS_LOCKING_OK });
  try {
    const slots = mod.getSlots(true);
    let slot: Slot | undefined;
    for (let i = 0; i < slots.length; i++) {
      if (slots.items(i).getToken().label.trim() === env.tokenLabel) slot = slots.items(i);
    }
    if (!slot) throw new Error(`no token labelled ${env.tokenLabel}`);
    const session = slot.open(RW);
    session.login(env.pin);
    return await body(session, slot);
  } finally {
    mod.finalize();
  }
}

const P256 = Buffer.from('06082a8648ce3d030107', 'hex');
const digest = Buffer.alloc(32, 0x5a);

/** graphene's asynchronous one-shot sign as a Promise. */
function sign(session: Session, mechanism: string, key: Key, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    session
      .createSign(mechanism, key)
      .once(data, (error, signature) => (error ? reject(error) : resolve(signature))),
  );
}

await runDriver({
  attr: ({ reads }, env) =>
    withSession(env, async (session) => {
      const object = session.create({
        class: ObjectClass.DATA,
        token: false,
        private: false,
        label: ATTR_LABEL,
      });
      await settle();
      for (let i = 0; i < Math.min(reads, 1000); i++) object.getAttribute('label');
      const cpu = cpuClock();
      const start = clock();
      for (let i = 0; i < reads; i++) object.getAttribute('label');
      const ns = since(start);
      return { workload: 'attr', reads, ns, cpuNs: cpuClock() - cpu };
    }),

  sign: ({ signs, sessions }, env) =>
    withSession(env, async (session, slot) => {
      session.generateKeyPair(
        KeyGenMechanism.EC,
        { keyType: KeyType.EC, token: false, paramsEC: P256, verify: true },
        {
          keyType: KeyType.EC,
          token: false,
          private: true,
          sensitive: true,
          sign: true,
          label: SIGN_KEY_LABEL,
        },
      );
      const opened = Array.from({ length: sessions }, () => slot.open(RW));
      const keys = opened.map((s) => {
        const found = s.find({ class: ObjectClass.PRIVATE_KEY, label: SIGN_KEY_LABEL });
        if (found.length !== 1) throw new Error('the EC key is not visible from a new session');
        return found.items(0).toType<PrivateKey>();
      });
      const job = (loop: number) => sign(opened[loop] as Session, 'ECDSA', keys[loop] as PrivateKey, digest);
      await concurrently(Math.min(signs, SIGN_WARM_UP), sessions, job);
      await settle();
      const cpu = cpuClock();
      const ns = await concurrently(signs, sessions, job);
      const cpuNs = cpuClock() - cpu;
      for (const s of opened) s.close();
      return { workload: 'sign', signs, sessions, depth: 1, ns, cpuNs };
    }),

  objects: ({ count }, env) =>
    withSession(env, (session) =>
      objectsWorkload(
        count,
        (application, n) => {
          for (let i = 0; i < n; i++) {
            session.create({
              class: ObjectClass.DATA,
              token: false,
              private: false,
              application,
              label: objectLabel(i),
            });
          }
        },
        (application) => {
          const found = session.find({ class: ObjectClass.DATA, application });
          const labels: string[] = [];
          for (let i = 0; i < found.length; i++) labels.push(found.items(i).getAttribute('label') as string);
          return labels;
        },
      ),
    ),

  aes: ({ bytes, chunk }, env) =>
    withSession(env, async (session) => {
      const key = session.generateKey(KeyGenMechanism.AES, { token: false, valueLen: 32, encrypt: true });
      const plain = aesChunk(chunk);
      const encryptAll = (total: number): number => {
        let produced = 0;
        const cipher = session.createCipher({ name: 'AES_CBC_PAD', params: Buffer.from(AES_IV) }, key);
        for (let done = 0; done < total; done += chunk) produced += cipher.update(plain).length;
        return produced + cipher.final().length;
      };
      encryptAll(aesWarmUp(bytes));
      await settle();
      const cpu = cpuClock();
      const start = clock();
      const produced = encryptAll(bytes);
      const ns = since(start);
      const cpuNs = cpuClock() - cpu;
      if (produced !== bytes + 16) throw new Error(`encrypted ${produced} bytes, expected ${bytes + 16}`);
      return { workload: 'aes', bytes, chunk, ns, cpuNs };
    }),

  keygen: ({ bits }, env) =>
    withSession(env, async (session) => {
      await settle();
      const stop = watchEventLoop();
      const start = clock();
      await new Promise<void>((resolve, reject) =>
        session.generateKeyPair(
          KeyGenMechanism.RSA,
          { token: false, modulusBits: bits, publicExponent: Buffer.from([1, 0, 1]), verify: true },
          { token: false, private: true, sensitive: true, sign: true },
          (error) => (error ? reject(error) : resolve()),
        ),
      );
      const ns = since(start);
      const maxDelayMs = stop();
      return { workload: 'keygen', bits, ns, maxDelayMs, idleDelayMs: await idleDelay() };
    }),

  leak: ({ first, total }, env) =>
    withSession(env, async (session) => {
      const key = session.generateKey(KeyGenMechanism.GENERIC_SECRET, {
        token: false,
        valueLen: 32,
        sign: true,
      });
      await settle();
      let rssFirst = 0;
      const start = clock();
      for (let i = 1; i <= total; i++) {
        await sign(session, 'SHA256_HMAC', key as SecretKey, digest);
        if (i === first) rssFirst = rss();
      }
      const ns = since(start);
      return { workload: 'leak', first, total, rssFirst, rssTotal: rss(), ns };
    }),
});
