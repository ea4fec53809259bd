/**
 * X.509 certificates and public keys to PKCS#11 templates: a certificate object with the
 * attributes PKCS#11 3.1 defines for CKC_X_509, and the public key inside (RSA, EC, EdDSA,
 * X25519/X448, DSA) as a public-key template. Input is DER or PEM.
 */
import { createHash } from 'node:crypto';
import { id_ecPublicKey } from '@peculiar/asn1-ecc';
import { Certificate, SubjectKeyIdentifier, id_ce_subjectKeyIdentifier } from '@peculiar/asn1-x509';
import { Attribute, CertificateType, ObjectClass } from '../sys/constants.js';
import { curveByOid } from './curves.js';
import { DerError, type DerNode, Tag, parseDer, readDer } from './der.js';
import { ID_DSA, dsaPublicKeyTemplate } from './dsa.js';
import { ecPublicKeyTemplate } from './ec.js';
import { derFromPem } from './pem.js';
import { RSA_ALGORITHMS, rsaPublicKeyTemplate } from './rsa.js';
import { type SpkiParts, parseSpki } from './spki.js';

const CERTIFICATE_LABELS = ['CERTIFICATE'];
const PUBLIC_KEY_LABELS = ['CERTIFICATE', 'PUBLIC KEY'];

/** A parsed certificate with the exact bytes of the parts PKCS#11 stores as they are. */
interface CertificateParts {
  readonly certificate: Certificate;
  readonly serialNumber: Uint8Array;
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly subjectPublicKeyInfo: Uint8Array;
}

function isCertificate(root: DerNode): boolean {
  return root.tag === Tag.SEQUENCE && root.children.length === 3 && root.children[0]!.tag === Tag.SEQUENCE;
}

function readCertificate(der: Uint8Array, where: string): CertificateParts {
  const root = readDer(der, where);
  if (!isCertificate(root)) throw new DerError(`${where} is not an X.509 certificate`);
  const certificate = parseDer(der, Certificate, where, 'X.509 certificate', false);
  // TBSCertificate: [0] version (optional), serialNumber, signature, issuer, validity, subject, spki ...
  const fields = root.children[0]!.children;
  const first = fields[0]?.tag === 0xa0 ? 1 : 0;
  const raw = (index: number) => Uint8Array.from(fields[first + index]!.bytes);
  return {
    certificate,
    serialNumber: raw(0),
    issuer: raw(2),
    subject: raw(4),
    subjectPublicKeyInfo: raw(5),
  };
}

function sha1(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha1').update(bytes).digest());
}

/** Options of `decodeX509PublicKey`. */
export interface DecodeX509PublicKeyOptions {
  /** For EC keys: CKA_EC_POINT DER-wrapped (`true`, default) or raw; see `decodeEcPublicKey`. */
  readonly encodeEcPoint?: boolean;
}

/**
 * A public-key template (CLASS, KEY_TYPE and the key's attributes) from an X.509 certificate or a
 * SubjectPublicKeyInfo, each as DER or PEM (`CERTIFICATE` or `PUBLIC KEY`). RSA keys give
 * MODULUS/PUBLIC_EXPONENT; EC, Ed25519/Ed448 and X25519/X448 keys EC_PARAMS/EC_POINT; DSA keys
 * PRIME/SUBPRIME/BASE/VALUE. Other algorithms are refused with a RangeError naming the OID.
 *
 * @example
 * ```ts
 * const template = decodeX509PublicKey(readFileSync('cert.pem', 'utf8'));
 * await session.createObject({ ...template, [Attribute.TOKEN]: true, [Attribute.VERIFY]: true });
 * ```
 */
export function decodeX509PublicKey(
  input: Uint8Array | string,
  options: DecodeX509PublicKeyOptions = {},
): Record<number, unknown> {
  const where = 'decodeX509PublicKey: input';
  const wrap = options.encodeEcPoint ?? true;
  if (typeof wrap !== 'boolean')
    throw new TypeError('decodeX509PublicKey: options.encodeEcPoint must be a boolean');
  const der = derFromPem(input, PUBLIC_KEY_LABELS, where);
  const spki = isCertificate(readDer(der, where)) ? readCertificate(der, where).subjectPublicKeyInfo : der;
  return publicKeyTemplate(parseSpki(spki, where), wrap, where);
}

