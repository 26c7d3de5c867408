// Schedules addresses through syntax -> dns -> smtp -> catchall with bounded concurrency.
// The network stages are passed in, so the engine itself does no I/O; per-domain sessions,
// the catch-all probe and retries are in domain-queue.ts.
import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import { DomainQueue, systemClock, type AskMailboxes, type Clock } from './domain-queue.js';
import { flagsOf, NO_FLAGS } from './flags.js';
import type { VerifyOptions } from './options.js';
import { checkSyntax, dedupKey } from './syntax.js';
import type { Findings, MxHost, MxResult, RowResult, VerificationResult } from './types.js';
import { verdictOf } from './verdict.js';

/** The network stages, implemented in dns/ and smtp/ (or by a test). */
export interface Network {
  lookupMx(domain: string): Promise<MxResult>;
  /** Asks the domain's mail hosts about these recipients, in as few sessions as the hosts allow. */
  askMailboxes: AskMailboxes;
}

export interface Verifier {
  verify(input: string): Promise<VerificationResult>;
  /** Ends waiting retries (their addresses keep their last answer); call when the run stops. */
  close(): void;
}

export interface VerifierDeps {
  clock?: Clock;
  /** The local part of the catch-all probe; improbable by default. */
  probeLocalPart?: () => string;
}

export function createVerifier(options: VerifyOptions, network: Network, deps: VerifierDeps = {}): Verifier {
  const clock = deps.clock ?? systemClock;
  const probeLocalPart = deps.probeLocalPart ?? (() => `ev-${randomBytes(9).toString('hex')}`);
  // Bounds network work at once: DNS lookups and SMTP sessions over all domains.
  const global = pLimit(options.concurrency);
  const queues = new Map<string, DomainQueue>();

  const queueOf = (domain: string, hosts: MxHost[]): DomainQueue => {
    let queue = queues.get(domain);
    if (!queue) {
      queue = new DomainQueue(hosts, `${probeLocalPart()}@${domain}`, network.askMailboxes, global, {
        sessions: options.perDomainConcurrency,
        recipientsPerSession: options.recipientsPerSession,
        retryDelayMs: options.greylistDelayMs,
        retryBudgetMs: options.greylistBudgetMs,
        catchAll: options.catchAll,
        probeAttempts: 3,
      }, clock);
      queues.set(domain, queue);
    }
    return queue;
  };

  async function findingsOf(input: string): Promise<Findings> {
    const syntax = checkSyntax(input, { allowAddressLiterals: options.allowAddressLiterals });
    if (!syntax.ok) {
      return { input, email: syntax.email, syntax: { ok: false, reason: syntax.reason }, flags: NO_FLAGS };
    }
    const findings: Findings = {
      input,
      email: syntax.email,
      syntax: { ok: true, smtputf8: syntax.smtputf8 },
      flags: flagsOf(syntax.email, syntax.local, syntax.domain),
    };
    if (options.offline) return { ...findings, notChecked: 'Not checked: offline mode (no network checks)' };

    findings.mx = await global(() => network.lookupMx(syntax.domain));
    if (findings.mx.kind !== 'mx') return findings;
    const { mailbox, catchAll } = await queueOf(syntax.domain, findings.mx.hosts).check(syntax.email);
    return { ...findings, mailbox, catchAll: mailbox.outcome === 'accepted' ? catchAll : undefined };
  }

  return {
    verify: async (input) => verdictOf(await findingsOf(input)),
    close: () => queues.forEach((q) => q.close()),
  };
}

export interface InputRow {
  /** 0-based position among the data rows. */
  index: number;
  /** The address as it appears in the row (before normalisation). */
  address: string;
}

export interface VerifiedRow<R extends InputRow> {
  row: R;
  result: RowResult;
}

export interface StreamCallbacks {
  /** Called once per unique address when its result is known. */
  onVerified?(result: VerificationResult): void;
}

/**
 * Verifies rows as they are read and yields them in input order, each unique address once.
 * At most `window` rows wait at a time, so memory stays bounded however long the input is.
 */
export async function* verifyRows<R extends InputRow>(
  rows: AsyncIterable<R> | Iterable<R>,
  verifier: Verifier,
  options: { window?: number; callbacks?: StreamCallbacks } = {},
): AsyncGenerator<VerifiedRow<R>> {
  const window = options.window ?? 1000;
  // Verdicts by duplicate key; a repeat row reuses the first one's promise.
  const seen = new Map<string, Promise<VerificationResult>>();
  const queue: { row: R; email: string; pending: Promise<VerificationResult>; duplicate: boolean }[] = [];

  // A repeat shares the first one's verdict but keeps its own spelling of the address.
  const settle = async (entry: (typeof queue)[number]): Promise<VerifiedRow<R>> => ({
    row: entry.row,
    result: { ...(await entry.pending), email: entry.email, duplicate: entry.duplicate },
  });

  for await (const row of rows) {
    const { key, email } = identityOf(row.address);
    let pending = seen.get(key);
    const duplicate = pending !== undefined;
    if (!pending) {
      pending = verifier.verify(row.address).then((result) => {
        options.callbacks?.onVerified?.(result);
        return result;
      });
      // Attach a handler now: a rejection must not go unhandled while it waits in the queue.
      pending.catch(() => undefined);
      seen.set(key, pending);
    }
    queue.push({ row, email, pending, duplicate });
    while (queue.length >= window) yield await settle(queue.shift()!);
  }
  while (queue.length > 0) yield await settle(queue.shift()!);
}

function identityOf(address: string): { key: string; email: string } {
  const syntax = checkSyntax(address, { allowAddressLiterals: true });
  return { key: syntax.ok ? dedupKey(syntax.email) : `invalid:${syntax.email}`, email: syntax.email };
}
