/**
 * Decoders for the fixed info structs Cryptoki fills in: CK_INFO, CK_SLOT_INFO, CK_TOKEN_INFO,
 * CK_SESSION_INFO and CK_MECHANISM_INFO. Text fields are blank-padded UTF-8 in C; they come back
 * trimmed. Counts the token does not know (CK_UNAVAILABLE_INFORMATION) come back as `undefined`.
 */
import { layout, readULong, readULongNumber, type FieldSlot, type StructLayout } from '../sys/abi.js';
import { ULONG_MAX } from '../sys/abi.js';

/** A `CK_VERSION`. */
export interface Version {
  readonly major: number;
  readonly minor: number;
}

export const CK_INFO = layout({
  cryptokiVersion: 'version',
  manufacturerID: 'bytes:32',
  flags: 'ulong',
  libraryDescription: 'bytes:32',
  libraryVersion: 'version',
});

export const CK_SLOT_INFO = layout({
  slotDescription: 'bytes:64',
  manufacturerID: 'bytes:32',
  flags: 'ulong',
  hardwareVersion: 'version',
  firmwareVersion: 'version',
});

export const CK_TOKEN_INFO = layout({
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
});

export const CK_SESSION_INFO = layout({
  slotID: 'ulong',
  state: 'ulong',
  flags: 'ulong',
  ulDeviceError: 'ulong',
});

export const CK_MECHANISM_INFO = layout({ ulMinKeySize: 'ulong', ulMaxKeySize: 'ulong', flags: 'ulong' });

/** Reads one member of a struct decoded from `buf`. */
class Reader<K extends string> {
  constructor(
    private readonly buf: Buffer,
    private readonly shape: StructLayout<K>,
  ) {}

  #slot(name: K): FieldSlot {
    return this.shape.fields[name];
  }

  text(name: K): string {
    const { offset, size } = this.#slot(name);
    return this.buf
      .subarray(offset, offset + size)
      .toString('utf8')
      .replace(/[\s\0]+$/u, '');
  }

  number(name: K): number {
    return readULongNumber(this.buf, this.#slot(name).offset);
  }

  /** A count that may be CK_UNAVAILABLE_INFORMATION. */
  count(name: K): number | undefined {
    const offset = this.#slot(name).offset;
    return readULong(this.buf, offset) === ULONG_MAX ? undefined : readULongNumber(this.buf, offset);
  }

  version(name: K): Version {
    const { offset } = this.#slot(name);
    return { major: this.buf[offset] as number, minor: this.buf[offset + 1] as number };
  }
}

/** What `C_GetInfo` says about the module. */
export interface LibraryInfo {
  readonly cryptokiVersion: Version;
  readonly manufacturerId: string;
  readonly flags: number;
  readonly libraryDescription: string;
  readonly libraryVersion: Version;
}

export function decodeLibraryInfo(buf: Buffer): LibraryInfo {
  const r = new Reader(buf, CK_INFO);
  return {
    cryptokiVersion: r.version('cryptokiVersion'),
    manufacturerId: r.text('manufacturerID'),
    flags: r.number('flags'),
    libraryDescription: r.text('libraryDescription'),
    libraryVersion: r.version('libraryVersion'),
  };
}

/** What `C_GetSlotInfo` says about a slot. */
export interface SlotInfo {
  readonly slotDescription: string;
  readonly manufacturerId: string;
  /** `SlotFlag` bits. */
  readonly flags: number;
  readonly hardwareVersion: Version;
  readonly firmwareVersion: Version;
}

export function decodeSlotInfo(buf: Buffer): SlotInfo {
  const r = new Reader(buf, CK_SLOT_INFO);
  return {
    slotDescription: r.text('slotDescription'),
    manufacturerId: r.text('manufacturerID'),
    flags: r.number('flags'),
    hardwareVersion: r.version('hardwareVersion'),
    firmwareVersion: r.version('firmwareVersion'),
  };
}

/** What `C_GetTokenInfo` says about a token. Counts the token does not report are `undefined`. */
export interface TokenInfo {
  readonly label: string;
  readonly manufacturerId: string;
  readonly model: string;
  readonly serialNumber: string;
  /** `TokenFlag` bits. */
  readonly flags: number;
  readonly maxSessionCount: number | undefined;
  readonly sessionCount: number | undefined;
  readonly maxRwSessionCount: number | undefined;
  readonly rwSessionCount: number | undefined;
  readonly maxPinLength: number | undefined;
  readonly minPinLength: number | undefined;
  readonly totalPublicMemory: number | undefined;
  readonly freePublicMemory: number | undefined;
  readonly totalPrivateMemory: number | undefined;
  readonly freePrivateMemory: number | undefined;
  readonly hardwareVersion: Version;
  readonly firmwareVersion: Version;
  /** The token's clock as `YYYYMMDDhhmmss00`, when it has one (`TokenFlag.CLOCK_ON_TOKEN`). */
  readonly utcTime: string;
}

export function decodeTokenInfo(buf: Buffer): TokenInfo {
  const r = new Reader(buf, CK_TOKEN_INFO);
  return {
    label: r.text('label'),
    manufacturerId: r.text('manufacturerID'),
    model: r.text('model'),
    serialNumber: r.text('serialNumber'),
    flags: r.number('flags'),
    maxSessionCount: r.count('ulMaxSessionCount'),
    sessionCount: r.count('ulSessionCount'),
    maxRwSessionCount: r.count('ulMaxRwSessionCount'),
    rwSessionCount: r.count('ulRwSessionCount'),
    maxPinLength: r.count('ulMaxPinLen'),
    minPinLength: r.count('ulMinPinLen'),
    totalPublicMemory: r.count('ulTotalPublicMemory'),
    freePublicMemory: r.count('ulFreePublicMemory'),
    totalPrivateMemory: r.count('ulTotalPrivateMemory'),
    freePrivateMemory: r.count('ulFreePrivateMemory'),
    hardwareVersion: r.version('hardwareVersion'),
    firmwareVersion: r.version('firmwareVersion'),
    utcTime: r.text('utcTime'),
  };
}

/** What `C_GetSessionInfo` says about a session. */
export interface SessionInfo {
  readonly slotId: bigint;
  /** A `SessionState` value. */
  readonly state: number;
  /** `SessionFlag` bits. */
  readonly flags: number;
  readonly deviceError: number;
}

export function decodeSessionInfo(buf: Buffer): SessionInfo {
  const r = new Reader(buf, CK_SESSION_INFO);
  return {
    slotId: readULong(buf, CK_SESSION_INFO.fields.slotID.offset),
    state: r.number('state'),
    flags: r.number('flags'),
    deviceError: r.number('ulDeviceError'),
  };
}

/** What `C_GetMechanismInfo` says: key sizes (bits or bytes, per mechanism) and `MechanismFlag` bits. */
export interface MechanismInfo {
  readonly minKeySize: number;
  readonly maxKeySize: number;
  readonly flags: number;
}

export function decodeMechanismInfo(buf: Buffer): MechanismInfo {
  const r = new Reader(buf, CK_MECHANISM_INFO);
  return {
    minKeySize: r.number('ulMinKeySize'),
    maxKeySize: r.number('ulMaxKeySize'),
    flags: r.number('flags'),
  };
}
