// The programmatic API: verify addresses without the CLI.
import { createVerifier, verifyRows, type Network, type Verifier } from './core/engine.js';
import { resolveOptions, type VerifyOptions } from './core/options.js';
import type { VerificationResult } from './core/types.js';
import { createMxLookup } from './dns/mx.js';
import { probeRecipients } from './smtp/prober.js';

export type { VerifyOptions } from './core/options.js';
export { DEFAULT_OPTIONS, resolveOptions, parseDuration } from './core/options.js';
export type * from './core/types.js';
export { RESULT_FIELDS, RESULT_CATEGORIES, OUTPUT_BUCKETS, bucketOf } from './core/types.js';
export { checkSyntax } from './core/syntax.js';
export { verdictOf } from './core/verdict.js';
export { createVerifier, verifyRows };
export type { Network, Verifier, VerifierDeps, InputRow, VerifiedRow } from './core/engine.js';
export type { Clock } from './core/domain-queue.js';

/** The real network: DNS through node:dns, SMTP over node:net/tls. */
export function createNetwork(options: VerifyOptions): Network {
  const lookupMx = createMxLookup({ servers: options.dnsServers, timeoutMs: options.timeoutMs });
  const probe = { port: options.smtpPort, timeoutMs: options.timeoutMs, helo: options.helo, from: options.from };
  return {
    lookupMx,
    askMailboxes: (hosts, addresses) => probeRecipients(hosts, addresses, probe),
  };
}

export function createDefaultVerifier(options: Partial<VerifyOptions> = {}): Verifier {
  const resolved = resolveOptions(options);
  return createVerifier(resolved, createNetwork(resolved));
}

/** Verifies one address through the whole pipeline. */
export function verify(address: string, options: Partial<VerifyOptions> = {}): Promise<VerificationResult> {
  return createDefaultVerifier(options).verify(address);
}
