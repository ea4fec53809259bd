/**
 * `p11 sign` and `p11 verify`. By default they work the way OpenSSL and node:crypto do, so their
 * signatures interoperate: a hash (`--hash`, default sha256) with PKCS#1 v1.5 or `--pss` for RSA,
 * DER-encoded ECDSA (or `--format raw` for r||s), pure EdDSA, HMAC for secret keys. `--mechanism`
 * runs one PKCS#11 mechanism as is instead (ECDSA, SHA256_RSA_PKCS_PSS, ...), with the token's
 * own output format. Signing always happens in the token; verifying with a public key happens on
 * the host after export (as on a SmartCard-HSM), or on the token with `--mechanism`.
 */
import { constants, verify as hostVerify } from 'node:crypto';
import type { Command } from 'commander';
import { KeyType, Mechanism, ObjectClass } from '../../sys/constants.js';
import { type Key, type PrivateKey, PublicKey, type SecretKey } from '../../model/keys.js';
import { hashInfo, hmacMechanism } from '../../interop/hashes.js';
import { toKeyObject } from '../../interop/public-key.js';
import { TokenSigner } from '../../interop/signer.js';
import { action } from '../command.js';
import { ExitCode, UsageError } from '../errors.js';
import { decodeBytes, emitBytes, parseEncoding, readInput } from '../io.js';
import { parseConstant } from '../names.js';
import { type Selection, addSelection, findObject, findPublicKey } from '../select.js';

interface SignatureOptions extends Selection {
  readonly in?: string;
  readonly mechanism?: string;
  readonly hash: string;
  readonly pss?: boolean;
  readonly saltLength?: string;
  readonly format: string;
  readonly encoding?: string;
}

interface SignOptions extends SignatureOptions {
  readonly out?: string;
}

interface VerifyOptions extends SignatureOptions {
  readonly signature: string;
}

/** The options `sign` and `verify` share. */
function addSignatureOptions(command: Command): Command {
  return addSelection(command)
    .option('--in <file>', 'the data (default: standard input)')
    .option('-m, --mechanism <name>', 'a PKCS#11 mechanism to use as is (e.g. ECDSA, SHA256_RSA_PKCS_PSS)')
    .option(
      '--hash <name>',
      'hash of the signature: sha1, sha224, sha256, sha384, sha512, sha3-256 ...',
      'sha256',
    )
    .option('--pss', 'RSA-PSS instead of PKCS#1 v1.5')
    .option('--salt-length <bytes>', 'RSA-PSS salt length (default: the hash length)')
    .option('--format <format>', 'ECDSA signature encoding: der (as OpenSSL) or raw (r||s)', 'der');
}

