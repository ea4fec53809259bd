// Random and hostile input at every function `pkcs11-ts/util` exports: DER made up from scratch,
// real keys, signatures and certificates with bytes flipped, cut, inserted or relabelled, and
// arguments of every other type. The only acceptable outcomes are a result or a TypeError /
// RangeError (DerError is a TypeError) naming the function; never another error, a crash or a hang.
//
// Cases: PKCS11_TS_FUZZ_CASES in all (default 3000; `npm run fuzz:long` asks for 100,000), spread
// over the properties below. PKCS11_TS_FUZZ_SEED replays a run that failed.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import * as util from '../../src/util/index.js';
import { Attribute, KeyType } from '../../src/index.js';
import { anyValue, fuzzRuns } from '../support/fuzz.js';
import { selfSignedCertificate } from '../support/openssl.js';

const runs = fuzzRuns(3000);

/** Every function `pkcs11-ts/util` exports (classes such as DerError excluded). */
const FUNCTIONS = (Object.entries(util) as [string, unknown][]).filter(
  (entry): entry is [string, (...args: unknown[]) => unknown] =>
    typeof entry[1] === 'function' && !/^class\b/.test(Function.prototype.toString.call(entry[1])),
);

/**
 * Calls `fn` and checks the outcome: a value, or a TypeError/RangeError whose message names the
 * function (so the caller can tell which argument was wrong).
 */
async function callSafely(name: string, fn: (...args: unknown[]) => unknown, args: unknown[]): Promise<void> {
  try {
    await fn(...args);
  } catch (error) {
    if (!(error instanceof TypeError || error instanceof RangeError)) {
      assert.fail(`${name} threw ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`);
    }
  }
}

/** Valid encodings to mutate, made fresh: keys of every kind, signatures, curve parameters, a certificate. */
const seeds: Uint8Array[] = [];

before(() => {
  const der = (key: { export(o: object): Buffer | string }, o: object): Uint8Array => key.export(o) as Buffer;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ed = generateKeyPairSync('ed25519');
  const dsa = generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 });
  seeds.push(
    der(rsa.publicKey, { format: 'der', type: 'spki' }),
    der(rsa.publicKey, { format: 'der', type: 'pkcs1' }),
    der(rsa.privateKey, { format: 'der', type: 'pkcs1' }),
    der(rsa.privateKey, { format: 'der', type: 'pkcs8' }),
    der(ec.publicKey, { format: 'der', type: 'spki' }),
    der(ec.privateKey, { format: 'der', type: 'sec1' }),
    der(ed.publicKey, { format: 'der', type: 'spki' }),
    der(dsa.publicKey, { format: 'der', type: 'spki' }),
    sign('sha256', Buffer.from('data'), { key: ec.privateKey, dsaEncoding: 'der' }),
    sign('sha256', Buffer.from('data'), { key: dsa.privateKey, dsaEncoding: 'der' }),
    util.encodeNamedCurveParameters('secp256r1'),
    util.encodeNamedCurveParameters('brainpoolP256r1'),
    rawPoint(ec.publicKey),
    util.encodeEcPoint(rawPoint(ec.publicKey)),
  );
  const pem = readFileSync(
    new URL('../fixtures/util/x942-dh-params-with-validation.pem', import.meta.url),
    'utf8',
  );
  seeds.push(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
  seeds.push(certificateOrNothing());
  // The keys again, as node:crypto reads them back: proof the seeds are the real thing.
  createPublicKey({ key: Buffer.from(seeds[0] as Uint8Array), format: 'der', type: 'spki' });
  createPrivateKey({ key: Buffer.from(seeds[5] as Uint8Array), format: 'der', type: 'sec1' });
});

/** A fresh self-signed P-256 certificate (DER), made by OpenSSL; empty when OpenSSL is not installed. */
function certificateOrNothing(): Uint8Array {
  try {
    return selfSignedCertificate('/CN=fuzz');
  } catch {
    return new Uint8Array(0);
  }
}

/** The uncompressed point of an EC public key. */
function rawPoint(key: ReturnType<typeof createPublicKey>): Uint8Array {
  const { x, y } = key.export({ format: 'jwk' });
  return Buffer.concat([
    Buffer.of(4),
    Buffer.from(x as string, 'base64url'),
    Buffer.from(y as string, 'base64url'),
  ]);
}

/** DER length octets, sometimes in a form DER forbids (long form for a short length, indefinite). */
const lengthOf = (n: number, style: number): number[] => {
  if (style === 1) return [0x80]; // indefinite
  if (n < 0x80 && style !== 2) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return [0x80 | Math.max(bytes.length, 1), ...(bytes.length ? bytes : [0])];
};

/** A DER-like tree: primitive leaves (INTEGER, BIT/OCTET STRING, NULL, OID, strings, times) under SEQUENCE/SET/[n]. */
const tlv: fc.Arbitrary<Uint8Array> = fc.letrec<{ node: Uint8Array }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .tuple(
        fc.oneof(
          fc.constantFrom(0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x13, 0x16, 0x17, 0x18),
          fc.integer({ min: 0, max: 255 }),
        ),
        fc.uint8Array({ maxLength: 70 }),
        fc.nat(4),
      )
      .map(([tag, content, style]) => Uint8Array.from([tag, ...lengthOf(content.length, style), ...content])),
    fc
      .tuple(
        fc.oneof(fc.constantFrom(0x30, 0x31, 0xa0, 0xa1, 0xa3), fc.integer({ min: 0, max: 255 })),
        fc.array(tie('node'), { maxLength: 5 }),
        fc.nat(4),
      )
      .map(([tag, children, style]) => {
        const content = Buffer.concat(children);
        return Uint8Array.from([tag, ...lengthOf(content.length, style), ...content]);
      }),
  ),
})).node;

