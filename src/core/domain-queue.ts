// Per-domain scheduling of the SMTP stage: addresses of one domain wait in one queue and are
// asked in batches, several RCPT per session; the catch-all probe rides in the domain's first
// session; greylisted and other temporary answers are asked again later, while other work goes on.
import type { Clock } from './clock.js';
import type { CatchAllResult, MailboxResult, MxHost } from './types.js';

// Re-exported for the modules that imported the clock from here before it had its own.
export { systemClock, type Clock } from './clock.js';

export interface MailboxAnswer {
  mailbox: MailboxResult;
  /** Undefined when the domain's probe was inconclusive (blocked, timed out, not asked). */
  catchAll: CatchAllResult | undefined;
}

export interface DomainQueueOptions {
  /** Sessions at once against this domain: a number, or asked before each new session. */
  sessions: number | (() => number);
  /** RCPTs in one session, the probe included. */
  recipientsPerSession: number;
  retryDelayMs: number;
  /** How long, from an address's first answer, it may keep being retried. */
  retryBudgetMs: number;
  catchAll: boolean;
  /** How many times an inconclusive catch-all probe is tried again. */
  probeAttempts: number;
  /** Told when addresses wait because the domain already has all the sessions it may have. */
  onBacklog?(): void;
  /** Told how many addresses joined (above 0) or left (below 0) the queue: the host's backlog. */
  onQueued?(change: number): void;
  /** The domain's catch-all verdict from an earlier run: no probe is sent. */
  knownCatchAll?: CatchAllResult;
  /** Told the domain's catch-all verdict when a probe decides it. */
  onCatchAll?(result: CatchAllResult): void;
}

/**
 * Asks one session's worth of recipients; the one place that reaches the network. Resolves with
 * every answer, in order, once the session is over; `onAnswer` (if given) is told each one as
 * its reply arrives, so that it can be decided and kept before the session ends: a process
 * killed mid-session then loses only the answers not yet given.
 */
export type AskMailboxes = (hosts: MxHost[], addresses: string[], onAnswer?: OnAnswer) => Promise<MailboxResult[]>;

/** Told a recipient's answer as its reply arrives: its index among the recipients asked, and the answer. */
export type OnAnswer = (index: number, result: MailboxResult) => void;

interface Waiting {
  address: string;
  firstAnswerAt?: number;
  resolve(answer: MailboxAnswer): void;
}

const RETRIED = new Set(['greylisted', 'temporary']);

/** Catch-all verdict from the probe's answer; undefined when the answer says nothing either way. */
export function catchAllFrom(probe: MailboxResult): CatchAllResult | undefined {
  if (probe.outcome === 'accepted') return { isCatchAll: true, confidence: 'high', reply: probe.reply };
  if (probe.outcome === 'no_mailbox' || probe.outcome === 'disabled') {
    return { isCatchAll: false, confidence: 'high', reply: probe.reply };
  }
  return undefined;
}

export class DomainQueue {
  private readonly waiting: Waiting[] = [];
  private stopped = false;
  private active = 0;
  private scheduled = false;
  private probeState: 'unasked' | 'asking' | 'done' = 'unasked';
  private probeTries = 0;
  private catchAll: CatchAllResult | undefined;
  /** Accepted addresses whose session had no probe wait here for the probe's answer. */
  private awaitingProbe: (() => void)[] = [];
  /** Addresses waiting to be asked again, with the answer they would keep if the run ends first. */
  private readonly retries = new Map<Waiting, { cancel: () => void; last: MailboxResult; at: number }>();

  constructor(
    private readonly hosts: MxHost[],
    /** The same improbable address on every try: greylisting keys on the recipient. */
    private readonly probeAddress: string,
    /** Waits for a session slot, then asks (the engine's SessionBatcher); it answers `unasked` once the run stops. */
    private readonly ask: AskMailboxes,
    private readonly options: DomainQueueOptions,
    private readonly clock: Clock,
  ) {
    if (options.knownCatchAll) {
      this.catchAll = options.knownCatchAll;
      this.probeState = 'done';
    }
  }

  check(address: string): Promise<MailboxAnswer> {
    return new Promise((resolve) => this.enqueue({ address, resolve }));
  }

  /** Addresses waiting to be asked again (greylisted, 4xx), and when the first of them will be. */
  get waitingRetries(): { count: number; nextAt: number | undefined } {
    let nextAt: number | undefined;
    for (const { at } of this.retries.values()) nextAt = nextAt === undefined ? at : Math.min(nextAt, at);
    return { count: this.retries.size, nextAt };
  }

  /** Nothing waiting, asking, retrying or held for the probe: it may be dropped and made anew. */
  get isIdle(): boolean {
    return (
      this.waiting.length === 0 &&
      this.active === 0 &&
      !this.scheduled &&
      this.retries.size === 0 &&
      this.awaitingProbe.length === 0
    );
  }

