// Schedules addresses through syntax -> dns -> smtp -> catchall with bounded concurrency.
// The network stages are passed in, so the engine itself does no I/O; per-domain sessions,
// the catch-all probe and retries are in domain-queue.ts, sessions shared by domains with the
// same mail hosts in session-batcher.ts.
import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import QuickLRU from 'quick-lru';
import { systemClock, type Clock } from './clock.js';
import { DomainQueue, type AskMailboxes } from './domain-queue.js';
import { HostLimit } from './host-limit.js';
import { hostSetKey, SessionBatcher, type HostSlots } from './session-batcher.js';
import { SessionPool } from './session-pool.js';
import { flagsOf, NO_FLAGS } from './flags.js';
import type { VerifyOptions } from './options.js';
import { hash53, HashSet53 } from './hash.js';
import { RecentAnswers } from './memo.js';
import { checkSyntax, duplicateKey, keyOfNormalised, type SyntaxFail, type SyntaxOk } from './syntax.js';
import {
  INTERRUPTED,
  IP_BLOCKED,
  type CatchAllResult,
  type Findings,
  type MailboxResult,
  type MxHost,
  type MxResult,
  type RowResult,
  type StopReason,
  type VerificationResult,
} from './types.js';
import { verdictOf } from './verdict.js';

/** The network stages, implemented in dns/ and smtp/ (or by a test). */
export interface Network {
  lookupMx(domain: string): Promise<MxResult>;
  /** Asks the domain's mail hosts about these recipients, in as few sessions as the hosts allow. */
  askMailboxes: AskMailboxes;
}

export interface Verifier {
  verify(input: string): Promise<VerificationResult>;
  /**
   * The verdict when it needs no network and no memory of earlier runs (a malformed address, or
   * every address offline), or undefined; what verify would give. A million-row --offline run
   * spent most of its time on the promises of verdicts it knew at once. A new object each call:
   * verifyRowBatches makes it the row's result.
   */
  decideNow?(input: string): VerificationResult | undefined;
  /**
   * Stops the run's network work: retries waiting keep their last answer, addresses not yet
   * asked (and any verified after this) are unknown with `reason` (INTERRUPTED by default).
   */
  close(reason?: StopReason): void;
  /** Addresses waiting to be asked again (greylisting) and when the next retry is due (clock ms). */
  retrying?(): RetryStatus;
}

export interface RetryStatus {
  addresses: number;
  /** Milliseconds from now until the next retry; undefined when none waits. */
  nextInMs: number | undefined;
}

export { INTERRUPTED, IP_BLOCKED, type StopReason };
/** Answers that say why an address was not asked: never kept, so the next run asks. */
const STOP_REASONS: ReadonlySet<string> = new Set([INTERRUPTED, IP_BLOCKED]);

/** Per-domain facts kept between runs (the on-disk store), so a domain is probed once. */
export interface DomainFacts {
  catchAll(domain: string): CatchAllResult | undefined;
  rememberCatchAll(domain: string, result: CatchAllResult): void;
  /** Sessions at once a mail host was found to take in an earlier run (see HostLimit). */
  hostLevel?(host: string): number | undefined;
  rememberHostLevel?(host: string, level: number): void;
}

export interface VerifierDeps {
  clock?: Clock;
  /**
   * Told each mailbox answer the network gave (not those recalled or left unasked), with its
   * typed outcome: what the run's health check reads (core/health.ts, observeAnswer).
   */
  onMailboxAnswer?(answer: { domain: string; mailbox: MailboxResult }): void;
  /** The local part of the catch-all probe; improbable by default. */
  probeLocalPart?: () => string;
  facts?: DomainFacts;
}

/**
 * Per-domain state kept in memory: a list of a million rows can hold hundreds of thousands of
 * domains, at about a kilobyte each (measured), so idle queues are dropped past this many.
 */
const KEPT_DOMAINS = 10_000;

/**
 * Past twice KEPT_DOMAINS entries, drops those with nothing in flight (per domain, mail host or
 * host set); one needed again is made anew.
 */
