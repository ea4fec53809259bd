/**
 * Running a key operation as planned (plan.ts): on the token, one-shot or streamed, with the
 * context-specific login of ALWAYS_AUTHENTICATE keys when the caller gave a PIN; with the digest
 * made on the host (`'hash'` route); or with node:crypto (`'host'` route). IVs made for the call
 * are written before the output, and IVs expected at the start of the input are read from there.
 */
import { Attribute, ObjectClass, UserType } from '../sys/constants.js';
import { NotSupportedError, check } from '../core/errors.js';
import { encodeMechanism, mechanismOf, type MechanismSpec } from '../core/mechanism.js';
import { callWithOutput } from '../core/output.js';
import type { KeyOperation } from './defaults.js';
import { digestInfo, hostDigest } from './hashes.js';
import { hostCanDo, hostEncrypt, hostPublicKey, hostVerify } from './host-crypto.js';
import { newObject, type Key } from './keys.js';
import {
  runAccumulate,
  runOneShot,
  runTransform,
  runVerify,
  SIGN,
  toBytes,
  type DataStream,
  type Operation,
  type OperationFunctions,
} from './operations.js';
import { planOperation, streamOutput, type OperationOptions, type Plan, type StreamOptions } from './plan.js';
import { createObjects, deriveWithPointQuirk } from './quirks.js';
import { withPin } from './secret.js';
import type { SessionScope } from './session.js';
import { collectBytes, concatBytes, splitLeading, splitLeadingStream } from './streams.js';
import { newKeyTemplate, partOf, type NewKeyOptions } from './templates.js';
import {
  isMacKey,
  sameMac,
  verifiesByComparison,
  withSecondOpinion,
  type SecondOpinion,
} from './verify-check.js';
import { wholeBlocks } from './whole-blocks.js';

const IV_WHAT = 'the IV';

/** The token Operation for `mechanism`, including the context-specific login when a PIN was given. */
function tokenOperation(
  key: Key,
  fns: OperationFunctions,
  mechanism: MechanismSpec,
  options: OperationOptions,
): Operation {
  const pin = options.pin;
  const afterInit =
    pin === undefined
      ? undefined
      : (scope: SessionScope) =>
          withPin(pin, 'options.pin', async (p) =>
            check(
              'C_Login',
              await scope.invoke('C_Login', scope.handle, UserType.CONTEXT_SPECIFIC, p, p.length),
            ),
          );
  return { fns, mechanism, key: key.handle, afterInit };
}

/** What the token is given on the `'hash'` route: the digest, or its DigestInfo for PKCS#1 v1.5. */
async function hashedInput(
  plan: Plan,
  data: Uint8Array | DataStream,
): Promise<{ mechanism: MechanismSpec; input: Uint8Array }> {
  const hashed = plan.hashed!;
  const digest = await hostDigest(hashed.hash, data);
  return {
    mechanism: { mechanism: hashed.raw, parameter: plan.parameter },
    input: hashed.scheme === 'pkcs1' ? digestInfo(hashed.hash, digest) : digest,
  };
}

/** The mechanism as planned, with the IV from the start of `data` when the plan expects one there. */
function withLeadingIv(plan: Plan, data: Uint8Array): { mechanism: MechanismSpec; input: Uint8Array } {
  if (!plan.leadingIv)
    return { mechanism: { mechanism: plan.mechanism, parameter: plan.parameter }, input: data };
  const [iv, input] = splitLeading(data, plan.leadingIv.length, IV_WHAT);
  return { mechanism: { mechanism: plan.mechanism, parameter: plan.leadingIv.parameter(iv) }, input };
}

/** The plan's output with its IV prefix, if one was made. */
function prefixed(plan: Plan, output: Uint8Array): Uint8Array {
  return plan.prefix ? concatBytes(plan.prefix, output) : output;
}

/**
 * A one-output operation of bytes or of a stream gathered into one result: encrypt and decrypt of
 * bytes, sign of bytes or a stream.
 */
