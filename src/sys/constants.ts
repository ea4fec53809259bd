/**
 * Every constant of PKCS#11 3.1 (OASIS `pkcs11t.h`, including the 3.0 additions), grouped by family.
 *
 * Each family is a frozen `as const` object whose keys are the spec names with the family prefix
 * dropped (`CKM_ECDSA_SHA256` is `Mechanism.ECDSA_SHA256`), plus a type of the same name that is the
 * union of its values. Vendor values are not listed (only the `VENDOR_DEFINED` base is); code that
 * accepts a family value takes a plain `number` so that vendor codes pass through.
 *
 * Each family registers its spec prefix and its deprecated aliases once, here, so that
 * `nameOf` (in `names.ts`) can print `CKM_ECDSA` for `0x1041` without a second table.
 *
 * @example
 * ```ts
 * import { Attribute, KeyType, Mechanism } from '../sys/constants.js';
 * const template = { [Attribute.KEY_TYPE]: KeyType.EC };
 * const mechanism = Mechanism.ECDSA_SHA256; // 0x1044
 * ```
 */

/** Whether a family lists single values (one is chosen) or bit flags (several are OR-ed together). */
export type FamilyKind = 'values' | 'flags';

/** What the name lookup needs to know about one family of constants. */
export interface FamilyInfo {
  /** The spec prefix dropped from the keys, e.g. `'CKM_'`. */
  readonly prefix: string;
  /** `'flags'` for bit-flag families, whose values are combined with `|`. */
  readonly kind: FamilyKind;
  /** Keys that are deprecated second names of a value listed under its current name too. */
  readonly aliases: ReadonlySet<string>;
}

const registry = new WeakMap<object, FamilyInfo>();

/**
 * Registers a table as a family of constants and returns it frozen. Aliases must be keys of the
 * table; their values must also appear under a current (canonical) name.
 */
function family<T extends Readonly<Record<string, number>>>(
  prefix: string,
  kind: FamilyKind,
  table: T,
  aliases: readonly (keyof T & string)[] = [],
): T {
  registry.set(table, { prefix, kind, aliases: new Set(aliases) });
  return Object.freeze(table);
}

/**
 * The prefix, kind and aliases registered for a family object, or `undefined` when `value` is not
 * one of the families exported here.
 *
 * @example
 * ```ts
 * familyInfo(Mechanism)?.prefix; // 'CKM_'
 * ```
 */