function dropIdle<T extends { readonly isIdle: boolean }>(map: Map<string, T>): void {
  if (map.size < 2 * KEPT_DOMAINS) return;
  for (const [key, value] of map) if (value.isIdle) map.delete(key);
}

/** The entry for `key`, made (after dropping idle ones, see dropIdle) when there is none. */
function entryOf<T extends { readonly isIdle: boolean }>(map: Map<string, T>, key: string, make: () => T): T {
  let entry = map.get(key);
  if (!entry) {
    dropIdle(map);
    entry = make();
    map.set(key, entry);
  }
  return entry;
}

/**
 * The engine, in its steps: one MX lookup per domain (sharedMxLookups), each mail host's cap on
 * sessions (hostLimits), sessions shared by the domains of the same hosts (sessionBatchers), a
 * queue per domain for its sessions, catch-all probe and retries (domainQueues); each address
 * goes through them (findingsOf) to its verdict.
 */
export function createVerifier(options: VerifyOptions, network: Network, deps: VerifierDeps = {}): Verifier {
  const clock = deps.clock ?? systemClock;
  const lookupMx = sharedMxLookups(network, options.concurrency);
  const limitOf = hostLimits(options, clock, deps.facts);
  const batchers = new Map<string, SessionBatcher>();
  const batcherOf = sessionBatchers(batchers, options, network, limitOf);
  const queues = new Map<string, DomainQueue>();
  const queueOf = domainQueues(queues, options, deps, clock, batcherOf, limitOf);

  let stopped: StopReason | undefined;
  const stages: Stages = { options, deps, lookupMx, queueOf, stopped: () => stopped };
  return {
    verify: async (input) => verdictOf(await findingsOf(input, stages)),
    decideNow: (input) => decideNow(input, options),
    retrying: () => retryStatusOf(queues, clock),
    close(reason = INTERRUPTED) {
      stopped ??= reason;
      const unasked: MailboxResult = { outcome: 'error', reason: stopped, reply: '', mxHost: '' };
      queues.forEach((q) => q.stop(unasked));
      batchers.forEach((b) => b.stop(unasked));
    },
  };
}

/**
 * Addresses of one domain share one lookup, and it takes one slot of a pool of DNS lookups
 * (`concurrency` at once, apart from the SMTP sessions' pool, so a lookup never waits behind
 * sessions that take seconds): otherwise a domain's many addresses fill the pool waiting on the
 * same answer while other domains wait. Answers are kept for the domains seen last; a failed
 * lookup is asked again.
 */
function sharedMxLookups(network: Network, concurrency: number): (domain: string) => Promise<MxResult> {
  const dnsPool = pLimit(concurrency);
  const lookups = new QuickLRU<string, Promise<MxResult>>({ maxSize: KEPT_DOMAINS });
  return (domain) => {
    let lookup = lookups.get(domain);
    if (!lookup) {
      const forget = () => lookups.delete(domain);
      lookup = dnsPool(() => network.lookupMx(domain));
      lookup.then((result) => result.kind === 'lookup_failed' && forget(), forget);
      lookups.set(domain, lookup);
    }
    return lookup;
  };
}

/**
 * The sessions-at-once limit of each mail host, starting from what an earlier run learnt of it.
 * Domains are keyed to their primary MX host, so domains sharing a host share its cap.
 */
function hostLimits(options: VerifyOptions, clock: Clock, facts: DomainFacts | undefined): (host: string) => HostLimit {
  const limits = new Map<string, HostLimit>();
  return (host) =>
    entryOf(
      limits,
      host,
      () =>
        new HostLimit(options.perHostConcurrency, clock, options.perHostMaxConcurrency, facts?.hostLevel?.(host), (level) =>
          facts?.rememberHostLevel?.(host, level),
        ),
    );
}

/** The host a set of MX hosts is keyed by for its limits: the primary, the one asked first. */
const primaryHost = (hosts: MxHost[]): string => hosts[0]?.exchange ?? '';

