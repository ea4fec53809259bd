// The C ABI layer: struct layouts (this platform's and Windows' packed(1) shapes), CK_ULONG and
// pointer reads and writes, buffer addresses. koffi's own struct engine is the independent oracle
// for the layouts; the Windows numbers are also written out from the spec's headers.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import koffi, { type TypeObject } from 'koffi';
import {
  POINTER_SIZE,
  STRUCT_PACK,
  ULONG_MAX,
  ULONG_SIZE,
  addressOf,
  allocBuffer,
  layout,
  layoutFor,
  readPointer,
  readULong,
  readULongNumber,
  writeAddress,
  writePointer,
  writeULong,
  type FieldKind,
} from '../../src/sys/abi.js';
import { CK_ATTRIBUTE } from '../../src/core/template.js';
import { CK_MECHANISM } from '../../src/core/mechanism.js';
import {
  CK_INFO,
  CK_MECHANISM_INFO,
  CK_SESSION_INFO,
  CK_SLOT_INFO,
  CK_TOKEN_INFO,
} from '../../src/core/info.js';

type Members = Record<string, FieldKind>;

/** The member lists of the structs the tests check, written out from pkcs11t.h. */
const STRUCTS = {
  CK_ATTRIBUTE: { type: 'ulong', pValue: 'pointer', ulValueLen: 'ulong' },
  CK_MECHANISM: { mechanism: 'ulong', pParameter: 'pointer', ulParameterLen: 'ulong' },
  CK_INFO: {
    cryptokiVersion: 'version',
    manufacturerID: 'bytes:32',
    flags: 'ulong',
    libraryDescription: 'bytes:32',
    libraryVersion: 'version',
  },
  CK_SLOT_INFO: {
    slotDescription: 'bytes:64',
    manufacturerID: 'bytes:32',
    flags: 'ulong',
    hardwareVersion: 'version',
    firmwareVersion: 'version',
  },
  CK_TOKEN_INFO: {
    label: 'bytes:32',
    manufacturerID: 'bytes:32',
    model: 'bytes:16',
    serialNumber: 'bytes:16',
    flags: 'ulong',
    ulMaxSessionCount: 'ulong',
    ulSessionCount: 'ulong',
    ulMaxRwSessionCount: 'ulong',
    ulRwSessionCount: 'ulong',
    ulMaxPinLen: 'ulong',
    ulMinPinLen: 'ulong',
    ulTotalPublicMemory: 'ulong',
    ulFreePublicMemory: 'ulong',
    ulTotalPrivateMemory: 'ulong',
    ulFreePrivateMemory: 'ulong',
    hardwareVersion: 'version',
    firmwareVersion: 'version',
    utcTime: 'bytes:16',
  },
  CK_SESSION_INFO: { slotID: 'ulong', state: 'ulong', flags: 'ulong', ulDeviceError: 'ulong' },
  CK_MECHANISM_INFO: { ulMinKeySize: 'ulong', ulMaxKeySize: 'ulong', flags: 'ulong' },
  CK_GCM_PARAMS: {
    pIv: 'pointer',
    ulIvLen: 'ulong',
    ulIvBits: 'ulong',
    pAAD: 'pointer',
    ulAADLen: 'ulong',
    ulTagBits: 'ulong',
  },
  CK_EDDSA_PARAMS: { phFlag: 'byte', ulContextDataLen: 'ulong', pContextData: 'pointer' },
  CK_AES_CBC_ENCRYPT_DATA_PARAMS: { iv: 'bytes:16', pData: 'pointer', length: 'ulong' },
} satisfies Record<string, Members>;

/** The same struct as a koffi type: natural alignment, or packed(1) with `pack`. */
function koffiStruct(members: Members, ulong: string, pack: boolean): TypeObject {
  const version = koffi.struct({ major: 'uint8_t', minor: 'uint8_t' });
  const def: Record<string, string | TypeObject> = {};
  for (const [name, kind] of Object.entries(members)) {
    if (kind === 'ulong') def[name] = ulong;
    else if (kind === 'pointer') def[name] = 'void *';
    else if (kind === 'byte') def[name] = 'uint8_t';
    else if (kind === 'version') def[name] = version;
    else def[name] = koffi.array('uint8_t', Number(kind.slice('bytes:'.length)));
  }
  return pack ? koffi.pack(def) : koffi.struct(def);
}

function assertMatchesKoffi(members: Members, ulong: string, pack: number, ulongSize: number): void {
  const ours = layoutFor(members, pack, ulongSize);
  const theirs = koffiStruct(members, ulong, pack === 1);
  assert.equal(ours.size, koffi.sizeof(theirs), 'size');
  assert.equal(ours.align, koffi.alignof(theirs), 'alignment');
  for (const name of Object.keys(members)) {
    assert.equal(ours.fields[name]?.offset, koffi.offsetof(theirs, name), `offset of ${name}`);
  }
}

