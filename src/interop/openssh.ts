/**
 * Public keys as OpenSSH writes them in `authorized_keys` and `*.pub` files (RFC 4253 section 6.6,
 * RFC 5656 for ECDSA, RFC 8709 for Ed25519): `ssh-rsa`, `ecdsa-sha2-nistp256/384/521` and
 * `ssh-ed25519` lines. node:crypto has no such export; the format is a few length-prefixed fields,
 * so it is written here rather than pulling in a dependency. Token keys get here through
 * `exportPublicKey(key, 'openssh', { comment })` (public-key.ts).
 */
import type { KeyObject } from 'node:crypto';

/** OpenSSH's names for the NIST curves it supports, by node's (OpenSSL's) curve name. */
const SSH_CURVES: Readonly<Record<string, { readonly name: string; readonly size: number }>> = {
  prime256v1: { name: 'nistp256', size: 32 },
  secp384r1: { name: 'nistp384', size: 48 },
  secp521r1: { name: 'nistp521', size: 66 },
};

/** An SSH `string`: a uint32 length, then the bytes. */
function sshString(bytes: Uint8Array | string): Buffer {
  const body = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

/** An SSH `mpint` of a positive big-endian integer: no leading zeros, one zero byte if the top bit is set. */
function sshMpint(unsigned: Uint8Array): Buffer {
  let start = 0;
  while (start < unsigned.length && unsigned[start] === 0) start++;
  const digits = unsigned.subarray(start);
  return sshString(
    digits.length > 0 && digits[0]! >= 0x80 ? Buffer.concat([Uint8Array.of(0), digits]) : digits,
  );
}

/** A base64url JWK member as bytes, left-padded with zeros to `size` when given. */
function jwkBytes(value: string | undefined, size?: number): Buffer {
  const bytes = Buffer.from(value ?? '', 'base64url');
  return size === undefined || bytes.length >= size
    ? bytes
    : Buffer.concat([Buffer.alloc(size - bytes.length), bytes]);
}

/** The key type name and wire-format blob of a public key. */
function keyBlob(key: KeyObject): [string, Buffer] {
  const type = key.asymmetricKeyType;
  const curve = type === 'ec' ? SSH_CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''] : undefined;
  if (type !== 'rsa' && type !== 'ed25519' && curve === undefined) {
    const what = key.asymmetricKeyDetails?.namedCurve ?? type;
    throw new RangeError(
      `OpenSSH has no public key format for ${what} keys (RSA, NIST P-256/384/521 and Ed25519 only)`,
    );
  }
  const jwk = key.export({ format: 'jwk' });
  if (type === 'rsa') {
    return [
      'ssh-rsa',
      Buffer.concat([sshString('ssh-rsa'), sshMpint(jwkBytes(jwk.e)), sshMpint(jwkBytes(jwk.n))]),
    ];
  }
  if (type === 'ed25519') {
    return ['ssh-ed25519', Buffer.concat([sshString('ssh-ed25519'), sshString(jwkBytes(jwk.x))])];
  }
  const { name, size } = curve!;
  const point = Buffer.concat([Uint8Array.of(4), jwkBytes(jwk.x, size), jwkBytes(jwk.y, size)]);
  const sshType = `ecdsa-sha2-${name}`;
  return [sshType, Buffer.concat([sshString(sshType), sshString(name), sshString(point)])];
}

/**
 * Checks the comment of an OpenSSH line: a string of one line, or undefined; `name` is the
 * argument's name in the error. Shared with `exportPublicKey`, which checks it before any C call.
 */
export function checkOpensshComment(comment: unknown, name: string): asserts comment is string | undefined {
  if (comment === undefined) return;
  if (typeof comment !== 'string') throw new TypeError(`${name} must be a string, got ${typeof comment}`);
  if (/[\r\n]/.test(comment)) throw new RangeError(`${name} must be one line`);
}

/**
 * The OpenSSH public key line of `key` (a public node `KeyObject`), with an optional comment.
 * For a token key, `exportPublicKey(key, 'openssh', { comment })` reads it and calls this.
 *
 * @throws TypeError for a non-public key; RangeError for a key type OpenSSH cannot express.
 * @example
 * opensshPublicKey(crypto.createPublicKey(pem), 'me@host'); // 'ecdsa-sha2-nistp256 AAAAE2Vj... me@host'
 */
export function opensshPublicKey(key: KeyObject, comment?: string): string {
  if (key === null || typeof key !== 'object' || key.type !== 'public')
    throw new TypeError('key must be a public KeyObject');
  checkOpensshComment(comment, 'comment');
  const [type, blob] = keyBlob(key);
  return [type, blob.toString('base64'), comment]
    .filter((part) => part !== undefined && part !== '')
    .join(' ');
}
