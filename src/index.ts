// The programmatic API: verify addresses without the CLI.
import QuickLRU from 'quick-lru';
import type { CacheStore } from './cache/store.js';
import { createVerifier, verifyRows, withMemory, type DomainFacts, type Network, type Verifier } from './core/engine.js';
import { resolveOptions, type VerifyOptions } from './core/options.js';
import type { CatchAllResult, MxResult, VerificationResult } from './core/types.js';
import { createMxLookup } from './dns/mx.js';
import { egressFor, parseProxyUrl } from './smtp/egress.js';
import { probeRecipients } from './smtp/prober.js';

export type { VerifyOptions } from './core/options.js';
export { DEFAULT_OPTIONS, resolveOptions, parseDuration } from './core/options.js';
export type * from './core/types.js';
export { RESULT_FIELDS, RESULT_CATEGORIES, OUTPUT_BUCKETS, bucketOf } from './core/types.js';
export { checkSyntax } from './core/syntax.js';
export { verdictOf } from './core/verdict.js';
export { REASON_CODES, type ReasonInfo } from './core/reason-code.js';
export { providerOf, providerOfHost } from './core/provider.js';
export { createVerifier, verifyRows };
export type { Network, Verifier, VerifierDeps, InputRow, VerifiedRow, DomainFacts, ResultMemory } from './core/engine.js';
export { withMemory };
export { openCacheStore, noCache, defaultCacheDir, type CacheStore } from './cache/store.js';
export type { Clock } from './core/domain-queue.js';

/** What a caller may watch of the network work (the finder counts the RCPTs it costs). */
export interface NetworkHooks {
  /** Called as each SMTP session is asked about this many recipients (catch-all probes and retries included). */
  onAsk?(recipients: number): void;
}

/** The real network: DNS through our own client (src/dns/client.ts, over dns-packet), SMTP over node:net/tls; DNS answers kept in `store`. */
export function createNetwork(options: VerifyOptions, store?: CacheStore, hooks: NetworkHooks = {}): Network {
  const mxCache = store && {
    get: (domain: string) => store.getDns<MxResult>(`mx:${domain}`),
    put: (domain: string, result: MxResult, ttlMs: number) => store.putDns(`mx:${domain}`, result, ttlMs),
  };
  const lookupMx = createMxLookup({ servers: options.dnsServers, timeoutMs: options.timeoutMs }, mxCache);
  const connect = egressFor({
    proxy: options.proxy === undefined ? undefined : parseProxyUrl(options.proxy),
    sourceIp: options.sourceIp,
    timeoutMs: options.timeoutMs,
  });
  const probe = { port: options.smtpPort, timeoutMs: options.timeoutMs, helo: options.helo, from: options.from, connect };
  // Per run: hosts that refuse MAIL FROM:<> are asked with the real sender from the start.
  const refusesNullSender = new QuickLRU<string, true>({ maxSize: 10_000 });
  return {
    lookupMx,
    askMailboxes: (hosts, addresses, onAnswer) => {
      hooks.onAsk?.(addresses.length);
      return probeRecipients(hosts, addresses, { ...probe, refusesNullSender }, onAnswer);
    },
  };
}

export function createDefaultVerifier(options: Partial<VerifyOptions> = {}, hooks?: NetworkHooks): Verifier {
  const resolved = resolveOptions(options);
  return createVerifier(resolved, createNetwork(resolved, undefined, hooks));
}

// Per-domain facts change rarely; a week keeps a nightly job from re-probing every domain.
const CATCH_ALL_TTL_MS = 7 * 24 * 60 * 60_000;
// A host's learnt sessions-at-once: a nightly job starts where the last one ended; a day later the
// host may be another (maintenance, a new limit), so it is learnt again.
const HOST_LEVEL_TTL_MS = 24 * 60 * 60_000;
export interface CacheUse {
  store: CacheStore;
  /** Results older than this are verified again. */
  maxAgeMs: number;
  /** A resumable run's key: its results (all of them) are kept until the run is cleared. */
  runKey?: string;
}

/** The verifier with the on-disk store: DNS answers, catch-all facts, results, and the run's checkpoint. */
export function createCachedVerifier(options: Partial<VerifyOptions>, cache: CacheUse, hooks?: NetworkHooks): Verifier {
  const resolved = resolveOptions(options);
  const { store, maxAgeMs, runKey } = cache;
  const facts: DomainFacts = {
    catchAll: (domain) => store.getDomainFact<CatchAllResult>(domain, 'catchall'),
    rememberCatchAll: (domain, result) => store.putDomainFact(domain, 'catchall', result, CATCH_ALL_TTL_MS),
    hostLevel: (host) => store.getDomainFact<number>(host, 'host-level'),
    rememberHostLevel: (host, level) => store.putDomainFact(host, 'host-level', level, HOST_LEVEL_TTL_MS),
  };
  const verifier = createVerifier(resolved, createNetwork(resolved, store, hooks), { facts });
  // One memory, so an address is looked up (and parsed) once: a resumed run first reuses every
  // answer it already had, unknown ones included; any run reuses the facts about a mailbox
  // (every answer but unknown) while they are younger than maxAgeMs.
  const fromRun = (key: string) => (runKey === undefined ? undefined : store.getRunResult<VerificationResult>(runKey, key));
  return withMemory(verifier, {
    recall: (key) => {
      const known = fromRun(key);
      if (known) return known;
      const lasting = store.getResult<VerificationResult>(key, maxAgeMs);
      if (lasting && runKey !== undefined) store.putRunResult(runKey, key, lasting);
      return lasting;
    },
    remember: (key, result) => {
      if (result.result !== 'unknown') store.putResult(key, result);
      if (runKey !== undefined) store.putRunResult(runKey, key, result);
    },
  });
}

/** Verifies one address through the whole pipeline. */
export function verify(address: string, options: Partial<VerifyOptions> = {}): Promise<VerificationResult> {
  return createDefaultVerifier(options).verify(address);
}
