// --estimate counts what the verdict could charge before any network work. Pinned here to the
// verdict itself: for every address, the estimate's count is the charge of the best network
// answer (accepted, not a catch-all), and no network answer charges more.
import { describe, expect, it } from 'vitest';
import { flagsOf, NO_FLAGS } from '../../src/core/flags.js';
import { checkSyntax } from '../../src/core/syntax.js';
import type { Findings, MailboxOutcome, MxResult } from '../../src/core/types.js';
import { verdictOf } from '../../src/core/verdict.js';
import type { DataRow } from '../../src/io/read.js';
import { estimateList } from '../../src/runner/estimate.js';

const ADDRESSES = [
  'ann.lee@a.example', // personal
  'Ann.Lee@A.example', // the same, as duplicates are counted
  'bob@gmail.com', // personal at a free provider
  'support@a.example', // role
  'Sales+eu@a.example', // role, with a tag
  'joe@mailinator.com', // disposable
  'info@mailinator.com', // role and disposable
  'not an address', // bad syntax
  'x@[127.0.0.1]', // an address literal, refused by default
];

const OUTCOMES: MailboxOutcome[] = [
  'accepted',
  'no_mailbox',
  'disabled',
  'mailbox_full',
  'policy',
  'greylisted',
  'temporary',
  'unverifiable',
  'rejected_other',
  'unreachable',
  'error',
];

const mx: MxResult = { kind: 'mx', implicit: false, hosts: [{ exchange: 'mx.example', priority: 10, addresses: ['127.0.0.1'] }] };

/** The findings the engine builds for `input` (core/engine.ts, findingsOf), with the given network answers. */
function findingsOf(input: string, network: Partial<Findings>): Findings {
  const syntax = checkSyntax(input, { allowAddressLiterals: false });
  if (!syntax.ok) {
    return { input, email: syntax.email, syntax: { ok: false, reason: syntax.reason, code: syntax.code }, flags: NO_FLAGS };
  }
  const flags = flagsOf(syntax.email, syntax.local, syntax.domain);
  return { input, email: syntax.email, syntax: { ok: true, smtputf8: syntax.smtputf8 }, flags, ...network };
}

const mailbox = (outcome: MailboxOutcome) => ({ outcome, reason: outcome, reply: `reply for ${outcome}`, mxHost: 'mx.example' });

/** Every network answer an address can get, best first. */
function networkAnswers(): Partial<Findings>[] {
  const answers: Partial<Findings>[] = [
    { mx, mailbox: mailbox('accepted'), catchAll: { isCatchAll: false, confidence: 'high', reply: '550' } },
  ];
  for (const outcome of OUTCOMES) answers.push({ mx, mailbox: mailbox(outcome) });
  answers.push({ mx, mailbox: mailbox('accepted'), catchAll: { isCatchAll: true, confidence: 'high', reply: '250' } });
  for (const kind of ['no_domain', 'null_mx', 'no_mail_host'] as const) answers.push({ mx: { kind } });
  answers.push({ mx: { kind: 'lookup_failed', reason: 'SERVFAIL' } }, { notChecked: 'Not checked: offline' });
  return answers;
}

async function* batches(addresses: string[]): AsyncIterable<DataRow[]> {
  yield addresses.map((address, index) => ({ index, address, cells: [address] }));
}

describe('estimateList', () => {
  it('counts, per address, the charge of the best network answer, and no answer charges more', async () => {
    for (const address of ADDRESSES) {
      const estimate = await estimateList(batches([address]), { allowAddressLiterals: false, creditPrice: 0.001 });
      const charges = networkAnswers().map((network) => verdictOf(findingsOf(address, network)).credits_charged);
      expect(estimate.chargeable, address).toBe(charges[0]);
      expect(Math.max(...charges), address).toBe(estimate.chargeable);
    }
  });

  it('counts each distinct address once, as the run charges it', async () => {
    const estimate = await estimateList(batches(ADDRESSES), { allowAddressLiterals: false, creditPrice: 0.002 });
    expect(estimate).toMatchObject({ total: 9, unique: 8, duplicates: 1, well_formed: 6, chargeable: 2 });
    expect(estimate.credits).toMatchObject({ credit_price: 0.002, credits_charged: 2, pay_per_valid_cost: 0.004 });
  });
});