export async function runSingle(
  key: Key,
  fns: OperationFunctions,
  kind: KeyOperation,
  data: Uint8Array | DataStream,
  options: OperationOptions,
): Promise<Uint8Array> {
  const plan = await planOperation(
    key,
    kind,
    options,
    data instanceof Uint8Array ? data.byteLength : undefined,
  );
  if (plan.route === 'host')
    return hostEncrypt(await hostPublicKey(key), plan.mechanism, plan.parameter, await collectBytes(data));
  if (plan.route === 'hash') {
    const { mechanism, input } = await hashedInput(plan, data);
    return runOneShot(key.session, tokenOperation(key, fns, mechanism, options), input);
  }
  if (!(data instanceof Uint8Array)) {
    const op = tokenOperation(key, fns, { mechanism: plan.mechanism, parameter: plan.parameter }, options);
    return prefixed(plan, (await runAccumulate(key.session, op, data)) as Uint8Array);
  }
  const { mechanism, input } = withLeadingIv(plan, data);
  return prefixed(plan, await runOneShot(key.session, tokenOperation(key, fns, mechanism, options), input));
}

/** A streamed transform (encrypt or decrypt of a stream), yielding output chunks; a made IV comes first. */
export async function* runStreamed(
  key: Key,
  fns: OperationFunctions,
  kind: KeyOperation,
  data: DataStream,
  options: StreamOptions,
): AsyncGenerator<Uint8Array> {
  const output = streamOutput(options);
  const plan = await planOperation(key, kind, options);
  if (plan.route === 'host') {
    yield hostEncrypt(await hostPublicKey(key), plan.mechanism, plan.parameter, await collectBytes(data));
    return;
  }
  let mechanism: MechanismSpec = { mechanism: plan.mechanism, parameter: plan.parameter };
  let source: DataStream = data;
  if (plan.leadingIv) {
    const [iv, rest] = await splitLeadingStream(data, plan.leadingIv.length, IV_WHAT);
    mechanism = { mechanism: plan.mechanism, parameter: plan.leadingIv.parameter(iv) };
    source = rest;
  }
  if (plan.prefix) yield plan.prefix;
  source = wholeBlocks(plan.mechanism, source);
  yield* runTransform(key.session, tokenOperation(key, fns, mechanism, options), source, output);
}

/** Verify of bytes or a stream: true for a good signature, false for a bad one. */
export async function runVerifyPlan(
  key: Key,
  fns: OperationFunctions,
  data: Uint8Array | DataStream,
  signature: Uint8Array,
  options: OperationOptions,
): Promise<boolean> {
  const plan = await planOperation(
    key,
    'verify',
    options,
    data instanceof Uint8Array ? data.byteLength : undefined,
  );
  if (plan.route === 'host')
    return hostVerify(await hostPublicKey(key), plan.mechanism, plan.parameter, data, signature);
  const mechanism = { mechanism: plan.mechanism, parameter: plan.parameter };
  /** The token's C_Verify of `input`; an unclear answer settled by `opinion` (verify-check.ts). */
  const checked = (
    spec: MechanismSpec,
    input: Uint8Array,
    opinion = secondOpinion(key, spec, input, signature, options),
  ): Promise<boolean> => {
    const op = tokenOperation(key, fns, spec, options);
    return withSecondOpinion(key, () => runVerify(key.session, op, input, signature), signature, opinion);
  };
  if (plan.route === 'hash') {
    const hashed = await hashedInput(plan, data);
    // Raw ECDSA over a digest has no host form; the hashing mechanism over the data itself has.
    const opinion =
      data instanceof Uint8Array ? secondOpinion(key, mechanism, data, signature, options) : undefined;
    return checked(hashed.mechanism, hashed.input, opinion);
  }
  if (data instanceof Uint8Array) return checked(mechanism, data);
  if (verifiesByComparison(key)) {
    const mac = await runAccumulate(key.session, tokenOperation(key, SIGN, mechanism, options), data);
    return sameMac(mac as Buffer, toBytes(signature, 'signature'));
  }
  const op = tokenOperation(key, fns, mechanism, options);
  return (await runAccumulate(key.session, op, data, signature)) as boolean;
}

