/**
 * The benchmark workloads written against pkcs11js, each with the fastest call that library
 * offers: its asynchronous variant where it has one (sign, key generation), its synchronous call
 * otherwise (attribute reads, object search, AES updates have no asynchronous form). Initialised
 * with OS locking, which pkcs11js leaves off by default, so concurrent sessions are safe.
 */
import pkcs11js from 'pkcs11js';
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

const {
  CKA_APPLICATION,
  CKA_CLASS,
  CKA_EC_PARAMS,
  CKA_ENCRYPT,
  CKA_LABEL,
  CKA_MODULUS_BITS,
  CKA_PRIVATE,
  CKA_PUBLIC_EXPONENT,
  CKA_SENSITIVE,
  CKA_SIGN,
  CKA_TOKEN,
  CKA_VALUE_LEN,
  CKA_VERIFY,
  CKF_OS_LOCKING_OK,
  CKF_RW_SESSION,
  CKF_SERIAL_SESSION,
  CKM_AES_CBC_PAD,
  CKM_AES_KEY_GEN,
  CKM_EC_KEY_PAIR_GEN,
  CKM_ECDSA,
  CKM_GENERIC_SECRET_KEY_GEN,
  CKM_RSA_PKCS_KEY_PAIR_GEN,
  CKM_SHA256_HMAC,
  CKO_DATA,
  CKO_PRIVATE_KEY,
  CKU_USER,
} = pkcs11js;

type Handle = Buffer;

interface Context {
  readonly p11: pkcs11js.PKCS11;
  readonly slot: Handle;
  readonly session: Handle;
}

/** Loads the module with OS locking, opens a logged-in read-write session, and finalizes after `body`. */
async function withSession<T>(env: BenchEnv, body: (ctx: Context) => Promise<T>): Promise<T> {
  const p11 = new pkcs11js.PKCS11();
  p11.load(env.module);
  p11.C_Initialize({ flags: CKF_OS_LOCKING_OK });
  try {
    const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === env.tokenLabel);
    if (!slot) throw new Error(`no token labelled ${env.tokenLabel}`);
    const session = p11.C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
    p11.C_Login(session, CKU_USER, env.pin);
    return await body({ p11, slot, session });
  } finally {
    p11.C_Finalize();
  }
}

const P256 = Buffer.from('06082a8648ce3d030107', 'hex');
const digest = Buffer.alloc(32, 0x5a);

/** All handles matching `template`, in batches of 256 like the other implementations. */
function find(p11: pkcs11js.PKCS11, session: Handle, template: pkcs11js.Template): Handle[] {
  p11.C_FindObjectsInit(session, template);
  const found: Handle[] = [];
  for (;;) {
    const batch = p11.C_FindObjects(session, 256);
    found.push(...batch);
    if (batch.length < 256) break;
  }
  p11.C_FindObjectsFinal(session);
  return found;
}

