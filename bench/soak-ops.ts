/**
 * The mixed workload of the soak benchmark (bench/soak.ts): the keys it runs on, and every kind of
 * operation a session's loop picks from, each checking its own result. A kind either succeeds or
 * throws; the deliberately failing kinds succeed when the failure they provoke is exactly the
 * expected one, so anything thrown out of {@link OpKind.run} is an unexpected error.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  Attribute,
  KeyType,
  Mechanism,
  ObjectClass,
  Pkcs11Error,
  PrivateKey,
  PublicKey,
  SecretKey,
  type AttributeValue,
  type Session,
} from '../src/index.js';

/** `CKA_APPLICATION` of every data object the soak creates, so a search can count those left over. */
export const SOAK_APPLICATION = 'pkcs11-ts soak';

/** Labels of the keys the soak generates (session objects of the first session, used by all). */
const LABEL = {
  ec: 'soak ec p-256',
  rsa: 'soak rsa-2048',
  hmac: 'soak hmac',
  aes: 'soak aes-256',
} as const;

/** How many objects {@link generateKeys} makes: two pairs and two secret keys. */
export const KEY_OBJECTS = 6;

/** The soak's keys as seen from one session (an object's operations run in the session it was found in). */
export interface SessionKeys {
  readonly ecPrivate: PrivateKey;
  readonly ecPublic: PublicKey;
  readonly rsaPrivate: PrivateKey;
  readonly rsaPublic: PublicKey;
  readonly hmac: SecretKey;
  readonly aes: SecretKey;
}

/** One session's loop: its session, its view of the keys, its own random sequence. */
export interface Worker {
  readonly index: number;
  readonly session: Session;
  readonly keys: SessionKeys;
  /** A uniform number in [0, 1) from this worker's seeded sequence (runs are reproducible). */
  readonly random: () => number;
  /** Operations this worker has started (the runner counts): makes data-object labels unique. */
  serial: number;
}

/** One kind of operation of the mix. */
export interface OpKind {
  readonly name: string;
  /** Relative frequency in the mix. */
  readonly weight: number;
  /** Whether the kind provokes a failure on purpose (and checks it is the expected one). */
  readonly failing: boolean;
  /** Session objects one operation creates and destroys (a module may keep memory for each: soak-retention.ts). */
  readonly destroys: number;
  /** Runs one operation; resolves when its result was as expected, throws otherwise. */
  run(worker: Worker): Promise<void>;
}

/** Generates the soak's keys as session objects of `session`: ECDSA P-256, RSA-2048, HMAC, AES-256. */
export async function generateKeys(session: Session): Promise<void> {
  await session.generateKeypair(KeyType.EC, 'secp256r1', { label: LABEL.ec });
  await session.generateKeypair(KeyType.RSA, 2048, { label: LABEL.rsa });
  await session.generateKey(KeyType.GENERIC_SECRET, 256, { label: LABEL.hmac });
  await session.generateKey(KeyType.AES, 256, { label: LABEL.aes });
}

/** Finds one of the soak's keys in `session` and checks its class. */
async function findKey<T>(
  session: Session,
  label: string,
  objectClass: number,
  type: abstract new (...args: never[]) => T,
): Promise<T> {
  const found = await session.getKey({ label, objectClass });
  if (!(found instanceof type)) throw new Error(`${label}: found ${found.toString()}, not a ${type.name}`);
  return found;
}

/** The soak's keys as found from `session` (generated earlier by {@link generateKeys}). */
export async function findKeys(session: Session): Promise<SessionKeys> {
  return {
    ecPrivate: await findKey(session, LABEL.ec, ObjectClass.PRIVATE_KEY, PrivateKey),
    ecPublic: await findKey(session, LABEL.ec, ObjectClass.PUBLIC_KEY, PublicKey),
    rsaPrivate: await findKey(session, LABEL.rsa, ObjectClass.PRIVATE_KEY, PrivateKey),
    rsaPublic: await findKey(session, LABEL.rsa, ObjectClass.PUBLIC_KEY, PublicKey),
    hmac: await findKey(session, LABEL.hmac, ObjectClass.SECRET_KEY, SecretKey),
    aes: await findKey(session, LABEL.aes, ObjectClass.SECRET_KEY, SecretKey),
  };
}

/** xorshift32 from `seed`: a fast, reproducible sequence in [0, 1) for picking operations and sizes. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

/** Random bytes the payloads are cut from (views of it, so no operation allocates its input). */
const POOL = randomBytes(8192);

