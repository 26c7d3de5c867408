// Domains that share mail hosts share SMTP sessions: hosting providers and hosted mail (Google
// Workspace, Microsoft 365, shared hosting) serve thousands of small domains from the same MX
// hosts, and one session may carry recipients of any of them (RFC 5321 §3.3: the server answers
// each RCPT on its own). Requests that wait for a free session slot are merged, whole, up to the
// cap of recipients per session: the oldest first, then any others that still fit.
import type { AskMailboxes } from './domain-queue.js';
import type { MailboxResult, MxHost } from './types.js';

/** Session slots for one host: granted by run(), told how each session went by report(). */
export interface HostSlots {
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** `backlog`: recipients were still waiting for a session when this one ended. */
  report(results: MailboxResult[], backlog: boolean): void;
}

interface Request {
  recipients: string[];
  resolve(results: MailboxResult[]): void;
  reject(error: unknown): void;
}

export class SessionBatcher {
  private readonly waiting: Request[] = [];
  private unasked: MailboxResult | undefined;
  /** Slots asked for and not yet given back. */
  private outstanding = 0;

  constructor(
    private readonly hosts: MxHost[],
    private readonly askHosts: AskMailboxes,
    /** Grants session slots (per host and overall). */
    private readonly slots: HostSlots,
    private readonly maxRecipients: number,
  ) {}

  /** Answers for these recipients, in order, from a session that may carry other domains' too. */
  ask(recipients: string[]): Promise<MailboxResult[]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ recipients, resolve, reject });
      // One slot asked for per request, so there are always enough; a slot that finds its
      // request already carried by an earlier session is given back at once.
      this.outstanding += 1;
      void this.slots.run(() => this.runSession()).finally(() => (this.outstanding -= 1));
    });
  }

  /** Nothing waiting and no session of its own: it may be dropped and made anew. */
  get isIdle(): boolean {
    return this.outstanding === 0;
  }

  /** Requests still waiting for a slot are answered `unasked` and never connect. */
  stop(unasked: MailboxResult): void {
    this.unasked = unasked;
    for (const request of this.waiting.splice(0)) request.resolve(request.recipients.map(() => unasked));
  }

  private async runSession(): Promise<void> {
    const batch = this.take();
    if (batch.length === 0) return;
    const recipients = batch.flatMap((r) => r.recipients);
    try {
      if (this.unasked) {
        batch.forEach((r) => r.resolve(r.recipients.map(() => this.unasked!)));
        return;
      }
      const results = await this.askHosts(this.hosts, recipients);
      this.slots.report(results, this.waiting.length > 0);
      let at = 0;
      for (const request of batch) {
        request.resolve(results.slice(at, at + request.recipients.length));
        at += request.recipients.length;
      }
    } catch (error) {
      batch.forEach((r) => r.reject(error));
    }
  }

  /** The oldest waiting request, and as many others as fit beside it, oldest first. */
  private take(): Request[] {
    const batch: Request[] = [];
    let size = 0;
    for (let i = 0; i < this.waiting.length && size < this.maxRecipients;) {
      const next = this.waiting[i]!;
      if (batch.length > 0 && size + next.recipients.length > this.maxRecipients) {
        i += 1;
        continue;
      }
      batch.push(...this.waiting.splice(i, 1));
      size += next.recipients.length;
    }
    return batch;
  }
}

/** Domains with the same MX hosts (by name and preference) share a batcher. */
export function hostSetKey(hosts: MxHost[]): string {
  return hosts.map((h) => `${h.priority} ${h.exchange.toLowerCase()}`).join(',');
}