/** The session batcher of each set of mail hosts: domains with the same hosts share sessions. */
function sessionBatchers(
  batchers: Map<string, SessionBatcher>,
  options: VerifyOptions,
  network: Network,
  limitOf: (host: string) => HostLimit,
): (hosts: MxHost[]) => SessionBatcher {
  // SMTP sessions at once over all domains, the host with the most left to ask served first.
  const pool = new SessionPool(options.concurrency);
  // Looked up on each use, not kept: a limit dropped while idle is the one made anew, never a
  // second one beside it.
  const slotsFor = (hosts: MxHost[]): HostSlots => {
    const host = primaryHost(hosts);
    const key = hostSetKey(hosts);
    return {
      // The host's slot first: waiting for a busy host must not hold one of the global slots.
      run: (fn, backlog) => limitOf(host).run(() => pool.run(key, () => backlog() + limitOf(host).queued, fn)),
      // Called while the session still holds its slot, so it reaches the same limit.
      report: (results, backlog) => limitOf(host).report(results, backlog),
    };
  };
  return (hosts) =>
    entryOf(
      batchers,
      hostSetKey(hosts),
      () => new SessionBatcher(hosts, network.askMailboxes, slotsFor(hosts), options.recipientsPerSession),
    );
}

/** The queue of each domain: its sessions, catch-all probe and greylisting retries (domain-queue.ts). */
function domainQueues(
  queues: Map<string, DomainQueue>,
  options: VerifyOptions,
  deps: VerifierDeps,
  clock: Clock,
  batcherOf: (hosts: MxHost[]) => SessionBatcher,
  limitOf: (host: string) => HostLimit,
): (domain: string, hosts: MxHost[]) => DomainQueue {
  const probeLocalPart = deps.probeLocalPart ?? (() => `ev-${randomBytes(9).toString('hex')}`);
  // Catch-all verdicts outlive their domain's queue (at a tenth of its size), so a dropped queue
  // made anew is not probed again; the on-disk store, when there is one, keeps them all.
  const catchAllSeen = new QuickLRU<string, CatchAllResult>({ maxSize: 5 * KEPT_DOMAINS });
  return (domain, hosts) =>
    entryOf(
      queues,
      domain,
      () =>
        new DomainQueue(
          hosts,
          `${probeLocalPart()}@${domain}`,
          // Looked up on each use, like the host limits: a queue can outlive an idle batcher.
          (_hosts, recipients, onAnswer) => batcherOf(hosts).ask(recipients, onAnswer),
          {
            // A small host keeps the per-domain cap; a host that earned more sessions (a big
            // provider) lends them to its domains, or its one big domain would still go two at a time.
            sessions: () =>
              options.perDomainConcurrency + Math.max(0, limitOf(primaryHost(hosts)).sessions - options.perHostConcurrency),
            recipientsPerSession: options.recipientsPerSession,
            retryDelayMs: options.greylistDelayMs,
            retryBudgetMs: options.greylistBudgetMs,
            catchAll: options.catchAll,
            probeAttempts: 3,
            // A domain with more work than its sessions is the demand that lets its host grow.
            onBacklog: () => limitOf(primaryHost(hosts)).noteBacklog(),
            onQueued: (change) => limitOf(primaryHost(hosts)).noteQueued(change),
            knownCatchAll: catchAllSeen.get(domain) ?? deps.facts?.catchAll(domain),
            onCatchAll: (result) => {
              catchAllSeen.set(domain, result);
              deps.facts?.rememberCatchAll(domain, result);
            },
          },
          clock,
        ),
    );
}

/** What findingsOf asks an address through. */
interface Stages {
  options: VerifyOptions;
  deps: VerifierDeps;
  lookupMx(domain: string): Promise<MxResult>;
  queueOf(domain: string, hosts: MxHost[]): DomainQueue;
  /** Why the run was stopped (close()), if it was. */
  stopped(): StopReason | undefined;
}

const OFFLINE_NOTE = 'Not checked: offline mode (no network checks)';

