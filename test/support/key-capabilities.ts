/**
 * Whether the token makes and takes the keys a test needs, found by trying once per token and
 * remembered: generating a secret key (C_GenerateKey) and importing a key of some kind
 * (C_CreateObject). A token may list CKM_AES_KEY_GEN and still not implement C_GenerateKey, or
 * take only some kinds of key in C_CreateObject (tpm2-pkcs11 takes no key but an RSA public one),
 * so the mechanism list cannot tell. A test then skips with the token's own answer as the reason;
 * a probe that fails with any other code throws, so a fault of ours is met, not skipped.
 *
 * @example
 * if (await cannotImport(t, fx.session, 'AES')) return;
 * const key = await importSecretKey(fx.session, KeyType.AES, value);
 *
 * const refused = await generationRefused(fx.session, KeyType.AES, 128);
 * describe('AES keys made by the token', { skip: refused }, () => { ... });
 */
import crypto from 'node:crypto';
import type { TestContext } from 'node:test';
import { KeyType, ReturnValue } from '../../src/sys/constants.js';
import { nameOf } from '../../src/sys/names.js';
import { Pkcs11Error } from '../../src/core/errors.js';
import type { PkcsObject, Session, Token } from '../../src/model/index.js';
import { importPrivateKey, importPublicKey, importSecretKey } from './keys.js';

/** Why the token cannot do something (`the token cannot import AES keys (C_CreateObject: CKR_...)`), or false. */
export type Refusal = string | false;

/** What a token answers for a key it does not make or take (a kind, a size, a function it lacks). */
export const KEY_REFUSED: readonly number[] = [
  ReturnValue.FUNCTION_NOT_SUPPORTED,
  ReturnValue.MECHANISM_INVALID,
  ReturnValue.KEY_SIZE_RANGE,
  ReturnValue.ATTRIBUTE_VALUE_INVALID,
  ReturnValue.ATTRIBUTE_TYPE_INVALID,
  ReturnValue.TEMPLATE_INCONSISTENT,
  ReturnValue.KEY_TYPE_INCONSISTENT,
];

/** node:crypto key pairs for the import probes, made once per process. */
const samplePairs = new Map<string, crypto.KeyPairKeyObjectResult>();

function samplePair(type: 'rsa' | 'ec' | 'ed25519'): crypto.KeyPairKeyObjectResult {
  let pair = samplePairs.get(type);
  if (!pair) {
    pair =
      type === 'rsa'
        ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
        : type === 'ec'
          ? crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
          : crypto.generateKeyPairSync('ed25519');
    samplePairs.set(type, pair);
  }
  return pair;
}

/** The kinds of key the tests import, each with how the probe imports a sample of it (as the tests do). */
const IMPORTS = {
  AES: (s: Session) => importSecretKey(s, KeyType.AES, crypto.randomBytes(32)),
  GENERIC_SECRET: (s: Session) => importSecretKey(s, KeyType.GENERIC_SECRET, crypto.randomBytes(32)),
  DES3: (s: Session) => importSecretKey(s, KeyType.DES3, crypto.randomBytes(24)),
  'RSA private': (s: Session) => importPrivateKey(s, samplePair('rsa').privateKey),
  'EC private': (s: Session) => importPrivateKey(s, samplePair('ec').privateKey),
  'Ed25519 private': (s: Session) => importPrivateKey(s, samplePair('ed25519').privateKey),
  'RSA public': (s: Session) => importPublicKey(s, samplePair('rsa').publicKey),
  'EC public': (s: Session) => importPublicKey(s, samplePair('ec').publicKey),
  'Ed25519 public': (s: Session) => importPublicKey(s, samplePair('ed25519').publicKey),
} as const satisfies Record<string, (session: Session) => Promise<PkcsObject>>;

/** A kind of key a test imports: `'AES'`, `'EC private'`, `'RSA public'`, ... */
export type ImportKind = keyof typeof IMPORTS;

/** Probe results per token, by what was tried. */
const probes = new WeakMap<Token, Map<string, Promise<Refusal>>>();

/**
 * Runs `attempt` once per token and `what`: false when it made its object (destroyed again), the
 * reason when the token refused with a code of {@link KEY_REFUSED}; any other failure rejects.
 */
function probe(session: Session, what: string, attempt: () => Promise<PkcsObject>): Promise<Refusal> {
  let known = probes.get(session.token);
  if (!known) probes.set(session.token, (known = new Map()));
  let result = known.get(what);
  if (!result) {
    result = attempt().then(
      async (made): Promise<Refusal> => {
        await made.destroy();
        return false;
      },
      (error: unknown): Refusal => {
        if (error instanceof Pkcs11Error && KEY_REFUSED.includes(error.rv))
          return `the token cannot ${what} (${error.fn}: ${error.code})`;
        throw error;
      },
    );
    known.set(what, result);
  }
  return result;
}

/** Why the token cannot generate `keyType` secret keys of `bits` bits through `session`, or false. */
export function generationRefused(session: Session, keyType: number, bits: number): Promise<Refusal> {
  const what = `generate ${bits}-bit ${nameOf(KeyType, keyType).replace(/^CKK_/, '')} keys`;
  return probe(session, what, () => session.generateKey(keyType, bits));
}

/** Why the token cannot import keys of `kind` through `session` (as test/support/keys.ts does), or false. */
export function importRefused(session: Session, kind: ImportKind): Promise<Refusal> {
  return probe(session, `import ${kind} keys`, () => IMPORTS[kind](session));
}

/** Skips the running test with the reason (and resolves to true) when `refusal` is one. */
async function skipFor(t: TestContext, refusal: Promise<Refusal>): Promise<boolean> {
  const reason = await refusal;
  if (reason === false) return false;
  t.skip(reason);
  return true;
}

/** Skips the running test (and resolves to true) when the token cannot generate these secret keys. */
export function cannotGenerate(
  t: TestContext,
  session: Session,
  keyType: number,
  bits: number,
): Promise<boolean> {
  return skipFor(t, generationRefused(session, keyType, bits));
}

/** Skips the running test (and resolves to true) when the token cannot import keys of one of `kinds`. */
export async function cannotImport(
  t: TestContext,
  session: Session,
  ...kinds: ImportKind[]
): Promise<boolean> {
  for (const kind of kinds) if (await skipFor(t, importRefused(session, kind))) return true;
  return false;
}
