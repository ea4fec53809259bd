/**
 * A FIFO lock. A PKCS#11 session runs one operation at a time, so every call on a session goes
 * through its queue; multi-part operations (Init, Update..., Final, and FindObjects) hold the lock
 * from Init to Final, so concurrent callers wait their turn instead of meeting CKR_OPERATION_ACTIVE.
 */
export class SerialQueue {
  #tail: Promise<void> = Promise.resolve();

  /** Waits for every earlier holder, then returns the function that lets the next one in. */
  lock(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const ready = this.#tail.then(() => release);
    this.#tail = this.#tail.then(() => held);
    return ready;
  }

  /** Runs `task` alone: after every earlier task, before every later one. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    const release = await this.lock();
    try {
      return await task();
    } finally {
      release();
    }
  }
}
