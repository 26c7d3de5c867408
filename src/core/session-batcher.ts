// Domains that share mail hosts share SMTP sessions: hosting providers and hosted mail (Google
// Workspace, Microsoft 365, shared hosting) serve thousands of small domains from the same MX
// hosts, and one session may carry recipients of any of them (RFC 5321 §3.3: the server answers
// each RCPT on its own). Requests that wait for a free session slot are merged up to the cap of
// recipients per session, oldest first; the one that does not fit whole fills the rest of the
// session and its remainder leads the next one. A part-full session is opened only when none of
// the batcher's is in flight or one has just ended (Nagle's rule, as in domain-queue.ts), so
// the domains of a host that reach it one after another (their MX answers come at different
// times) fill sessions instead of each opening one.
import type { AskMailboxes, OnAnswer } from './domain-queue.js';
import type { MailboxResult, MxHost } from './types.js';

/** Session slots for one host: granted by run(), told how each session went by report(). */
export interface HostSlots {
  /** `backlog`: recipients of this batcher waiting for a session now, asked when slots are handed out. */
  run<T>(fn: () => Promise<T>, backlog: () => number): Promise<T>;
  /** `backlog`: recipients were still waiting for a session when this one ended. */
  report(results: MailboxResult[], backlog: boolean): void;
}

interface Request {
  recipients: string[];
  onAnswer: OnAnswer | undefined;
  /** Recipients given to sessions so far: a request may be carried by two sessions. */
  taken: number;
  results: MailboxResult[];
  answered: number;
  resolve(results: MailboxResult[]): void;
  reject(error: unknown): void;
}

/** Recipients from..to of a request, carried by one session. */
interface Part {
  request: Request;
  from: number;
  to: number;
}

export class SessionBatcher {
  private readonly waiting: Request[] = [];
  private unasked: MailboxResult | undefined;
  /** Slots asked for and not yet given back. */
  private outstanding = 0;
  /** Sessions of this batcher in conversation now. */
  private inFlight = 0;
  /** Recipients of the waiting requests not yet given to a session. */
  private unsent = 0;

  constructor(
    private readonly hosts: MxHost[],
    private readonly askHosts: AskMailboxes,
    /** Grants session slots (per host and overall). */
    private readonly slots: HostSlots,
    private readonly maxRecipients: number,
  ) {}

  /**
   * Answers for these recipients, in order, from sessions that may carry other domains' too;
   * each is told to `onAnswer` as its reply arrives.
   */
  ask(recipients: string[], onAnswer?: OnAnswer): Promise<MailboxResult[]> {
    return new Promise((resolve, reject) => {
      if (recipients.length === 0) return resolve([]);
      this.waiting.push({ recipients, onAnswer, taken: 0, results: [], answered: 0, resolve, reject });
      this.unsent += recipients.length;
      // One slot asked for per request, so there are always enough; a slot that finds nothing
      // left to carry (or only a part-full session while one is out) is given back at once.
      this.requestSlot(false);
    });
  }

  /** Nothing waiting and no session of its own: it may be dropped and made anew. */
  get isIdle(): boolean {
    return this.outstanding === 0;
  }

  /**
   * Recipients still waiting for a slot are answered `unasked` and never connect; those of a
   * request already in a session get that session's answers.
   */
  stop(unasked: MailboxResult): void {
    this.unasked = unasked;
    this.unsent = 0;
    for (const request of this.waiting.splice(0)) {
      this.answer(
        request,
        request.taken,
        request.recipients.slice(request.taken).map(() => unasked),
      );
    }
  }

  private requestSlot(sessionEnded: boolean): void {
    this.outstanding += 1;
    void this.slots
      .run(
        () => this.runSession(sessionEnded),
        () => this.unsent,
      )
      .finally(() => (this.outstanding -= 1));
  }

  /** Recipients waiting, counted up to a full session: all runSession needs to know. */
  private get waitingRecipients(): number {
    let count = 0;
    for (const r of this.waiting) {
      count += r.recipients.length - r.taken;
      if (count >= this.maxRecipients) break;
    }
    return count;
  }

  private async runSession(sessionEnded: boolean): Promise<void> {
    if (this.unasked) return this.stop(this.unasked);
    const waiting = this.waitingRecipients;
    if (waiting === 0) return;
    // A part-full session waits for the one in flight to end: it gathers what comes meanwhile.
    if (waiting < this.maxRecipients && this.inFlight > 0 && !sessionEnded) return;
    const parts = this.take();
    this.inFlight += 1;
    try {
      // The session's i-th recipient is recipient j of one part's request.
      const recipients: string[] = [];
      const owners: (readonly [Request, number])[] = [];
      for (const { request, from, to } of parts) {
        for (let j = from; j < to; j++) {
          recipients.push(request.recipients[j]!);
          owners.push([request, j]);
        }
      }
      const told: OnAnswer = (i, result) => {
        const [request, j] = owners[i] ?? [];
        request?.onAnswer?.(j!, result);
      };
      const results = await this.askHosts(this.hosts, recipients, told);
      this.slots.report(results, this.waiting.length > 0);
      let at = 0;
      for (const part of parts) {
        this.answer(part.request, part.from, results.slice(at, at + part.to - part.from));
        at += part.to - part.from;
      }
    } catch (error) {
      for (const { request } of parts) {
        const i = this.waiting.indexOf(request);
        if (i >= 0) {
          this.waiting.splice(i, 1);
          this.unsent -= request.recipients.length - request.taken;
        }
        request.reject(error);
      }
    } finally {
      this.inFlight -= 1;
      if (this.waiting.length > 0) this.requestSlot(true);
    }
  }

  private answer(request: Request, from: number, results: MailboxResult[]): void {
    results.forEach((result, i) => (request.results[from + i] = result));
    request.answered += results.length;
    if (request.answered >= request.recipients.length) request.resolve(request.results);
  }

  /**
   * The oldest waiting request whole (what remains of it), then the next ones in order while
   * they fit; the first that does not fit fills the room left and its rest waits.
   */
  private take(): Part[] {
    const parts: Part[] = [];
    let size = 0;
    while (this.waiting.length > 0 && (parts.length === 0 || size < this.maxRecipients)) {
      const request = this.waiting[0]!;
      // A request larger than the cap (a domain's probe beside --rcpt-per-session 1) is never
      // split: it leads a session of its own.
      if (parts.length > 0 && request.recipients.length > this.maxRecipients) break;
      const left = request.recipients.length - request.taken;
      const count = parts.length === 0 ? left : Math.min(left, this.maxRecipients - size);
      parts.push({ request, from: request.taken, to: request.taken + count });
      request.taken += count;
      this.unsent -= count;
      size += count;
      if (request.taken < request.recipients.length) break;
      this.waiting.shift();
    }
    return parts;
  }
}

/** Domains with the same MX hosts (by name and preference) share a batcher. */
export function hostSetKey(hosts: MxHost[]): string {
  return hosts.map((h) => `${h.priority} ${h.exchange.toLowerCase()}`).join(',');
}