/** One edit of a byte string. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.nat(16) }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

/** `bytes` with `edits` applied in turn (positions wrap around the current length). */
function mutate(bytes: Uint8Array, edits: readonly Mutation[]): Uint8Array {
  let out = Buffer.from(bytes);
  for (const edit of edits) {
    if (out.length === 0 && edit.kind !== 'insert') continue;
    const at = edit.at % Math.max(out.length, 1);
    if (edit.kind === 'flip') out[at] = (out[at] as number) ^ (1 << edit.bit);
    else if (edit.kind === 'set') out[at] = edit.value;
    else if (edit.kind === 'cut') out = out.subarray(0, at);
    else if (edit.kind === 'insert') out = Buffer.concat([out.subarray(0, at), edit.bytes, out.subarray(at)]);
    else out = Buffer.concat([out.subarray(0, at), out.subarray(at + edit.count)]);
  }
  return out;
}

/** DER-ish bytes: a mutated real encoding, a made-up tree, or plain random bytes. */
const derLike: fc.Arbitrary<Uint8Array> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.nat(), fc.array(mutation, { maxLength: 4 }))
      .map(([i, edits]) => mutate(seeds[i % seeds.length] as Uint8Array, edits)),
  },
  { weight: 2, arbitrary: tlv },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
);

/** Values of every other kind, hostile numbers and strings included. */
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  anyValue,
  fc.constantFrom(
    NaN,
    Infinity,
    -Infinity,
    -1,
    0,
    2 ** 53,
    2 ** 64,
    -(2n ** 64n),
    2n ** 70n,
    '',
    'secp256r1',
    'Ed25519',
    '1.2.840.10045.3.1.7',
    'P-256',
  ),
  fc.string({ maxLength: 40 }),
);

/** A key source: a template with the attributes the encoders read, of random shapes. */
const keySource: fc.Arbitrary<Record<number, unknown>> = fc.dictionary(
  fc
    .constantFrom(
      Attribute.KEY_TYPE,
      Attribute.MODULUS,
      Attribute.PUBLIC_EXPONENT,
      Attribute.EC_PARAMS,
      Attribute.EC_POINT,
      Attribute.PRIME,
      Attribute.SUBPRIME,
      Attribute.BASE,
      Attribute.VALUE,
      Attribute.CLASS,
    )
    .map(String),
  fc.oneof(
    derLike,
    hostile,
    fc.constantFrom(KeyType.RSA, KeyType.EC, KeyType.EC_EDWARDS, KeyType.DSA, KeyType.DH, KeyType.X9_42_DH),
  ),
  { maxKeys: 6 },
) as fc.Arbitrary<Record<number, unknown>>;

/** A second argument: curve names, sizes, options objects, issuer certificates, or anything. */
const second: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom('secp256r1', 'prime256v1', 'secp384r1', 'brainpoolP256r1', 'Ed25519', 32, 48, 20),
  derLike,
  fc.record(
    { encodeEcPoint: fc.oneof(fc.boolean(), hostile), issuer: fc.oneof(derLike, fc.string(), hostile) },
    { requiredKeys: [] },
  ),
  hostile,
);

describe('util: hostile input gives a TypeError or RangeError, or a result', () => {
  test('every export, with DER-like bytes', async () => {
    assert.ok(FUNCTIONS.length >= 20, `found the util functions (${FUNCTIONS.map(([n]) => n).join(', ')})`);
    await fc.assert(
      fc.asyncProperty(fc.nat(), derLike, second, async (i, bytes, arg) => {
        const [name, fn] = FUNCTIONS[i % FUNCTIONS.length] as [string, (...args: unknown[]) => unknown];
        await callSafely(name, fn, [bytes, arg]);
      }),
      runs(0.6),
    );
  });

  test('every export, with arguments of any type', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.oneof(hostile, keySource, fc.string()), second, async (i, input, arg) => {
        const [name, fn] = FUNCTIONS[i % FUNCTIONS.length] as [string, (...args: unknown[]) => unknown];
        await callSafely(name, fn, [input, arg]);
      }),
      runs(0.25),
    );
  });

  test('PEM text with damaged contents', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        derLike,
        fc.constantFrom('CERTIFICATE', 'PUBLIC KEY', 'X9.42 DH PARAMETERS', 'BOGUS'),
        async (i, bytes, label) => {
          const [name, fn] = FUNCTIONS[i % FUNCTIONS.length] as [string, (...args: unknown[]) => unknown];
          const pem = `-----BEGIN ${label}-----\n${Buffer.from(bytes).toString('base64')}\n-----END ${label}-----\n`;
          await callSafely(name, fn, [pem, undefined]);
        },
      ),
      runs(0.15),
    );
  });
});