/** How to settle a verification of `input` the token answers with an unclear error (verify-check.ts). */
function secondOpinion(
  key: Key,
  mechanism: MechanismSpec,
  input: Uint8Array,
  signature: Uint8Array,
  options: OperationOptions,
): SecondOpinion {
  if (isMacKey(key))
    return { mac: () => runOneShot(key.session, tokenOperation(key, SIGN, mechanism, options), input) };
  const { mechanism: number, parameter } = mechanismOf(mechanism);
  if (key.objectClass !== ObjectClass.PUBLIC_KEY || !hostCanDo('verify', number)) return {};
  return { host: async () => hostVerify(await hostPublicKey(key), number, parameter, input, signature) };
}

/** `C_WrapKey` with `wrapping`, or on the host for a public key the token cannot wrap with. */
export async function runWrap(wrapping: Key, key: Key, options: OperationOptions): Promise<Uint8Array> {
  const plan = await planOperation(wrapping, 'wrap', options);
  if (plan.route === 'host') {
    const value = await key.get(Attribute.VALUE);
    if (!(value instanceof Uint8Array)) {
      throw new NotSupportedError(
        'the token cannot wrap with this key, and the key to wrap is sensitive or not extractable, so the host cannot either',
      );
    }
    return hostEncrypt(await hostPublicKey(wrapping), plan.mechanism, plan.parameter, value);
  }
  const mech = encodeMechanism({ mechanism: plan.mechanism, parameter: plan.parameter });
  const wrapped = await wrapping.session.exclusive('C_WrapKey', ({ handle, invoke }) =>
    callWithOutput(invoke, 'C_WrapKey', [handle, mech, wrapping.handle, key.handle]),
  );
  return prefixed(plan, wrapped);
}

/** `C_UnwrapKey`: a new object of `objectClass` and `keyType` from `wrapped` (an IV made by wrapKey is read from its start). */
export async function runUnwrap(
  unwrapping: Key,
  objectClass: number,
  keyType: number,
  wrapped: Uint8Array,
  options: OperationOptions & NewKeyOptions,
): Promise<Key> {
  const plan = await planOperation(unwrapping, 'unwrap', options);
  const { mechanism, input } = withLeadingIv(plan, wrapped);
  const mech = encodeMechanism(mechanism);
  const part = partOf(objectClass);
  const session = unwrapping.session;
  return createObjects(session, [newKeyTemplate(objectClass, keyType, part, options)], ([t]) =>
    newObject(session, 'C_UnwrapKey', (h, out, invoke) =>
      invoke('C_UnwrapKey', h, mech, unwrapping.handle, input, input.byteLength, t!.buf, t!.count, out),
    ),
  );
}

/** `C_DeriveKey`: a new secret key of `keyType` and `keyLength` bits from `base`. */
export async function runDerive(
  base: Key,
  keyType: number,
  keyLength: number,
  options: OperationOptions & NewKeyOptions,
): Promise<Key> {
  const plan = await planOperation(base, 'derive', options);
  const session = base.session;
  const template = newKeyTemplate(ObjectClass.SECRET_KEY, keyType, 'secret', {
    ...options,
    valueLength: keyLength,
  });
  return createObjects(session, [template], ([t]) =>
    deriveWithPointQuirk(base, plan.mechanism, plan.parameter, (parameter) => {
      const mech = encodeMechanism({ mechanism: plan.mechanism, parameter });
      return newObject(session, 'C_DeriveKey', (h, out, invoke) =>
        invoke('C_DeriveKey', h, mech, base.handle, t!.buf, t!.count, out),
      );
    }),
  );
}
