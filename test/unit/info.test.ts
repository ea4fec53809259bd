// The info structs a module fills in: blank-padded UTF-8 text comes back trimmed, versions as
// { major, minor }, and counts of CK_UNAVAILABLE_INFORMATION as undefined.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ULONG_MAX, allocBuffer, writeULong, type StructLayout } from '../../src/sys/abi.js';
import { SessionFlag, SessionState, TokenFlag } from '../../src/sys/constants.js';
import {
  CK_INFO,
  CK_MECHANISM_INFO,
  CK_SESSION_INFO,
  CK_SLOT_INFO,
  CK_TOKEN_INFO,
  decodeLibraryInfo,
  decodeMechanismInfo,
  decodeSessionInfo,
  decodeSlotInfo,
  decodeTokenInfo,
} from '../../src/core/info.js';

/** Fills a struct buffer the way a module does: text blank-padded, numbers as CK_ULONG, versions as two bytes. */
function fill<K extends string>(
  shape: StructLayout<K>,
  values: Partial<Record<K, string | number | bigint | [number, number]>>,
): Buffer {
  const buf = allocBuffer(shape.size);
  for (const [name, value] of Object.entries(values) as [K, string | number | bigint | [number, number]][]) {
    const { offset, size, kind } = shape.fields[name];
    if (typeof value === 'string') {
      const text = Buffer.from(value, 'utf8');
      assert.ok(text.length <= size, `${name} fits`);
      buf.fill(0x20, offset, offset + size);
      text.copy(buf, offset);
    } else if (Array.isArray(value)) {
      buf[offset] = value[0];
      buf[offset + 1] = value[1];
    } else {
      assert.equal(kind, 'ulong');
      writeULong(buf, offset, value);
    }
  }
  return buf;
}

describe('CK_TOKEN_INFO', () => {
  const base = {
    label: 'my token',
    manufacturerID: 'SoftHSM project',
    model: 'SoftHSM v2',
    serialNumber: 'bca0d055d4374d68',
    flags: TokenFlag.RNG | TokenFlag.LOGIN_REQUIRED | TokenFlag.TOKEN_INITIALIZED,
    ulMaxSessionCount: 0,
    ulSessionCount: 3,
    ulMaxRwSessionCount: 0,
    ulRwSessionCount: 1,
    ulMaxPinLen: 255,
    ulMinPinLen: 4,
    ulTotalPublicMemory: ULONG_MAX,
    ulFreePublicMemory: ULONG_MAX,
    ulTotalPrivateMemory: ULONG_MAX,
    ulFreePrivateMemory: ULONG_MAX,
    hardwareVersion: [2, 6] as [number, number],
    firmwareVersion: [2, 6] as [number, number],
    utcTime: '',
  };

  test('text is trimmed, counts are numbers, unavailable counts are undefined', () => {
    const info = decodeTokenInfo(fill(CK_TOKEN_INFO, base));
    assert.deepEqual(info, {
      label: 'my token',
      manufacturerId: 'SoftHSM project',
      model: 'SoftHSM v2',
      serialNumber: 'bca0d055d4374d68',
      flags: TokenFlag.RNG | TokenFlag.LOGIN_REQUIRED | TokenFlag.TOKEN_INITIALIZED,
      maxSessionCount: 0,
      sessionCount: 3,
      maxRwSessionCount: 0,
      rwSessionCount: 1,
      maxPinLength: 255,
      minPinLength: 4,
      totalPublicMemory: undefined,
      freePublicMemory: undefined,
      totalPrivateMemory: undefined,
      freePrivateMemory: undefined,
      hardwareVersion: { major: 2, minor: 6 },
      firmwareVersion: { major: 2, minor: 6 },
      utcTime: '',
    });
  });

  test('a label using all 32 bytes, multi-byte UTF-8 included, is kept whole', () => {
    const label = 'Ünïcödé-tøken-ÄÖÜ-abcdef'; // 32 bytes of UTF-8
    assert.equal(Buffer.byteLength(label), 32);
    assert.equal(decodeTokenInfo(fill(CK_TOKEN_INFO, { ...base, label })).label, label);
  });

  test('inner blanks stay, trailing blanks and NULs go', () => {
    const buf = fill(CK_TOKEN_INFO, { ...base, label: 'a  b' });
    buf[CK_TOKEN_INFO.fields.label.offset + 10] = 0; // some modules pad with NULs
    assert.equal(decodeTokenInfo(buf).label, 'a  b');
  });

  test('a clock reads as its 16 characters', () => {
    assert.equal(
      decodeTokenInfo(fill(CK_TOKEN_INFO, { ...base, utcTime: '2024022912000000' })).utcTime,
      '2024022912000000',
    );
  });

  test('a large but available count stays a number', () => {
    const info = decodeTokenInfo(fill(CK_TOKEN_INFO, { ...base, ulFreePrivateMemory: 2 ** 40 }));
    assert.equal(info.freePrivateMemory, 2 ** 40);
  });
});

describe('other info structs', () => {
  test('CK_INFO', () => {
    const info = decodeLibraryInfo(
      fill(CK_INFO, {
        cryptokiVersion: [2, 40],
        manufacturerID: 'SoftHSM',
        flags: 0,
        libraryDescription: 'Implementation of PKCS11',
        libraryVersion: [2, 6],
      }),
    );
    assert.deepEqual(info, {
      cryptokiVersion: { major: 2, minor: 40 },
      manufacturerId: 'SoftHSM',
      flags: 0,
      libraryDescription: 'Implementation of PKCS11',
      libraryVersion: { major: 2, minor: 6 },
    });
  });

  test('CK_SLOT_INFO', () => {
    const info = decodeSlotInfo(
      fill(CK_SLOT_INFO, {
        slotDescription: 'SoftHSM slot ID 0x5437a5cf',
        manufacturerID: 'SoftHSM project',
        flags: 1,
        hardwareVersion: [2, 6],
        firmwareVersion: [0, 1],
      }),
    );
    assert.equal(info.slotDescription, 'SoftHSM slot ID 0x5437a5cf');
    assert.equal(info.manufacturerId, 'SoftHSM project');
    assert.equal(info.flags, 1);
    assert.deepEqual(info.firmwareVersion, { major: 0, minor: 1 });
  });

  test('CK_SESSION_INFO keeps a 64-bit slot id exact', () => {
    const info = decodeSessionInfo(
      fill(CK_SESSION_INFO, {
        slotID: 0xfedcba9876543210n & ULONG_MAX,
        state: SessionState.RW_USER_FUNCTIONS,
        flags: SessionFlag.RW_SESSION | SessionFlag.SERIAL_SESSION,
        ulDeviceError: 0,
      }),
    );
    assert.equal(info.slotId, 0xfedcba9876543210n & ULONG_MAX);
    assert.equal(info.state, SessionState.RW_USER_FUNCTIONS);
    assert.equal(info.flags, SessionFlag.RW_SESSION | SessionFlag.SERIAL_SESSION);
  });

  test('CK_MECHANISM_INFO', () => {
    const info = decodeMechanismInfo(
      fill(CK_MECHANISM_INFO, { ulMinKeySize: 512, ulMaxKeySize: 16384, flags: 0x2800 }),
    );
    assert.deepEqual(info, { minKeySize: 512, maxKeySize: 16384, flags: 0x2800 });
  });
});
