/**
 * What a token can do, as its own mechanism list and mechanism flags say, read once per token and
 * kept: the fallback decisions (fallback.ts) ask this on every operation that might need one, and
 * after the first question each answer is a map lookup.
 */
import type { Token } from './token.js';
import { TokenMemory } from './token-state.js';

/** A token's mechanism list and the `MechanismFlag` bits of each mechanism, fetched lazily. */
export class MechanismTable {
  #list: Promise<ReadonlySet<number> | undefined> | undefined;
  readonly #flags = new Map<number, Promise<number | undefined>>();

  constructor(private readonly token: Token) {}

  /**
   * The mechanisms the token lists (`C_GetMechanismList`), or `undefined` when the module will
   * not say. A failure is not kept: the next question asks again.
   */
  list(): Promise<ReadonlySet<number> | undefined> {
    this.#list ??= this.token.slot.getMechanisms().then(
      (mechanisms) => new Set(mechanisms),
      () => {
        this.#list = undefined;
        return undefined;
      },
    );
    return this.#list;
  }

  /**
   * The `MechanismFlag` bits of `mechanism` (`C_GetMechanismInfo`), `0` when the token does not
   * list it, `undefined` when the token will not tell (no list, or the info call failed).
   */
  async flags(mechanism: number): Promise<number | undefined> {
    const list = await this.list();
    if (list === undefined) return undefined;
    if (!list.has(mechanism)) return 0;
    let flags = this.#flags.get(mechanism);
    if (!flags) {
      flags = this.token.slot.getMechanismInfo(mechanism).then(
        (info) => info.flags,
        () => {
          this.#flags.delete(mechanism);
          return undefined;
        },
      );
      this.#flags.set(mechanism, flags);
    }
    return flags;
  }

  /** The flags of several mechanisms at once, or `undefined` when any of them is unknown. */
  async flagsOf(mechanisms: readonly number[]): Promise<ReadonlyMap<number, number> | undefined> {
    const values = await Promise.all(mechanisms.map((m) => this.flags(m)));
    if (values.some((v) => v === undefined)) return undefined;
    return new Map(mechanisms.map((m, i) => [m, values[i] as number]));
  }
}

const tables = new TokenMemory((token) => new MechanismTable(token));

/** The (shared, cached) mechanism table of `token`. */
export function mechanismTable(token: Token): MechanismTable {
  return tables.of(token);
}
