/**
 * How long the current turn of the event loop has been doing inline C calls. Inline calls resolve
 * their promises as microtasks, and a loop that awaits them never gives timers or I/O a turn;
 * execution.ts reads this clock to send a call to a worker thread (which ends the turn) once the
 * turn has done enough inline work.
 *
 * @example
 * if (turnSpent(performance.now()) > TURN_BUDGET_MS) return onWorker(...);
 */

/** When the current turn started doing inline work; -1 when it has done none. */
let turnStart = -1;

const endTurn = (): void => {
  turnStart = -1;
};

/**
 * Milliseconds since the current turn made its first inline call (0 for that first call, whose
 * time `now` starts the count). The count ends with the turn: an immediate scheduled by the first
 * call runs only once the microtasks of the turn are done.
 */
export function turnSpent(now: number): number {
  if (turnStart < 0) {
    turnStart = now;
    setImmediate(endTurn);
  }
  return now - turnStart;
}
