/**
 * The walkthrough "Using with SmartCard-HSM (Nitrokey HSM)" of python-pkcs11, in TypeScript.
 *
 * It generates an RSA-2048 and a secp256r1 key pair on the token (stored, with labels), then runs
 * the page's three flows and checks each against node:crypto:
 *
 * 1. RSA: the public key is exported (PKCS#1), node:crypto encrypts with it (PKCS#1 v1.5 padding),
 *    the token decrypts with CKM_RSA_PKCS.
 * 2. ECDSA: the token signs with CKM_ECDSA_SHA1, the raw r||s signature is DER-encoded, and
 *    node:crypto verifies it with the exported SubjectPublicKeyInfo.
 * 3. ECDH: a peer key pair made by node:crypto, the token derives the shared secret from the
 *    peer's raw point, and it equals node:crypto's.
 *
 * Only generation and private-key operations run on the token, as on the SmartCard-HSM; every
 * public-key operation happens on the host after export. Nothing here is specific to one module:
 * it runs unchanged against SoftHSM2 and against OpenSC's `opensc-pkcs11.so` with a card.
 *
 * Re-running: each run first destroys the key pairs a previous run stored under the same two
 * labels, then generates new ones. That keeps the labels unique, so looking the keys up by label
 * (as the page does with `get_key`) finds exactly one, and a small card does not fill up run after
 * run. (The alternative, a fresh label per run, would leave every run's keys behind.) The labels
 * are this example's own, so no other key is touched.
 *
 * Run it:
 *
 *     npm run demo                                   # on the project's own SoftHSM2 token
 *     PKCS11_MODULE=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so PKCS11_TOKEN_LABEL='SmartCard-HSM' \
 *       PKCS11_PIN=648219 npx tsx examples/seed-smartcard-hsm.ts
 *
 * In an application, import from 'pkcs11-ts' and 'pkcs11-ts/util' instead of the source tree.
 */
import crypto from 'node:crypto';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import {
  Attribute,
  KDF,
  KeyType,
  Library,
  Mechanism,
  ObjectClass,
  PrivateKey,
  PublicKey,
  nameOf,
  type PkcsObject,
  type Session,
} from '../src/index.js';
import {
  decodeEcPublicKey,
  encodeEcPublicKey,
  encodeEcdsaSignature,
  encodeNamedCurveParameters,
  encodeRsaPublicKey,
} from '../src/util/index.js';

/** The environment the example reads; `process.env` fits. */
export type SeedEnv = Readonly<Record<string, string | undefined>>;

/** How many numbered steps {@link main} reports. */
const STEPS = 7;

/** Where the example writes its step-by-step report, one line per call (`console.log` fits). */
export type SeedLog = (line: string) => void;

/** The label of the RSA key pair the example stores (and replaces on the next run). */
export const RSA_LABEL = 'pkcs11-ts seed RSA keypair';

/** The label of the EC key pair the example stores (and replaces on the next run). */
export const EC_LABEL = 'pkcs11-ts seed EC keypair';

/** What each flow produced, for callers (the tests) that check the run independently. */
export interface SeedResult {
  /** How many key objects of an earlier run were destroyed before generating. */
  readonly removedObjects: number;
  readonly rsa: {
    /** Modulus size of the generated key, as the token reports it. */
    readonly modulusBits: number | undefined;
    /** The public key as exported: PKCS#1 RSAPublicKey DER. */
    readonly publicKeyDer: Uint8Array;
    readonly message: Uint8Array;
    /** node:crypto's PKCS#1 v1.5 encryption of `message`. */
    readonly ciphertext: Uint8Array;
    /** The token's CKM_RSA_PKCS decryption of `ciphertext`. */
    readonly decrypted: Uint8Array;
  };
  readonly ecdsa: {
    readonly data: Uint8Array;
    /** The token's CKM_ECDSA_SHA1 signature, raw r||s. */
    readonly signature: Uint8Array;
    /** The same signature as DER ECDSA-Sig-Value. */
    readonly derSignature: Uint8Array;
    /** The EC public key as exported: SubjectPublicKeyInfo DER. */
    readonly spki: Uint8Array;
  };
  readonly ecdh: {
    /** The peer (node:crypto's key pair), so a caller can redo the exchange. */
    readonly peer: crypto.KeyPairKeyObjectResult;
    /** The peer's raw public point, as handed to the token. */
    readonly peerPoint: Uint8Array;
    /** CKA_VALUE of the GENERIC_SECRET the token derived. */
    readonly tokenSecret: Uint8Array;
    /** node:crypto's ECDH shared secret. */
    readonly nodeSecret: Uint8Array;
  };
}

