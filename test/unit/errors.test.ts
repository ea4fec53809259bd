// Pkcs11Error and the library's own error classes: rv, code and fn, the message format of
// DESIGN.md (`C_Login: CKR_PIN_INCORRECT (0xa0)`), every CKR code of the standard by its name (the
// list written out from PKCS#11 3.1, not read from our constants), vendor and unknown codes as hex.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ReturnValue } from '../../src/sys/constants.js';
import { nameOf } from '../../src/sys/names.js';
import {
  ModuleLoadError,
  MultipleObjectsError,
  MultipleTokensError,
  NoSuchKeyError,
  NoSuchTokenError,
  NotSupportedError,
  Pkcs11Error,
  check,
} from '../../src/core/errors.js';

/** The CKR codes of PKCS#11 3.1 with their spec names, written out from the standard. */
// prettier-ignore
const STANDARD_RETURN_VALUES: readonly [number, string][] = [
  [0x000, 'CKR_OK'], [0x001, 'CKR_CANCEL'], [0x002, 'CKR_HOST_MEMORY'], [0x003, 'CKR_SLOT_ID_INVALID'],
  [0x005, 'CKR_GENERAL_ERROR'], [0x006, 'CKR_FUNCTION_FAILED'], [0x007, 'CKR_ARGUMENTS_BAD'],
  [0x008, 'CKR_NO_EVENT'], [0x009, 'CKR_NEED_TO_CREATE_THREADS'], [0x00a, 'CKR_CANT_LOCK'],
  [0x010, 'CKR_ATTRIBUTE_READ_ONLY'], [0x011, 'CKR_ATTRIBUTE_SENSITIVE'], [0x012, 'CKR_ATTRIBUTE_TYPE_INVALID'],
  [0x013, 'CKR_ATTRIBUTE_VALUE_INVALID'], [0x01b, 'CKR_ACTION_PROHIBITED'], [0x020, 'CKR_DATA_INVALID'],
  [0x021, 'CKR_DATA_LEN_RANGE'], [0x030, 'CKR_DEVICE_ERROR'], [0x031, 'CKR_DEVICE_MEMORY'],
  [0x032, 'CKR_DEVICE_REMOVED'], [0x040, 'CKR_ENCRYPTED_DATA_INVALID'], [0x041, 'CKR_ENCRYPTED_DATA_LEN_RANGE'],
  [0x042, 'CKR_AEAD_DECRYPT_FAILED'], [0x050, 'CKR_FUNCTION_CANCELED'], [0x051, 'CKR_FUNCTION_NOT_PARALLEL'],
  [0x054, 'CKR_FUNCTION_NOT_SUPPORTED'], [0x060, 'CKR_KEY_HANDLE_INVALID'], [0x062, 'CKR_KEY_SIZE_RANGE'],
  [0x063, 'CKR_KEY_TYPE_INCONSISTENT'], [0x064, 'CKR_KEY_NOT_NEEDED'], [0x065, 'CKR_KEY_CHANGED'],
  [0x066, 'CKR_KEY_NEEDED'], [0x067, 'CKR_KEY_INDIGESTIBLE'], [0x068, 'CKR_KEY_FUNCTION_NOT_PERMITTED'],
  [0x069, 'CKR_KEY_NOT_WRAPPABLE'], [0x06a, 'CKR_KEY_UNEXTRACTABLE'], [0x070, 'CKR_MECHANISM_INVALID'],
  [0x071, 'CKR_MECHANISM_PARAM_INVALID'], [0x082, 'CKR_OBJECT_HANDLE_INVALID'], [0x090, 'CKR_OPERATION_ACTIVE'],
  [0x091, 'CKR_OPERATION_NOT_INITIALIZED'], [0x0a0, 'CKR_PIN_INCORRECT'], [0x0a1, 'CKR_PIN_INVALID'],
  [0x0a2, 'CKR_PIN_LEN_RANGE'], [0x0a3, 'CKR_PIN_EXPIRED'], [0x0a4, 'CKR_PIN_LOCKED'],
  [0x0b0, 'CKR_SESSION_CLOSED'], [0x0b1, 'CKR_SESSION_COUNT'], [0x0b3, 'CKR_SESSION_HANDLE_INVALID'],
  [0x0b4, 'CKR_SESSION_PARALLEL_NOT_SUPPORTED'], [0x0b5, 'CKR_SESSION_READ_ONLY'], [0x0b6, 'CKR_SESSION_EXISTS'],
  [0x0b7, 'CKR_SESSION_READ_ONLY_EXISTS'], [0x0b8, 'CKR_SESSION_READ_WRITE_SO_EXISTS'],
  [0x0c0, 'CKR_SIGNATURE_INVALID'], [0x0c1, 'CKR_SIGNATURE_LEN_RANGE'], [0x0d0, 'CKR_TEMPLATE_INCOMPLETE'],
  [0x0d1, 'CKR_TEMPLATE_INCONSISTENT'], [0x0e0, 'CKR_TOKEN_NOT_PRESENT'], [0x0e1, 'CKR_TOKEN_NOT_RECOGNIZED'],
  [0x0e2, 'CKR_TOKEN_WRITE_PROTECTED'], [0x0f0, 'CKR_UNWRAPPING_KEY_HANDLE_INVALID'],
  [0x0f1, 'CKR_UNWRAPPING_KEY_SIZE_RANGE'], [0x0f2, 'CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT'],
  [0x100, 'CKR_USER_ALREADY_LOGGED_IN'], [0x101, 'CKR_USER_NOT_LOGGED_IN'], [0x102, 'CKR_USER_PIN_NOT_INITIALIZED'],
  [0x103, 'CKR_USER_TYPE_INVALID'], [0x104, 'CKR_USER_ANOTHER_ALREADY_LOGGED_IN'], [0x105, 'CKR_USER_TOO_MANY_TYPES'],
  [0x110, 'CKR_WRAPPED_KEY_INVALID'], [0x112, 'CKR_WRAPPED_KEY_LEN_RANGE'], [0x113, 'CKR_WRAPPING_KEY_HANDLE_INVALID'],
  [0x114, 'CKR_WRAPPING_KEY_SIZE_RANGE'], [0x115, 'CKR_WRAPPING_KEY_TYPE_INCONSISTENT'],
  [0x120, 'CKR_RANDOM_SEED_NOT_SUPPORTED'], [0x121, 'CKR_RANDOM_NO_RNG'], [0x130, 'CKR_DOMAIN_PARAMS_INVALID'],
  [0x140, 'CKR_CURVE_NOT_SUPPORTED'], [0x150, 'CKR_BUFFER_TOO_SMALL'], [0x160, 'CKR_SAVED_STATE_INVALID'],
  [0x170, 'CKR_INFORMATION_SENSITIVE'], [0x180, 'CKR_STATE_UNSAVEABLE'], [0x190, 'CKR_CRYPTOKI_NOT_INITIALIZED'],
  [0x191, 'CKR_CRYPTOKI_ALREADY_INITIALIZED'], [0x1a0, 'CKR_MUTEX_BAD'], [0x1a1, 'CKR_MUTEX_NOT_LOCKED'],
  [0x1b0, 'CKR_NEW_PIN_MODE'], [0x1b1, 'CKR_NEXT_OTP'], [0x1b5, 'CKR_EXCEEDED_MAX_ITERATIONS'],
  [0x1b6, 'CKR_FIPS_SELF_TEST_FAILED'], [0x1b7, 'CKR_LIBRARY_LOAD_FAILED'], [0x1b8, 'CKR_PIN_TOO_WEAK'],
  [0x1b9, 'CKR_PUBLIC_KEY_INVALID'], [0x200, 'CKR_FUNCTION_REJECTED'], [0x201, 'CKR_TOKEN_RESOURCE_EXCEEDED'],
  [0x202, 'CKR_OPERATION_CANCEL_FAILED'], [0x203, 'CKR_KEY_EXHAUSTED'], [0x8000_0000, 'CKR_VENDOR_DEFINED'],
];