  /**
   * Starts no more sessions: retries still waiting keep the answer they last got, addresses not
   * yet asked get `unasked`. Sessions in flight finish on their own.
   */
  stop(unasked: MailboxResult): void {
    this.stopped = true;
    for (const [item, { cancel, last }] of this.retries) {
      cancel();
      item.resolve({ mailbox: last, catchAll: this.catchAll });
    }
    this.retries.clear();
    const left = this.waiting.splice(0);
    this.options.onQueued?.(-left.length);
    for (const item of left) item.resolve({ mailbox: unasked, catchAll: undefined });
    const waiters = this.awaitingProbe;
    this.awaitingProbe = [];
    waiters.forEach((release) => release());
  }

  private enqueue(item: Waiting): void {
    this.waiting.push(item);
    this.options.onQueued?.(1);
    if (this.scheduled) return;
    this.scheduled = true;
    // Let every address that arrives in this turn (they share one DNS answer) join the batch.
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /**
   * Starts sessions while the domain has sessions to spare. A full batch goes at once; a part-full
   * one only when none of the domain's sessions is in flight, or when one has just ended
   * (`sessionEnded`), as Nagle's algorithm holds a small TCP segment while data is unacknowledged
   * (RFC 896): rows that reach the queue a few at a time (the look-ahead reads one as each row at
   * its head is decided) gather while a session is out, instead of each taking a session of its
   * own. No timer: a part-full batch waits at most until the next session of the domain ends.
   */
  private pump(sessionEnded = false): void {
    if (this.stopped) return;
    const sessions = typeof this.options.sessions === 'function' ? this.options.sessions() : this.options.sessions;
    while (this.active < sessions && this.waiting.length > 0) {
      const probe = this.options.catchAll && this.probeState === 'unasked';
      const room = Math.max(1, this.options.recipientsPerSession - (probe ? 1 : 0));
      if (this.waiting.length < room && this.active > 0 && !sessionEnded) break;
      if (probe) this.probeState = 'asking';
      const batch = this.waiting.splice(0, room);
      this.options.onQueued?.(-batch.length);
      this.active += 1;
      void this.run(batch, probe).finally(() => {
        this.active -= 1;
        this.pump(true);
      });
    }
    if (this.waiting.length > 0 && this.active >= sessions) this.options.onBacklog?.();
  }

  private async run(batch: Waiting[], probe: boolean): Promise<void> {
    const recipients = [...(probe ? [this.probeAddress] : []), ...batch.map((w) => w.address)];
    // Each answer is acted on as its reply arrives (the probe's first, as it is asked first), not
    // when the session ends: the address is decided, and kept by the store, at once.
    const told = recipients.map(() => false);
    const take = (index: number, result: MailboxResult | undefined): void => {
      if (told[index]) return;
      told[index] = true;
      if (probe && index === 0) this.settleProbe(result);
      else this.answer(batch[index - (probe ? 1 : 0)]!, result!);
    };
    let results: MailboxResult[];
    try {
      results = await this.ask(this.hosts, recipients, take);
    } catch (error) {
      const reason = `Verification failed: ${(error as Error).message}`;
      results = recipients.map(() => ({ outcome: 'error' as const, reason, reply: '', mxHost: '' }));
    }
    recipients.forEach((_, i) => take(i, results[i]));
  }

  private settleProbe(result: MailboxResult | undefined): void {
    this.probeTries += 1;
    this.catchAll = result ? catchAllFrom(result) : undefined;
    if (this.catchAll) this.options.onCatchAll?.(this.catchAll);
    const conclusive = this.catchAll !== undefined || this.probeTries >= this.options.probeAttempts;
    this.probeState = conclusive ? 'done' : 'unasked';
    if (conclusive || this.waiting.length === 0) {
      // Nobody else will carry the probe soon: release the addresses that waited for it.
      const waiters = this.awaitingProbe;
      this.awaitingProbe = [];
      waiters.forEach((release) => release());
    }
  }

  private answer(item: Waiting, mailbox: MailboxResult): void {
    const now = this.clock.now();
    item.firstAnswerAt ??= now;
    if (
      !this.stopped &&
      RETRIED.has(mailbox.outcome) &&
      now + this.options.retryDelayMs - item.firstAnswerAt <= this.options.retryBudgetMs
    ) {
      const cancel = this.clock.after(this.options.retryDelayMs, () => {
        this.retries.delete(item);
        this.enqueue(item);
      });
      this.retries.set(item, { cancel, last: mailbox, at: now + this.options.retryDelayMs });
      return;
    }
    const needsProbe = mailbox.outcome === 'accepted' && this.options.catchAll && this.probeState !== 'done';
    // Wait only for a probe that some session is carrying or will carry.
    if (needsProbe && !this.stopped && (this.probeState === 'asking' || this.waiting.length > 0)) {
      this.awaitingProbe.push(() => item.resolve({ mailbox, catchAll: this.catchAll }));
      return;
    }
    item.resolve({ mailbox, catchAll: this.catchAll });
  }
}
