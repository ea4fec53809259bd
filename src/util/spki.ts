/**
 * SubjectPublicKeyInfo (RFC 5280), the public-key envelope of X.509 and of `openssl pkey -pubout`,
 * as its three parts: algorithm OID, optional algorithm parameters (raw DER) and key bytes.
 */
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { Tag, bufferOf, encodeTlv, parseDer, serializeDer } from './der.js';

/** The parts of a SubjectPublicKeyInfo. */
export interface SpkiParts {
  /** Dotted OID of the key algorithm, e.g. `'1.2.840.10045.2.1'` (id-ecPublicKey). */
  readonly algorithm: string;
  /** DER of the algorithm parameters (`05 00` for NULL), or `undefined` when absent. */
  readonly parameters: Uint8Array | undefined;
  /** Contents of the subjectPublicKey BIT STRING (whole bytes; unused bits are refused). */
  readonly publicKey: Uint8Array;
}

const NULL_DER = encodeTlv(Tag.NULL, new Uint8Array(0));

/** The parts of a DER SubjectPublicKeyInfo; a DerError naming `where` when it is not one. */
export function parseSpki(der: Uint8Array, where: string): SpkiParts {
  const spki = parseDer(der, SubjectPublicKeyInfo, where, 'SubjectPublicKeyInfo');
  const { algorithm, parameters } = spki.algorithm;
  return {
    algorithm,
    parameters:
      parameters === undefined ? undefined : parameters === null ? NULL_DER : new Uint8Array(parameters),
    publicKey: new Uint8Array(spki.subjectPublicKey),
  };
}

/** DER SubjectPublicKeyInfo from its parts. */
export function encodeSpki(parts: SpkiParts): Uint8Array {
  const algorithm = new AlgorithmIdentifier({ algorithm: parts.algorithm });
  if (parts.parameters !== undefined) algorithm.parameters = bufferOf(parts.parameters);
  return serializeDer(new SubjectPublicKeyInfo({ algorithm, subjectPublicKey: bufferOf(parts.publicKey) }));
}