/** What the syntax check finds of a malformed address: all there is to find. */
function malformedFindings(input: string, syntax: SyntaxFail): Findings {
  return { input, email: syntax.email, syntax: { ok: false, reason: syntax.reason, code: syntax.code }, flags: NO_FLAGS };
}

/** What needs no network about a well-formed address: its syntax and the lists' flags. */
function localFindings(input: string, syntax: SyntaxOk): Findings {
  return {
    input,
    email: syntax.email,
    syntax: { ok: true, smtputf8: syntax.smtputf8 },
    flags: flagsOf(syntax.email, syntax.local, syntax.domain, syntax.domainKept),
  };
}

/** The verdict without the network when there is nothing to ask it (see Verifier.decideNow). */
function decideNow(input: string, options: VerifyOptions): VerificationResult | undefined {
  const syntax = checkSyntax(input, { allowAddressLiterals: options.allowAddressLiterals });
  if (!syntax.ok) return verdictOf(malformedFindings(input, syntax));
  if (!options.offline) return undefined;
  const findings = localFindings(input, syntax);
  findings.notChecked = OFFLINE_NOTE;
  return verdictOf(findings);
}

/** One address through syntax -> dns -> smtp -> catch-all, as far as it goes. */
async function findingsOf(input: string, stages: Stages): Promise<Findings> {
  const { options, deps } = stages;
  const syntax = checkSyntax(input, { allowAddressLiterals: options.allowAddressLiterals });
  if (!syntax.ok) return malformedFindings(input, syntax);
  const findings = localFindings(input, syntax);
  if (options.offline) return { ...findings, notChecked: OFFLINE_NOTE };
  let stopped = stages.stopped();
  if (stopped) return { ...findings, notChecked: stopped };

  findings.mx = await stages.lookupMx(syntax.domain);
  if (findings.mx.kind !== 'mx') return findings;
  stopped = stages.stopped();
  if (stopped) return { ...findings, notChecked: stopped };
  const { mailbox, catchAll } = await stages.queueOf(syntax.domain, findings.mx.hosts).check(syntax.email);
  if (!STOP_REASONS.has(mailbox.reason)) deps.onMailboxAnswer?.({ domain: syntax.domain, mailbox });
  return { ...findings, mailbox, catchAll: mailbox.outcome === 'accepted' ? catchAll : undefined };
}

/** Addresses waiting in the domains' queues to be asked again, and when the first is due. */
function retryStatusOf(queues: Map<string, DomainQueue>, clock: Clock): RetryStatus {
  let addresses = 0;
  let nextAt: number | undefined;
  for (const queue of queues.values()) {
    const waiting = queue.waitingRetries;
    addresses += waiting.count;
    if (waiting.nextAt !== undefined) nextAt = nextAt === undefined ? waiting.nextAt : Math.min(nextAt, waiting.nextAt);
  }
  return { addresses, nextInMs: nextAt === undefined ? undefined : Math.max(0, nextAt - clock.now()) };
}

/**
 * Greylisting left unresolved (the budget ran out, or the run was stopped while it waited): kept
 * nowhere, so the next run asks again, when the greylisting host will most likely let it through.
 */
function askAgainLater(result: VerificationResult): boolean {
  return result.result === 'unknown' && result.reason_code === 'greylisted';
}

/** How an address is parsed for its identity (its duplicate key, its memory): literals allowed. */
const WITH_LITERALS = { allowAddressLiterals: true };

/** Answers kept from earlier (the on-disk store): an address found there is not asked again. */
export interface ResultMemory {
  recall(key: string): VerificationResult | undefined;
  remember(key: string, result: VerificationResult): void;
}

