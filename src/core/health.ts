// Watches the first answers of a run for trouble on our side rather than the list's: outbound
// port 25 blocked (every verifier's most common complaint), or our IP on blocklists. Either way,
// going on would spend the whole list on answers that say nothing about the mailboxes.
import type { VerificationResult } from './types.js';

export type Health = 'ok' | 'port25_blocked' | 'ip_blocked';

export interface HealthOptions {
  /** Unreachable answers, over this many domains at least, before port 25 is called blocked. */
  unreachableAddresses: number;
  unreachableDomains: number;
  /** Domains refusing us by blocklist before our IP is called blocked... */
  blockedDomains: number;
  /** ...when they are at least this share of the domains that answered at all. */
  blockedShare: number;
}

const DEFAULT_HEALTH: HealthOptions = {
  unreachableAddresses: 8,
  unreachableDomains: 3,
  blockedDomains: 5,
  blockedShare: 0.8,
};

// Refusals that name our address's reputation, not the recipient (Spamhaus, Barracuda, Proofpoint…).
const BLOCKLIST =
  /spamhaus|blocklist|blacklist|block list|black list|dnsbl|\brbl\b|blocked using|listed (?:at|in|on|by)|reputation|client host .*(?:blocked|rejected)|banned|\[bl\d+\]/i;

/** True for the engine's answer when no mail host of the domain answered at all. */
const isUnreachable = (r: VerificationResult): boolean =>
  r.result === 'unknown' && r.reason.startsWith('No mail server answered');

export function createHealthMonitor(options: HealthOptions = DEFAULT_HEALTH) {
  let answered = false;
  let unreachable = 0;
  const unreachableDomains = new Set<string>();
  const answeringDomains = new Set<string>();
  const blockingDomains = new Set<string>();
  let verdict: Health = 'ok';

  return {
    /** Feeds one verified address; returns what the run's answers so far say about us. */
    observe(result: VerificationResult): Health {
      if (verdict !== 'ok') return verdict;
      const domain = result.email.slice(result.email.lastIndexOf('@') + 1);
      if (result.smtp_response !== '') {
        answered = true;
        answeringDomains.add(domain);
        if (result.result === 'unknown' && BLOCKLIST.test(result.smtp_response)) blockingDomains.add(domain);
        if (
          blockingDomains.size >= options.blockedDomains &&
          blockingDomains.size >= options.blockedShare * answeringDomains.size
        ) {
          verdict = 'ip_blocked';
        }
      } else if (!answered && isUnreachable(result)) {
        unreachable += 1;
        unreachableDomains.add(domain);
        if (unreachable >= options.unreachableAddresses && unreachableDomains.size >= options.unreachableDomains) {
          verdict = 'port25_blocked';
        }
      }
      return verdict;
    },
  };
}