await runDriver({
  attr: ({ reads }, env) =>
    withSession(env, async ({ p11, session }) => {
      const object = p11.C_CreateObject(session, [
        { type: CKA_CLASS, value: CKO_DATA },
        { type: CKA_TOKEN, value: false },
        { type: CKA_PRIVATE, value: false },
        { type: CKA_LABEL, value: ATTR_LABEL },
      ]);
      const read = () => p11.C_GetAttributeValue(session, object, [{ type: CKA_LABEL }]);
      await settle();
      for (let i = 0; i < Math.min(reads, 1000); i++) read();
      const cpu = cpuClock();
      const start = clock();
      for (let i = 0; i < reads; i++) read();
      const ns = since(start);
      return { workload: 'attr', reads, ns, cpuNs: cpuClock() - cpu };
    }),

  sign: ({ signs, sessions }, env) =>
    withSession(env, async ({ p11, slot, session }) => {
      p11.C_GenerateKeyPair(
        session,
        { mechanism: CKM_EC_KEY_PAIR_GEN },
        [
          { type: CKA_TOKEN, value: false },
          { type: CKA_EC_PARAMS, value: P256 },
          { type: CKA_VERIFY, value: true },
        ],
        [
          { type: CKA_TOKEN, value: false },
          { type: CKA_PRIVATE, value: true },
          { type: CKA_SENSITIVE, value: true },
          { type: CKA_SIGN, value: true },
          { type: CKA_LABEL, value: SIGN_KEY_LABEL },
        ],
      );
      const opened = Array.from({ length: sessions }, () =>
        p11.C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION),
      );
      const keys = opened.map((s) => {
        const [key] = find(p11, s, [
          { type: CKA_CLASS, value: CKO_PRIVATE_KEY },
          { type: CKA_LABEL, value: SIGN_KEY_LABEL },
        ]);
        if (!key) throw new Error('the EC key is not visible from a new session');
        return key;
      });
      const sign = (loop: number) => {
        const s = opened[loop] as Handle;
        p11.C_SignInit(s, { mechanism: CKM_ECDSA }, keys[loop] as Handle);
        return p11.C_SignAsync(s, digest, Buffer.alloc(64));
      };
      await concurrently(Math.min(signs, SIGN_WARM_UP), sessions, sign);
      await settle();
      const cpu = cpuClock();
      const ns = await concurrently(signs, sessions, sign);
      const cpuNs = cpuClock() - cpu;
      for (const s of opened) p11.C_CloseSession(s);
      return { workload: 'sign', signs, sessions, depth: 1, ns, cpuNs };
    }),

  objects: ({ count }, env) =>
    withSession(env, ({ p11, session }) =>
      objectsWorkload(
        count,
        (application, n) => {
          for (let i = 0; i < n; i++) {
            p11.C_CreateObject(session, [
              { type: CKA_CLASS, value: CKO_DATA },
              { type: CKA_TOKEN, value: false },
              { type: CKA_PRIVATE, value: false },
              { type: CKA_APPLICATION, value: application },
              { type: CKA_LABEL, value: objectLabel(i) },
            ]);
          }
        },
        (application) =>
          find(p11, session, [
            { type: CKA_CLASS, value: CKO_DATA },
            { type: CKA_APPLICATION, value: application },
          ]).map((h) => String(p11.C_GetAttributeValue(session, h, [{ type: CKA_LABEL }])[0]?.value)),
      ),
    ),

  aes: ({ bytes, chunk }, env) =>
    withSession(env, async ({ p11, session }) => {
      const key = p11.C_GenerateKey(session, { mechanism: CKM_AES_KEY_GEN }, [
        { type: CKA_TOKEN, value: false },
        { type: CKA_VALUE_LEN, value: 32 },
        { type: CKA_ENCRYPT, value: true },
      ]);
      const plain = aesChunk(chunk);
      // pkcs11js writes into the buffer it is given: one for every chunk, its fastest use.
      const output = Buffer.alloc(chunk + 16);
      const encryptAll = (total: number): number => {
        let produced = 0;
        p11.C_EncryptInit(session, { mechanism: CKM_AES_CBC_PAD, parameter: Buffer.from(AES_IV) }, key);
        for (let done = 0; done < total; done += chunk) {
          produced += p11.C_EncryptUpdate(session, plain, output).length;
        }
        return produced + p11.C_EncryptFinal(session, Buffer.alloc(16)).length;
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
    withSession(env, async ({ p11, session }) => {
      await settle();
      const stop = watchEventLoop();
      const start = clock();
      await p11.C_GenerateKeyPairAsync(
        session,
        { mechanism: CKM_RSA_PKCS_KEY_PAIR_GEN },
        [
          { type: CKA_TOKEN, value: false },
          { type: CKA_MODULUS_BITS, value: bits },
          { type: CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
          { type: CKA_VERIFY, value: true },
        ],
        [
          { type: CKA_TOKEN, value: false },
          { type: CKA_PRIVATE, value: true },
          { type: CKA_SENSITIVE, value: true },
          { type: CKA_SIGN, value: true },
        ],
      );
      const ns = since(start);
      const maxDelayMs = stop();
      return { workload: 'keygen', bits, ns, maxDelayMs, idleDelayMs: await idleDelay() };
    }),

  leak: ({ first, total }, env) =>
    withSession(env, async ({ p11, session }) => {
      const key = p11.C_GenerateKey(session, { mechanism: CKM_GENERIC_SECRET_KEY_GEN }, [
        { type: CKA_TOKEN, value: false },
        { type: CKA_VALUE_LEN, value: 32 },
        { type: CKA_SIGN, value: true },
      ]);
      await settle();
      let rssFirst = 0;
      const start = clock();
      for (let i = 1; i <= total; i++) {
        p11.C_SignInit(session, { mechanism: CKM_SHA256_HMAC }, key);
        await p11.C_SignAsync(session, digest, Buffer.alloc(32));
        if (i === first) rssFirst = rss();
      }
      const ns = since(start);
      return { workload: 'leak', first, total, rssFirst, rssTotal: rss(), ns };
    }),
});
