/**
 * Device quirks, handled without the caller noticing and remembered per token, so each costs one
 * refused call at most once:
 *
 * - **No session objects** (SmartCard-HSM: "store is ignored"): when creating or generating an
 *   object with `CKA_TOKEN=false` fails with CKR_TEMPLATE_INCONSISTENT or
 *   CKR_ATTRIBUTE_VALUE_INVALID, the same call is made once more as a token object. If that
 *   works, the token is known to want token objects and later calls ask for one straight away.
 *   Such keys stay on the token until destroyed.
 * - **ECDH peer point**: ECDH1 derivation takes the peer's public point raw on some modules
 *   (OpenSC) and DER-wrapped in an OCTET STRING on others. When C_DeriveKey refuses the form given
 *   (CKR_MECHANISM_PARAM_INVALID, CKR_ARGUMENTS_BAD or CKR_DOMAIN_PARAMS_INVALID), it is tried once
 *   in the other form, and the form that worked is used first from then on.
 * - **MAC mismatch as an error** (NSS softokn 3.87): a MAC that does not match fails C_Verify
 *   with a left-over error code (CKR_DEVICE_ERROR, CKR_ARGUMENTS_BAD) instead of
 *   CKR_SIGNATURE_INVALID. verify-check.ts finds out by computing the MAC (C_Sign) and comparing;
 *   once seen, streamed MAC verifications on the token are made that way too.
 *
 * When the second try fails as well, the first error is thrown: the quirk was not the cause.
 */
import { Attribute, Mechanism, ReturnValue } from '../sys/constants.js';
import { Pkcs11Error } from '../core/errors.js';
import { parameterFields, type MechanismParameter } from '../core/params.js';
import { encodeTemplate, type EncodedTemplate, type Template } from '../core/template.js';
import { decodeEcPoint, encodeEcPoint } from '../util/ec.js';
import type { Key } from './keys.js';
import type { Session } from './session.js';
import type { Token } from './token.js';
import { TokenMemory } from './token-state.js';

/** What the library has learnt about a token's departures from the standard. */
export interface TokenQuirks {
  /** The token refused a session object and took the same object stored: objects are made stored from now on. */
  tokenObjectsOnly: boolean;
  /** The encoding of the ECDH peer point the token took after refusing the other one; `undefined` until then. */
  ecdhPoint: 'raw' | 'der' | undefined;
  /** The token failed C_Verify of a MAC that did not match with an error, not CKR_SIGNATURE_INVALID. */
  macMismatchAsError: boolean;
}

const memory = new TokenMemory<TokenQuirks>(() => ({
  tokenObjectsOnly: false,
  ecdhPoint: undefined,
  macMismatchAsError: false,
}));

/** What has been learnt about `token` so far (for diagnostics and tests). */
export function tokenQuirks(token: Token): Readonly<TokenQuirks> {
  return memory.of(token);
}

/** Remembers that `token` fails the verification of a MAC that does not match with an error (verify-check.ts). */
export function learnMacMismatchAsError(token: Token): void {
  memory.of(token).macMismatchAsError = true;
}

/**
 * Runs `attempt`; when it fails with one of `refusals`, runs `retry` once. A successful retry
 * calls `learnt`; a failed one rethrows the first error.
 */
async function retryOnRefusal<T>(
  attempt: () => Promise<T>,
  refusals: ReadonlySet<number>,
  retry: () => Promise<T>,
  learnt: () => void,
): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (!(error instanceof Pkcs11Error) || !refusals.has(error.rv)) throw error;
    let result: T;
    try {
      result = await retry();
    } catch {
      throw error;
    }
    learnt();
    return result;
  }
}

const STORE_REFUSALS = new Set<number>([
  ReturnValue.TEMPLATE_INCONSISTENT,
  ReturnValue.ATTRIBUTE_VALUE_INVALID,
]);

/** `template` as a token object when it asked for a session object. */
function stored(template: Template): Template {
  return template[Attribute.TOKEN] === false ? { ...template, [Attribute.TOKEN]: true } : template;
}

/**
 * Runs a call that creates objects from `templates` (one for a key, two for a key pair) with the
 * no-session-objects quirk handled. The templates are encoded before this returns, so argument
 * mistakes throw synchronously as before.
 *
 * @example
 * return createObjects(session, [template], ([t]) => newObject(session, 'C_GenerateKey', (h, out, invoke) =>
 *   invoke('C_GenerateKey', h, mechanism, t.buf, t.count, out)));
 */
export function createObjects<T>(
  session: Session,
  templates: readonly Template[],
  create: (encoded: readonly EncodedTemplate[]) => Promise<T>,
): Promise<T> {
  const encoded = templates.map(encodeTemplate);
  if (!templates.some((t) => t[Attribute.TOKEN] === false)) return create(encoded);
  const asStored = () => create(templates.map(stored).map(encodeTemplate));
  return (async () => {
    const quirks = memory.of(session.token);
    if (quirks.tokenObjectsOnly) return asStored();
    return retryOnRefusal(
      () => create(encoded),
      STORE_REFUSALS,
      asStored,
      () => (quirks.tokenObjectsOnly = true),
    );
  })();
}

const ECDH_MECHANISMS = new Set<number>([Mechanism.ECDH1_DERIVE, Mechanism.ECDH1_COFACTOR_DERIVE]);
const POINT_REFUSALS = new Set<number>([
  ReturnValue.MECHANISM_PARAM_INVALID,
  ReturnValue.ARGUMENTS_BAD,
  ReturnValue.DOMAIN_PARAMS_INVALID,
]);

/** The ECDH parameter's peer point in both encodings, or `undefined` when it is not a point on the key's (known) curve. */
function pointForms(
  key: Key,
  point: unknown,
): { raw: Uint8Array; der: Uint8Array; given: 'raw' | 'der' } | undefined {
  const curve = key.summary.get(Attribute.EC_PARAMS);
  if (!(point instanceof Uint8Array) || !(curve instanceof Uint8Array)) return undefined;
  let raw: Uint8Array;
  try {
    raw = decodeEcPoint(point, curve);
  } catch {
    return undefined;
  }
  return { raw, der: encodeEcPoint(raw), given: raw.byteLength === point.byteLength ? 'raw' : 'der' };
}

/**
 * Runs an ECDH1 (or cofactor) derivation with the peer-point quirk handled; any other mechanism,
 * or a point this library cannot read, goes through unchanged.
 */
export function deriveWithPointQuirk<T>(
  key: Key,
  mechanism: number,
  parameter: MechanismParameter,
  derive: (parameter: MechanismParameter) => Promise<T>,
): Promise<T> {
  const fields = ECDH_MECHANISMS.has(mechanism) ? parameterFields(mechanism, parameter) : undefined;
  const forms = fields && pointForms(key, fields.publicData);
  if (!fields || !forms) return derive(parameter);
  const quirks = memory.of(key.session.token);
  const first = quirks.ecdhPoint ?? forms.given;
  const other = first === 'raw' ? 'der' : 'raw';
  const withPoint = (form: 'raw' | 'der'): MechanismParameter =>
    ({ ...fields, publicData: forms[form] }) as MechanismParameter;
  return retryOnRefusal(
    () => derive(withPoint(first)),
    POINT_REFUSALS,
    () => derive(withPoint(other)),
    () => (quirks.ecdhPoint = other),
  );
}