describe('Pkcs11Error', () => {
  const named: [string, number, string, string][] = [
    ['C_Login', 0xa0, 'CKR_PIN_INCORRECT', 'C_Login: CKR_PIN_INCORRECT (0xa0)'],
    ['C_SignInit', 0x90, 'CKR_OPERATION_ACTIVE', 'C_SignInit: CKR_OPERATION_ACTIVE (0x90)'],
    ['C_Sign', 0xb0, 'CKR_SESSION_CLOSED', 'C_Sign: CKR_SESSION_CLOSED (0xb0)'],
    [
      'C_GetAttributeValue',
      0x11,
      'CKR_ATTRIBUTE_SENSITIVE',
      'C_GetAttributeValue: CKR_ATTRIBUTE_SENSITIVE (0x11)',
    ],
    ['C_Encrypt', 0x150, 'CKR_BUFFER_TOO_SMALL', 'C_Encrypt: CKR_BUFFER_TOO_SMALL (0x150)'],
    [
      'C_Initialize',
      0x191,
      'CKR_CRYPTOKI_ALREADY_INITIALIZED',
      'C_Initialize: CKR_CRYPTOKI_ALREADY_INITIALIZED (0x191)',
    ],
    ['C_GenerateKeyPair', 0x5, 'CKR_GENERAL_ERROR', 'C_GenerateKeyPair: CKR_GENERAL_ERROR (0x5)'],
    [
      'C_MessageEncryptInit',
      0x54,
      'CKR_FUNCTION_NOT_SUPPORTED',
      'C_MessageEncryptInit: CKR_FUNCTION_NOT_SUPPORTED (0x54)',
    ],
    [
      'C_SessionCancel',
      0x202,
      'CKR_OPERATION_CANCEL_FAILED',
      'C_SessionCancel: CKR_OPERATION_CANCEL_FAILED (0x202)',
    ],
    ['C_SetPIN', 0x1b8, 'CKR_PIN_TOO_WEAK', 'C_SetPIN: CKR_PIN_TOO_WEAK (0x1b8)'],
  ];
  for (const [fn, rv, code, message] of named) {
    test(`${code} from ${fn}`, () => {
      const e = new Pkcs11Error(fn, rv);
      assert.ok(e instanceof Error);
      assert.equal(e.name, 'Pkcs11Error');
      assert.equal(e.rv, rv);
      assert.equal(e.code, code);
      assert.equal(e.fn, fn);
      assert.equal(e.message, message);
      assert.equal(ReturnValue[code.slice('CKR_'.length) as keyof typeof ReturnValue], rv);
    });
  }

  test('every CKR code of the standard has its name, in the code and in the message', () => {
    for (const [value, name] of STANDARD_RETURN_VALUES) {
      assert.equal(nameOf(ReturnValue, value), name);
      const error = new Pkcs11Error('C_Test', value);
      assert.equal(error.code, name);
      assert.equal(error.message, `C_Test: ${name} (0x${value.toString(16)})`);
    }
    assert.equal(new Pkcs11Error('C_Test', 0x8000_0001).code, '0x80000001');
  });

  test('vendor codes keep a hex code and say they are vendor-defined', () => {
    const e = new Pkcs11Error('C_Sign', 0x80000001);
    assert.equal(e.rv, 0x80000001);
    assert.equal(e.code, '0x80000001');
    assert.equal(e.message, 'C_Sign: vendor-defined return value 0x80000001');
    assert.equal(new Pkcs11Error('C_Sign', 0x8000abcd).code, '0x8000abcd');
  });

  test('codes the spec does not name are hex and said to be unknown', () => {
    const e = new Pkcs11Error('C_Digest', 0x1234);
    assert.equal(e.code, '0x1234');
    assert.equal(e.message, 'C_Digest: unknown return value 0x1234');
  });

  test('a detail is appended after the code', () => {
    const e = new Pkcs11Error('C_GetAttributeValue', ReturnValue.BUFFER_TOO_SMALL, 'sizes kept changing');
    assert.equal(e.message, 'C_GetAttributeValue: CKR_BUFFER_TOO_SMALL (0x150): sizes kept changing');
  });

  test('a value no CK_RV can be (a broken module) still gives a readable error', () => {
    for (const rv of [-1, 2 ** 64, NaN]) {
      const e = new Pkcs11Error('C_Sign', rv);
      assert.equal(e.rv, Number.isNaN(rv) ? NaN : rv);
      assert.match(e.message, /^C_Sign: invalid return value/);
    }
  });

  test('the stack points at the throw site', () => {
    const e = new Pkcs11Error('C_Login', ReturnValue.PIN_INCORRECT);
    assert.match(e.stack ?? '', /errors\.test\.ts/);
  });
});

