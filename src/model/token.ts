/**
 * `Token`: the token in a slot. Opens sessions (logging in as asked) and manages PINs.
 */
import { allocULong, readULong } from '../sys/abi.js';
import { SessionFlag, UserType } from '../sys/constants.js';
import type { TokenInfo } from '../core/info.js';
import { checkULong } from '../core/template.js';
import { withPin, type Pin } from './secret.js';
import { Session } from './session.js';
import type { Slot } from './slot.js';
import { sessionOpened } from './session-handles.js';

/**
 * Log in through the token's protected authentication path (a PIN pad or biometric reader):
 * `C_Login` with a NULL PIN. Only for tokens with `TokenFlag.PROTECTED_AUTHENTICATION_PATH`.
 */
export const PROTECTED_AUTH: unique symbol = Symbol('PROTECTED_AUTH');

/** How to open a session. */
export interface OpenOptions {
  /** Log in as the normal user with this PIN (or through the protected path). */
  readonly userPin?: Pin | typeof PROTECTED_AUTH;
  /** Log in as the Security Officer with this PIN; implies a read-write session. */
  readonly soPin?: Pin | typeof PROTECTED_AUTH;
  /** Open a read-write session (needed to create, modify or destroy token objects). Default false. */
  readonly rw?: boolean;
  /** Log in as this user type instead (`UserType.CONTEXT_SPECIFIC` or a vendor value) with `userPin`. */
  readonly userType?: number;
  /** PKCS#11 3.0 `C_LoginUser`: the user name for tokens with several users. */
  readonly username?: string;
}

/** A token, as found by `Library.getToken` or `Slot.getToken`. */
export class Token {
  constructor(
    /** The slot holding the token. */
    readonly slot: Slot,
    /** `C_GetTokenInfo` as read when the token was listed; {@link getInfo} reads it afresh. */
    readonly info: TokenInfo,
  ) {}

  /** The token label. */
  get label(): string {
    return this.info.label;
  }

  /** The token serial number. */
  get serial(): string {
    return this.info.serialNumber;
  }

  /** The manufacturer id. */
  get manufacturerId(): string {
    return this.info.manufacturerId;
  }

  /** The token model. */
  get model(): string {
    return this.info.model;
  }

  /** `TokenFlag` bits. */
  get flags(): number {
    return this.info.flags;
  }

  /** `C_GetTokenInfo`, now (session counts and free memory change). */
  getInfo(): Promise<TokenInfo> {
    return this.slot.getTokenInfo();
  }

  /**
   * Opens a session and logs in when a PIN is given. Login is shared by all sessions of the
   * application with this token (as the standard defines it): a second session opened with the
   * same user finds the user already logged in, and closing one session never logs out the others.
   * A failed login closes the session it opened before the error is thrown.
   *
   * @example
   * await using session = await token.open({ userPin: '1234', rw: true });
   */
  async open(options: OpenOptions = {}): Promise<Session> {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const { userPin, soPin, userType, username } = options;
    if (userPin !== undefined && soPin !== undefined) throw new TypeError('give userPin or soPin, not both');
    if (options.rw !== undefined && typeof options.rw !== 'boolean')
      throw new TypeError('options.rw must be a boolean');
    if (username !== undefined && typeof username !== 'string')
      throw new TypeError('options.username must be a string');
    const who =
      soPin !== undefined
        ? UserType.SO
        : userType !== undefined
          ? checkULong(userType, 'options.userType')
          : UserType.USER;
    const rw = options.rw ?? soPin !== undefined;
    const session = await this.#openSession(rw);
    const pin = soPin ?? userPin;
    if (pin === undefined) return session;
    try {
      await session.login(pin, { userType: Number(who), username });
    } catch (e) {
      await session.close().catch(() => undefined);
      throw e;
    }
    return session;
  }

  async #openSession(rw: boolean): Promise<Session> {
    const ctx = this.slot.library.context;
    const out = allocULong();
    const flags = SessionFlag.SERIAL_SESSION | (rw ? SessionFlag.RW_SESSION : 0);
    await ctx.call('C_OpenSession', this.slot.id, flags, null, null, out);
    const handle = readULong(out, 0);
    sessionOpened(ctx.module, handle);
    return new Session(this, handle, rw);
  }

  /**
   * `C_InitToken`: (re)initialises the token, destroying its objects, with a new label. Needs the
   * SO PIN and no open session with the token.
   */
  async initToken(soPin: Pin, label: string): Promise<void> {
    if (typeof label !== 'string') throw new TypeError('label must be a string');
    const raw = Buffer.from(label, 'utf8');
    if (raw.length > 32) throw new RangeError('label must fit 32 bytes of UTF-8');
    const padded = Buffer.alloc(32, 0x20);
    raw.copy(padded);
    await withPin(soPin, 'soPin', (pin) =>
      this.slot.library.context.call('C_InitToken', this.slot.id, pin, pin.length, padded),
    );
  }

  /** `C_InitPIN` as the SO: sets the normal user's PIN (in a short read-write SO session). */
  async initPin(soPin: Pin, userPin: Pin): Promise<void> {
    const session = await this.open({ soPin, rw: true });
    try {
      await session.initPin(userPin);
    } finally {
      await session.close();
    }
  }

  /**
   * `C_SetPIN`: changes the PIN of the user logged in with `oldPin` (the normal user unless
   * `userType` is `UserType.SO`), in a short read-write session.
   */
  async setPin(oldPin: Pin, newPin: Pin, options: { userType?: number } = {}): Promise<void> {
    const asSo = options.userType === UserType.SO;
    const session = await this.open(asSo ? { soPin: oldPin, rw: true } : { userPin: oldPin, rw: true });
    try {
      await session.setPin(oldPin, newPin);
    } finally {
      await session.close();
    }
  }
}
