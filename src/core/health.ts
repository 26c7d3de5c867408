// Watches the first answers of a run for trouble on our side rather than the list's: outbound
// port 25 blocked (every verifier's most common complaint), or our IP on blocklists. Either way,
// going on would spend the whole list on answers that say nothing about the mailboxes.
//
// It reads typed facts, not wording: the mailbox stage's outcome ('unreachable': no mail host
// answered at all) and smtp-reply.ts's one classification of a blocklist refusal.
import { isBlocklistRefusal, parseReply } from './smtp-reply.js';
import type { MailboxOutcome, MailboxResult, VerificationResult } from './types.js';

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

/** One mailbox answer as the engine got it (VerifierDeps.onMailboxAnswer). */
export interface MailboxAnswer {
  domain: string;
  mailbox: Pick<MailboxResult, 'outcome' | 'reply'>;
}

/** Outcomes that are a verdict on the mailbox: such an answer is not a refusal of us. */
const VERDICTS: ReadonlySet<MailboxOutcome> = new Set(['accepted', 'no_mailbox', 'disabled', 'mailbox_full']);

/** What the monitor counts, from either kind of input. */
interface Observation {
  domain: string;
  /** The raw reply ('' when no server said anything). */
  reply: string;
  /** No mail host of the domain answered at all. */
  unreachable: boolean;
  /** The answer decided nothing about the mailbox (a refusal, a failure). */
  undecided: boolean;
}

function fromAnswer({ domain, mailbox }: MailboxAnswer): Observation {
  return {
    domain,
    reply: mailbox.reply,
    unreachable: mailbox.outcome === 'unreachable' && mailbox.reply === '',
    undecided: !VERDICTS.has(mailbox.outcome),
  };
}

/**
 * The same facts read off a finished record, for a run loop that sees only records. The record
 * carries no outcome: "unreachable" is an unknown stopped at the SMTP layer with a mail host
 * named and no reply from it (the one other such record, an international address a host could
 * not take, is rare enough not to matter before any host has answered).
 */
function fromRecord(result: VerificationResult): Observation {
  const undecided = result.result === 'unknown';
  return {
    domain: result.email.slice(result.email.lastIndexOf('@') + 1),
    reply: result.smtp_response,
    unreachable: undecided && result.validation_layer === 'smtp' && result.smtp_response === '' && result.mx_host !== '',
    undecided,
  };
}

export function createHealthMonitor(options: HealthOptions = DEFAULT_HEALTH) {
  let answered = false;
  let unreachable = 0;
  const unreachableDomains = new Set<string>();
  const answeringDomains = new Set<string>();
  const blockingDomains = new Set<string>();
  let verdict: Health = 'ok';

  const count = (seen: Observation): Health => {
    if (verdict !== 'ok') return verdict;
    if (seen.reply !== '') {
      answered = true;
      answeringDomains.add(seen.domain);
      if (seen.undecided && isBlocklistRefusal(parseReply(seen.reply.split('\n')))) blockingDomains.add(seen.domain);
      if (
        blockingDomains.size >= options.blockedDomains &&
        blockingDomains.size >= options.blockedShare * answeringDomains.size
      ) {
        verdict = 'ip_blocked';
      }
    } else if (!answered && seen.unreachable) {
      unreachable += 1;
      unreachableDomains.add(seen.domain);
      if (unreachable >= options.unreachableAddresses && unreachableDomains.size >= options.unreachableDomains) {
        verdict = 'port25_blocked';
      }
    }
    return verdict;
  };

  return {
    /** Feeds one mailbox answer from the network; returns what the answers so far say about us. */
    observeAnswer: (answer: MailboxAnswer): Health => count(fromAnswer(answer)),
    /**
     * Feeds one verified address's record. For run loops that do not yet pass the engine's
     * answers (observeAnswer); prefer those, which carry the outcome itself.
     */
    observe: (result: VerificationResult): Health => count(fromRecord(result)),
  };
}