/** A view of {@link POOL} of `min` to `max` bytes at a random offset. */
function payload(worker: Worker, min: number, max: number): Uint8Array {
  const length = min + Math.floor(worker.random() * (max - min + 1));
  const offset = Math.floor(worker.random() * (POOL.byteLength - length + 1));
  return POOL.subarray(offset, offset + length);
}

/** Throws when `condition` is false: the operation gave a wrong result. */
function expect(condition: boolean, what: string): void {
  if (!condition) throw new Error(`wrong result: ${what}`);
}

function sameBytes(a: AttributeValue | undefined, b: Uint8Array): boolean {
  return a instanceof Uint8Array && Buffer.compare(a, b) === 0;
}

/** A copy of `bytes` with one bit flipped at a random position. */
function corrupted(worker: Worker, bytes: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(bytes);
  const i = Math.floor(worker.random() * copy.byteLength);
  copy[i] = (copy[i] as number) ^ (1 << Math.floor(worker.random() * 8));
  return copy;
}

/** Runs `action`, which must fail with a {@link Pkcs11Error} of `code`; any other outcome is thrown. */
async function expectFailure(code: string, action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (error instanceof Pkcs11Error && error.code === code) return;
    throw error;
  }
  throw new Error(`expected ${code}, but the call succeeded`);
}

/** Signs `data` with `signer`; then `verifier` must accept the signature, or, when `forged`, refuse a corrupted copy of it. */
async function signAndVerify(
  worker: Worker,
  signer: PrivateKey | SecretKey,
  verifier: PublicKey | SecretKey,
  data: Uint8Array,
  forged: boolean,
): Promise<void> {
  const signature = await signer.sign(data);
  if (forged) {
    expect(!(await verifier.verify(data, corrupted(worker, signature))), 'a corrupted signature verified');
  } else {
    expect(await verifier.verify(data, signature), 'a fresh signature did not verify');
  }
}

/** Encrypts `data` with the AES key under `mechanism` (IV made by the library), decrypts, compares. */
async function aesRoundTrip(worker: Worker, mechanism: number): Promise<void> {
  const plain = payload(worker, 1, 4096);
  const sealed = await worker.keys.aes.encrypt(plain, { mechanism });
  const opened = await worker.keys.aes.decrypt(sealed, { mechanism });
  expect(
    Buffer.compare(opened, plain) === 0,
    `${mechanism === Mechanism.AES_GCM ? 'GCM' : 'CBC-PAD'} round trip`,
  );
}

/** Creates a public data object of the soak (a session object) holding `value`. */
function createData(worker: Worker, value: Uint8Array) {
  return worker.session.createObject({
    [Attribute.CLASS]: ObjectClass.DATA,
    [Attribute.TOKEN]: false,
    [Attribute.PRIVATE]: false,
    [Attribute.LABEL]: `soak ${worker.index}.${worker.serial}`,
    [Attribute.APPLICATION]: SOAK_APPLICATION,
    [Attribute.VALUE]: value,
  });
}

/** The attribute-read targets: each key with its label and type; CKA_VALUE must never be revealed. */
function readTargets(keys: SessionKeys) {
  return [
    { key: keys.ecPrivate, label: LABEL.ec, keyType: KeyType.EC },
    { key: keys.ecPublic, label: LABEL.ec, keyType: KeyType.EC },
    { key: keys.rsaPublic, label: LABEL.rsa, keyType: KeyType.RSA },
    { key: keys.hmac, label: LABEL.hmac, keyType: KeyType.GENERIC_SECRET },
    { key: keys.aes, label: LABEL.aes, keyType: KeyType.AES },
  ];
}

