/**
 * X.509 certificates onto the token, linked to their key pair the way PKCS#11 applications look
 * for it: the certificate's CKA_ID is the key pair's CKA_ID.
 */
import { createHash } from 'node:crypto';
import { Attribute, KeyType, ObjectClass, ReturnValue } from '../sys/constants.js';
import { MultipleObjectsError, Pkcs11Error } from '../core/errors.js';
import type { Template } from '../core/template.js';
import { describe, equalBytes } from '../util/der.js';
import { parseSpki } from '../util/spki.js';
import { decodeX509Certificate, decodeX509PublicKey } from '../util/x509.js';
import { type Certificate, Key } from '../model/index.js';
import type { Session } from '../model/session.js';
import { publicKeyInfo } from './public-key.js';

/** A certificate as this module takes it: DER, PEM text, or @peculiar/x509's or node's certificate object. */
export type CertificateInput =
  Uint8Array | ArrayBuffer | string | { readonly rawData: ArrayBuffer } | { readonly raw: Uint8Array };

/** Options of `importCertificate` and `storeCertificate`. */
export interface CertificateOptions {
  /** `CKA_LABEL`. */
  readonly label?: string;
  /** Keep the certificate on the token (`CKA_TOKEN`); default true. */
  readonly store?: boolean;
  /** Extra attributes (`CKA_TRUSTED`, `CKA_CERTIFICATE_CATEGORY` ...); they override the rest. */
  readonly template?: Template;
}

/** Options of `importCertificate`. */
export interface ImportCertificateOptions extends CertificateOptions {
  /** `CKA_ID`; default: the key pair's on the token, else the SHA-1 of the public key (see `importCertificate`). */
  readonly id?: Uint8Array;
}

/** What was stored, and which CKA_ID it got and why. */
export interface ImportedCertificate {
  /** The new certificate object. */
  readonly certificate: Certificate;
  /** Its CKA_ID. */
  readonly id: Uint8Array;
  /**
   * `'option'`: given by the caller; `'key'`: the CKA_ID of the certificate's key on the token;
   * `'public-key-hash'`: no key with an id was found, so the SHA-1 of the public key bits
   * (subjectPublicKey) was used, the usual convention: give the key pair that id to link them.
   */
  readonly idSource: 'option' | 'key' | 'public-key-hash';
}

// Attributes some tokens refuse on C_CreateObject (they compute them); sent, then dropped if refused.
const OPTIONAL_ATTRIBUTES = [Attribute.HASH_OF_SUBJECT_PUBLIC_KEY, Attribute.HASH_OF_ISSUER_PUBLIC_KEY];

