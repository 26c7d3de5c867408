// Sessions at once against one mail host, adapted to how the host takes them: a host that turns
// a session away (421 "too many connections", or any 4xx before a single answer) gets half as
// many at once; after a quiet spell without that, one more at a time, up to --per-host.
// Additive increase, multiplicative decrease, as TCP treats a congested link.
import pLimit, { type LimitFunction } from 'p-limit';
import type { Clock } from './clock.js';
import type { MailboxResult } from './types.js';

/** How long after the last push-back a host goes before it is given one more session. */
export const PUSHBACK_QUIET_MS = 30_000;

export class HostLimit {
  private readonly limit: LimitFunction;
  private lastPushback = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly max: number,
    private readonly clock: Clock,
  ) {
    this.limit = pLimit(max);
  }

  /** Sessions allowed at once now. */
  get sessions(): number {
    return this.limit.concurrency;
  }

  /** No session running or waiting, and nothing learnt about the host: it may be dropped. */
  get isIdle(): boolean {
    return this.limit.activeCount === 0 && this.limit.pendingCount === 0 && this.limit.concurrency === this.max;
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.limit(fn);
  }

  /** Told what each session it ran got back. */
  report(results: MailboxResult[]): void {
    const now = this.clock.now();
    if (turnedAway(results)) {
      this.lastPushback = now;
      this.limit.concurrency = Math.max(1, Math.floor(this.limit.concurrency / 2));
    } else if (this.limit.concurrency < this.max && now - this.lastPushback >= PUSHBACK_QUIET_MS) {
      this.limit.concurrency += 1;
    }
  }
}

/** The host answered none of the session's recipients, only a temporary refusal of the session. */
export function turnedAway(results: MailboxResult[]): boolean {
  return results.length > 0 && results.every((r) => r.outcome === 'temporary');
}
