/**
 * A FIFO lock. A PKCS#11 session runs one operation at a time, so every call on a session goes
 * through its queue; multi-part operations (Init, Update..., Final, and FindObjects) hold the lock
 * from Init to Final, so concurrent callers wait their turn instead of meeting CKR_OPERATION_ACTIVE.
 *
 * A free queue is taken at once, without a promise of its own: most sessions are used by one
 * caller at a time, and on that path the lock must cost next to nothing (an attribute read takes
 * about 2 µs in the module; docs/benchmarks.md).
 */
export class SerialQueue {
  /** Whether a holder has the queue. */
  #held = false;
  /** Callers waiting for their turn, in order; each is handed the queue by the previous holder. */
  readonly #waiting: (() => void)[] = [];

  /** Whether nobody holds the queue and nobody waits for it. */
  get idle(): boolean {
    return !this.#held;
  }

  /** Waits for every earlier holder, then returns the function that lets the next one in. */
  async lock(): Promise<() => void> {
    if (this.#held) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#held = true;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#handOver();
    };
  }

  /** Runs `task` alone: after every earlier task, before every later one. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#held) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#held = true;
    try {
      return await task();
    } finally {
      this.#handOver();
    }
  }

  /** Gives the queue to the first waiter (it stays held), or frees it. */
  #handOver(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#held = false;
  }
}