/** The DER of a certificate input (PEM stays text: the util decoder reads it). */
function certificateBytes(input: unknown, where: string): Uint8Array | string {
  if (typeof input === 'string' || input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (input !== null && typeof input === 'object') {
    const { rawData, raw } = input as { rawData?: unknown; raw?: unknown };
    if (rawData instanceof ArrayBuffer) return new Uint8Array(rawData);
    if (raw instanceof Uint8Array) return raw;
  }
  throw new TypeError(`${where} must be DER bytes, PEM text or a certificate object, got ${describe(input)}`);
}

function checkOptions(options: ImportCertificateOptions, fn: string): void {
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${fn}: options must be an object`);
  if (options.id !== undefined && !(options.id instanceof Uint8Array))
    throw new TypeError(`${fn}: options.id must be a Uint8Array`);
  if (options.label !== undefined && typeof options.label !== 'string')
    throw new TypeError(`${fn}: options.label must be a string`);
  if (options.store !== undefined && typeof options.store !== 'boolean')
    throw new TypeError(`${fn}: options.store must be a boolean`);
}

/** SHA-1 of the subjectPublicKey bits: CKA_HASH_OF_SUBJECT_PUBLIC_KEY, and the usual CKA_ID. */
function publicKeyHash(template: Template): Uint8Array {
  const hash = template[Attribute.HASH_OF_SUBJECT_PUBLIC_KEY];
  if (hash instanceof Uint8Array) return Uint8Array.from(hash);
  const spki = template[Attribute.PUBLIC_KEY_INFO] as Uint8Array;
  return new Uint8Array(createHash('sha1').update(parseSpki(spki, 'certificate').publicKey).digest());
}

/**
 * Search templates for the keys holding the certificate's public key: public keys by their key
 * values (EC points raw and DER-wrapped, as tokens store either), RSA private keys by modulus.
 * None for a key algorithm PKCS#11 has no attributes for here.
 */
function keySearches(der: Uint8Array | string): Template[] {
  let pub: Template;
  try {
    pub = decodeX509PublicKey(der) as Template;
  } catch (e) {
    if (e instanceof RangeError) return [];
    throw e;
  }
  const keyType = pub[Attribute.KEY_TYPE] as number;
  const base = { [Attribute.CLASS]: ObjectClass.PUBLIC_KEY, [Attribute.KEY_TYPE]: keyType };
  if (keyType === KeyType.RSA) {
    const modulus = { [Attribute.MODULUS]: pub[Attribute.MODULUS] };
    return [
      { ...base, ...modulus },
      { ...base, [Attribute.CLASS]: ObjectClass.PRIVATE_KEY, ...modulus },
    ];
  }
  if (keyType === KeyType.DSA) return [{ ...base, [Attribute.VALUE]: pub[Attribute.VALUE] }];
  const raw = decodeX509PublicKey(der, { encodeEcPoint: false })[Attribute.EC_POINT] as Uint8Array;
  return [
    { ...base, [Attribute.EC_POINT]: pub[Attribute.EC_POINT] },
    { ...base, [Attribute.EC_POINT]: raw },
  ];
}

/** The distinct non-empty CKA_IDs of the keys on the token that hold the certificate's public key. */
async function idsOfMatchingKeys(session: Session, der: Uint8Array | string): Promise<Uint8Array[]> {
  const ids: Uint8Array[] = [];
  for (const template of keySearches(der)) {
    for await (const key of session.getObjects(template)) {
      if (key.id.length > 0 && !ids.some((id) => equalBytes(id, key.id))) ids.push(key.id);
    }
  }
  return ids;
}

/**
 * Stores an X.509 certificate (DER, PEM, or a certificate object of @peculiar/x509 or node) as a
 * CKO_CERTIFICATE with the attributes of `decodeX509Certificate`, linked to its key by CKA_ID:
 * `options.id` if given; else the CKA_ID of the key pair on the token whose public key is the
 * certificate's (public keys compared by value, RSA private keys by modulus); else the SHA-1 of
 * the certificate's public key bits, the usual convention, in which case `idSource` says so and
 * the caller may give the key pair that id. Stored on the token unless `options.store` is false.
 *
 * @example
 * ```ts
 * const { certificate, id, idSource } = await importCertificate(session, readFileSync('cert.pem', 'utf8'), { label: 'me' });
 * ```
 */
export async function importCertificate(
  session: Session,
  cert: CertificateInput,
  options: ImportCertificateOptions = {},
): Promise<ImportedCertificate> {
  const fn = 'importCertificate';
  checkOptions(options, fn);
  const der = certificateBytes(cert, `${fn}: cert`);
  const template = decodeX509Certificate(der) as Template;
  let id = options.id;
  let idSource: ImportedCertificate['idSource'] = 'option';
  if (id === undefined) {
    const ids = await idsOfMatchingKeys(session, der);
    if (ids.length > 1) {
      throw new MultipleObjectsError(
        `${fn}: keys with ${ids.length} different CKA_IDs hold the certificate's public key: pass options.id`,
      );
    }
    [id, idSource] = ids.length === 1 ? [ids[0]!, 'key'] : [publicKeyHash(template), 'public-key-hash'];
  }
  return store(session, template, id, idSource, options);
}

