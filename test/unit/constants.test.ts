import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as constants from '../../src/sys/constants.js';
import {
  Attribute,
  AttributeFlag,
  CertificateType,
  EFFECTIVELY_INFINITE,
  Generator,
  HardwareFeature,
  HkdfSaltType,
  INVALID_HANDLE,
  InitializeFlag,
  KDF,
  KeyType,
  MGF,
  Mechanism,
  MechanismFlag,
  ObjectClass,
  OtpParam,
  Pbkd2Prf,
  PrfDataType,
  Profile,
  ReturnValue,
  SaltSource,
  OaepSource,
  SessionFlag,
  SessionState,
  SlotFlag,
  TokenFlag,
  UNAVAILABLE_INFORMATION,
  UserType,
  familyInfo,
} from '../../src/sys/constants.js';
import { flagNames, hex, nameOf, type ConstantFamily } from '../../src/sys/names.js';

/** Every registered family exported by constants.ts, by export name. */
const families = Object.entries(constants).flatMap(([name, value]) => {
  const info = familyInfo(value);
  return info === undefined ? [] : [{ name, family: value as ConstantFamily, info }];
});

describe('constants', () => {
  test('the exported families are exactly the documented ones', () => {
    assert.deepEqual(
      families.map((f) => f.name).sort(),
      [
        'Attribute',
        'AttributeFlag',
        'CertificateCategory',
        'CertificateType',
        'DkmLengthMethod',
        'Generator',
        'HardwareFeature',
        'HkdfSaltType',
        'InitializeFlag',
        'InterfaceFlag',
        'KDF',
        'KeyType',
        'MGF',
        'MechanismFlag',
        'Mechanism',
        'MessageFlag',
        'Notification',
        'OaepSource',
        'ObjectClass',
        'OtpFlag',
        'OtpFormat',
        'OtpParam',
        'OtpRequirement',
        'Pbkd2Prf',
        'PrfDataType',
        'Profile',
        'ReturnValue',
        'SaltSource',
        'SecurityDomain',
        'SessionFlag',
        'SessionState',
        'SlotFlag',
        'TokenFlag',
        'UserType',
        'WaitFlag',
      ].sort(),
    );
  });

  // Values as printed in OASIS pkcs11t.h v3.1 (3.0 and 3.1 additions marked).
  const spec: [ConstantFamily, string, number][] = [
    [Attribute, 'CLASS', 0x0],
    [Attribute, 'VALUE', 0x11],
    [Attribute, 'KEY_TYPE', 0x100],
    [Attribute, 'MODULUS_BITS', 0x121],
    [Attribute, 'EC_PARAMS', 0x180],
    [Attribute, 'EC_POINT', 0x181],
    [Attribute, 'WRAP_TEMPLATE', 0x40000211],
    [Attribute, 'DERIVE_TEMPLATE', 0x40000213],
    [Attribute, 'ALLOWED_MECHANISMS', 0x40000600],
    [Attribute, 'UNIQUE_ID', 0x4], // 3.0
    [Attribute, 'PROFILE_ID', 0x601], // 3.0
    [Attribute, 'X2RATCHET_ISALICE', 0x60c], // 3.0
    [Attribute, 'HSS_KEYS_REMAINING', 0x61c], // 3.1
    [Attribute, 'VENDOR_DEFINED', 0x80000000],
    [Mechanism, 'RSA_PKCS', 0x1],
    [Mechanism, 'RSA_PKCS_OAEP', 0x9],
    [Mechanism, 'SHA256_RSA_PKCS_PSS', 0x43],
    [Mechanism, 'SHA_1', 0x220],
    [Mechanism, 'EC_KEY_PAIR_GEN', 0x1040],
    [Mechanism, 'ECDSA', 0x1041],
    [Mechanism, 'ECDSA_SHA256', 0x1044],
    [Mechanism, 'ECDH1_DERIVE', 0x1050],
    [Mechanism, 'ECDH1_COFACTOR_DERIVE', 0x1051],
    [Mechanism, 'AES_GCM', 0x1087],
    [Mechanism, 'AES_KEY_WRAP_PAD', 0x210a],
    [Mechanism, 'ECDSA_SHA3_224', 0x1047], // 3.0
    [Mechanism, 'EC_EDWARDS_KEY_PAIR_GEN', 0x1055], // 3.0
    [Mechanism, 'EC_MONTGOMERY_KEY_PAIR_GEN', 0x1056], // 3.0
    [Mechanism, 'EDDSA', 0x1057], // 3.0
    [Mechanism, 'XEDDSA', 0x4029], // 3.0
    [Mechanism, 'HKDF_DERIVE', 0x402a], // 3.0
    [Mechanism, 'SP800_108_COUNTER_KDF', 0x3ac], // 3.0
    [Mechanism, 'IKE2_PRF_PLUS_DERIVE', 0x402e], // 3.1
    [Mechanism, 'HSS', 0x4033], // 3.1
    [Mechanism, 'VENDOR_DEFINED', 0x80000000],
    [KeyType, 'RSA', 0x0],
    [KeyType, 'EC', 0x3],
    [KeyType, 'X9_42_DH', 0x4],
    [KeyType, 'GENERIC_SECRET', 0x10],
    [KeyType, 'AES', 0x1f],
    [KeyType, 'EC_EDWARDS', 0x40], // 3.0
    [KeyType, 'EC_MONTGOMERY', 0x41], // 3.0
    [KeyType, 'HSS', 0x46], // 3.1
    [ObjectClass, 'PRIVATE_KEY', 0x3],
    [ObjectClass, 'DOMAIN_PARAMETERS', 0x6],
    [ObjectClass, 'PROFILE', 0x9], // 3.0
    [ReturnValue, 'OK', 0x0],
    [ReturnValue, 'PIN_INCORRECT', 0xa0],
    [ReturnValue, 'SIGNATURE_INVALID', 0xc0],
    [ReturnValue, 'BUFFER_TOO_SMALL', 0x150],
    [ReturnValue, 'CRYPTOKI_ALREADY_INITIALIZED', 0x191],
    [ReturnValue, 'AEAD_DECRYPT_FAILED', 0x42], // 3.0
    [ReturnValue, 'TOKEN_RESOURCE_EXCEEDED', 0x201], // 3.0
    [ReturnValue, 'OPERATION_CANCEL_FAILED', 0x202], // 3.0
    [ReturnValue, 'KEY_EXHAUSTED', 0x203], // 3.1
    [TokenFlag, 'TOKEN_INITIALIZED', 0x400],
    [TokenFlag, 'ERROR_STATE', 0x01000000],
    [SlotFlag, 'HW_SLOT', 0x4],
    [SessionFlag, 'SERIAL_SESSION', 0x4],
    [MechanismFlag, 'MESSAGE_ENCRYPT', 0x2], // 3.0
    [MechanismFlag, 'EC_CURVENAME', 0x04000000], // 3.0
    [MechanismFlag, 'EXTENSION', 0x80000000],
    [InitializeFlag, 'OS_LOCKING_OK', 0x2],
    [AttributeFlag, 'ARRAY_ATTRIBUTE', 0x40000000],
    [HkdfSaltType, 'KEY', 0x4],
    [UserType, 'CONTEXT_SPECIFIC', 2],
    [SessionState, 'RW_SO_FUNCTIONS', 4],
    [CertificateType, 'X_509', 0x0],
    [HardwareFeature, 'USER_INTERFACE', 0x3],
    [Profile, 'HKDF_TLS_TOKEN', 0x6],
    [Pbkd2Prf, 'SHA512_256', 0x8],
    [MGF, 'SHA256', 0x2],
    [MGF, 'SHA3_224', 0x6],
    [Generator, 'GENERATE_COUNTER_XOR', 0x4],
    [OaepSource, 'DATA_SPECIFIED', 0x1],
    [SaltSource, 'SALT_SPECIFIED', 0x1],
    [KDF, 'NULL', 0x1],
    [KDF, 'SHA256_KDF', 0x6],
    [KDF, 'SHA3_512_KDF_SP800', 0x16],
    [KDF, 'BLAKE2B_512_KDF', 0x1a],
    [OtpParam, 'OUTPUT_FORMAT', 7],
    [PrfDataType, 'DKM_LENGTH', 0x3],
  ];
  for (const [family, key, value] of spec) {
    const prefix = familyInfo(family)?.prefix ?? '?';
    test(`${prefix}${key} is ${hex(value)}`, () => {
      assert.equal(family[key], value);
    });
  }

  test('every value is a CK_ULONG that also fits 32 bits', () => {
    for (const { name, family } of families) {
      for (const [key, value] of Object.entries(family)) {
        assert.ok(Number.isInteger(value) && value >= 0 && value <= 0xffffffff, `${name}.${key}`);
      }
    }
  });

  test('families are frozen', () => {
    for (const { name, family } of families) assert.ok(Object.isFrozen(family), name);
  });

  test('only declared aliases share a value, and each alias has a current name', () => {
    for (const { name, family, info } of families) {
      const canonical = new Map<number, string>();
      for (const [key, value] of Object.entries(family)) {
        if (info.aliases.has(key)) continue;
        assert.equal(
          canonical.get(value),
          undefined,
          `${name}.${key} repeats ${name}.${canonical.get(value)}`,
        );
        canonical.set(value, key);
      }
      for (const alias of info.aliases) {
        assert.ok(alias in family, `${name} declares unknown alias ${alias}`);
        assert.ok(canonical.has(family[alias]!), `${name}.${alias} has no current name`);
      }
    }
  });

  test('array attributes and only they carry CKF_ARRAY_ATTRIBUTE', () => {
    const arrays = Object.entries(Attribute)
      .filter(([, value]) => (value & AttributeFlag.ARRAY_ATTRIBUTE) !== 0)
      .map(([key]) => key);
    assert.deepEqual(arrays.sort(), [
      'ALLOWED_MECHANISMS',
      'DERIVE_TEMPLATE',
      'UNWRAP_TEMPLATE',
      'WRAP_TEMPLATE',
    ]);
  });

  test('special values', () => {
    assert.equal(UNAVAILABLE_INFORMATION, 2n ** 64n - 1n);
    assert.equal(EFFECTIVELY_INFINITE, 0);
    assert.equal(INVALID_HANDLE, 0);
  });
});

