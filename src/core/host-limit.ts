// Sessions at once against one mail host, adapted to how the host takes them: a host that turns
// a session away (421 "too many connections", or any 4xx before a single answer) gets half as
// many at once; a host that answers earns one more session per window of clean sessions (as many
// as it has now), from --per-host up to --per-host-max, once a quiet spell has passed since its
// last push-back. Additive increase, multiplicative decrease, as TCP treats a congested link: a
// small company host (a few sessions) never grows past --per-host; a big provider does. Big providers answer thousands of sessions a minute:
// held at --per-host they made a consumer list's gmail.com tail the whole run (issue 15).
import pLimit, { type LimitFunction } from 'p-limit';
import type { Clock } from './clock.js';
import type { MailboxResult } from './types.js';

/** How long after the last push-back a host goes before it is given one more session. */
export const PUSHBACK_QUIET_MS = 30_000;

export class HostLimit {
  private readonly limit: LimitFunction;
  private lastPushback = Number.NEGATIVE_INFINITY;
  /** Clean sessions counted towards the next increase: one more session per `sessions` of them. */
  private credit = 0;

  /**
   * `start` sessions at first (or the level learnt in an earlier run, within 1..max), never more
   * than `max`; `onLevel` is told each change, so the next run can start there.
   */
  /** Never below `start`: a maximum under the starting level would be no maximum at all. */
  private readonly max: number;

  constructor(
    private readonly start: number,
    private readonly clock: Clock,
    max: number = start,
    learnt?: number,
    private readonly onLevel?: (level: number) => void,
  ) {
    this.max = Math.max(max, start);
    this.limit = pLimit(learnt === undefined ? start : Math.min(Math.max(1, Math.round(learnt)), this.max));
  }

  /** Sessions allowed at once now. */
  get sessions(): number {
    return this.limit.concurrency;
  }

  /** No session running or waiting, and nothing learnt about the host: it may be dropped. */
  get isIdle(): boolean {
    return this.limit.activeCount === 0 && this.limit.pendingCount === 0 && this.limit.concurrency === this.start;
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.limit(fn);
  }

  /** Told what each session it ran got back. */
  report(results: MailboxResult[]): void {
    const now = this.clock.now();
    const before = this.limit.concurrency;
    if (turnedAway(results)) {
      this.lastPushback = now;
      this.credit = 0;
      this.limit.concurrency = Math.max(1, Math.floor(before / 2));
    } else if (before < this.max && now - this.lastPushback >= PUSHBACK_QUIET_MS) {
      // Back to where it started at once (+1 per session, as before); above that, slowly.
      this.credit += before < this.start ? before : 1;
      if (this.credit >= before) {
        this.credit = 0;
        this.limit.concurrency = before + 1;
      }
    }
    if (this.limit.concurrency !== before) this.onLevel?.(this.limit.concurrency);
  }
}

/** The host answered none of the session's recipients, only a temporary refusal of the session. */
export function turnedAway(results: MailboxResult[]): boolean {
  return results.length > 0 && results.every((r) => r.outcome === 'temporary');
}
