// The clock of inline work per turn of the event loop (model/turn.ts): it grows while one turn's
// microtasks go on, however many awaits they contain, and starts again once the loop has turned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { turnSpent } from '../../src/model/turn.js';

test('a turn counts from its first inline call, across awaits, and a new turn starts at zero', async () => {
  await nextTurn();
  assert.equal(turnSpent(100), 0, 'the first call of a turn starts the count');
  assert.equal(turnSpent(103), 3);
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(turnSpent(107.5), 7.5, 'microtasks are the same turn');
  await nextTurn();
  assert.equal(turnSpent(200), 0, 'the next turn starts again');
  assert.equal(turnSpent(201), 1);
});