export function familyInfo(value: unknown): FamilyInfo | undefined {
  return typeof value === 'object' && value !== null ? registry.get(value) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Special values
// ---------------------------------------------------------------------------------------------

/** The Cryptoki version these constants describe (`CRYPTOKI_VERSION_MAJOR`/`_MINOR`): 3.1. */
export const CRYPTOKI_VERSION = Object.freeze({ major: 3, minor: 1 } as const);

/**
 * `CK_UNAVAILABLE_INFORMATION`: a `CK_ULONG` with all bits set, which a module puts in a count or
 * size it cannot report (e.g. `ulFreePublicMemory`). A bigint because the 64-bit value does not fit
 * a JS number; on platforms where `CK_ULONG` is 4 bytes (Windows) the same marker is `0xffffffff`.
 */
export const UNAVAILABLE_INFORMATION = 0xffffffffffffffffn;

/** `CK_EFFECTIVELY_INFINITE`: a session or PIN-length limit of 0 means "no limit". */
export const EFFECTIVELY_INFINITE = 0;

/** `CK_INVALID_HANDLE`: no session or object ever has handle 0. */
export const INVALID_HANDLE = 0;

// ---------------------------------------------------------------------------------------------
// Flag families (CKF_*), one per field or argument that carries them
// ---------------------------------------------------------------------------------------------

/** `CK_SLOT_INFO.flags` (CKF_*): what a slot is and whether a token is in it. */
export const SlotFlag = family('CKF_', 'flags', {
  TOKEN_PRESENT: 0x00000001,
  REMOVABLE_DEVICE: 0x00000002,
  HW_SLOT: 0x00000004,
} as const);
/** One `SlotFlag` bit. */
export type SlotFlag = (typeof SlotFlag)[keyof typeof SlotFlag];

/** `CK_TOKEN_INFO.flags` (CKF_*): token capabilities and PIN state. */
export const TokenFlag = family('CKF_', 'flags', {
  RNG: 0x00000001,
  WRITE_PROTECTED: 0x00000002,
  LOGIN_REQUIRED: 0x00000004,
  USER_PIN_INITIALIZED: 0x00000008,
  RESTORE_KEY_NOT_NEEDED: 0x00000020,
  CLOCK_ON_TOKEN: 0x00000040,
  PROTECTED_AUTHENTICATION_PATH: 0x00000100,
  DUAL_CRYPTO_OPERATIONS: 0x00000200,
  TOKEN_INITIALIZED: 0x00000400,
  SECONDARY_AUTHENTICATION: 0x00000800,
  USER_PIN_COUNT_LOW: 0x00010000,
  USER_PIN_FINAL_TRY: 0x00020000,
  USER_PIN_LOCKED: 0x00040000,
  USER_PIN_TO_BE_CHANGED: 0x00080000,
  SO_PIN_COUNT_LOW: 0x00100000,
  SO_PIN_FINAL_TRY: 0x00200000,
  SO_PIN_LOCKED: 0x00400000,
  SO_PIN_TO_BE_CHANGED: 0x00800000,
  ERROR_STATE: 0x01000000,
} as const);
/** One `TokenFlag` bit. */
export type TokenFlag = (typeof TokenFlag)[keyof typeof TokenFlag];

/** `CK_SESSION_INFO.flags` and the `flags` argument of `C_OpenSession` (CKF_*). */
export const SessionFlag = family('CKF_', 'flags', {
  RW_SESSION: 0x00000002,
  /** Must always be set when opening a session (legacy of parallel sessions). */
  SERIAL_SESSION: 0x00000004,
  /** PKCS#11 3.2 (not 3.1): the session may run operations asynchronously. */
  ASYNC_SESSION: 0x00000008,
} as const);
/** One `SessionFlag` bit. */
export type SessionFlag = (typeof SessionFlag)[keyof typeof SessionFlag];

/** `CK_MECHANISM_INFO.flags` (CKF_*): which functions a mechanism serves, and EC capabilities. */
export const MechanismFlag = family(
  'CKF_',
  'flags',
  {
    HW: 0x00000001,
    MESSAGE_ENCRYPT: 0x00000002,
    MESSAGE_DECRYPT: 0x00000004,
    MESSAGE_SIGN: 0x00000008,
    MESSAGE_VERIFY: 0x00000010,
    MULTI_MESSAGE: 0x00000020,
    /** @deprecated misspelt second name of `MULTI_MESSAGE` kept by the 3.x header. */
    MULTI_MESSGE: 0x00000020,
    FIND_OBJECTS: 0x00000040,
    ENCRYPT: 0x00000100,
    DECRYPT: 0x00000200,
    DIGEST: 0x00000400,
    SIGN: 0x00000800,
    SIGN_RECOVER: 0x00001000,
    VERIFY: 0x00002000,
    VERIFY_RECOVER: 0x00004000,
    GENERATE: 0x00008000,
    GENERATE_KEY_PAIR: 0x00010000,
    WRAP: 0x00020000,
    UNWRAP: 0x00040000,
    DERIVE: 0x00080000,
    EC_F_P: 0x00100000,
    EC_F_2M: 0x00200000,
    EC_ECPARAMETERS: 0x00400000,
    EC_OID: 0x00800000,
    /** @deprecated since 3.0: use `EC_OID`. */
    EC_NAMEDCURVE: 0x00800000,
    EC_UNCOMPRESS: 0x01000000,
    EC_COMPRESS: 0x02000000,
    EC_CURVENAME: 0x04000000,
    /** Set when the flags continue in an extension (reserved by the spec). */
    EXTENSION: 0x80000000,
  } as const,
  ['MULTI_MESSGE', 'EC_NAMEDCURVE'],
);
/** One `MechanismFlag` bit. */
export type MechanismFlag = (typeof MechanismFlag)[keyof typeof MechanismFlag];

/** `CK_C_INITIALIZE_ARGS.flags` (CKF_*): threading rules given to `C_Initialize`. */
export const InitializeFlag = family('CKF_', 'flags', {
  LIBRARY_CANT_CREATE_OS_THREADS: 0x00000001,
  /** The module may use the OS's own locks; we always set it (see DESIGN.md). */
  OS_LOCKING_OK: 0x00000002,
} as const);
/** One `InitializeFlag` bit. */
export type InitializeFlag = (typeof InitializeFlag)[keyof typeof InitializeFlag];

/** The `flags` argument of `C_WaitForSlotEvent` (CKF_*). */
export const WaitFlag = family('CKF_', 'flags', {
  /** Return `CKR_NO_EVENT` at once instead of waiting. */
  DONT_BLOCK: 1,
} as const);
/** One `WaitFlag` bit. */
export type WaitFlag = (typeof WaitFlag)[keyof typeof WaitFlag];

/** Flags of the `CK_OTP_FLAGS` parameter of OTP mechanisms (CKF_*). */
export const OtpFlag = family('CKF_', 'flags', {
  NEXT_OTP: 0x00000001,
  EXCLUDE_TIME: 0x00000002,
  EXCLUDE_COUNTER: 0x00000004,
  EXCLUDE_CHALLENGE: 0x00000008,
  EXCLUDE_PIN: 0x00000010,
  USER_FRIENDLY_OTP: 0x00000020,
} as const);
/** One `OtpFlag` bit. */
export type OtpFlag = (typeof OtpFlag)[keyof typeof OtpFlag];

/** The `flags` argument of the 3.0 message-based functions, e.g. `C_EncryptMessageNext` (CKF_*). */
export const MessageFlag = family('CKF_', 'flags', {
  END_OF_MESSAGE: 0x00000001,
} as const);
/** One `MessageFlag` bit. */
export type MessageFlag = (typeof MessageFlag)[keyof typeof MessageFlag];

/** `CK_INTERFACE.flags` as returned by `C_GetInterface` (CKF_*). */
export const InterfaceFlag = family('CKF_', 'flags', {
  /** The interface's functions are safe to call in a forked child. */
  INTERFACE_FORK_SAFE: 0x00000001,
} as const);
/** One `InterfaceFlag` bit. */
export type InterfaceFlag = (typeof InterfaceFlag)[keyof typeof InterfaceFlag];

/**
 * Bits of an attribute type (CKF_*): `ARRAY_ATTRIBUTE` marks attributes whose value is an array of
 * `CK_ATTRIBUTE` or `CK_MECHANISM_TYPE`, e.g. `Attribute.WRAP_TEMPLATE`.
 *
 * @example
 * ```ts
 * (Attribute.WRAP_TEMPLATE & AttributeFlag.ARRAY_ATTRIBUTE) !== 0; // true
 * ```
 */
export const AttributeFlag = family('CKF_', 'flags', {
  ARRAY_ATTRIBUTE: 0x40000000,
} as const);
/** One `AttributeFlag` bit. */
export type AttributeFlag = (typeof AttributeFlag)[keyof typeof AttributeFlag];

/**
 * `CK_HKDF_PARAMS.ulSaltType` (CKF_HKDF_SALT_*): where the HKDF salt comes from. One value is
 * chosen, so names are looked up as values although the spec spells them as flags.
 */
export const HkdfSaltType = family('CKF_HKDF_SALT_', 'values', {
  /** No salt (a string of zero bytes). */
  NULL: 0x00000001,
  /** Salt given as bytes in `pSalt`. */
  DATA: 0x00000002,
  /** Salt given as a key handle in `hSaltKey`. */
  KEY: 0x00000004,
} as const);
/** One `HkdfSaltType` value. */
export type HkdfSaltType = (typeof HkdfSaltType)[keyof typeof HkdfSaltType];

// ---------------------------------------------------------------------------------------------
// Small value families
// ---------------------------------------------------------------------------------------------

/** `CK_NOTIFICATION` (CKN_*): events passed to the `Notify` callback of `C_OpenSession`. */
export const Notification = family('CKN_', 'values', {
  SURRENDER: 0,
  OTP_CHANGED: 1,
} as const);
/** One `Notification` value. */
export type Notification = (typeof Notification)[keyof typeof Notification];

/** `CK_USER_TYPE` (CKU_*): who logs in. */
export const UserType = family('CKU_', 'values', {
  /** Security Officer. */
  SO: 0,
  /** Normal user. */
  USER: 1,
  /** Re-authentication for one operation on an `ALWAYS_AUTHENTICATE` key. */
  CONTEXT_SPECIFIC: 2,
} as const);
/** One `UserType` value. */
export type UserType = (typeof UserType)[keyof typeof UserType];

/** `CK_STATE` (CKS_*): session state reported by `C_GetSessionInfo`. */
export const SessionState = family('CKS_', 'values', {
  RO_PUBLIC_SESSION: 0,
  RO_USER_FUNCTIONS: 1,
  RW_PUBLIC_SESSION: 2,
  RW_USER_FUNCTIONS: 3,
  RW_SO_FUNCTIONS: 4,
} as const);
/** One `SessionState` value. */
export type SessionState = (typeof SessionState)[keyof typeof SessionState];

/** `CK_OBJECT_CLASS` (CKO_*): the `CKA_CLASS` of an object. */
export const ObjectClass = family('CKO_', 'values', {
  DATA: 0x00000000,
  CERTIFICATE: 0x00000001,
  PUBLIC_KEY: 0x00000002,
  PRIVATE_KEY: 0x00000003,
  SECRET_KEY: 0x00000004,
  HW_FEATURE: 0x00000005,
  DOMAIN_PARAMETERS: 0x00000006,
  MECHANISM: 0x00000007,
  OTP_KEY: 0x00000008,
  PROFILE: 0x00000009,
  VENDOR_DEFINED: 0x80000000,
} as const);
/** One `ObjectClass` value (vendor classes are plain numbers from `VENDOR_DEFINED` up). */
export type ObjectClass = (typeof ObjectClass)[keyof typeof ObjectClass];

/** `CK_PROFILE_ID` (CKP_*): the `CKA_PROFILE_ID` of a `CKO_PROFILE` object. */
export const Profile = family('CKP_', 'values', {
  INVALID_ID: 0x00000000,
  BASELINE_PROVIDER: 0x00000001,
  EXTENDED_PROVIDER: 0x00000002,
  AUTHENTICATION_TOKEN: 0x00000003,
  PUBLIC_CERTIFICATES_TOKEN: 0x00000004,
  COMPLETE_PROVIDER: 0x00000005,
  HKDF_TLS_TOKEN: 0x00000006,
  VENDOR_DEFINED: 0x80000000,
} as const);
/** One `Profile` value. */
export type Profile = (typeof Profile)[keyof typeof Profile];

/** `CK_HW_FEATURE_TYPE` (CKH_*): the `CKA_HW_FEATURE_TYPE` of a `CKO_HW_FEATURE` object. */
export const HardwareFeature = family('CKH_', 'values', {
  MONOTONIC_COUNTER: 0x00000001,
  CLOCK: 0x00000002,
  USER_INTERFACE: 0x00000003,
  VENDOR_DEFINED: 0x80000000,
} as const);
/** One `HardwareFeature` value. */
export type HardwareFeature = (typeof HardwareFeature)[keyof typeof HardwareFeature];

// ---------------------------------------------------------------------------------------------
// Key types
// ---------------------------------------------------------------------------------------------

/** `CK_KEY_TYPE` (CKK_*): the `CKA_KEY_TYPE` of a key or domain-parameters object. */
export const KeyType = family(
  'CKK_',
  'values',
  {
    RSA: 0x00000000,
    DSA: 0x00000001,
    DH: 0x00000002,
    /** @deprecated use `EC`. */
    ECDSA: 0x00000003,
    EC: 0x00000003,
    X9_42_DH: 0x00000004,
    KEA: 0x00000005,
    GENERIC_SECRET: 0x00000010,
    RC2: 0x00000011,
    RC4: 0x00000012,
    DES: 0x00000013,
    DES2: 0x00000014,
    DES3: 0x00000015,
    CAST: 0x00000016,
    CAST3: 0x00000017,
    /** @deprecated use `CAST128`. */
    CAST5: 0x00000018,
    CAST128: 0x00000018,
    RC5: 0x00000019,
    IDEA: 0x0000001a,
    SKIPJACK: 0x0000001b,
    BATON: 0x0000001c,
    JUNIPER: 0x0000001d,
    CDMF: 0x0000001e,
    AES: 0x0000001f,
    BLOWFISH: 0x00000020,
    TWOFISH: 0x00000021,
    SECURID: 0x00000022,
    HOTP: 0x00000023,
    ACTI: 0x00000024,
    CAMELLIA: 0x00000025,
    ARIA: 0x00000026,
    // 0x27..0x2e came with the 2.30 header but were never described by the spec text.
    MD5_HMAC: 0x00000027,
    SHA_1_HMAC: 0x00000028,
    RIPEMD128_HMAC: 0x00000029,
    RIPEMD160_HMAC: 0x0000002a,
    SHA256_HMAC: 0x0000002b,
    SHA384_HMAC: 0x0000002c,
    SHA512_HMAC: 0x0000002d,
    SHA224_HMAC: 0x0000002e,
    SEED: 0x0000002f,
    GOSTR3410: 0x00000030,
    GOSTR3411: 0x00000031,
    GOST28147: 0x00000032,
    CHACHA20: 0x00000033,
    POLY1305: 0x00000034,
    AES_XTS: 0x00000035,
    SHA3_224_HMAC: 0x00000036,
    SHA3_256_HMAC: 0x00000037,
    SHA3_384_HMAC: 0x00000038,
    SHA3_512_HMAC: 0x00000039,
    BLAKE2B_160_HMAC: 0x0000003a,
    BLAKE2B_256_HMAC: 0x0000003b,
    BLAKE2B_384_HMAC: 0x0000003c,
    BLAKE2B_512_HMAC: 0x0000003d,
    SALSA20: 0x0000003e,
    X2RATCHET: 0x0000003f,
    /** Ed25519 / Ed448 keys. */
    EC_EDWARDS: 0x00000040,
    /** X25519 / X448 keys. */
    EC_MONTGOMERY: 0x00000041,
    HKDF: 0x00000042,
    SHA512_224_HMAC: 0x00000043,
    SHA512_256_HMAC: 0x00000044,
    SHA512_T_HMAC: 0x00000045,
    HSS: 0x00000046,
    VENDOR_DEFINED: 0x80000000,
  } as const,
  ['ECDSA', 'CAST5'],
);
/** One `KeyType` value (vendor key types are plain numbers from `VENDOR_DEFINED` up). */
export type KeyType = (typeof KeyType)[keyof typeof KeyType];

// ---------------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------------

/** `CK_CERTIFICATE_TYPE` (CKC_*): the `CKA_CERTIFICATE_TYPE` of a certificate object. */
export const CertificateType = family('CKC_', 'values', {
  X_509: 0x00000000,
  X_509_ATTR_CERT: 0x00000001,
  WTLS: 0x00000002,
  VENDOR_DEFINED: 0x80000000,
} as const);
/** One `CertificateType` value. */
export type CertificateType = (typeof CertificateType)[keyof typeof CertificateType];

/** `CK_CERTIFICATE_CATEGORY` (CK_CERTIFICATE_CATEGORY_*): the `CKA_CERTIFICATE_CATEGORY` of a certificate. */
export const CertificateCategory = family('CK_CERTIFICATE_CATEGORY_', 'values', {
  UNSPECIFIED: 0,
  TOKEN_USER: 1,
  AUTHORITY: 2,
  OTHER_ENTITY: 3,
} as const);
/** One `CertificateCategory` value. */
export type CertificateCategory = (typeof CertificateCategory)[keyof typeof CertificateCategory];

/**
 * `CK_JAVA_MIDP_SECURITY_DOMAIN` (CK_SECURITY_DOMAIN_*): the `CKA_JAVA_MIDP_SECURITY_DOMAIN` of an
 * X.509 certificate.
 */
export const SecurityDomain = family('CK_SECURITY_DOMAIN_', 'values', {
  UNSPECIFIED: 0,
  MANUFACTURER: 1,
  OPERATOR: 2,
  THIRD_PARTY: 3,
} as const);
/** One `SecurityDomain` value. */
export type SecurityDomain = (typeof SecurityDomain)[keyof typeof SecurityDomain];

// ---------------------------------------------------------------------------------------------
// OTP
// ---------------------------------------------------------------------------------------------

/** `CKA_OTP_FORMAT` values (CK_OTP_FORMAT_*): how an OTP value is presented. */
export const OtpFormat = family('CK_OTP_FORMAT_', 'values', {
  DECIMAL: 0,
  HEXADECIMAL: 1,
  ALPHANUMERIC: 2,
  BINARY: 3,
} as const);
/** One `OtpFormat` value. */
export type OtpFormat = (typeof OtpFormat)[keyof typeof OtpFormat];

/** Values of the `CKA_OTP_*_REQUIREMENT` attributes (CK_OTP_PARAM_*). */
export const OtpRequirement = family('CK_OTP_PARAM_', 'values', {
  IGNORED: 0,
  OPTIONAL: 1,
  MANDATORY: 2,
} as const);
/** One `OtpRequirement` value. */
export type OtpRequirement = (typeof OtpRequirement)[keyof typeof OtpRequirement];

/** `CK_OTP_PARAM_TYPE` (CK_OTP_*): the `type` of one `CK_OTP_PARAM` entry. */
export const OtpParam = family('CK_OTP_', 'values', {
  VALUE: 0,
  PIN: 1,
  CHALLENGE: 2,
  TIME: 3,
  COUNTER: 4,
  FLAGS: 5,
  OUTPUT_LENGTH: 6,
  OUTPUT_FORMAT: 7,
} as const);
/** One `OtpParam` value. */
export type OtpParam = (typeof OtpParam)[keyof typeof OtpParam];

// ---------------------------------------------------------------------------------------------
// Attributes
// ---------------------------------------------------------------------------------------------

/**
 * `CK_ATTRIBUTE_TYPE` (CKA_*): the keys of a template. Array attributes carry
 * `AttributeFlag.ARRAY_ATTRIBUTE` (0x40000000) in their value.
 *
 * @example
 * ```ts
 * const template = { [Attribute.CLASS]: ObjectClass.SECRET_KEY, [Attribute.VALUE_LEN]: 32 };
 * ```
 */
export const Attribute = family(
  'CKA_',
  'values',
  {
    CLASS: 0x00000000,
    TOKEN: 0x00000001,
    PRIVATE: 0x00000002,
    LABEL: 0x00000003,
    UNIQUE_ID: 0x00000004,
    APPLICATION: 0x00000010,
    VALUE: 0x00000011,
    OBJECT_ID: 0x00000012,
    CERTIFICATE_TYPE: 0x00000080,
    ISSUER: 0x00000081,
    SERIAL_NUMBER: 0x00000082,
    AC_ISSUER: 0x00000083,
    OWNER: 0x00000084,
    ATTR_TYPES: 0x00000085,
    TRUSTED: 0x00000086,
    CERTIFICATE_CATEGORY: 0x00000087,
    JAVA_MIDP_SECURITY_DOMAIN: 0x00000088,
    URL: 0x00000089,
    HASH_OF_SUBJECT_PUBLIC_KEY: 0x0000008a,
    HASH_OF_ISSUER_PUBLIC_KEY: 0x0000008b,
    NAME_HASH_ALGORITHM: 0x0000008c,
    CHECK_VALUE: 0x00000090,
    KEY_TYPE: 0x00000100,
    SUBJECT: 0x00000101,
    ID: 0x00000102,
    SENSITIVE: 0x00000103,
    ENCRYPT: 0x00000104,
    DECRYPT: 0x00000105,
    WRAP: 0x00000106,
    UNWRAP: 0x00000107,
    SIGN: 0x00000108,
    SIGN_RECOVER: 0x00000109,
    VERIFY: 0x0000010a,
    VERIFY_RECOVER: 0x0000010b,
    DERIVE: 0x0000010c,
    START_DATE: 0x00000110,
    END_DATE: 0x00000111,
    MODULUS: 0x00000120,
    MODULUS_BITS: 0x00000121,
    PUBLIC_EXPONENT: 0x00000122,
    PRIVATE_EXPONENT: 0x00000123,
    PRIME_1: 0x00000124,
    PRIME_2: 0x00000125,
    EXPONENT_1: 0x00000126,
    EXPONENT_2: 0x00000127,
    COEFFICIENT: 0x00000128,
    PUBLIC_KEY_INFO: 0x00000129,
    PRIME: 0x00000130,
    SUBPRIME: 0x00000131,
    BASE: 0x00000132,
    PRIME_BITS: 0x00000133,
    SUBPRIME_BITS: 0x00000134,
    /** @deprecated second spelling of `SUBPRIME_BITS`. */
    SUB_PRIME_BITS: 0x00000134,
    VALUE_BITS: 0x00000160,
    VALUE_LEN: 0x00000161,
    EXTRACTABLE: 0x00000162,
    LOCAL: 0x00000163,
    NEVER_EXTRACTABLE: 0x00000164,
    ALWAYS_SENSITIVE: 0x00000165,
    KEY_GEN_MECHANISM: 0x00000166,
    MODIFIABLE: 0x00000170,
    COPYABLE: 0x00000171,
    DESTROYABLE: 0x00000172,
    /** @deprecated use `EC_PARAMS`. */
    ECDSA_PARAMS: 0x00000180,
    /** DER of the curve (usually a named-curve OID). */
    EC_PARAMS: 0x00000180,
    EC_POINT: 0x00000181,
    /** @deprecated since 2.40. */
    SECONDARY_AUTH: 0x00000200,
    /** @deprecated since 2.40. */
    AUTH_PIN_FLAGS: 0x00000201,
    ALWAYS_AUTHENTICATE: 0x00000202,
    WRAP_WITH_TRUSTED: 0x00000210,
    /** Array attribute: `CKF_ARRAY_ATTRIBUTE | 0x211`, a nested template. */
    WRAP_TEMPLATE: 0x40000211,
    /** Array attribute: `CKF_ARRAY_ATTRIBUTE | 0x212`, a nested template. */
    UNWRAP_TEMPLATE: 0x40000212,
    /** Array attribute: `CKF_ARRAY_ATTRIBUTE | 0x213`, a nested template. */
    DERIVE_TEMPLATE: 0x40000213,
    OTP_FORMAT: 0x00000220,
    OTP_LENGTH: 0x00000221,
    OTP_TIME_INTERVAL: 0x00000222,
    OTP_USER_FRIENDLY_MODE: 0x00000223,
    OTP_CHALLENGE_REQUIREMENT: 0x00000224,
    OTP_TIME_REQUIREMENT: 0x00000225,
    OTP_COUNTER_REQUIREMENT: 0x00000226,
    OTP_PIN_REQUIREMENT: 0x00000227,
    OTP_USER_IDENTIFIER: 0x0000022a,
    OTP_SERVICE_IDENTIFIER: 0x0000022b,
    OTP_SERVICE_LOGO: 0x0000022c,
    OTP_SERVICE_LOGO_TYPE: 0x0000022d,
    OTP_COUNTER: 0x0000022e,
    OTP_TIME: 0x0000022f,
    GOSTR3410_PARAMS: 0x00000250,
    GOSTR3411_PARAMS: 0x00000251,
    GOST28147_PARAMS: 0x00000252,
    HW_FEATURE_TYPE: 0x00000300,
    RESET_ON_INIT: 0x00000301,
    HAS_RESET: 0x00000302,
    PIXEL_X: 0x00000400,
    PIXEL_Y: 0x00000401,
    RESOLUTION: 0x00000402,
    CHAR_ROWS: 0x00000403,
    CHAR_COLUMNS: 0x00000404,
    COLOR: 0x00000405,
    BITS_PER_PIXEL: 0x00000406,
    CHAR_SETS: 0x00000480,
    ENCODING_METHODS: 0x00000481,
    MIME_TYPES: 0x00000482,
    MECHANISM_TYPE: 0x00000500,
    REQUIRED_CMS_ATTRIBUTES: 0x00000501,
    DEFAULT_CMS_ATTRIBUTES: 0x00000502,
    SUPPORTED_CMS_ATTRIBUTES: 0x00000503,
    /** Array attribute: `CKF_ARRAY_ATTRIBUTE | 0x600`, a list of mechanism types. */
    ALLOWED_MECHANISMS: 0x40000600,
    PROFILE_ID: 0x00000601,
    X2RATCHET_BAG: 0x00000602,
    X2RATCHET_BAGSIZE: 0x00000603,
    X2RATCHET_BOBS1STMSG: 0x00000604,
    X2RATCHET_CKR: 0x00000605,
    X2RATCHET_CKS: 0x00000606,
    X2RATCHET_DHP: 0x00000607,
    X2RATCHET_DHR: 0x00000608,
    X2RATCHET_DHS: 0x00000609,
    X2RATCHET_HKR: 0x0000060a,
    X2RATCHET_HKS: 0x0000060b,
    X2RATCHET_ISALICE: 0x0000060c,
    X2RATCHET_NHKR: 0x0000060d,
    X2RATCHET_NHKS: 0x0000060e,
    X2RATCHET_NR: 0x0000060f,
    X2RATCHET_NS: 0x00000610,
    X2RATCHET_PNS: 0x00000611,
    X2RATCHET_RK: 0x00000612,
    HSS_LEVELS: 0x00000617,
    HSS_LMS_TYPE: 0x00000618,
    HSS_LMOTS_TYPE: 0x00000619,
    HSS_LMS_TYPES: 0x0000061a,
    HSS_LMOTS_TYPES: 0x0000061b,
    HSS_KEYS_REMAINING: 0x0000061c,
    VENDOR_DEFINED: 0x80000000,
  } as const,
  ['SUB_PRIME_BITS', 'ECDSA_PARAMS'],
);
/** One `Attribute` type (vendor attributes are plain numbers from `VENDOR_DEFINED` up). */
export type Attribute = (typeof Attribute)[keyof typeof Attribute];

// ---------------------------------------------------------------------------------------------
// Mechanisms
// ---------------------------------------------------------------------------------------------

/**
 * `CK_MECHANISM_TYPE` (CKM_*): every mechanism of PKCS#11 3.1, historical ones included.
 *
 * @example
 * ```ts
 * const mechanism = { mechanism: Mechanism.RSA_PKCS_OAEP }; // 0x9
 * ```
 */
export const Mechanism = family(
  'CKM_',
  'values',
  {
    RSA_PKCS_KEY_PAIR_GEN: 0x00000000,
    RSA_PKCS: 0x00000001,
    RSA_9796: 0x00000002,
    RSA_X_509: 0x00000003,
    MD2_RSA_PKCS: 0x00000004,
    MD5_RSA_PKCS: 0x00000005,
    SHA1_RSA_PKCS: 0x00000006,
    RIPEMD128_RSA_PKCS: 0x00000007,
    RIPEMD160_RSA_PKCS: 0x00000008,
    RSA_PKCS_OAEP: 0x00000009,
    RSA_X9_31_KEY_PAIR_GEN: 0x0000000a,
    RSA_X9_31: 0x0000000b,
    SHA1_RSA_X9_31: 0x0000000c,
    RSA_PKCS_PSS: 0x0000000d,
    SHA1_RSA_PKCS_PSS: 0x0000000e,
    DSA_KEY_PAIR_GEN: 0x00000010,
    DSA: 0x00000011,
    DSA_SHA1: 0x00000012,
    DSA_SHA224: 0x00000013,
    DSA_SHA256: 0x00000014,
    DSA_SHA384: 0x00000015,
    DSA_SHA512: 0x00000016,
    DSA_SHA3_224: 0x00000018,
    DSA_SHA3_256: 0x00000019,
    DSA_SHA3_384: 0x0000001a,
    DSA_SHA3_512: 0x0000001b,
    DH_PKCS_KEY_PAIR_GEN: 0x00000020,
    DH_PKCS_DERIVE: 0x00000021,
    X9_42_DH_KEY_PAIR_GEN: 0x00000030,
    X9_42_DH_DERIVE: 0x00000031,
    X9_42_DH_HYBRID_DERIVE: 0x00000032,
    X9_42_MQV_DERIVE: 0x00000033,
    SHA256_RSA_PKCS: 0x00000040,
    SHA384_RSA_PKCS: 0x00000041,
    SHA512_RSA_PKCS: 0x00000042,
    SHA256_RSA_PKCS_PSS: 0x00000043,
    SHA384_RSA_PKCS_PSS: 0x00000044,
    SHA512_RSA_PKCS_PSS: 0x00000045,
    SHA224_RSA_PKCS: 0x00000046,
    SHA224_RSA_PKCS_PSS: 0x00000047,
    SHA512_224: 0x00000048,
    SHA512_224_HMAC: 0x00000049,
    SHA512_224_HMAC_GENERAL: 0x0000004a,
    SHA512_224_KEY_DERIVATION: 0x0000004b,
    SHA512_256: 0x0000004c,
    SHA512_256_HMAC: 0x0000004d,
    SHA512_256_HMAC_GENERAL: 0x0000004e,
    SHA512_256_KEY_DERIVATION: 0x0000004f,
    SHA512_T: 0x00000050,
    SHA512_T_HMAC: 0x00000051,
    SHA512_T_HMAC_GENERAL: 0x00000052,
    SHA512_T_KEY_DERIVATION: 0x00000053,
    SHA3_256_RSA_PKCS: 0x00000060,
    SHA3_384_RSA_PKCS: 0x00000061,
    SHA3_512_RSA_PKCS: 0x00000062,
    SHA3_256_RSA_PKCS_PSS: 0x00000063,
    SHA3_384_RSA_PKCS_PSS: 0x00000064,
    SHA3_512_RSA_PKCS_PSS: 0x00000065,
    SHA3_224_RSA_PKCS: 0x00000066,
    SHA3_224_RSA_PKCS_PSS: 0x00000067,
    RC2_KEY_GEN: 0x00000100,
    RC2_ECB: 0x00000101,
    RC2_CBC: 0x00000102,
    RC2_MAC: 0x00000103,
    RC2_MAC_GENERAL: 0x00000104,
    RC2_CBC_PAD: 0x00000105,
    RC4_KEY_GEN: 0x00000110,
    RC4: 0x00000111,
    DES_KEY_GEN: 0x00000120,
    DES_ECB: 0x00000121,
    DES_CBC: 0x00000122,
    DES_MAC: 0x00000123,
    DES_MAC_GENERAL: 0x00000124,
    DES_CBC_PAD: 0x00000125,
    DES2_KEY_GEN: 0x00000130,
    DES3_KEY_GEN: 0x00000131,
    DES3_ECB: 0x00000132,
    DES3_CBC: 0x00000133,
    DES3_MAC: 0x00000134,
    DES3_MAC_GENERAL: 0x00000135,
    DES3_CBC_PAD: 0x00000136,
    DES3_CMAC_GENERAL: 0x00000137,
    DES3_CMAC: 0x00000138,
    CDMF_KEY_GEN: 0x00000140,
    CDMF_ECB: 0x00000141,
    CDMF_CBC: 0x00000142,
    CDMF_MAC: 0x00000143,
    CDMF_MAC_GENERAL: 0x00000144,
    CDMF_CBC_PAD: 0x00000145,
    DES_OFB64: 0x00000150,
    DES_OFB8: 0x00000151,
    DES_CFB64: 0x00000152,
    DES_CFB8: 0x00000153,
    MD2: 0x00000200,
    MD2_HMAC: 0x00000201,
    MD2_HMAC_GENERAL: 0x00000202,
    MD5: 0x00000210,
    MD5_HMAC: 0x00000211,
    MD5_HMAC_GENERAL: 0x00000212,
    SHA_1: 0x00000220,
    SHA_1_HMAC: 0x00000221,
    SHA_1_HMAC_GENERAL: 0x00000222,
    RIPEMD128: 0x00000230,
    RIPEMD128_HMAC: 0x00000231,
    RIPEMD128_HMAC_GENERAL: 0x00000232,
    RIPEMD160: 0x00000240,
    RIPEMD160_HMAC: 0x00000241,
    RIPEMD160_HMAC_GENERAL: 0x00000242,
    SHA256: 0x00000250,
    SHA256_HMAC: 0x00000251,
    SHA256_HMAC_GENERAL: 0x00000252,
    SHA224: 0x00000255,
    SHA224_HMAC: 0x00000256,
    SHA224_HMAC_GENERAL: 0x00000257,
    SHA384: 0x00000260,
    SHA384_HMAC: 0x00000261,
    SHA384_HMAC_GENERAL: 0x00000262,
    SHA512: 0x00000270,
    SHA512_HMAC: 0x00000271,
    SHA512_HMAC_GENERAL: 0x00000272,
    SECURID_KEY_GEN: 0x00000280,
    SECURID: 0x00000282,
    HOTP_KEY_GEN: 0x00000290,
    HOTP: 0x00000291,
    ACTI: 0x000002a0,
    ACTI_KEY_GEN: 0x000002a1,
    SHA3_256: 0x000002b0,
    SHA3_256_HMAC: 0x000002b1,
    SHA3_256_HMAC_GENERAL: 0x000002b2,
    SHA3_256_KEY_GEN: 0x000002b3,
    SHA3_224: 0x000002b5,
    SHA3_224_HMAC: 0x000002b6,
    SHA3_224_HMAC_GENERAL: 0x000002b7,
    SHA3_224_KEY_GEN: 0x000002b8,
    SHA3_384: 0x000002c0,
    SHA3_384_HMAC: 0x000002c1,
    SHA3_384_HMAC_GENERAL: 0x000002c2,
    SHA3_384_KEY_GEN: 0x000002c3,
    SHA3_512: 0x000002d0,
    SHA3_512_HMAC: 0x000002d1,
    SHA3_512_HMAC_GENERAL: 0x000002d2,
    SHA3_512_KEY_GEN: 0x000002d3,
    CAST_KEY_GEN: 0x00000300,
    CAST_ECB: 0x00000301,
    CAST_CBC: 0x00000302,
    CAST_MAC: 0x00000303,
    CAST_MAC_GENERAL: 0x00000304,
    CAST_CBC_PAD: 0x00000305,
    CAST3_KEY_GEN: 0x00000310,
    CAST3_ECB: 0x00000311,
    CAST3_CBC: 0x00000312,
    CAST3_MAC: 0x00000313,
    CAST3_MAC_GENERAL: 0x00000314,
    CAST3_CBC_PAD: 0x00000315,
    // CAST5 and CAST128 are one algorithm; CAST128 is the current name.
    /** @deprecated use `CAST128_KEY_GEN`. */
    CAST5_KEY_GEN: 0x00000320,
    CAST128_KEY_GEN: 0x00000320,
    /** @deprecated use `CAST128_ECB`. */
    CAST5_ECB: 0x00000321,
    CAST128_ECB: 0x00000321,
    /** @deprecated use `CAST128_CBC`. */
    CAST5_CBC: 0x00000322,
    CAST128_CBC: 0x00000322,
    /** @deprecated use `CAST128_MAC`. */
    CAST5_MAC: 0x00000323,
    CAST128_MAC: 0x00000323,
    /** @deprecated use `CAST128_MAC_GENERAL`. */
    CAST5_MAC_GENERAL: 0x00000324,
    CAST128_MAC_GENERAL: 0x00000324,
    /** @deprecated use `CAST128_CBC_PAD`. */
    CAST5_CBC_PAD: 0x00000325,
    CAST128_CBC_PAD: 0x00000325,
    RC5_KEY_GEN: 0x00000330,
    RC5_ECB: 0x00000331,
    RC5_CBC: 0x00000332,
    RC5_MAC: 0x00000333,
    RC5_MAC_GENERAL: 0x00000334,
    RC5_CBC_PAD: 0x00000335,
    IDEA_KEY_GEN: 0x00000340,
    IDEA_ECB: 0x00000341,
    IDEA_CBC: 0x00000342,
    IDEA_MAC: 0x00000343,
    IDEA_MAC_GENERAL: 0x00000344,
    IDEA_CBC_PAD: 0x00000345,
    GENERIC_SECRET_KEY_GEN: 0x00000350,
    CONCATENATE_BASE_AND_KEY: 0x00000360,
    CONCATENATE_BASE_AND_DATA: 0x00000362,
    CONCATENATE_DATA_AND_BASE: 0x00000363,
    XOR_BASE_AND_DATA: 0x00000364,
    EXTRACT_KEY_FROM_KEY: 0x00000365,
    SSL3_PRE_MASTER_KEY_GEN: 0x00000370,
    SSL3_MASTER_KEY_DERIVE: 0x00000371,
    SSL3_KEY_AND_MAC_DERIVE: 0x00000372,
    SSL3_MASTER_KEY_DERIVE_DH: 0x00000373,
    TLS_PRE_MASTER_KEY_GEN: 0x00000374,
    TLS_MASTER_KEY_DERIVE: 0x00000375,
    TLS_KEY_AND_MAC_DERIVE: 0x00000376,
    TLS_MASTER_KEY_DERIVE_DH: 0x00000377,
    TLS_PRF: 0x00000378,
    SSL3_MD5_MAC: 0x00000380,
    SSL3_SHA1_MAC: 0x00000381,
    MD5_KEY_DERIVATION: 0x00000390,
    MD2_KEY_DERIVATION: 0x00000391,
    SHA1_KEY_DERIVATION: 0x00000392,
    SHA256_KEY_DERIVATION: 0x00000393,
    SHA384_KEY_DERIVATION: 0x00000394,
    SHA512_KEY_DERIVATION: 0x00000395,
    SHA224_KEY_DERIVATION: 0x00000396,
    SHA3_256_KEY_DERIVATION: 0x00000397,
    SHA3_224_KEY_DERIVATION: 0x00000398,
    SHA3_384_KEY_DERIVATION: 0x00000399,
    SHA3_512_KEY_DERIVATION: 0x0000039a,
    SHAKE_128_KEY_DERIVATION: 0x0000039b,
    SHAKE_256_KEY_DERIVATION: 0x0000039c,
    /** @deprecated 3.0 spelling of `SHA3_256_KEY_DERIVATION`. */
    SHA3_256_KEY_DERIVE: 0x00000397,
    /** @deprecated 3.0 spelling of `SHA3_224_KEY_DERIVATION`. */
    SHA3_224_KEY_DERIVE: 0x00000398,
    /** @deprecated 3.0 spelling of `SHA3_384_KEY_DERIVATION`. */
    SHA3_384_KEY_DERIVE: 0x00000399,
    /** @deprecated 3.0 spelling of `SHA3_512_KEY_DERIVATION`. */
    SHA3_512_KEY_DERIVE: 0x0000039a,
    /** @deprecated 3.0 spelling of `SHAKE_128_KEY_DERIVATION`. */
    SHAKE_128_KEY_DERIVE: 0x0000039b,
    /** @deprecated 3.0 spelling of `SHAKE_256_KEY_DERIVATION`. */
    SHAKE_256_KEY_DERIVE: 0x0000039c,
    PBE_MD2_DES_CBC: 0x000003a0,
    PBE_MD5_DES_CBC: 0x000003a1,
    PBE_MD5_CAST_CBC: 0x000003a2,
    PBE_MD5_CAST3_CBC: 0x000003a3,
    /** @deprecated use `PBE_MD5_CAST128_CBC`. */
    PBE_MD5_CAST5_CBC: 0x000003a4,
    PBE_MD5_CAST128_CBC: 0x000003a4,
    /** @deprecated use `PBE_SHA1_CAST128_CBC`. */
    PBE_SHA1_CAST5_CBC: 0x000003a5,
    PBE_SHA1_CAST128_CBC: 0x000003a5,
    PBE_SHA1_RC4_128: 0x000003a6,
    PBE_SHA1_RC4_40: 0x000003a7,
    PBE_SHA1_DES3_EDE_CBC: 0x000003a8,
    PBE_SHA1_DES2_EDE_CBC: 0x000003a9,
    PBE_SHA1_RC2_128_CBC: 0x000003aa,
    PBE_SHA1_RC2_40_CBC: 0x000003ab,
    SP800_108_COUNTER_KDF: 0x000003ac,
    SP800_108_FEEDBACK_KDF: 0x000003ad,
    SP800_108_DOUBLE_PIPELINE_KDF: 0x000003ae,
    PKCS5_PBKD2: 0x000003b0,
    PBA_SHA1_WITH_SHA1_HMAC: 0x000003c0,
    WTLS_PRE_MASTER_KEY_GEN: 0x000003d0,
    WTLS_MASTER_KEY_DERIVE: 0x000003d1,
    WTLS_MASTER_KEY_DERIVE_DH_ECC: 0x000003d2,
    WTLS_PRF: 0x000003d3,
    WTLS_SERVER_KEY_AND_MAC_DERIVE: 0x000003d4,
    WTLS_CLIENT_KEY_AND_MAC_DERIVE: 0x000003d5,
    TLS10_MAC_SERVER: 0x000003d6,
    TLS10_MAC_CLIENT: 0x000003d7,
    TLS12_MAC: 0x000003d8,
    TLS12_KDF: 0x000003d9,
    TLS12_MASTER_KEY_DERIVE: 0x000003e0,
    TLS12_KEY_AND_MAC_DERIVE: 0x000003e1,
    TLS12_MASTER_KEY_DERIVE_DH: 0x000003e2,
    TLS12_KEY_SAFE_DERIVE: 0x000003e3,
    TLS_MAC: 0x000003e4,
    TLS_KDF: 0x000003e5,
    KEY_WRAP_LYNKS: 0x00000400,
    KEY_WRAP_SET_OAEP: 0x00000401,
    CMS_SIG: 0x00000500,
    KIP_DERIVE: 0x00000510,
    KIP_WRAP: 0x00000511,
    KIP_MAC: 0x00000512,
    CAMELLIA_KEY_GEN: 0x00000550,
    CAMELLIA_ECB: 0x00000551,
    CAMELLIA_CBC: 0x00000552,
    CAMELLIA_MAC: 0x00000553,
    CAMELLIA_MAC_GENERAL: 0x00000554,
    CAMELLIA_CBC_PAD: 0x00000555,
    CAMELLIA_ECB_ENCRYPT_DATA: 0x00000556,
    CAMELLIA_CBC_ENCRYPT_DATA: 0x00000557,
    CAMELLIA_CTR: 0x00000558,
    ARIA_KEY_GEN: 0x00000560,
    ARIA_ECB: 0x00000561,
    ARIA_CBC: 0x00000562,
    ARIA_MAC: 0x00000563,
    ARIA_MAC_GENERAL: 0x00000564,
    ARIA_CBC_PAD: 0x00000565,
    ARIA_ECB_ENCRYPT_DATA: 0x00000566,
    ARIA_CBC_ENCRYPT_DATA: 0x00000567,
    SEED_KEY_GEN: 0x00000650,
    SEED_ECB: 0x00000651,
    SEED_CBC: 0x00000652,
    SEED_MAC: 0x00000653,
    SEED_MAC_GENERAL: 0x00000654,
    SEED_CBC_PAD: 0x00000655,
    SEED_ECB_ENCRYPT_DATA: 0x00000656,
    SEED_CBC_ENCRYPT_DATA: 0x00000657,
    SKIPJACK_KEY_GEN: 0x00001000,
    SKIPJACK_ECB64: 0x00001001,
    SKIPJACK_CBC64: 0x00001002,
    SKIPJACK_OFB64: 0x00001003,
    SKIPJACK_CFB64: 0x00001004,
    SKIPJACK_CFB32: 0x00001005,
    SKIPJACK_CFB16: 0x00001006,
    SKIPJACK_CFB8: 0x00001007,
    SKIPJACK_WRAP: 0x00001008,
    SKIPJACK_PRIVATE_WRAP: 0x00001009,
    SKIPJACK_RELAYX: 0x0000100a,
    KEA_KEY_PAIR_GEN: 0x00001010,
    KEA_KEY_DERIVE: 0x00001011,
    KEA_DERIVE: 0x00001012,
    FORTEZZA_TIMESTAMP: 0x00001020,
    BATON_KEY_GEN: 0x00001030,
    BATON_ECB128: 0x00001031,
    BATON_ECB96: 0x00001032,
    BATON_CBC128: 0x00001033,
    BATON_COUNTER: 0x00001034,
    BATON_SHUFFLE: 0x00001035,
    BATON_WRAP: 0x00001036,
    /** @deprecated use `EC_KEY_PAIR_GEN`. */
    ECDSA_KEY_PAIR_GEN: 0x00001040,
    EC_KEY_PAIR_GEN: 0x00001040,
    ECDSA: 0x00001041,
    ECDSA_SHA1: 0x00001042,
    ECDSA_SHA224: 0x00001043,
    ECDSA_SHA256: 0x00001044,
    ECDSA_SHA384: 0x00001045,
    ECDSA_SHA512: 0x00001046,
    ECDSA_SHA3_224: 0x00001047,
    ECDSA_SHA3_256: 0x00001048,
    ECDSA_SHA3_384: 0x00001049,
    ECDSA_SHA3_512: 0x0000104a,
    ECDH1_DERIVE: 0x00001050,
    ECDH1_COFACTOR_DERIVE: 0x00001051,
    ECMQV_DERIVE: 0x00001052,
    ECDH_AES_KEY_WRAP: 0x00001053,
    RSA_AES_KEY_WRAP: 0x00001054,
    /** Ed25519 / Ed448 key pairs. */
    EC_EDWARDS_KEY_PAIR_GEN: 0x00001055,
    /** X25519 / X448 key pairs. */
    EC_MONTGOMERY_KEY_PAIR_GEN: 0x00001056,
    EDDSA: 0x00001057,
    JUNIPER_KEY_GEN: 0x00001060,
    JUNIPER_ECB128: 0x00001061,
    JUNIPER_CBC128: 0x00001062,
    JUNIPER_COUNTER: 0x00001063,
    JUNIPER_SHUFFLE: 0x00001064,
    JUNIPER_WRAP: 0x00001065,
    FASTHASH: 0x00001070,
    AES_XTS: 0x00001071,
    AES_XTS_KEY_GEN: 0x00001072,
    AES_KEY_GEN: 0x00001080,
    AES_ECB: 0x00001081,
    AES_CBC: 0x00001082,
    AES_MAC: 0x00001083,
    AES_MAC_GENERAL: 0x00001084,
    AES_CBC_PAD: 0x00001085,
    AES_CTR: 0x00001086,
    AES_GCM: 0x00001087,
    AES_CCM: 0x00001088,
    AES_CTS: 0x00001089,
    AES_CMAC: 0x0000108a,
    AES_CMAC_GENERAL: 0x0000108b,
    AES_XCBC_MAC: 0x0000108c,
    AES_XCBC_MAC_96: 0x0000108d,
    AES_GMAC: 0x0000108e,
    BLOWFISH_KEY_GEN: 0x00001090,
    BLOWFISH_CBC: 0x00001091,
    TWOFISH_KEY_GEN: 0x00001092,
    TWOFISH_CBC: 0x00001093,
    BLOWFISH_CBC_PAD: 0x00001094,
    TWOFISH_CBC_PAD: 0x00001095,
    DES_ECB_ENCRYPT_DATA: 0x00001100,
    DES_CBC_ENCRYPT_DATA: 0x00001101,
    DES3_ECB_ENCRYPT_DATA: 0x00001102,
    DES3_CBC_ENCRYPT_DATA: 0x00001103,
    AES_ECB_ENCRYPT_DATA: 0x00001104,
    AES_CBC_ENCRYPT_DATA: 0x00001105,
    GOSTR3410_KEY_PAIR_GEN: 0x00001200,
    GOSTR3410: 0x00001201,
    GOSTR3410_WITH_GOSTR3411: 0x00001202,
    GOSTR3410_KEY_WRAP: 0x00001203,
    GOSTR3410_DERIVE: 0x00001204,
    GOSTR3411: 0x00001210,
    GOSTR3411_HMAC: 0x00001211,
    GOST28147_KEY_GEN: 0x00001220,
    GOST28147_ECB: 0x00001221,
    GOST28147: 0x00001222,
    GOST28147_MAC: 0x00001223,
    GOST28147_KEY_WRAP: 0x00001224,
    CHACHA20_KEY_GEN: 0x00001225,
    CHACHA20: 0x00001226,
    POLY1305_KEY_GEN: 0x00001227,
    POLY1305: 0x00001228,
    EC_KEY_PAIR_GEN_W_EXTRA_BITS: 0x0000140b,
    DSA_PARAMETER_GEN: 0x00002000,
    DH_PKCS_PARAMETER_GEN: 0x00002001,
    X9_42_DH_PARAMETER_GEN: 0x00002002,
    DSA_PROBABILISTIC_PARAMETER_GEN: 0x00002003,
    /** @deprecated misspelt second name of `DSA_PROBABILISTIC_PARAMETER_GEN` kept by the header. */
    DSA_PROBABLISTIC_PARAMETER_GEN: 0x00002003,
    DSA_SHAWE_TAYLOR_PARAMETER_GEN: 0x00002004,
    DSA_FIPS_G_GEN: 0x00002005,
    AES_OFB: 0x00002104,
    AES_CFB64: 0x00002105,
    AES_CFB8: 0x00002106,
    AES_CFB128: 0x00002107,
    AES_CFB1: 0x00002108,
    /** RFC 3394 (was 0x1090 in drafts before 2.40). */
    AES_KEY_WRAP: 0x00002109,
    /** RFC 3394 with PKCS#7 padding (was 0x1091 in drafts before 2.40). */
    AES_KEY_WRAP_PAD: 0x0000210a,
    /** RFC 5649. */
    AES_KEY_WRAP_KWP: 0x0000210b,
    AES_KEY_WRAP_PKCS7: 0x0000210c,
    RSA_PKCS_TPM_1_1: 0x00004001,
    RSA_PKCS_OAEP_TPM_1_1: 0x00004002,
    SHA_1_KEY_GEN: 0x00004003,
    SHA224_KEY_GEN: 0x00004004,
    SHA256_KEY_GEN: 0x00004005,
    SHA384_KEY_GEN: 0x00004006,
    SHA512_KEY_GEN: 0x00004007,
    SHA512_224_KEY_GEN: 0x00004008,
    SHA512_256_KEY_GEN: 0x00004009,
    SHA512_T_KEY_GEN: 0x0000400a,
    NULL: 0x0000400b,
    BLAKE2B_160: 0x0000400c,
    BLAKE2B_160_HMAC: 0x0000400d,
    BLAKE2B_160_HMAC_GENERAL: 0x0000400e,
    BLAKE2B_160_KEY_DERIVE: 0x0000400f,
    BLAKE2B_160_KEY_GEN: 0x00004010,
    BLAKE2B_256: 0x00004011,
    BLAKE2B_256_HMAC: 0x00004012,
    BLAKE2B_256_HMAC_GENERAL: 0x00004013,
    BLAKE2B_256_KEY_DERIVE: 0x00004014,
    BLAKE2B_256_KEY_GEN: 0x00004015,
    BLAKE2B_384: 0x00004016,
    BLAKE2B_384_HMAC: 0x00004017,
    BLAKE2B_384_HMAC_GENERAL: 0x00004018,
    BLAKE2B_384_KEY_DERIVE: 0x00004019,
    BLAKE2B_384_KEY_GEN: 0x0000401a,
    BLAKE2B_512: 0x0000401b,
    BLAKE2B_512_HMAC: 0x0000401c,
    BLAKE2B_512_HMAC_GENERAL: 0x0000401d,
    BLAKE2B_512_KEY_DERIVE: 0x0000401e,
    BLAKE2B_512_KEY_GEN: 0x0000401f,
    SALSA20: 0x00004020,
    CHACHA20_POLY1305: 0x00004021,
    SALSA20_POLY1305: 0x00004022,
    X3DH_INITIALIZE: 0x00004023,
    X3DH_RESPOND: 0x00004024,
    X2RATCHET_INITIALIZE: 0x00004025,
    X2RATCHET_RESPOND: 0x00004026,
    X2RATCHET_ENCRYPT: 0x00004027,
    X2RATCHET_DECRYPT: 0x00004028,
    XEDDSA: 0x00004029,
    HKDF_DERIVE: 0x0000402a,
    HKDF_DATA: 0x0000402b,
    HKDF_KEY_GEN: 0x0000402c,
    SALSA20_KEY_GEN: 0x0000402d,
    IKE2_PRF_PLUS_DERIVE: 0x0000402e,
    IKE_PRF_DERIVE: 0x0000402f,
    IKE1_PRF_DERIVE: 0x00004030,
    IKE1_EXTENDED_DERIVE: 0x00004031,
    HSS_KEY_PAIR_GEN: 0x00004032,
    HSS: 0x00004033,
    VENDOR_DEFINED: 0x80000000,
  } as const,
  [
    'CAST5_KEY_GEN',
    'CAST5_ECB',
    'CAST5_CBC',
    'CAST5_MAC',
    'CAST5_MAC_GENERAL',
    'CAST5_CBC_PAD',
    'SHA3_256_KEY_DERIVE',
    'SHA3_224_KEY_DERIVE',
    'SHA3_384_KEY_DERIVE',
    'SHA3_512_KEY_DERIVE',
    'SHAKE_128_KEY_DERIVE',
    'SHAKE_256_KEY_DERIVE',
    'PBE_MD5_CAST5_CBC',
    'PBE_SHA1_CAST5_CBC',
    'ECDSA_KEY_PAIR_GEN',
    'DSA_PROBABLISTIC_PARAMETER_GEN',
  ],
);
/** One `Mechanism` type (vendor mechanisms are plain numbers from `VENDOR_DEFINED` up). */
export type Mechanism = (typeof Mechanism)[keyof typeof Mechanism];

// ---------------------------------------------------------------------------------------------
// Return values
// ---------------------------------------------------------------------------------------------

/**
 * `CK_RV` (CKR_*): the result of every Cryptoki function.
 *
 * @example
 * ```ts
 * if (rv === ReturnValue.PIN_INCORRECT) console.log('wrong PIN'); // 0xa0
 * ```
 */
export const ReturnValue = family('CKR_', 'values', {
  OK: 0x00000000,
  CANCEL: 0x00000001,
  HOST_MEMORY: 0x00000002,
  SLOT_ID_INVALID: 0x00000003,
  GENERAL_ERROR: 0x00000005,
  FUNCTION_FAILED: 0x00000006,
  ARGUMENTS_BAD: 0x00000007,
  NO_EVENT: 0x00000008,
  NEED_TO_CREATE_THREADS: 0x00000009,
  CANT_LOCK: 0x0000000a,
  ATTRIBUTE_READ_ONLY: 0x00000010,
  ATTRIBUTE_SENSITIVE: 0x00000011,
  ATTRIBUTE_TYPE_INVALID: 0x00000012,
  ATTRIBUTE_VALUE_INVALID: 0x00000013,
  ACTION_PROHIBITED: 0x0000001b,
  DATA_INVALID: 0x00000020,
  DATA_LEN_RANGE: 0x00000021,
  DEVICE_ERROR: 0x00000030,
  DEVICE_MEMORY: 0x00000031,
  DEVICE_REMOVED: 0x00000032,
  ENCRYPTED_DATA_INVALID: 0x00000040,
  ENCRYPTED_DATA_LEN_RANGE: 0x00000041,
  AEAD_DECRYPT_FAILED: 0x00000042,
  FUNCTION_CANCELED: 0x00000050,
  FUNCTION_NOT_PARALLEL: 0x00000051,
  FUNCTION_NOT_SUPPORTED: 0x00000054,
  KEY_HANDLE_INVALID: 0x00000060,
  KEY_SIZE_RANGE: 0x00000062,
  KEY_TYPE_INCONSISTENT: 0x00000063,
  KEY_NOT_NEEDED: 0x00000064,
  KEY_CHANGED: 0x00000065,
  KEY_NEEDED: 0x00000066,
  KEY_INDIGESTIBLE: 0x00000067,
  KEY_FUNCTION_NOT_PERMITTED: 0x00000068,
  KEY_NOT_WRAPPABLE: 0x00000069,
  KEY_UNEXTRACTABLE: 0x0000006a,
  MECHANISM_INVALID: 0x00000070,
  MECHANISM_PARAM_INVALID: 0x00000071,
  OBJECT_HANDLE_INVALID: 0x00000082,
  OPERATION_ACTIVE: 0x00000090,
  OPERATION_NOT_INITIALIZED: 0x00000091,
  PIN_INCORRECT: 0x000000a0,
  PIN_INVALID: 0x000000a1,
  PIN_LEN_RANGE: 0x000000a2,
  PIN_EXPIRED: 0x000000a3,
  PIN_LOCKED: 0x000000a4,
  SESSION_CLOSED: 0x000000b0,
  SESSION_COUNT: 0x000000b1,
  SESSION_HANDLE_INVALID: 0x000000b3,
  SESSION_PARALLEL_NOT_SUPPORTED: 0x000000b4,
  SESSION_READ_ONLY: 0x000000b5,
  SESSION_EXISTS: 0x000000b6,
  SESSION_READ_ONLY_EXISTS: 0x000000b7,
  SESSION_READ_WRITE_SO_EXISTS: 0x000000b8,
  SIGNATURE_INVALID: 0x000000c0,
  SIGNATURE_LEN_RANGE: 0x000000c1,
  TEMPLATE_INCOMPLETE: 0x000000d0,
  TEMPLATE_INCONSISTENT: 0x000000d1,
  TOKEN_NOT_PRESENT: 0x000000e0,
  TOKEN_NOT_RECOGNIZED: 0x000000e1,
  TOKEN_WRITE_PROTECTED: 0x000000e2,
  UNWRAPPING_KEY_HANDLE_INVALID: 0x000000f0,
  UNWRAPPING_KEY_SIZE_RANGE: 0x000000f1,
  UNWRAPPING_KEY_TYPE_INCONSISTENT: 0x000000f2,
  USER_ALREADY_LOGGED_IN: 0x00000100,
  USER_NOT_LOGGED_IN: 0x00000101,
  USER_PIN_NOT_INITIALIZED: 0x00000102,
  USER_TYPE_INVALID: 0x00000103,
  USER_ANOTHER_ALREADY_LOGGED_IN: 0x00000104,
  USER_TOO_MANY_TYPES: 0x00000105,
  WRAPPED_KEY_INVALID: 0x00000110,
  WRAPPED_KEY_LEN_RANGE: 0x00000112,
  WRAPPING_KEY_HANDLE_INVALID: 0x00000113,
  WRAPPING_KEY_SIZE_RANGE: 0x00000114,
  WRAPPING_KEY_TYPE_INCONSISTENT: 0x00000115,
  RANDOM_SEED_NOT_SUPPORTED: 0x00000120,
  RANDOM_NO_RNG: 0x00000121,
  DOMAIN_PARAMS_INVALID: 0x00000130,
  CURVE_NOT_SUPPORTED: 0x00000140,
  BUFFER_TOO_SMALL: 0x00000150,
  SAVED_STATE_INVALID: 0x00000160,
  INFORMATION_SENSITIVE: 0x00000170,
  STATE_UNSAVEABLE: 0x00000180,
  CRYPTOKI_NOT_INITIALIZED: 0x00000190,
  CRYPTOKI_ALREADY_INITIALIZED: 0x00000191,
  MUTEX_BAD: 0x000001a0,
  MUTEX_NOT_LOCKED: 0x000001a1,
  NEW_PIN_MODE: 0x000001b0,
  NEXT_OTP: 0x000001b1,
  EXCEEDED_MAX_ITERATIONS: 0x000001b5,
  FIPS_SELF_TEST_FAILED: 0x000001b6,
  LIBRARY_LOAD_FAILED: 0x000001b7,
  PIN_TOO_WEAK: 0x000001b8,
  PUBLIC_KEY_INVALID: 0x000001b9,
  FUNCTION_REJECTED: 0x00000200,
  TOKEN_RESOURCE_EXCEEDED: 0x00000201,
  OPERATION_CANCEL_FAILED: 0x00000202,
  KEY_EXHAUSTED: 0x00000203,
  VENDOR_DEFINED: 0x80000000,
} as const);
/** One `ReturnValue` code (vendor codes are plain numbers from `VENDOR_DEFINED` up). */
export type ReturnValue = (typeof ReturnValue)[keyof typeof ReturnValue];

// ---------------------------------------------------------------------------------------------
// Mechanism parameter values
// ---------------------------------------------------------------------------------------------

/**
 * `CK_RSA_PKCS_MGF_TYPE` (CKG_MGF1_*): the mask generation function of RSA OAEP and PSS parameters,
 * named by its hash (`CKG_MGF1_SHA256` is `MGF.SHA256`).
 */
export const MGF = family('CKG_MGF1_', 'values', {
  SHA1: 0x00000001,
  SHA256: 0x00000002,
  SHA384: 0x00000003,
  SHA512: 0x00000004,
  SHA224: 0x00000005,
  SHA3_224: 0x00000006,
  SHA3_256: 0x00000007,
  SHA3_384: 0x00000008,
  SHA3_512: 0x00000009,
} as const);
/** One `MGF` value. */
export type MGF = (typeof MGF)[keyof typeof MGF];

/**
 * `CK_GENERATOR_FUNCTION` (CKG_*): how the IV or nonce of message-based AEAD
 * (`CK_GCM_MESSAGE_PARAMS`, `CK_CCM_MESSAGE_PARAMS`) is produced.
 */
export const Generator = family('CKG_', 'values', {
  NO_GENERATE: 0x00000000,
  GENERATE: 0x00000001,
  GENERATE_COUNTER: 0x00000002,
  GENERATE_RANDOM: 0x00000003,
  GENERATE_COUNTER_XOR: 0x00000004,
} as const);
/** One `Generator` value. */
export type Generator = (typeof Generator)[keyof typeof Generator];

/** `CK_RSA_PKCS_OAEP_SOURCE_TYPE` (CKZ_*): the source of the OAEP label. */
export const OaepSource = family('CKZ_', 'values', {
  DATA_SPECIFIED: 0x00000001,
} as const);
/** One `OaepSource` value. */
export type OaepSource = (typeof OaepSource)[keyof typeof OaepSource];

/** `CK_PKCS5_PBKDF2_SALT_SOURCE_TYPE` (CKZ_*): the source of the PBKDF2 salt. */
export const SaltSource = family('CKZ_', 'values', {
  SALT_SPECIFIED: 0x00000001,
} as const);
/** One `SaltSource` value. */
export type SaltSource = (typeof SaltSource)[keyof typeof SaltSource];

/**
 * `CK_EC_KDF_TYPE` / `CK_X9_42_DH_KDF_TYPE` (CKD_*): the key derivation function applied to an ECDH
 * or X9.42 DH shared secret. `KDF.NULL` hands the raw secret over.
 *
 * @example
 * ```ts
 * const params = { kdf: KDF.SHA256_KDF, sharedData: new Uint8Array(0), publicData: point };
 * ```
 */
export const KDF = family('CKD_', 'values', {
  NULL: 0x00000001,
  SHA1_KDF: 0x00000002,
  SHA1_KDF_ASN1: 0x00000003,
  SHA1_KDF_CONCATENATE: 0x00000004,
  SHA224_KDF: 0x00000005,
  SHA256_KDF: 0x00000006,
  SHA384_KDF: 0x00000007,
  SHA512_KDF: 0x00000008,
  CPDIVERSIFY_KDF: 0x00000009,
  SHA3_224_KDF: 0x0000000a,
  SHA3_256_KDF: 0x0000000b,
  SHA3_384_KDF: 0x0000000c,
  SHA3_512_KDF: 0x0000000d,
  SHA1_KDF_SP800: 0x0000000e,
  SHA224_KDF_SP800: 0x0000000f,
  SHA256_KDF_SP800: 0x00000010,
  SHA384_KDF_SP800: 0x00000011,
  SHA512_KDF_SP800: 0x00000012,
  SHA3_224_KDF_SP800: 0x00000013,
  SHA3_256_KDF_SP800: 0x00000014,
  SHA3_384_KDF_SP800: 0x00000015,
  SHA3_512_KDF_SP800: 0x00000016,
  BLAKE2B_160_KDF: 0x00000017,
  BLAKE2B_256_KDF: 0x00000018,
  BLAKE2B_384_KDF: 0x00000019,
  BLAKE2B_512_KDF: 0x0000001a,
} as const);
/** One `KDF` value. */
export type KDF = (typeof KDF)[keyof typeof KDF];

/**
 * `CK_PKCS5_PBKD2_PSEUDO_RANDOM_FUNCTION_TYPE` (CKP_PKCS5_PBKD2_HMAC_*): the PRF of PBKDF2, named
 * by its hash (`CKP_PKCS5_PBKD2_HMAC_SHA256` is `Pbkd2Prf.SHA256`).
 */
export const Pbkd2Prf = family('CKP_PKCS5_PBKD2_HMAC_', 'values', {
  SHA1: 0x00000001,
  GOSTR3411: 0x00000002,
  SHA224: 0x00000003,
  SHA256: 0x00000004,
  SHA384: 0x00000005,
  SHA512: 0x00000006,
  SHA512_224: 0x00000007,
  SHA512_256: 0x00000008,
} as const);
/** One `Pbkd2Prf` value. */
export type Pbkd2Prf = (typeof Pbkd2Prf)[keyof typeof Pbkd2Prf];

/** `CK_PRF_DATA_TYPE` (CK_SP800_108_*): the `type` of one `CK_PRF_DATA_PARAM` of the SP 800-108 KDFs. */
export const PrfDataType = family(
  'CK_SP800_108_',
  'values',
  {
    ITERATION_VARIABLE: 0x00000001,
    OPTIONAL_COUNTER: 0x00000002,
    /** @deprecated second name of `OPTIONAL_COUNTER`. */
    COUNTER: 0x00000002,
    DKM_LENGTH: 0x00000003,
    BYTE_ARRAY: 0x00000004,
  } as const,
  ['COUNTER'],
);
/** One `PrfDataType` value. */
export type PrfDataType = (typeof PrfDataType)[keyof typeof PrfDataType];

/**
 * `CK_SP800_108_DKM_LENGTH_METHOD` (CK_SP800_108_DKM_LENGTH_*): how the derived-keying-material
 * length field of an SP 800-108 KDF is computed.
 */
export const DkmLengthMethod = family('CK_SP800_108_DKM_LENGTH_', 'values', {
  SUM_OF_KEYS: 0x00000001,
  SUM_OF_SEGMENTS: 0x00000002,
} as const);
/** One `DkmLengthMethod` value. */
export type DkmLengthMethod = (typeof DkmLengthMethod)[keyof typeof DkmLengthMethod];
