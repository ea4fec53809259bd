/**
 * Turns of the event loop, counted by an immediate that renews itself until `stop()`: a call
 * answered in the same turn ran inline on the main thread (a worker thread's answer always comes
 * in a later turn).
 *
 * @example
 * const turns = turnCounter();
 * const before = turns.turn();
 * await object.get(Attribute.LABEL);
 * const inline = turns.turn() === before;
 * turns.stop();
 */
export function turnCounter(): { readonly turn: () => number; readonly stop: () => void } {
  let turn = 0;
  let counting = true;
  const count = (): void => {
    turn++;
    if (counting) setImmediate(count);
  };
  setImmediate(count);
  return { turn: () => turn, stop: () => (counting = false) };
}