/** The variables the example needs, with what each one is for. */
const REQUIRED = {
  PKCS11_MODULE: 'path of the PKCS#11 module, e.g. /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so',
  PKCS11_TOKEN_LABEL: 'label of the token to use',
  PKCS11_PIN: 'user PIN of that token',
} as const;

/** The three required variables; an error naming every missing one (and what it is for) otherwise. */
function readEnv(env: SeedEnv): Record<keyof typeof REQUIRED, string> {
  const missing = (Object.keys(REQUIRED) as (keyof typeof REQUIRED)[]).filter((name) => !env[name]);
  if (missing.length > 0) {
    const lines = missing.map((name) => `  ${name}: ${REQUIRED[name]}`);
    throw new Error(`missing environment variable(s):\n${lines.join('\n')}\n(or run \`npm run demo\`)`);
  }
  return {
    PKCS11_MODULE: env.PKCS11_MODULE as string,
    PKCS11_TOKEN_LABEL: env.PKCS11_TOKEN_LABEL as string,
    PKCS11_PIN: env.PKCS11_PIN as string,
  };
}

/** `bytes` as a short hex excerpt with its length: `3082010a0282…0001 (270 bytes)`. */
function excerpt(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex');
  const shown = hex.length <= 32 ? hex : `${hex.slice(0, 20)}…${hex.slice(-8)}`;
  return `${shown} (${bytes.length} bytes)`;
}

/** A byte-array attribute of `obj`; an error naming it when the token does not reveal it. */
async function bytesOf(obj: PkcsObject, attribute: number): Promise<Uint8Array> {
  const value = await obj.get(attribute);
  if (!(value instanceof Uint8Array))
    throw new Error(`the token did not reveal ${nameOf(Attribute, attribute)}`);
  return value;
}

/** Throws when a check against node:crypto fails, so the run ends non-zero. */
function must(ok: boolean, what: string): void {
  if (!ok) throw new Error(`check failed: ${what}`);
}

/** `obj` as an instance of `Class`, or an error saying what was found instead. */
function ofClass<T extends PkcsObject>(obj: PkcsObject, Class: abstract new (...args: never[]) => T): T {
  if (!(obj instanceof Class)) throw new Error(`expected a ${Class.name}, found ${obj.toString()}`);
  return obj;
}

/**
 * Destroys the public and private keys labelled `label`, one at a time with a fresh search each
 * time (on some cards destroying a private key takes its public key with it). Returns the count.
 */
async function removeKeys(session: Session, label: string): Promise<number> {
  let removed = 0;
  for (const objectClass of [ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY]) {
    const template = { [Attribute.LABEL]: label, [Attribute.CLASS]: objectClass };
    for (;;) {
      let found: PkcsObject | undefined;
      // Breaking out of the search early is fine: it has already been finished on the token.
      for await (const obj of session.getObjects(template)) {
        found = obj;
        break;
      }
      if (!found) break;
      await found.destroy();
      if (++removed > 1000) throw new Error(`objects labelled ${JSON.stringify(label)} keep coming back`);
    }
  }
  return removed;
}

/**
 * Runs the walkthrough against the token named by `env` and reports each step through `log`.
 * Resolves to what each flow produced; rejects when anything fails or a check against node:crypto
 * does not hold (the step it happened in is the last one reported).
 *
 * @example
 * await main(process.env, console.log);
 */
