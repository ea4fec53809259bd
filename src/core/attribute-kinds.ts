/**
 * How each standard attribute's value is represented in C, so templates can be written from and
 * read into plain JavaScript values. Anything not listed (vendor attributes included) is raw bytes.
 */
import { Attribute } from '../sys/constants.js';

/**
 * The value shapes of PKCS#11 attributes:
 * - `bool`: CK_BBOOL, as `boolean`
 * - `ulong`: CK_ULONG and the enums typedef'd to it (class, key type, mechanism, lengths), as `number`
 * - `string`: RFC 2279 UTF-8 without terminator, as `string`
 * - `date`: CK_DATE (YYYYMMDD as characters), as a UTC `Date`; an empty value reads as `null`
 * - `bytes`: byte arrays and big integers (big-endian), as `Uint8Array`
 * - `mechanisms`: CK_MECHANISM_TYPE[], as `number[]`
 * - `template`: a nested CK_ATTRIBUTE[] (WRAP/UNWRAP/DERIVE_TEMPLATE), as a template object
 */
export type AttributeKind = 'bool' | 'ulong' | 'string' | 'date' | 'bytes' | 'mechanisms' | 'template';

const BOOL = [
  Attribute.TOKEN,
  Attribute.PRIVATE,
  Attribute.TRUSTED,
  Attribute.SENSITIVE,
  Attribute.ENCRYPT,
  Attribute.DECRYPT,
  Attribute.WRAP,
  Attribute.UNWRAP,
  Attribute.SIGN,
  Attribute.SIGN_RECOVER,
  Attribute.VERIFY,
  Attribute.VERIFY_RECOVER,
  Attribute.DERIVE,
  Attribute.EXTRACTABLE,
  Attribute.LOCAL,
  Attribute.NEVER_EXTRACTABLE,
  Attribute.ALWAYS_SENSITIVE,
  Attribute.MODIFIABLE,
  Attribute.COPYABLE,
  Attribute.DESTROYABLE,
  Attribute.ALWAYS_AUTHENTICATE,
  Attribute.WRAP_WITH_TRUSTED,
  Attribute.RESET_ON_INIT,
  Attribute.HAS_RESET,
  Attribute.COLOR,
  Attribute.OTP_USER_FRIENDLY_MODE,
  Attribute.X2RATCHET_ISALICE,
  Attribute.X2RATCHET_BOBS1STMSG,
];

const ULONG = [
  Attribute.CLASS,
  Attribute.KEY_TYPE,
  Attribute.CERTIFICATE_TYPE,
  Attribute.CERTIFICATE_CATEGORY,
  Attribute.JAVA_MIDP_SECURITY_DOMAIN,
  Attribute.NAME_HASH_ALGORITHM,
  Attribute.MODULUS_BITS,
  Attribute.PRIME_BITS,
  Attribute.SUBPRIME_BITS,
  Attribute.VALUE_BITS,
  Attribute.VALUE_LEN,
  Attribute.KEY_GEN_MECHANISM,
  Attribute.HW_FEATURE_TYPE,
  Attribute.PIXEL_X,
  Attribute.PIXEL_Y,
  Attribute.RESOLUTION,
  Attribute.CHAR_ROWS,
  Attribute.CHAR_COLUMNS,
  Attribute.BITS_PER_PIXEL,
  Attribute.MECHANISM_TYPE,
  Attribute.OTP_FORMAT,
  Attribute.OTP_LENGTH,
  Attribute.OTP_TIME_INTERVAL,
  Attribute.OTP_CHALLENGE_REQUIREMENT,
  Attribute.OTP_TIME_REQUIREMENT,
  Attribute.OTP_COUNTER_REQUIREMENT,
  Attribute.OTP_PIN_REQUIREMENT,
  Attribute.PROFILE_ID,
  Attribute.X2RATCHET_BAGSIZE,
  Attribute.X2RATCHET_NS,
  Attribute.X2RATCHET_NR,
  Attribute.X2RATCHET_PNS,
];

const STRING = [
  Attribute.LABEL,
  Attribute.APPLICATION,
  Attribute.URL,
  Attribute.CHAR_SETS,
  Attribute.ENCODING_METHODS,
  Attribute.MIME_TYPES,
  Attribute.OTP_TIME,
  Attribute.OTP_USER_IDENTIFIER,
  Attribute.OTP_SERVICE_IDENTIFIER,
  Attribute.OTP_SERVICE_LOGO_TYPE,
  Attribute.UNIQUE_ID,
];

const KINDS = new Map<number, AttributeKind>([
  ...BOOL.map((a) => [a, 'bool'] as const),
  ...ULONG.map((a) => [a, 'ulong'] as const),
  ...STRING.map((a) => [a, 'string'] as const),
  [Attribute.START_DATE, 'date'],
  [Attribute.END_DATE, 'date'],
  [Attribute.ALLOWED_MECHANISMS, 'mechanisms'],
  [Attribute.WRAP_TEMPLATE, 'template'],
  [Attribute.UNWRAP_TEMPLATE, 'template'],
  [Attribute.DERIVE_TEMPLATE, 'template'],
]);

/** The value shape of an attribute; unknown and vendor attributes are `bytes`. */
export function kindOf(attribute: number): AttributeKind {
  return KINDS.get(attribute) ?? 'bytes';
}
