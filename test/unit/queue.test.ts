// SerialQueue: the per-session FIFO. Tasks run one at a time, in the order they were queued,
// whatever their durations, and a failing task lets the next one in.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { SerialQueue } from '../../src/core/queue.js';

describe('SerialQueue', () => {
  test('runs tasks in FIFO order, one at a time, even when later ones are quicker', async () => {
    const queue = new SerialQueue();
    const started: number[] = [];
    const finished: number[] = [];
    let running = 0;
    let maxRunning = 0;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        queue.run(async () => {
          started.push(i);
          running++;
          maxRunning = Math.max(maxRunning, running);
          // Earlier tasks take longer, so any overlap would reorder the finish list.
          await sleep((20 - i) % 4);
          running--;
          finished.push(i);
          return i * 2;
        }),
      ),
    );
    const order = Array.from({ length: 20 }, (_, i) => i);
    assert.deepEqual(started, order);
    assert.deepEqual(finished, order);
    assert.equal(maxRunning, 1);
    assert.deepEqual(
      results,
      order.map((i) => i * 2),
    );
  });

  test('a task queued from inside a running task runs after it, not inside it', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    let inner: Promise<void> | undefined;
    await queue.run(async () => {
      log.push('outer start');
      inner = queue.run(async () => {
        log.push('inner');
      });
      await sleep(5);
      log.push('outer end');
    });
    await inner;
    assert.deepEqual(log, ['outer start', 'outer end', 'inner']);
  });

  test('a failing task rejects its own caller and releases the queue', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    const first = queue.run(async () => {
      log.push('first');
      throw new Error('boom');
    });
    const second = queue.run(async () => {
      log.push('second');
      return 'ok';
    });
    await assert.rejects(first, /boom/);
    assert.equal(await second, 'ok');
    assert.deepEqual(log, ['first', 'second']);
  });

  test('a task that throws synchronously also releases the queue', async () => {
    const queue = new SerialQueue();
    await assert.rejects(
      queue.run(() => {
        throw new TypeError('sync');
      }),
      TypeError,
    );
    assert.equal(await queue.run(async () => 42), 42);
  });

  test('lock() hands out turns in order; the holder keeps the queue until it releases', async () => {
    const queue = new SerialQueue();
    const releaseFirst = await queue.lock();
    let secondRan = false;
    const second = queue.run(async () => {
      secondRan = true;
    });
    await sleep(10);
    assert.equal(secondRan, false, 'waits while the lock is held');
    releaseFirst();
    await second;
    assert.equal(secondRan, true);
  });

  test('independent queues do not wait for each other', async () => {
    const a = new SerialQueue();
    const b = new SerialQueue();
    const hold = await a.lock();
    assert.equal(await b.run(async () => 'b'), 'b');
    hold();
  });

  test('10,000 queued tasks complete in order without growing the stack', async () => {
    const queue = new SerialQueue();
    let next = 0;
    const all = Array.from({ length: 10_000 }, (_, i) =>
      queue.run(async () => {
        assert.equal(i, next++);
      }),
    );
    await Promise.all(all);
    assert.equal(next, 10_000);
  });
});