export async function main(env: SeedEnv = process.env, log: SeedLog = console.log): Promise<SeedResult> {
  const config = readEnv(env);
  let stepNumber = 0;
  const step = (title: string): void => log(`\n[${++stepNumber}/${STEPS}] ${title}`);
  const detail = (name: string, value: string): void => log(`      ${name.padEnd(28)} ${value}`);

  log('pkcs11-ts: the SmartCard-HSM walkthrough of python-pkcs11');
  await using lib = await Library.load(config.PKCS11_MODULE, {
    initReserved: env.PKCS11_INIT_RESERVED || undefined,
  });
  const info = await lib.getInfo();
  const version = `${info.cryptokiVersion.major}.${info.cryptokiVersion.minor}`;
  log(`  module  ${config.PKCS11_MODULE} (${info.manufacturerId}, Cryptoki ${version})`);

  step('Find the token and open a read-write session, logged in as the user');
  const token = await lib.getToken({ tokenLabel: config.PKCS11_TOKEN_LABEL });
  detail('token', `"${token.label}" (${token.model}, serial ${token.serial})`);
  await using session = await token.open({ userPin: config.PKCS11_PIN, rw: true });
  detail('session', 'open, user logged in');

  step('Remove the key pairs an earlier run stored under the same labels');
  const removedObjects = (await removeKeys(session, RSA_LABEL)) + (await removeKeys(session, EC_LABEL));
  detail('removed', removedObjects === 0 ? 'nothing (first run)' : `${removedObjects} key objects`);

  step(`Generate an RSA-2048 key pair on the token, stored as "${RSA_LABEL}"`);
  const rsa = await session.generateKeypair(KeyType.RSA, 2048, { store: true, label: RSA_LABEL });
  detail('key length', `${rsa.privateKey.keyLength} bits`);
  detail('public modulus', excerpt(await bytesOf(rsa.publicKey, Attribute.MODULUS)));

  step(`Generate a secp256r1 key pair from local domain parameters, stored as "${EC_LABEL}"`);
  const params = await session.createDomainParameters(
    KeyType.EC,
    { [Attribute.EC_PARAMS]: encodeNamedCurveParameters('secp256r1') },
    { local: true },
  );
  const ec = await params.generateKeypair({ store: true, label: EC_LABEL });
  detail('key length', `${ec.privateKey.keyLength} bits`);
  detail('public point (CKA_EC_POINT)', excerpt(await bytesOf(ec.publicKey, Attribute.EC_POINT)));

  // The page finds its keys again with get_key; with the labels unique (see the top), so can we.
  const byLabel = (label: string, objectClass: number, keyType: number) =>
    session.getKey({ label, objectClass, keyType });

  step('RSA: node:crypto encrypts with the exported public key, the token decrypts (CKM_RSA_PKCS)');
  const rsaPub = ofClass(await byLabel(RSA_LABEL, ObjectClass.PUBLIC_KEY, KeyType.RSA), PublicKey);
  const publicKeyDer = await encodeRsaPublicKey(rsaPub);
  detail('public key (PKCS#1 DER)', excerpt(publicKeyDer));
  const message = Buffer.from('Data to encrypt');
  const nodeRsaKey = crypto.createPublicKey({ key: Buffer.from(publicKeyDer), format: 'der', type: 'pkcs1' });
  // Public encryption with PKCS#1 v1.5 padding is still allowed in Node 20 (only private
  // decryption with it is refused there), and the decryption is the token's job anyway.
  const ciphertext = crypto.publicEncrypt(
    { key: nodeRsaKey, padding: crypto.constants.RSA_PKCS1_PADDING },
    message,
  );
  detail('ciphertext (node:crypto)', excerpt(ciphertext));
  const rsaPriv = ofClass(await byLabel(RSA_LABEL, ObjectClass.PRIVATE_KEY, KeyType.RSA), PrivateKey);
  const decrypted = await rsaPriv.decrypt(ciphertext, { mechanism: Mechanism.RSA_PKCS });
  detail('decrypted by the token', JSON.stringify(Buffer.from(decrypted).toString('utf8')));
  must(Buffer.from(decrypted).equals(message), 'the token decrypted something other than the message');
  detail('verified by node:crypto', 'yes (the plaintext round-tripped)');

  step('ECDSA: the token signs with CKM_ECDSA_SHA1, node:crypto verifies the DER signature');
  const ecPriv = ofClass(await byLabel(EC_LABEL, ObjectClass.PRIVATE_KEY, KeyType.EC), PrivateKey);
  const data = Buffer.from('Data to sign');
  // A token without CKM_ECDSA_SHA1 (SoftHSM2 has only raw CKM_ECDSA) still works: pkcs11-ts
  // hashes on the host and signs the digest with CKM_ECDSA, giving the same signature.
  const hashOnToken = (await token.slot.getMechanisms()).includes(Mechanism.ECDSA_SHA1);
  detail('SHA-1 hashed', hashOnToken ? 'on the token' : 'on the host (the token lacks CKM_ECDSA_SHA1)');
  const signature = await ecPriv.sign(data, { mechanism: Mechanism.ECDSA_SHA1 });
  detail('signature (raw r||s)', excerpt(signature));
  const derSignature = encodeEcdsaSignature(signature);
  detail('signature (DER)', excerpt(derSignature));
  const ecPub = ofClass(await byLabel(EC_LABEL, ObjectClass.PUBLIC_KEY, KeyType.EC), PublicKey);
  const spki = await encodeEcPublicKey(ecPub);
  detail('public key (SPKI DER)', excerpt(spki));
  const nodeEcKey = crypto.createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  const verified = crypto.verify('sha1', data, nodeEcKey, derSignature);
  must(verified, 'node:crypto rejected the ECDSA signature');
  detail('verified by node:crypto', 'yes');

  step('ECDH: a peer key pair made by node:crypto; the token derives the shared secret');
  const peer = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const peerSpki = peer.publicKey.export({ format: 'der', type: 'spki' });
  // The standard passes the peer's point raw (encodeEcPoint: false); OpenSC insists on it.
  const peerPoint = decodeEcPublicKey(peerSpki, { encodeEcPoint: false })[Attribute.EC_POINT] as Uint8Array;
  detail("peer's point (raw)", excerpt(peerPoint));
  const shared = await ecPriv.deriveKey(KeyType.GENERIC_SECRET, 256, {
    mechanismParam: [KDF.NULL, null, peerPoint],
    // pkcs11-ts makes every new secret key SENSITIVE and not EXTRACTABLE unless asked, so its
    // value never leaves the token. This example wants to show the secret next to node:crypto's,
    // so it asks for a readable key; keep the default when the secret is only used on the token.
    template: { [Attribute.SENSITIVE]: false, [Attribute.EXTRACTABLE]: true },
  });
  const tokenSecret = await bytesOf(shared, Attribute.VALUE);
  detail('shared secret (token)', excerpt(tokenSecret));
  const nodeSecret = crypto.diffieHellman({ privateKey: peer.privateKey, publicKey: nodeEcKey });
  detail('shared secret (node:crypto)', excerpt(nodeSecret));
  must(Buffer.from(tokenSecret).equals(nodeSecret), "the token's ECDH secret differs from node:crypto's");
  detail('verified by node:crypto', 'yes (the secrets are equal)');
  await shared.destroy();

  log(`\nDone: all three flows verified by node:crypto (RSA decryption, ECDSA-SHA1 signature, ECDH secret).`);
  log(`The key pairs stay on the token as "${RSA_LABEL}" and "${EC_LABEL}".`);
  return {
    removedObjects,
    rsa: { modulusBits: rsa.privateKey.keyLength, publicKeyDer, message, ciphertext, decrypted },
    ecdsa: { data, signature, derSignature, spki },
    ecdh: { peer, peerPoint, tokenSecret, nodeSecret },
  };
}

/** Whether this file is the program being run (not imported by the demo or a test). */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.env, console.log).catch((error: unknown) => {
    console.error(`seed-smartcard-hsm: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
