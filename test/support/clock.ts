// Clocks a test hands to the engine (VerifierDeps.clock) and to the simulated network, so that
// retries, budgets and greylisting windows depend on the steps the test takes, never on how
// busy the machine is.
import type { Clock } from '../../src/core/clock.js';

export interface ManualClock extends Clock {
  /** Moves time on by `ms` and runs every timer that is then due, earliest first. */
  advance(ms: number): void;
  /** Timers waiting to fire. */
  readonly pending: number;
}

/** Time stands still until the test calls advance(). */
export function manualClock(start = 0): ManualClock {
  let now = start;
  const timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => now,
    after(ms, fn) {
      const timer = { at: now + ms, fn };
      timers.push(timer);
      return () => {
        const i = timers.indexOf(timer);
        if (i >= 0) timers.splice(i, 1);
      };
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers.splice(timers.indexOf(due), 1);
        now = Math.max(now, due.at);
        due.fn();
      }
      now = until;
    },
    get pending() {
      return timers.length;
    },
  };
}

/**
 * Time jumps to each timer as soon as the event loop is free: a retry "200 ms later" runs at
 * once, but now() says 200 ms went by. What depends on time then follows from the delays
 * alone, however slow the machine, while the real I/O in between still happens.
 */
export function skippingClock(start = 0): Clock {
  let now = start;
  const timers: { at: number; seq: number; fn: () => void }[] = [];
  let seq = 0;
  let scheduled = false;
  const fireNext = (): void => {
    scheduled = false;
    timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = timers.shift();
    if (!next) return;
    now = Math.max(now, next.at);
    next.fn();
    schedule();
  };
  const schedule = (): void => {
    if (scheduled || timers.length === 0) return;
    scheduled = true;
    // A real (zero) timer, not setImmediate: I/O already under way gets its turn first.
    setTimeout(fireNext, 0);
  };
  return {
    now: () => now,
    after(ms, fn) {
      const timer = { at: now + ms, seq: seq++, fn };
      timers.push(timer);
      schedule();
      return () => {
        const i = timers.indexOf(timer);
        if (i >= 0) timers.splice(i, 1);
      };
    },
  };
}
