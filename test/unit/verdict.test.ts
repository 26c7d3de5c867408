import { describe, expect, it } from 'vitest';
import { NO_FLAGS } from '../../src/core/flags.js';
import {
  INTERRUPTED,
  IP_BLOCKED,
  type Findings,
  type MailboxOutcome,
  type MailboxResult,
  type MxResult,
} from '../../src/core/types.js';
import { verdictOf } from '../../src/core/verdict.js';

const mxOk: MxResult = {
  kind: 'mx',
  implicit: false,
  hosts: [{ exchange: 'mx.a.example', priority: 10, addresses: ['127.0.0.1'] }],
};
const base: Findings = { input: 'x@a.example', email: 'x@a.example', syntax: { ok: true, smtputf8: false }, flags: NO_FLAGS };
const mailbox = (outcome: MailboxOutcome, reason: string = outcome) => ({
  outcome,
  reason,
  reply: `reply for ${outcome}`,
  mxHost: 'mx.a.example',
});

describe('verdictOf', () => {
  it.each<[string, Findings, string, string, string]>([
    ['bad syntax', { ...base, syntax: { ok: false, reason: 'No @', code: 'no_at' } }, 'invalid', 'syntax', 'syntax_no_at'],
    ['NXDOMAIN', { ...base, mx: { kind: 'no_domain' } }, 'invalid', 'dns', 'no_domain'],
    ['null MX', { ...base, mx: { kind: 'null_mx' } }, 'invalid', 'dns', 'null_mx'],
    ['no mail host', { ...base, mx: { kind: 'no_mail_host' } }, 'invalid', 'dns', 'no_mx'],
    ['SERVFAIL', { ...base, mx: { kind: 'lookup_failed', reason: 'SERVFAIL' } }, 'unknown', 'dns', 'dns_error'],
    ['no mailbox', { ...base, mx: mxOk, mailbox: mailbox('no_mailbox') }, 'invalid', 'smtp', 'mailbox_not_found'],
    ['disabled', { ...base, mx: mxOk, mailbox: mailbox('disabled') }, 'invalid', 'smtp', 'mailbox_disabled'],
    ['full', { ...base, mx: mxOk, mailbox: mailbox('mailbox_full') }, 'risky', 'smtp', 'mailbox_full'],
    ['policy', { ...base, mx: mxOk, mailbox: mailbox('policy') }, 'unknown', 'smtp', 'policy_block'],
    ['greylisted', { ...base, mx: mxOk, mailbox: mailbox('greylisted') }, 'unknown', 'smtp', 'greylisted'],
    ['unreachable', { ...base, mx: mxOk, mailbox: mailbox('unreachable') }, 'unknown', 'smtp', 'smtp_unreachable'],
    ['252', { ...base, mx: mxOk, mailbox: mailbox('unverifiable') }, 'unknown', 'smtp', 'unverifiable'],
    ['accepted, no catch-all answer', { ...base, mx: mxOk, mailbox: mailbox('accepted') }, 'valid', 'smtp', 'accepted'],
    [
      'accepted, not catch-all',
      { ...base, mx: mxOk, mailbox: mailbox('accepted'), catchAll: { isCatchAll: false, confidence: 'high', reply: '550' } },
      'valid',
      'catchall',
      'accepted',
    ],
    [
      'accepted, catch-all',
      { ...base, mx: mxOk, mailbox: mailbox('accepted'), catchAll: { isCatchAll: true, confidence: 'high', reply: '250' } },
      'risky',
      'catchall',
      'catch_all',
    ],
    ['offline', { ...base, notChecked: 'Not checked: offline' }, 'unknown', 'syntax', 'not_checked'],
  ])('%s', (_name, findings, result, layer, code) => {
    const verdict = verdictOf(findings);
    expect(verdict.result).toBe(result);
    expect(verdict.validation_layer).toBe(layer);
    expect(verdict.reason_code).toBe(code);
    expect(verdict.score).toBeGreaterThanOrEqual(0);
    expect(verdict.score).toBeLessThanOrEqual(10);
  });

  it('charges only a valid personal address, with high B2B quality', () => {
    const valid = verdictOf({
      ...base,
      mx: mxOk,
      mailbox: mailbox('accepted'),
      catchAll: { isCatchAll: false, confidence: 'high', reply: '' },
    });
    expect(valid).toMatchObject({ credits_charged: 1, b2b_outbound_quality: 'high', score: 10 });
    const role = verdictOf({
      ...base,
      flags: { ...NO_FLAGS, isRoleBased: true, roleType: 'information' },
      mx: mxOk,
      mailbox: mailbox('accepted'),
    });
    expect(role).toMatchObject({
      result: 'valid_role_based',
      credits_charged: 0,
      b2b_outbound_quality: 'low',
      role_type: 'information',
    });
    const invalid = verdictOf({ ...base, mx: { kind: 'no_domain' } });
    expect(invalid).toMatchObject({ credits_charged: 0, b2b_outbound_quality: 'none', score: 0 });
  });

  it('makes an existing disposable inbox risky, but a missing one stays invalid', () => {
    const flags = { ...NO_FLAGS, isDisposable: true };
    expect(verdictOf({ ...base, flags, mx: mxOk, mailbox: mailbox('accepted') }).result).toBe('risky');
    expect(verdictOf({ ...base, flags, mx: mxOk, mailbox: mailbox('no_mailbox') }).result).toBe('invalid');
    expect(verdictOf({ ...base, flags, notChecked: 'offline' }).result).toBe('risky');
  });

  it('keeps the deciding reply and host', () => {
    const verdict = verdictOf({ ...base, mx: mxOk, mailbox: mailbox('policy', 'Blocked') });
    expect(verdict).toMatchObject({ smtp_response: 'reply for policy', mx_host: 'mx.a.example', reason: 'Blocked' });
  });

  it('gives the catch-all charge reason and confidence', () => {
    const verdict = verdictOf({
      ...base,
      mx: mxOk,
      mailbox: mailbox('accepted'),
      catchAll: { isCatchAll: true, confidence: 'high', reply: '250' },
    });
    expect(verdict).toMatchObject({
      is_catch_all: true,
      catch_all_confidence: 'high',
      charge_reason: 'Catch-all domain - cannot verify individual mailbox',
    });
  });

  // The unknown answers told apart, each by the real reply (or the prober's wording) that gives it.
  it.each<[string, MailboxResult, string]>([
    [
      'our IP on a blocklist at RCPT',
      {
        outcome: 'policy',
        reason: 'Refused by server policy (not a verdict on the mailbox)',
        reply: '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org',
        mxHost: 'mx.a.example',
      },
      'ip_blocked',
    ],
    [
      'no reverse DNS, at the greeting',
      {
        outcome: 'policy',
        reason: 'No mail server answered: mx.a.example greeting: Blocked by the server (not a verdict on the mailbox)',
        reply: '450 4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.1]',
        mxHost: 'mx.a.example',
      },
      'ip_blocked',
    ],
    [
      'our sender refused at RCPT (Postfix)',
      {
        outcome: 'policy',
        reason: 'Our sender address was refused (not a verdict on the mailbox)',
        reply: '550 5.1.0 <>: Sender address rejected: User unknown in local recipient table',
        mxHost: 'mx.a.example',
      },
      'sender_refused',
    ],
    [
      'the null sender refused at MAIL FROM',
      {
        outcome: 'policy',
        reason: 'No mail server answered: MAIL FROM refused: Refused by server policy (not a verdict on the mailbox)',
        reply: '550 5.7.1 Null sender is not allowed',
        mxHost: 'mx.a.example',
      },
      'sender_refused',
    ],
    [
      'a policy refusal of the recipient',
      {
        outcome: 'policy',
        reason: 'Refused by server policy (not a verdict on the mailbox)',
        reply: '550 5.7.1 Recipient verification is not permitted',
        mxHost: 'mx.a.example',
      },
      'policy_block',
    ],
    [
      'a tarpit',
      {
        outcome: 'unreachable',
        reason: 'No mail server answered: mx.a.example: no reply within 30000 ms',
        reply: '',
        mxHost: 'mx.a.example',
      },
      'smtp_timeout',
    ],
    [
      'connection refused',
      {
        outcome: 'unreachable',
        reason: 'No mail server answered: mx.a.example: ECONNREFUSED: connect ECONNREFUSED 192.0.2.1:25',
        reply: '',
        mxHost: 'mx.a.example',
      },
      'smtp_unreachable',
    ],
    [
      'throttled',
      {
        outcome: 'temporary',
        reason: 'Rate limited: retry later',
        reply: '451 4.7.0 Too many connections',
        mxHost: 'mx.a.example',
      },
      'rate_limited',
    ],
    [
      'a 4xx that never cleared',
      { outcome: 'temporary', reason: 'Temporary failure', reply: '451 4.3.0 Local problem', mxHost: 'mx.a.example' },
      'temporary_failure',
    ],
    [
      'a 5xx with no reason',
      { outcome: 'rejected_other', reason: 'Rejected for an unstated reason', reply: '550 Go away', mxHost: 'mx.a.example' },
      'smtp_rejected',
    ],
    ['interrupted while waiting', { outcome: 'error', reason: INTERRUPTED, reply: '', mxHost: '' }, 'interrupted'],
    ['left unasked, our IP blocked', { outcome: 'error', reason: IP_BLOCKED, reply: '', mxHost: '' }, 'ip_blocked'],
    [
      'a broken conversation',
      { outcome: 'error', reason: 'Malformed or unexpected reply', reply: 'HTTP/1.1 400', mxHost: '' },
      'smtp_error',
    ],
    [
      'a code the prober named itself',
      { outcome: 'policy', reason: 'anything', reply: '', mxHost: 'mx.a.example', reasonCode: 'sender_refused' },
      'sender_refused',
    ],
  ])('reason_code of %s', (_name, answer, code) => {
    const verdict = verdictOf({ ...base, mx: mxOk, mailbox: answer });
    expect(verdict.result).toBe('unknown');
    expect(verdict.reason_code).toBe(code);
  });

  it('gives stop reasons and flags their own codes', () => {
    expect(verdictOf({ ...base, notChecked: INTERRUPTED }).reason_code).toBe('interrupted');
    expect(verdictOf({ ...base, notChecked: IP_BLOCKED }).reason_code).toBe('ip_blocked');
    const disposable = verdictOf({ ...base, flags: { ...NO_FLAGS, isDisposable: true }, mx: mxOk, mailbox: mailbox('accepted') });
    expect(disposable).toMatchObject({ result: 'risky', reason_code: 'disposable' });
    const role = verdictOf({
      ...base,
      flags: { ...NO_FLAGS, isRoleBased: true, roleType: 'support' },
      mx: mxOk,
      mailbox: mailbox('accepted'),
    });
    expect(role).toMatchObject({ result: 'valid_role_based', reason_code: 'role_based' });
  });

  it('names the provider from the MX hosts, and none when they are not known', () => {
    const google: MxResult = {
      kind: 'mx',
      implicit: false,
      hosts: [
        { exchange: 'alt1.aspmx.l.google.com', priority: 5, addresses: ['127.0.0.1'] },
        { exchange: 'aspmx.l.google.com', priority: 1, addresses: ['127.0.0.1'] },
      ],
    };
    expect(verdictOf({ ...base, mx: google, mailbox: mailbox('no_mailbox') }).provider).toBe('google');
    expect(verdictOf({ ...base, mx: mxOk, mailbox: mailbox('accepted') }).provider).toBe('other');
    expect(verdictOf({ ...base, mx: { kind: 'no_domain' } }).provider).toBe('');
    expect(verdictOf({ ...base, notChecked: 'offline' }).provider).toBe('');
  });
});
