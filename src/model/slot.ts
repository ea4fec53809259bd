/**
 * `Slot`: a reader or logical slot of a module, with the mechanisms its token offers.
 */
import { ULONG_SIZE, allocBuffer, allocULong, readULong, writeULong } from '../sys/abi.js';
import { ReturnValue } from '../sys/constants.js';
import { check } from '../core/errors.js';
import {
  CK_MECHANISM_INFO,
  CK_SLOT_INFO,
  CK_TOKEN_INFO,
  decodeMechanismInfo,
  decodeSlotInfo,
  decodeTokenInfo,
} from '../core/info.js';
import type { MechanismInfo, SlotInfo, TokenInfo } from '../core/info.js';
import { checkHandle, checkULong } from '../core/template.js';
import type { Library } from './library.js';
import { Token } from './token.js';

/** A slot of a loaded module. Slot ids are kept as bigint: modules may use any 64-bit value. */
export class Slot {
  constructor(
    /** The library this slot belongs to. */
    readonly library: Library,
    /** The module's `CK_SLOT_ID`. */
    readonly id: bigint,
  ) {
    this.id = checkHandle(id, 'id');
  }

  /** `C_GetSlotInfo`. */
  async getInfo(): Promise<SlotInfo> {
    const buf = allocBuffer(CK_SLOT_INFO.size);
    await this.library.context.call('C_GetSlotInfo', this.id, buf);
    return decodeSlotInfo(buf);
  }

  /** `C_GetTokenInfo`, raw. Most callers want {@link getToken}. */
  async getTokenInfo(): Promise<TokenInfo> {
    const buf = allocBuffer(CK_TOKEN_INFO.size);
    await this.library.context.call('C_GetTokenInfo', this.id, buf);
    return decodeTokenInfo(buf);
  }

  /** The token in this slot. @throws Pkcs11Error (CKR_TOKEN_NOT_PRESENT) when the slot is empty. */
  async getToken(): Promise<Token> {
    return new Token(this, await this.getTokenInfo());
  }

  /** `C_GetMechanismList`: the mechanism numbers the token supports (vendor ones included). */
  async getMechanisms(): Promise<number[]> {
    const ctx = this.library.context;
    const countBuf = allocULong();
    for (;;) {
      writeULong(countBuf, 0, 0);
      await ctx.call('C_GetMechanismList', this.id, null, countBuf);
      const count = Number(readULong(countBuf, 0));
      // None (p11-kit-trust): done; p11-kit's client answers a list call with a zero count BUFFER_TOO_SMALL.
      if (count === 0) return [];
      const list = allocBuffer(count * ULONG_SIZE);
      const rv = await ctx.invoke('C_GetMechanismList', this.id, list, countBuf);
      if (rv === ReturnValue.BUFFER_TOO_SMALL) continue;
      check('C_GetMechanismList', rv);
      const n = Number(readULong(countBuf, 0));
      return Array.from({ length: n }, (_, i) => Number(readULong(list, i * ULONG_SIZE)));
    }
  }

  /** `C_GetMechanismInfo`: key size range and `MechanismFlag` bits of one mechanism. */
  async getMechanismInfo(mechanism: number): Promise<MechanismInfo> {
    const m = checkULong(mechanism, 'mechanism');
    const buf = allocBuffer(CK_MECHANISM_INFO.size);
    await this.library.context.call('C_GetMechanismInfo', this.id, m, buf);
    return decodeMechanismInfo(buf);
  }
}