/** The checked `--hash`, `--salt-length` and `--format`. */
function signatureScheme(opts: SignatureOptions) {
  let hash;
  try {
    hash = hashInfo(opts.hash, '--hash');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (opts.format !== 'der' && opts.format !== 'raw') throw new UsageError('--format must be der or raw');
  let saltLength: number | undefined;
  if (opts.saltLength !== undefined) {
    saltLength = Number(opts.saltLength);
    if (!Number.isSafeInteger(saltLength) || saltLength < 0)
      throw new UsageError('--salt-length must be a number of bytes');
  }
  const dsaEncoding: 'der' | 'ieee-p1363' = opts.format === 'raw' ? 'ieee-p1363' : 'der';
  return { hash, saltLength, dsaEncoding, pss: opts.pss === true };
}

/** The mechanism of `--mechanism`, if given. */
function mechanismOf(opts: SignatureOptions): number | undefined {
  return opts.mechanism === undefined ? undefined : parseConstant(Mechanism, opts.mechanism, '--mechanism');
}

/** Signs in the token with a private key (node-style output) or secret key (HMAC). */
async function sign(key: Key, data: Uint8Array, opts: SignatureOptions): Promise<Uint8Array> {
  const mechanism = mechanismOf(opts);
  if (mechanism !== undefined) return (key as PrivateKey | SecretKey).sign(data, { mechanism });
  const scheme = signatureScheme(opts);
  if (key.objectClass === ObjectClass.SECRET_KEY) {
    return (key as SecretKey).sign(data, { mechanism: hmacMechanism(scheme.hash) });
  }
  const signer = new TokenSigner(key as PrivateKey);
  if (key.keyType === KeyType.EC_EDWARDS) return signer.sign(data, null);
  return signer.sign(data, {
    hash: scheme.hash.node,
    padding: scheme.pss ? 'pss' : 'pkcs1',
    saltLength: scheme.saltLength,
    dsaEncoding: scheme.dsaEncoding,
  });
}

/** Verifies a node-style signature on the host with the exported public key. */
async function verifyOnHost(
  key: Key,
  data: Uint8Array,
  signature: Uint8Array,
  opts: SignatureOptions,
): Promise<boolean> {
  const publicKey = await toKeyObject(key);
  if (key.keyType === KeyType.EC_EDWARDS) return hostVerify(null, data, publicKey, signature);
  const scheme = signatureScheme(opts);
  const padding = scheme.pss ? constants.RSA_PKCS1_PSS_PADDING : constants.RSA_PKCS1_PADDING;
  const saltLength = scheme.saltLength ?? constants.RSA_PSS_SALTLEN_AUTO;
  return hostVerify(
    scheme.hash.node,
    data,
    { key: publicKey, padding, saltLength, dsaEncoding: scheme.dsaEncoding },
    signature,
  );
}

/** Registers `sign` and `verify`. */
export function registerSignatures(program: Command): void {
  addSignatureOptions(program.command('sign').description('sign data in the token'))
    .option('-o, --out <file>', 'write the signature to a file (default: standard output)')
    .option('--encoding <encoding>', 'raw, hex or base64 (default: hex on a terminal, else raw)')
    .action(
      action<SignOptions>(async (ctx, _args, opts) => {
        const data = await readInput(opts.in, '--in');
        const session = await ctx.session('user');
        const key = (await findObject(
          session,
          opts,
          [ObjectClass.PRIVATE_KEY, ObjectClass.SECRET_KEY],
          'the signing key',
        )) as Key;
        const signature = await sign(key, data, opts);
        return emitBytes(ctx.json, signature, { ...opts, field: 'signature' });
      }),
    );

  addSignatureOptions(
    program.command('verify').description('check a signature (exit code 1 when it is not valid)'),
  )
    .requiredOption('-s, --signature <file>', 'the signature')
    .option('--encoding <encoding>', 'encoding of the signature file: raw (default), hex or base64', 'raw')
    .action(
      action<VerifyOptions>(async (ctx, _args, opts) => {
        const signatureFile = await readInput(opts.signature, '--signature');
        const signature = decodeBytes(signatureFile, parseEncoding(opts.encoding ?? 'raw'), '--signature');
        const data = await readInput(opts.in, '--in');
        const session = await ctx.session('if-known');
        const mechanism = mechanismOf(opts);
        const key = (await findObject(
          session,
          opts,
          [ObjectClass.PUBLIC_KEY, ObjectClass.SECRET_KEY, ObjectClass.PRIVATE_KEY],
          'the key',
        )) as Key;
        let valid: boolean;
        if (key.objectClass === ObjectClass.SECRET_KEY) {
          const hmac = mechanism ?? hmacMechanism(signatureScheme(opts).hash);
          valid = await (key as SecretKey).verify(data, signature, { mechanism: hmac });
        } else if (mechanism !== undefined) {
          const publicKey = await findPublicKey(session, opts, 'the key');
          if (!(publicKey instanceof PublicKey))
            throw new UsageError('--mechanism needs the public key object on the token');
          valid = await publicKey.verify(data, signature, { mechanism });
        } else {
          valid = await verifyOnHost(await findPublicKey(session, opts, 'the key'), data, signature, opts);
        }
        if (!valid) process.exitCode = ExitCode.FAILURE;
        return { json: { valid }, text: valid ? 'signature valid' : 'signature NOT valid' };
      }),
    );
}