describe('nameOf', () => {
  test('round-trips every value of every family to its prefixed current name', () => {
    for (const { name, family, info } of families) {
      for (const [key, value] of Object.entries(family)) {
        const printed = nameOf(family, value);
        if (info.aliases.has(key)) {
          assert.notEqual(printed, info.prefix + key, `${name}.${key} is an alias`);
          assert.equal(family[printed.slice(info.prefix.length)], value, `${name}.${key}`);
        } else {
          assert.equal(printed, info.prefix + key, `${name}.${key}`);
        }
      }
    }
  });

  test('gives the spec names', () => {
    assert.equal(nameOf(Mechanism, 0x1041), 'CKM_ECDSA');
    assert.equal(nameOf(ReturnValue, 0xa0), 'CKR_PIN_INCORRECT');
    assert.equal(nameOf(MGF, 0x2), 'CKG_MGF1_SHA256');
    assert.equal(nameOf(Pbkd2Prf, 0x4), 'CKP_PKCS5_PBKD2_HMAC_SHA256');
    assert.equal(nameOf(HkdfSaltType, 0x1), 'CKF_HKDF_SALT_NULL');
    assert.equal(nameOf(OtpParam, 0), 'CK_OTP_VALUE');
  });

  test('prefers the current name over a deprecated alias', () => {
    assert.equal(nameOf(KeyType, 0x3), 'CKK_EC');
    assert.equal(nameOf(Attribute, 0x180), 'CKA_EC_PARAMS');
    assert.equal(nameOf(Mechanism, 0x1040), 'CKM_EC_KEY_PAIR_GEN');
    assert.equal(nameOf(Mechanism, 0x322), 'CKM_CAST128_CBC');
    assert.equal(nameOf(MechanismFlag, 0x00800000), 'CKF_EC_OID');
  });

  test('prints unknown and vendor values as lowercase hex', () => {
    assert.equal(nameOf(Mechanism, 0x80000001), '0x80000001');
    assert.equal(nameOf(ReturnValue, 0x1ff), '0x1ff');
    assert.equal(nameOf(KeyType, 0xffffffff), '0xffffffff');
    assert.equal(nameOf(Attribute, UNAVAILABLE_INFORMATION), '0xffffffffffffffff');
  });

  test('accepts bigint values', () => {
    assert.equal(nameOf(ReturnValue, 0xa0n), 'CKR_PIN_INCORRECT');
  });

  test('rejects what is not a family or not a CK_ULONG', () => {
    assert.throws(() => nameOf({ A: 1 }, 1), { name: 'TypeError', message: /family/ });
    assert.throws(() => nameOf(Mechanism, -1), { name: 'RangeError', message: /value/ });
    assert.throws(() => nameOf(Mechanism, 1.5), { name: 'RangeError', message: /value/ });
    assert.throws(() => nameOf(Mechanism, 2 ** 53), { name: 'RangeError', message: /value/ });
    assert.throws(() => nameOf(Mechanism, -1n), { name: 'RangeError', message: /value/ });
    assert.throws(() => nameOf(Mechanism, '1' as unknown as number), { name: 'TypeError', message: /value/ });
  });
});

