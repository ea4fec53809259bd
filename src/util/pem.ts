/**
 * PEM (RFC 7468) input for the util decoders: DER bytes pass through, PEM text (a string, or bytes
 * read from a .pem file) is unwrapped after strict checks of its label and base64.
 */
import { DerError, Tag, describe } from './der.js';

// RFC 7468 labels: printable ASCII other than '-'.
const BLOCK = /-----BEGIN ([\x20-\x2c\x2e-\x7e]+)-----([\s\S]*?)-----END ([\x20-\x2c\x2e-\x7e]+)-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const PEM_START = '-----BEGIN ';

/**
 * The DER bytes of `input`: a Uint8Array holding DER is returned as is; PEM text (a string, or a
 * Uint8Array not starting with a SEQUENCE tag that contains `-----BEGIN `) must hold exactly one block whose label is one of
 * `labels`, and is base64-decoded. Text around the block (as `openssl x509 -text` writes) is
 * allowed; several matching blocks are an error, since picking one would be a guess.
 *
 * @example
 * ```ts
 * derFromPem(readFileSync('cert.pem'), ['CERTIFICATE'], 'decodeX509Certificate: input');
 * ```
 */
export function derFromPem(input: unknown, labels: readonly string[], where: string): Uint8Array {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else if (input instanceof Uint8Array) {
    if (!looksLikePem(input)) return input;
    text = new TextDecoder('utf-8', { fatal: false }).decode(input);
  } else {
    throw new TypeError(`${where} must be DER bytes (Uint8Array) or PEM text, got ${describe(input)}`);
  }
  const blocks = [...text.matchAll(BLOCK)].filter((m) => labels.includes(m[1]!));
  const expected = labels.join(' or ');
  if (blocks.length !== 1) {
    throw new DerError(`${where} must hold exactly one PEM ${expected} block, found ${blocks.length}`);
  }
  const [, begin, body, end] = blocks[0]!;
  if (begin !== end) throw new DerError(`${where}: PEM block BEGIN ${begin} ends with END ${end}`);
  const base64 = body!.replace(/\s+/g, '');
  if (!BASE64.test(base64) || base64.length % 4 !== 0) {
    throw new DerError(`${where}: PEM ${begin} block is not valid base64`);
  }
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

/** PEM text rather than DER: not starting with a SEQUENCE tag and holding a BEGIN line. */
function looksLikePem(bytes: Uint8Array): boolean {
  return (
    bytes[0] !== Tag.SEQUENCE && Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).includes(PEM_START)
  );
}