/** The mix. Weights sum to 100, so each is the kind's share in percent. */
export const OP_KINDS: readonly OpKind[] = [
  {
    name: 'ECDSA P-256 sign + verify',
    weight: 10,
    failing: false,
    destroys: 0,
    run: (w) => signAndVerify(w, w.keys.ecPrivate, w.keys.ecPublic, payload(w, 32, 32), false),
  },
  {
    name: 'RSA-2048 sign + verify',
    weight: 1,
    failing: false,
    destroys: 0,
    run: (w) => signAndVerify(w, w.keys.rsaPrivate, w.keys.rsaPublic, payload(w, 0, 1024), false),
  },
  {
    name: 'HMAC-SHA256 sign + verify',
    weight: 12,
    failing: false,
    destroys: 0,
    run: (w) => signAndVerify(w, w.keys.hmac, w.keys.hmac, payload(w, 0, 1024), false),
  },
  {
    name: 'AES-GCM encrypt + decrypt',
    weight: 9,
    failing: false,
    destroys: 0,
    run: (w) => aesRoundTrip(w, Mechanism.AES_GCM),
  },
  {
    name: 'AES-CBC-PAD encrypt + decrypt',
    weight: 9,
    failing: false,
    destroys: 0,
    run: (w) => aesRoundTrip(w, Mechanism.AES_CBC_PAD),
  },
  {
    name: 'SHA-256 digest',
    weight: 10,
    failing: false,
    destroys: 0,
    run: async (w) => {
      const data = payload(w, 0, 2048);
      const digest = await w.session.digest(data);
      expect(
        sameBytes(digest, createHash('sha256').update(data).digest()),
        'digest differs from node:crypto',
      );
    },
  },
  {
    name: 'C_GenerateRandom',
    weight: 10,
    failing: false,
    destroys: 0,
    run: async (w) => {
      const length = 1 + Math.floor(w.random() * 64);
      expect((await w.session.generateRandom(length)).byteLength === length, 'random length');
    },
  },
  {
    name: 'data object create + read + destroy',
    weight: 8,
    failing: false,
    destroys: 1,
    run: async (w) => {
      const value = payload(w, 1, 256);
      const object = await createData(w, value);
      try {
        const read = await object.getAttributes([Attribute.LABEL, Attribute.APPLICATION, Attribute.VALUE]);
        expect(read[Attribute.LABEL] === object.label, 'data object label');
        expect(read[Attribute.APPLICATION] === SOAK_APPLICATION, 'data object application');
        expect(sameBytes(read[Attribute.VALUE], value), 'data object value');
      } finally {
        await object.destroy();
      }
    },
  },
  {
    name: 'find secret keys',
    weight: 4,
    failing: false,
    destroys: 0,
    run: async (w) => {
      const labels: string[] = [];
      for await (const key of w.session.getObjects({ [Attribute.CLASS]: ObjectClass.SECRET_KEY })) {
        labels.push(key.label);
      }
      expect(labels.sort().join() === [LABEL.aes, LABEL.hmac].join(), `found ${labels.length} secret keys`);
    },
  },
  {
    name: 'key attribute reads',
    weight: 15,
    failing: false,
    destroys: 0,
    run: async (w) => {
      const targets = readTargets(w.keys);
      const { key, label, keyType } = targets[Math.floor(w.random() * targets.length)] as (typeof targets)[0];
      const read = await key.getAttributes([Attribute.LABEL, Attribute.KEY_TYPE, Attribute.VALUE]);
      expect(read[Attribute.LABEL] === label, 'key label');
      expect(read[Attribute.KEY_TYPE] === keyType, 'key type');
      expect(read[Attribute.VALUE] === undefined, 'CKA_VALUE of a key was revealed');
    },
  },
  {
    name: 'ECDSA verify of a corrupted signature (false)',
    weight: 3,
    failing: true,
    destroys: 0,
    run: (w) => signAndVerify(w, w.keys.ecPrivate, w.keys.ecPublic, payload(w, 32, 32), true),
  },
  {
    name: 'HMAC verify of a corrupted MAC (false)',
    weight: 3,
    failing: true,
    destroys: 0,
    run: (w) => signAndVerify(w, w.keys.hmac, w.keys.hmac, payload(w, 0, 1024), true),
  },
  {
    name: 'read of a destroyed object (CKR_OBJECT_HANDLE_INVALID)',
    weight: 3,
    failing: true,
    destroys: 1,
    run: async (w) => {
      const object = await createData(w, payload(w, 1, 16));
      await object.destroy();
      await expectFailure('CKR_OBJECT_HANDLE_INVALID', () => object.get(Attribute.LABEL));
    },
  },
  {
    name: 'CBC-PAD decrypt of a truncated ciphertext (CKR_ENCRYPTED_DATA_LEN_RANGE)',
    weight: 3,
    failing: true,
    destroys: 0,
    run: async (w) => {
      const mechanism = Mechanism.AES_CBC_PAD;
      const sealed = await w.keys.aes.encrypt(payload(w, 1, 256), { mechanism });
      const truncated = sealed.subarray(0, sealed.byteLength - 1);
      await expectFailure('CKR_ENCRYPTED_DATA_LEN_RANGE', () => w.keys.aes.decrypt(truncated, { mechanism }));
    },
  },
];

const TOTAL_WEIGHT = OP_KINDS.reduce((sum, kind) => sum + kind.weight, 0);

/** Picks a kind by weight with one random draw. */
export function pickKind(random: number): OpKind {
  let left = random * TOTAL_WEIGHT;
  for (const kind of OP_KINDS) {
    left -= kind.weight;
    if (left < 0) return kind;
  }
  return OP_KINDS[OP_KINDS.length - 1] as OpKind;
}