describe('check', () => {
  test('CKR_OK passes, anything else throws a Pkcs11Error naming the function', () => {
    assert.doesNotThrow(() => check('C_Logout', ReturnValue.OK));
    assert.throws(() => check('C_Logout', ReturnValue.USER_NOT_LOGGED_IN), {
      name: 'Pkcs11Error',
      fn: 'C_Logout',
      rv: 0x101,
      code: 'CKR_USER_NOT_LOGGED_IN',
    });
  });
});

describe('library-side errors', () => {
  test('each has its own name and is an Error', () => {
    const classes = [
      NoSuchTokenError,
      MultipleTokensError,
      NoSuchKeyError,
      MultipleObjectsError,
      NotSupportedError,
    ];
    for (const Class of classes) {
      const e = new Class('why');
      assert.ok(e instanceof Error);
      assert.equal(e.name, Class.name);
      assert.equal(e.message, 'why');
      assert.ok(!(e instanceof Pkcs11Error));
    }
  });

  test('ModuleLoadError carries the Cryptoki error as its cause', () => {
    const cause = new Pkcs11Error('C_Initialize', ReturnValue.ARGUMENTS_BAD);
    const e = new ModuleLoadError('C_Initialize of x.so failed', cause);
    assert.equal(e.name, 'ModuleLoadError');
    assert.equal(e.cause, cause);
    assert.equal(new ModuleLoadError('no such file').cause, undefined);
  });
});
