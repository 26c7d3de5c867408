// Schedules addresses through syntax -> dns -> smtp -> catchall with bounded concurrency.
// The network stages are passed in, so the engine itself does no I/O.
import pLimit, { type LimitFunction } from 'p-limit';
import { flagsOf, NO_FLAGS } from './flags.js';
import type { VerifyOptions } from './options.js';
import { checkSyntax, dedupKey } from './syntax.js';
import type {
  CatchAllResult,
  Findings,
  MailboxResult,
  MxHost,
  MxResult,
  RowResult,
  VerificationResult,
} from './types.js';
import { verdictOf } from './verdict.js';

/** The network stages, implemented in dns/ and smtp/ (or by a test). */
export interface Network {
  lookupMx(domain: string): Promise<MxResult>;
  askMailboxes(hosts: MxHost[], addresses: string[]): Promise<MailboxResult[]>;
  probeCatchAll(hosts: MxHost[], domain: string): Promise<CatchAllResult | undefined>;
}

export interface Verifier {
  verify(input: string): Promise<VerificationResult>;
}

export function createVerifier(options: VerifyOptions, network: Network): Verifier {
  const global = pLimit(options.concurrency);
  const perDomain = new Map<string, LimitFunction>();
  const catchAll = new Map<string, Promise<CatchAllResult | undefined>>();

  const domainLimit = (domain: string): LimitFunction => {
    let limit = perDomain.get(domain);
    if (!limit) {
      limit = pLimit(options.perDomainConcurrency);
      perDomain.set(domain, limit);
    }
    return limit;
  };

  // Once per domain for the run; every accepted address of the domain waits for the one probe.
  const catchAllOf = (hosts: MxHost[], domain: string): Promise<CatchAllResult | undefined> => {
    let pending = catchAll.get(domain);
    if (!pending) {
      pending = domainLimit(domain)(() => network.probeCatchAll(hosts, domain));
      catchAll.set(domain, pending);
    }
    return pending;
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

    const domain = syntax.domain;
    findings.mx = await network.lookupMx(domain);
    if (findings.mx.kind !== 'mx') return findings;
    const hosts = findings.mx.hosts;

    const [mailbox] = await domainLimit(domain)(() => network.askMailboxes(hosts, [syntax.email]));
    findings.mailbox = mailbox;
    if (options.catchAll && mailbox?.outcome === 'accepted') {
      findings.catchAll = await catchAllOf(hosts, domain);
    }
    return findings;
  }

  return {
    verify: (input) => global(async () => verdictOf(await findingsOf(input))),
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
