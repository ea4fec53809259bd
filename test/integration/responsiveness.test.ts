// The event loop keeps running while the token works: a 10 ms timer keeps firing while an RSA key
// pair is generated (4096 bits, or the most the token makes), and another session keeps signing
// meanwhile. A test of
// responsiveness only: no speed is asserted.
//
// The margin (200 ms) applies to the time the event loop was busy between two ticks. On a loaded
// machine the OS can also deschedule the whole process for a while: such a gap, with the loop idle
// all along, says nothing about this library, so the raw gap only has to stay well below the
// generation time (a C call on the main thread would make it as long as the generation).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { KeyType, Mechanism } from '../../src/index.js';
import { CallLog } from '../support/call-log.js';
import { missing, openTestToken } from '../support/token.js';

/** The C calls and how long each took, to tell a module that runs one call at a time from a library that waits. */
const log = new CallLog();
const { env, token, mechanisms, close } = await openTestToken({ trace: log.sink });
after(close);

/** Longest gap allowed between two ticks of a 10 ms timer. */
const MAX_DELAY_MS = 200;
/** The generations must add up to this much work, or the test would prove nothing. */
const MIN_WORK_MS = 1000;
/** Upper bound on generations, should the token be very fast. */
const MAX_GENERATIONS = 5;

/** What {@link watchEventLoop} saw: the longest gap between ticks, and the longest the loop was busy within one. */
interface LoopReport {
  readonly longestGap: number;
  readonly longestBusy: number;
}

/** Starts a 10 ms interval timer; stopping it reports the longest gap and the longest busy stretch. */
function watchEventLoop(): () => LoopReport {
  let last = performance.now();
  let lastUse = performance.eventLoopUtilization();
  let longestGap = 0;
  let longestBusy = 0;
  const tick = (): void => {
    const now = performance.now();
    const use = performance.eventLoopUtilization();
    longestGap = Math.max(longestGap, now - last);
    longestBusy = Math.max(longestBusy, performance.eventLoopUtilization(use, lastUse).active);
    last = now;
    lastUse = use;
  };
  const timer = setInterval(tick, 10);
  return () => {
    clearInterval(timer);
    tick();
    return { longestGap, longestBusy };
  };
}

/** RSA key pairs of this size take long enough everywhere: 4096 bits, or the most the token makes (tpm2: 3072). */
async function slowRsaBits(): Promise<number> {
  const { maxKeySize } = await token.slot.getMechanismInfo(Mechanism.RSA_PKCS_KEY_PAIR_GEN);
  return maxKeySize >= 2048 && maxKeySize < 4096 ? maxKeySize : 4096;
}

test(
  'a timer keeps firing while large RSA key pairs are generated',
  { skip: missing(mechanisms, Mechanism.RSA_PKCS_KEY_PAIR_GEN) },
  async (t) => {
    const bits = await slowRsaBits();
    await using session = await token.open({ userPin: env.pin, rw: true });
    const durations: number[] = [];
    const stop = watchEventLoop();
    let loop: LoopReport;
    try {
      while (durations.reduce((a, b) => a + b, 0) < MIN_WORK_MS && durations.length < MAX_GENERATIONS) {
        const start = performance.now();
        const { publicKey } = await session.generateKeypair(KeyType.RSA, bits);
        durations.push(performance.now() - start);
        assert.equal(publicKey.keyLength, bits);
      }
    } finally {
      loop = stop();
    }
    const generation = Math.max(...durations);
    t.diagnostic(
      `RSA-${bits} generations: ${durations.map((d) => `${d.toFixed(0)} ms`).join(', ')}; ` +
        `longest timer gap ${loop.longestGap.toFixed(1)} ms, event loop busy at most ${loop.longestBusy.toFixed(1)} ms of one`,
    );
    assert.ok(
      generation > MAX_DELAY_MS,
      `the longest generation (${generation.toFixed(0)} ms) must outlast the margin`,
    );
    assert.ok(
      loop.longestBusy < MAX_DELAY_MS,
      `the event loop was busy for ${loop.longestBusy.toFixed(1)} ms between two ticks`,
    );
    assert.ok(
      loop.longestGap < generation / 2,
      `the timer waited ${loop.longestGap.toFixed(1)} ms of a ${generation.toFixed(0)} ms generation`,
    );
  },
);

test(
  'another session keeps signing while one generates a key pair',
  {
    skip: missing(mechanisms, Mechanism.RSA_PKCS_KEY_PAIR_GEN, Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDSA),
  },
  async (t) => {
    await using generating = await token.open({ userPin: env.pin, rw: true });
    await using signing = await token.open({ rw: true });
    const { privateKey } = await signing.generateKeypair(KeyType.EC, 'secp256r1');
    let done = false;
    let signatures = 0;
    const mark = log.mark();
    const start = performance.now();
    const generation = generating.generateKeypair(KeyType.RSA, 2048).finally(() => (done = true));
    while (!done) {
      await privateKey.sign(new Uint8Array(32), { mechanism: Mechanism.ECDSA });
      if (!done) signatures++;
    }
    await generation;
    const took = performance.now() - start;
    t.diagnostic(`signatures during the generation: ${signatures}`);
    // A module may run one call at a time (tpm2-pkcs11 and its one TPM): then a sign call was made
    // at once and the module kept it until the generation was done. Only a sign that never reached
    // the module until then is ours.
    const held = log.since(mark).find((c) => c.fn.startsWith('C_Sign') && c.ms > took / 2);
    if (signatures === 0 && held) {
      t.skip(`the token runs one call at a time (${held.fn} waited ${held.ms.toFixed(0)} ms)`);
      return;
    }
    assert.ok(signatures > 0, 'the other session was held up by the generation');
  },
);