/** A verifier that answers from memory first and remembers what it had to find out. */
export function withMemory(verifier: Verifier, memory: ResultMemory): Verifier {
  return {
    async verify(input) {
      const syntax = checkSyntax(input, WITH_LITERALS);
      // Syntax failures cost nothing to find again.
      if (!syntax.ok) return verifier.verify(input);
      const key = keyOfNormalised(syntax.email);
      const known = memory.recall(key);
      // An answer kept by a version before reason_code and provider is found out again rather
      // than written with those columns missing.
      if (known?.reason_code !== undefined) return { ...known, email: syntax.email };
      const result = await verifier.verify(input);
      if (!STOP_REASONS.has(result.reason) && !askAgainLater(result)) memory.remember(key, result);
      return result;
    },
    // Only a malformed address: a well-formed one may have an answer in memory.
    decideNow: verifier.decideNow && ((input) => (checkSyntax(input, WITH_LITERALS).ok ? undefined : verifier.decideNow!(input))),
    close: (reason) => verifier.close(reason),
    retrying: verifier.retrying && (() => verifier.retrying!()),
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
  /** Called once per row when its result is known, in whatever order rows are decided. */
  onRowDecided?(): void;
}

/**
 * Rows read ahead of the oldest unanswered one. A long look-ahead lets domains that share mail
 * hosts share sessions and keeps work going while a greylisted row waits; at about a kilobyte a
 * row it stays around 10 MB.
 */
const LOOK_AHEAD_ROWS = 10_000;
/** Verdicts kept for repeats of an address; older repeats are verified again (see below). */
const RECENT_RESULTS = 50_000;

const HEAD_DECIDED: unique symbol = Symbol('head decided');

/**
 * Verifies rows as they are read and yields them in input order, each unique address once.
 * At most `window` rows wait at a time, and at most RECENT_RESULTS verdicts are kept for repeats,
 * so memory stays bounded however long the input is: a repeat of an address seen longer ago is
 * asked of the verifier again (the on-disk store answers it without the network) and is still
 * flagged as a duplicate, which every address seen is remembered for, as a 53-bit hash.
 */
export async function* verifyRows<R extends InputRow>(
  rows: AsyncIterable<R> | Iterable<R>,
  verifier: Verifier,
  options: VerifyRowsOptions = {},
): AsyncGenerator<VerifiedRow<R>> {
  for await (const batch of verifyRowBatches(oneRowBatches(rows), verifier, options)) yield* batch;
}

export interface VerifyRowsOptions {
  window?: number;
  recent?: number;
  callbacks?: StreamCallbacks;
}

async function* oneRowBatches<R>(rows: AsyncIterable<R> | Iterable<R>): AsyncGenerator<R[]> {
  for await (const row of rows) yield [row];
}

/**
 * verifyRows over batches of rows, yielding the rows in batches: a million rows cost a million
 * awaits less (the one await a batch). Rows whose verdict needs no network (Verifier.decideNow)
 * are decided as they are read, without a promise of their own.
 */
export async function* verifyRowBatches<R extends InputRow>(
  batches: AsyncIterable<R[]>,
  verifier: Verifier,
  options: VerifyRowsOptions = {},
): AsyncGenerator<VerifiedRow<R>[]> {
  const window = options.window ?? LOOK_AHEAD_ROWS;
  const recentMax = options.recent ?? RECENT_RESULTS;
  const onVerified = options.callbacks?.onVerified;
  const onRowDecided = options.callbacks?.onRowDecided;
  const everSeen = new HashSet53();
  // Verdicts by duplicate key, least recently used pushed out first. (Evicting a Map's first key
  // by hand costs more the more keys were deleted before it: 26 s a million rows at 50,000.)
  // Two generations of up to half of recentMax each. A verdict known at once (decideNow) is not kept.
  const recent = new RecentAnswers<Promise<VerificationResult>>(Math.max(1, Math.ceil(recentMax / 2)));
  interface Entry {
    row: R;
    email: string;
    /** The verdict, or the promise of it. */
    pending: Promise<VerificationResult> | VerificationResult;
    duplicate: boolean;
    /** Resolves (never rejects) when the verdict is known; `settled` says so without waiting. */
    decided: Promise<typeof HEAD_DECIDED>;
    settled: boolean;
  }
  const queue: Entry[] = [];

  // A repeat shares the first one's verdict but keeps its own spelling of the address.
  const settled = (entry: Entry, result: VerificationResult): VerifiedRow<R> => ({
    row: entry.row,
    result: { ...result, email: entry.email, duplicate: entry.duplicate },
  });
  const settle = async (entry: Entry): Promise<VerifiedRow<R>> =>
    entry.pending instanceof Promise ? settled(entry, await entry.pending) : settled(entry, entry.pending);

  /**
   * The row's entry in the queue, or, for a verdict known at once while no row before it waits,
   * the row itself, ready to go out.
   */
  const admit = (row: R): Entry | VerifiedRow<R> => {
    const identity = checkSyntax(row.address, WITH_LITERALS);
    const key = duplicateKey(identity);
    const email = identity.email;
    const duplicate = !everSeen.add(hash53(key));
    // A key never seen cannot be among the recent ones: no need to look.
    let pending = duplicate ? recent.get(key) : undefined; // refreshed: the latest use keeps it longest
    if (pending === undefined) {
      const now = verifier.decideNow?.(row.address);
      if (now !== undefined) {
        // Not kept for repeats: deciding a repeat again costs what looking it up would, and
        // keeping a million of them cost a tenth of a million-row --offline run.
        if (!duplicate) onVerified?.(now);
        onRowDecided?.();
        // The verdict is this row's alone (decideNow makes one a call, and it is kept nowhere):
        // it becomes the row's result in place of the copy settled() would make.
        const result = now as RowResult;
        result.email = email;
        result.duplicate = duplicate;
        if (queue.length === 0) return { row, result };
        return { row, email, pending: result, duplicate, decided: DECIDED, settled: true };
      }
      let later = verifier.verify(row.address);
      if (!duplicate && onVerified) {
        later = later.then((result) => {
          onVerified(result);
          return result;
        });
      }
      // Attach a handler now: a rejection must not go unhandled while it waits in the queue.
      later.catch(() => undefined);
      pending = later;
      recent.set(key, pending);
    }
    // One callback per row marks it decided (and counts it), whichever way its verdict settles.
    const entry = { row, email, pending, duplicate, settled: false } as Entry;
    const mark = (): typeof HEAD_DECIDED => {
      entry.settled = true;
      onRowDecided?.();
      return HEAD_DECIDED;
    };
    entry.decided = pending.then(mark, mark);
    return entry;
  };

  const iterator = batches[Symbol.asyncIterator]();
  let next: Promise<IteratorResult<R[]>> | undefined;
  let out: VerifiedRow<R>[] = [];
  try {
    for (;;) {
      // Rows at the head already decided go out at once; no need to wait for a full window.
      while (queue[0]?.settled) out.push(await settle(queue.shift()!));
      if (out.length > 0) {
        yield out;
        out = [];
      }
      next ??= iterator.next();
      // While the input is slow to give its next rows (a pipe from a slow producer), the head row
      // goes out as soon as it is decided: each record leaves once it and those before it are.
      const head = queue[0];
      const step = head ? await Promise.race([next, head.decided]) : await next;
      if (step === HEAD_DECIDED) continue;
      next = undefined;
      if (step.done) break;
      for (const row of step.value) {
        const entry = admit(row);
        if ('result' in entry) {
          out.push(entry);
          continue;
        }
        queue.push(entry);
        while (queue.length >= window) {
          const first = queue.shift()!;
          if (first.settled || out.length === 0) {
            out.push(await settle(first));
          } else {
            // Rows ready go out before waiting for one that is not.
            yield out;
            out = [await settle(first)];
          }
        }
      }
    }
    while (queue.length > 0) {
      const first = queue.shift()!;
      if (!first.settled && out.length > 0) {
        yield out;
        out = [];
      }
      out.push(await settle(first));
    }
    if (out.length > 0) yield out;
  } finally {
    // A consumer that stops early (| head, Ctrl-C) stops the reading too.
    await iterator.return?.();
  }
}

const DECIDED: Promise<typeof HEAD_DECIDED> = Promise.resolve(HEAD_DECIDED);
