// Sessions at once against one mail host, adapted to how the host takes them: a host that pushes
// back (turns a session away with 421 "too many connections" or any 4xx before a single answer,
// refuses the connection, or says it rate-limits us, 4xx or 5xx) gets half as many at once; a
// host that answers earns one more session per round of clean sessions (as many as are in flight),
// from --per-host up to --per-host-max, once a quiet spell has passed since its last push-back,
// and only while work waits for a session of it. Additive increase, multiplicative decrease, as
// TCP treats a congested link: a small company host (work for a session or two) never grows past
// --per-host; a big provider does. Big providers answer thousands of sessions a minute: held at
// --per-host they made a consumer list's gmail.com tail the whole run (issue 15).
import pLimit, { type LimitFunction } from 'p-limit';
import type { Clock } from './clock.js';
import { mailboxReasonCode } from './reason-code.js';
import type { MailboxResult } from './types.js';

/** How long after the last push-back a host goes before it is given one more session. */
export const PUSHBACK_QUIET_MS = 30_000;

export class HostLimit {
  private readonly limit: LimitFunction;
  private lastPushback = Number.NEGATIVE_INFINITY;
  /** Clean sessions counted towards the next increase: one more session per `sessions` of them. */
  private credit = 0;
  /** Work waited for a session of this host since the last session ended (see noteBacklog). */
  private backlog = false;
  /** Addresses in the queues of this host's domains, not yet handed to a session (noteQueued). */
  private waiting = 0;

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
    return (
      this.limit.activeCount === 0 && this.limit.pendingCount === 0 && this.waiting === 0 && this.limit.concurrency === this.start
    );
  }

  /** Addresses of its domains waiting to be handed to a session: what the host has left to ask. */
  get queued(): number {
    return this.waiting;
  }

  /** `change` addresses joined (above 0) or left (below 0) the queues of this host's domains. */
  noteQueued(change: number): void {
    this.waiting += change;
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.limit(fn);
  }

  /**
   * Work is waiting for a session of this host: a domain's queue held back by its cap (the
   * session batcher says so itself, in report). Only then does a clean session earn credit above
   * --per-host.
   */
  noteBacklog(): void {
    this.backlog = true;
  }

  /** Told what each session it ran got back (`backlog`: work was waiting for one of its sessions). */
  report(results: MailboxResult[], backlog = false): void {
    const now = this.clock.now();
    const before = this.limit.concurrency;
    const demand = backlog || this.backlog;
    // Asked again when the next session ends: the queues that are still held back say so anew.
    this.backlog = false;
    const signal = sessionSignal(results);
    if (signal === 'pushback') {
      this.lastPushback = now;
      this.credit = 0;
      this.limit.concurrency = Math.max(1, Math.floor(before / 2));
    } else if (signal === 'clean' && before < this.max && now - this.lastPushback >= PUSHBACK_QUIET_MS) {
      // Back to where it started at once (+1 per session, as before); above that, slowly, and
      // only for a host that had more work than sessions.
      if (before < this.start) this.credit += before;
      else if (demand) this.credit += 1;
      // A round is the host's slots held now (this session's among them, and any waiting for one
      // of the --concurrency slots), as TCP adds one segment per round trip: a big domain held
      // to fewer sessions than its host allows grows per round of its own, not per window of
      // sessions it cannot have.
      if (this.credit >= Math.max(1, Math.min(before, this.limit.activeCount))) {
        this.credit = 0;
        this.limit.concurrency = before + 1;
      }
    }
    if (this.limit.concurrency !== before) this.onLevel?.(this.limit.concurrency);
  }
}

/**
 * What a session says of the host's load: `pushback` when the host turned it away or slowed us
 * down, `clean` when the host answered and said nothing of load, `neutral` otherwise (a
 * conversation broken off part-way, a timeout among answers): no credit, no halving.
 */
export type SessionSignal = 'pushback' | 'clean' | 'neutral';

export function sessionSignal(results: MailboxResult[]): SessionSignal {
  if (results.length === 0) return 'neutral';
  // Any rate-limit reply, 421/4xx "too many connections" or 5xx "rate limit exceeded"
  // (smtp-reply.ts, reason code rate_limited), even after other answers: the host is slowing us.
  if (results.some((r) => mailboxReasonCode(r) === 'rate_limited')) return 'pushback';
  if (turnedAway(results)) return 'pushback';
  // A refused or dropped connection, or a connection that never came (results all unreachable):
  // a busy host refuses at the TCP level, as many do past their connection limit.
  if (results.every((r) => r.outcome === 'unreachable')) return 'pushback';
  if (results.some((r) => r.outcome === 'unreachable' || r.outcome === 'error')) return 'neutral';
  return 'clean';
}

/** The host answered none of the session's recipients, only a temporary refusal of the session. */
export function turnedAway(results: MailboxResult[]): boolean {
  return results.length > 0 && results.every((r) => r.outcome === 'temporary');
}