/** Creates the certificate object with its CKA_ID and the caller's options. */
async function store(
  session: Session,
  template: Template,
  id: Uint8Array,
  idSource: ImportedCertificate['idSource'],
  options: CertificateOptions,
): Promise<ImportedCertificate> {
  const certificate = await createCertificate(session, {
    ...template,
    [Attribute.ID]: id,
    [Attribute.TOKEN]: options.store ?? true,
    [Attribute.LABEL]: options.label,
    ...options.template,
  });
  return { certificate, id, idSource };
}

/**
 * C_CreateObject of a certificate; when the token refuses one of the attributes it can compute
 * itself (hashes of the public keys, the check value), again without them.
 */
async function createCertificate(session: Session, template: Template): Promise<Certificate> {
  try {
    return (await session.createObject(template)) as Certificate;
  } catch (e) {
    const refused =
      e instanceof Pkcs11Error &&
      (e.rv === ReturnValue.ATTRIBUTE_TYPE_INVALID || e.rv === ReturnValue.ATTRIBUTE_VALUE_INVALID);
    if (!refused || !OPTIONAL_ATTRIBUTES.some((a) => template[a] !== undefined)) throw e;
    const reduced = { ...template };
    for (const a of OPTIONAL_ATTRIBUTES) delete (reduced as Record<number, unknown>)[a];
    return (await session.createObject(reduced)) as Certificate;
  }
}

/**
 * Stores a certificate next to `key` (its private or public key on the token): the certificate
 * gets the key's CKA_ID. The certificate must be for that key: its public key is compared with the
 * key's own (public keys, RSA private keys, keys with CKA_PUBLIC_KEY_INFO, or a public key of the
 * same CKA_ID); a mismatch is a TypeError. A key without CKA_ID is given one, the SHA-1 of its
 * public key bits (`idSource: 'public-key-hash'`), so the two are linked.
 *
 * @example
 * ```ts
 * const cert = await createSelfSignedCertificate(privateKey, publicKey, { subject: 'CN=me' });
 * await storeCertificate(privateKey, cert, { label: 'me' });
 * ```
 */
export async function storeCertificate(
  key: Key,
  cert: CertificateInput,
  options: CertificateOptions = {},
): Promise<ImportedCertificate> {
  const fn = 'storeCertificate';
  if (!(key instanceof Key)) throw new TypeError(`${fn}: key must be a token key, got ${describe(key)}`);
  checkOptions(options, fn);
  const der = certificateBytes(cert, `${fn}: cert`);
  const template = decodeX509Certificate(der) as Template;
  const certKey = parseSpki(template[Attribute.PUBLIC_KEY_INFO] as Uint8Array, `${fn}: cert`).publicKey;
  if ((await holdsPublicKey(key, certKey)) === false) {
    throw new TypeError(`${fn}: the certificate is for another key than the one given`);
  }
  if (key.id.length > 0) return store(key.session, template, key.id, 'key', options);
  const id = publicKeyHash(template);
  await key.set({ [Attribute.ID]: id });
  return store(key.session, template, id, 'public-key-hash', options);
}

/**
 * Whether `key` is the private or public half of the public key `bits` (subjectPublicKey): read
 * from the key itself, else from the public keys of the same CKA_ID; undefined when neither tells.
 */
async function holdsPublicKey(key: Key, bits: Uint8Array): Promise<boolean | undefined> {
  const fn = 'storeCertificate';
  const bitsOf = async (k: Key) => parseSpki(await publicKeyInfo(k, fn), fn).publicKey;
  try {
    return equalBytes(await bitsOf(key), bits);
  } catch (e) {
    if (!(e instanceof TypeError || e instanceof RangeError)) throw e;
  }
  if (key.objectClass !== ObjectClass.PRIVATE_KEY || key.id.length === 0) return undefined;
  const template = {
    [Attribute.CLASS]: ObjectClass.PUBLIC_KEY,
    [Attribute.KEY_TYPE]: key.keyType,
    [Attribute.ID]: key.id,
  };
  let seen: boolean | undefined;
  for await (const pub of key.session.getObjects(template)) {
    if (equalBytes(await bitsOf(pub as Key), bits)) return true;
    seen = false;
  }
  return seen;
}
