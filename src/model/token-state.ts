/**
 * Memory the library keeps about a token (its mechanism list, the quirks it showed) so a decision
 * costs nothing after the first time. It belongs to the token, not to one `Token` object: every
 * `Token` for the same slot and serial number of the same loaded module shares it, and it is
 * forgotten when the module is finalized (a reinitialised library starts afresh).
 */
import type { ModuleContext } from './context.js';
import type { Token } from './token.js';

/**
 * One kind of per-token memory, made on first use by `make`.
 *
 * @example
 * const tables = new TokenMemory((token) => new MechanismTable(token));
 * const table = tables.of(session.token);
 */
export class TokenMemory<T> {
  readonly #byModule = new WeakMap<ModuleContext, Map<string, T>>();
  /**
   * The answer of {@link of} per `Token` object, asked first: object creation asks on every call,
   * and the slot/serial key (a bigint made a string) showed in its profile.
   */
  readonly #byToken = new WeakMap<Token, T>();

  constructor(private readonly make: (token: Token) => T) {}

  /** The memory of `token`, made now if this is the first question about it. */
  of(token: Token): T {
    let known = this.#byToken.get(token);
    if (known === undefined) this.#byToken.set(token, (known = this.#shared(token)));
    return known;
  }

  /** The memory every `Token` of the same slot and serial number shares. */
  #shared(token: Token): T {
    const context = token.slot.library.context;
    let tokens = this.#byModule.get(context);
    if (!tokens) {
      tokens = new Map();
      this.#byModule.set(context, tokens);
    }
    const key = `${token.slot.id}/${token.serial}`;
    let value = tokens.get(key);
    if (value === undefined) {
      value = this.make(token);
      tokens.set(key, value);
    }
    return value;
  }
}