describe('platform facts', () => {
  test('CK_ULONG is unsigned long, pointers are void *', () => {
    assert.equal(ULONG_SIZE, koffi.sizeof('unsigned long'));
    assert.equal(POINTER_SIZE, koffi.sizeof('void *'));
    assert.equal(ULONG_MAX, (1n << BigInt(ULONG_SIZE * 8)) - 1n);
  });

  test('structs are packed(1) exactly on Windows', () => {
    assert.equal(STRUCT_PACK, process.platform === 'win32' ? 1 : Number.POSITIVE_INFINITY);
  });
});

describe('layout on this platform', () => {
  for (const [name, members] of Object.entries(STRUCTS)) {
    test(`${name} matches the C compiler's layout (koffi)`, () => {
      assertMatchesKoffi(members, 'unsigned long', STRUCT_PACK, ULONG_SIZE);
    });
  }

  test('the structs the library marshals use this platform layout', () => {
    const used = {
      CK_ATTRIBUTE,
      CK_MECHANISM,
      CK_INFO,
      CK_SLOT_INFO,
      CK_TOKEN_INFO,
      CK_SESSION_INFO,
      CK_MECHANISM_INFO,
    };
    for (const [name, shape] of Object.entries(used)) {
      assert.deepEqual(shape, layout(STRUCTS[name as keyof typeof STRUCTS] as Members), name);
    }
  });

  test('layout() is layoutFor() with the platform pack and CK_ULONG size', () => {
    for (const members of Object.values(STRUCTS) as Members[]) {
      assert.deepEqual(layout(members), layoutFor(members, STRUCT_PACK, ULONG_SIZE, POINTER_SIZE));
    }
  });

  test(
    'LP64 sizes and offsets (Linux and macOS x86-64 / arm64)',
    { skip: ULONG_SIZE !== 8 || POINTER_SIZE !== 8 },
    () => {
      assert.equal(CK_ATTRIBUTE.size, 24);
      assert.deepEqual(
        [
          CK_ATTRIBUTE.fields.type.offset,
          CK_ATTRIBUTE.fields.pValue.offset,
          CK_ATTRIBUTE.fields.ulValueLen.offset,
        ],
        [0, 8, 16],
      );
      assert.equal(CK_MECHANISM.size, 24);
      assert.equal(CK_INFO.size, 88);
      assert.equal(CK_INFO.fields.flags.offset, 40);
      assert.equal(CK_INFO.fields.libraryVersion.offset, 80);
      assert.equal(CK_SLOT_INFO.size, 112);
      assert.equal(CK_SLOT_INFO.fields.firmwareVersion.offset, 106);
      assert.equal(CK_TOKEN_INFO.size, 208);
      assert.equal(CK_TOKEN_INFO.fields.flags.offset, 96);
      assert.equal(CK_TOKEN_INFO.fields.ulFreePrivateMemory.offset, 176);
      assert.equal(CK_TOKEN_INFO.fields.utcTime.offset, 188);
      assert.equal(CK_SESSION_INFO.size, 32);
      assert.equal(CK_MECHANISM_INFO.size, 24);
    },
  );
});

describe('Windows shapes: packed(1), 4-byte CK_ULONG, 8-byte pointers', () => {
  const win = <K extends string>(members: Record<K, FieldKind>) => layoutFor(members, 1, 4, 8);
  const offsets = (members: Members) => Object.values(win(members).fields).map((f) => f.offset);

  for (const [name, members] of Object.entries(STRUCTS)) {
    test(`${name} matches koffi's packed struct`, { skip: POINTER_SIZE !== 8 }, () => {
      assertMatchesKoffi(members, 'uint32_t', 1, 4);
    });
  }

  test('CK_ATTRIBUTE and CK_MECHANISM are 16 bytes with no padding', () => {
    assert.equal(win(STRUCTS.CK_ATTRIBUTE).size, 16);
    assert.deepEqual(offsets(STRUCTS.CK_ATTRIBUTE), [0, 4, 12]);
    assert.equal(win(STRUCTS.CK_MECHANISM).size, 16);
    assert.equal(win(STRUCTS.CK_ATTRIBUTE).align, 1);
  });

  test('info structs', () => {
    assert.equal(win(STRUCTS.CK_INFO).size, 72);
    assert.deepEqual(offsets(STRUCTS.CK_INFO), [0, 2, 34, 38, 70]);
    assert.equal(win(STRUCTS.CK_SLOT_INFO).size, 104);
    assert.equal(win(STRUCTS.CK_TOKEN_INFO).size, 160);
    assert.equal(win(STRUCTS.CK_TOKEN_INFO).fields.utcTime.offset, 144);
    assert.equal(win(STRUCTS.CK_SESSION_INFO).size, 16);
    assert.equal(win(STRUCTS.CK_MECHANISM_INFO).size, 12);
  });

  test('parameter structs', () => {
    assert.deepEqual(offsets(STRUCTS.CK_GCM_PARAMS), [0, 8, 12, 16, 24, 28]);
    assert.equal(win(STRUCTS.CK_GCM_PARAMS).size, 32);
    assert.deepEqual(offsets(STRUCTS.CK_EDDSA_PARAMS), [0, 1, 5]);
    assert.equal(win(STRUCTS.CK_EDDSA_PARAMS).size, 13);
    assert.deepEqual(offsets(STRUCTS.CK_AES_CBC_ENCRYPT_DATA_PARAMS), [0, 16, 24]);
  });

  test('32-bit Windows: 4-byte pointers too', () => {
    const attr = layoutFor(STRUCTS.CK_ATTRIBUTE as Members, 1, 4, 4);
    assert.equal(attr.size, 12);
    assert.deepEqual(
      Object.values(attr.fields).map((f) => f.offset),
      [0, 4, 8],
    );
  });
});