function publicKeyTemplate(parts: SpkiParts, wrap: boolean, where: string): Record<number, unknown> {
  const { algorithm } = parts;
  if (RSA_ALGORITHMS.includes(algorithm)) return rsaPublicKeyTemplate(parts, where);
  if (algorithm === ID_DSA) return dsaPublicKeyTemplate(parts, where);
  if (algorithm === id_ecPublicKey || curveByOid(algorithm) !== undefined) {
    return ecPublicKeyTemplate(parts, wrap, where);
  }
  throw new RangeError(`${where}: unsupported public key algorithm ${algorithm}`);
}

/** Options of `decodeX509Certificate`. */
export interface DecodeX509CertificateOptions {
  /**
   * The issuer's certificate (DER or PEM), to fill CKA_HASH_OF_ISSUER_PUBLIC_KEY; its subject must
   * be this certificate's issuer. For a self-signed certificate, pass the certificate itself.
   */
  readonly issuer?: Uint8Array | string;
}

/**
 * A CKO_CERTIFICATE / CKC_X_509 template from a certificate (DER or PEM), with every attribute
 * PKCS#11 3.1 derives from the certificate itself:
 * - SUBJECT, ISSUER, SERIAL_NUMBER: the DER of the name and of the serial INTEGER, bytes as in the
 *   certificate; VALUE: the whole certificate
 * - START_DATE, END_DATE: the validity period as `Date`s (CK_DATE keeps only the day)
 * - PUBLIC_KEY_INFO: the SubjectPublicKeyInfo DER
 * - HASH_OF_SUBJECT_PUBLIC_KEY: SHA-1 of the subjectPublicKey bits (SHA-1 is the standard's default
 *   CKA_NAME_HASH_ALGORITHM, which is left unset)
 * - HASH_OF_ISSUER_PUBLIC_KEY: the same for the issuer's key, only with `options.issuer` (the
 *   authority key identifier is not used: it need not be that hash)
 * CKA_CHECK_VALUE is left out: tokens compute it themselves, and SoftHSM2 fails the creation
 * (CKR_GENERAL_ERROR) when a template carries one.
 * - ID: the subject key identifier extension's value when the certificate has one (the usual
 *   link to the key pair's CKA_ID); absent otherwise. Override it by spreading your own.
 *
 * @example
 * ```ts
 * const template = decodeX509Certificate(pem);
 * await session.createObject({ ...template, [Attribute.TOKEN]: true, [Attribute.LABEL]: 'my cert' });
 * ```
 */
export function decodeX509Certificate(
  input: Uint8Array | string,
  options: DecodeX509CertificateOptions = {},
): Record<number, unknown> {
  const where = 'decodeX509Certificate: input';
  const der = Uint8Array.from(derFromPem(input, CERTIFICATE_LABELS, where));
  const parts = readCertificate(der, where);
  const tbs = parts.certificate.tbsCertificate;
  const template: Record<number, unknown> = {
    [Attribute.CLASS]: ObjectClass.CERTIFICATE,
    [Attribute.CERTIFICATE_TYPE]: CertificateType.X_509,
    [Attribute.SUBJECT]: parts.subject,
    [Attribute.ISSUER]: parts.issuer,
    [Attribute.SERIAL_NUMBER]: parts.serialNumber,
    [Attribute.VALUE]: der,
    [Attribute.START_DATE]: tbs.validity.notBefore.getTime(),
    [Attribute.END_DATE]: tbs.validity.notAfter.getTime(),
    [Attribute.PUBLIC_KEY_INFO]: parts.subjectPublicKeyInfo,
    [Attribute.HASH_OF_SUBJECT_PUBLIC_KEY]: sha1(new Uint8Array(tbs.subjectPublicKeyInfo.subjectPublicKey)),
  };
  const ski = tbs.extensions?.find((e) => e.extnID === id_ce_subjectKeyIdentifier);
  if (ski !== undefined) {
    const value = new Uint8Array(ski.extnValue.buffer);
    const id = parseDer(value, SubjectKeyIdentifier, `${where} subject key identifier`, 'KeyIdentifier');
    template[Attribute.ID] = new Uint8Array(id.buffer);
  }
  if (options.issuer !== undefined) {
    const issuerWhere = 'decodeX509Certificate: options.issuer';
    const issuer = readCertificate(derFromPem(options.issuer, CERTIFICATE_LABELS, issuerWhere), issuerWhere);
    if (!Buffer.from(issuer.subject).equals(parts.issuer)) {
      throw new TypeError(`${issuerWhere}: its subject is not the certificate's issuer`);
    }
    const issuerKey = issuer.certificate.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey;
    template[Attribute.HASH_OF_ISSUER_PUBLIC_KEY] = sha1(new Uint8Array(issuerKey));
  }
  return template;
}