describe('hex', () => {
  test('formats CK_ULONGs without padding', () => {
    assert.equal(hex(0), '0x0');
    assert.equal(hex(0xa0), '0xa0');
    assert.equal(hex(0x80000001), '0x80000001');
    assert.equal(hex(UNAVAILABLE_INFORMATION), '0xffffffffffffffff');
    assert.throws(() => hex(-1), { name: 'RangeError', message: /value/ });
  });
});

describe('flagNames', () => {
  test('names the set bits, lowest first', () => {
    assert.deepEqual(flagNames(SessionFlag, 0x6), ['CKF_RW_SESSION', 'CKF_SERIAL_SESSION']);
    assert.deepEqual(
      flagNames(
        TokenFlag,
        TokenFlag.RNG |
          TokenFlag.LOGIN_REQUIRED |
          TokenFlag.USER_PIN_INITIALIZED |
          TokenFlag.TOKEN_INITIALIZED,
      ),
      ['CKF_RNG', 'CKF_LOGIN_REQUIRED', 'CKF_USER_PIN_INITIALIZED', 'CKF_TOKEN_INITIALIZED'],
    );
  });

  test('handles bit 31 and uses current names', () => {
    assert.deepEqual(flagNames(MechanismFlag, 0x80800001), ['CKF_HW', 'CKF_EC_OID', 'CKF_EXTENSION']);
  });

  test('prints unknown bits as hex in place', () => {
    assert.deepEqual(flagNames(SlotFlag, 0x9), ['CKF_TOKEN_PRESENT', '0x8']);
    assert.deepEqual(flagNames(SlotFlag, 2n ** 40n + 2n), ['CKF_REMOVABLE_DEVICE', '0x10000000000']);
  });

  test('gives nothing for no bits', () => {
    assert.deepEqual(flagNames(TokenFlag, 0), []);
  });

  test('names every flag of every flag family', () => {
    for (const { name, family, info } of families) {
      if (info.kind !== 'flags') continue;
      for (const [key, value] of Object.entries(family)) {
        if (!info.aliases.has(key))
          assert.deepEqual(flagNames(family, value), [info.prefix + key], `${name}.${key}`);
      }
    }
  });

  test('rejects value families and bad bits', () => {
    assert.throws(() => flagNames(Mechanism, 1), { name: 'TypeError', message: /flag family/ });
    assert.throws(() => flagNames(TokenFlag, -1), { name: 'RangeError', message: /bits/ });
  });
});