describe('CK_ULONG and pointer access', () => {
  test('writeULong / readULong round trip, up to ULONG_MAX', () => {
    const buf = allocBuffer(ULONG_SIZE * 3);
    writeULong(buf, 0, 0);
    writeULong(buf, ULONG_SIZE, 0x12345678);
    writeULong(buf, 2 * ULONG_SIZE, ULONG_MAX);
    assert.equal(readULong(buf, 0), 0n);
    assert.equal(readULong(buf, ULONG_SIZE), 0x12345678n);
    assert.equal(readULong(buf, 2 * ULONG_SIZE), ULONG_MAX);
    assert.ok(
      buf.subarray(2 * ULONG_SIZE).every((b) => b === 0xff),
      'all ones',
    );
  });

  test('a 64-bit handle survives as a bigint', { skip: ULONG_SIZE !== 8 }, () => {
    const buf = allocBuffer(8);
    writeULong(buf, 0, 0xfedcba9876543210n);
    assert.equal(readULong(buf, 0), 0xfedcba9876543210n);
    assert.deepEqual([...buf], [0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe], 'little-endian');
  });

  test('readULongNumber: counts as numbers, CK_UNAVAILABLE_INFORMATION as Infinity', () => {
    const buf = allocBuffer(ULONG_SIZE * 2);
    writeULong(buf, 0, 4096);
    writeULong(buf, ULONG_SIZE, ULONG_MAX);
    assert.equal(readULongNumber(buf, 0), 4096);
    assert.equal(readULongNumber(buf, ULONG_SIZE), Number.POSITIVE_INFINITY);
  });

  test('pointers: write, read back, and the address of a buffer', () => {
    const target = allocBuffer(16);
    const holder = allocBuffer(POINTER_SIZE);
    const address = addressOf(target);
    assert.equal(address, koffi.address(target));
    assert.notEqual(address, 0n);
    writePointer(holder, 0, address);
    assert.equal(readPointer(holder, 0), address);
    assert.equal(addressOf(new Uint8Array(0)), 0n, 'an empty buffer is NULL');
  });

  test('allocBuffer: zeroed, exact size, stable address', () => {
    const buf = allocBuffer(100);
    assert.equal(buf.length, 100);
    assert.ok(buf.every((b) => b === 0));
    const before = addressOf(buf);
    // Garbage churn must not move an off-heap backing store.
    for (let i = 0; i < 2000; i++) Buffer.alloc(64).fill(i);
    assert.equal(addressOf(buf), before);
  });
});

test('writeAddress writes base + offset, carrying into the upper half', () => {
  const buf = Buffer.alloc(POINTER_SIZE);
  for (const [base, offset] of [
    [0x1000n, 24],
    [0x7fff_ffff_fff0n, 0x20],
    [0x1_ffff_fff8n, 16],
    [0xffff_fff0n, 0x100],
  ] as const) {
    writeAddress(buf, 0, base, offset);
    assert.equal(readPointer(buf, 0), base + BigInt(offset));
  }
});

test('writeULong and writeAddress refuse an offset without room for the value', () => {
  const buf = Buffer.alloc(ULONG_SIZE + 3);
  assert.throws(() => writeULong(buf, 4, 1), RangeError);
  assert.throws(() => writeULong(buf, -1, 1), RangeError);
  assert.throws(() => writeAddress(Buffer.alloc(POINTER_SIZE + 3), 4, 0x1000n, 8), RangeError);
  writeULong(buf, 3, 0x0102);
  assert.equal(readULong(buf, 3), 0x0102n, 'the last room that fits');
});
