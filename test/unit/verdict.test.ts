import { describe, expect, it } from 'vitest';
import { NO_FLAGS } from '../../src/core/flags.js';
import type { Findings, MailboxOutcome, MxResult } from '../../src/core/types.js';
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
  it.each<[string, Findings, string, string]>([
    ['bad syntax', { ...base, syntax: { ok: false, reason: 'No @' } }, 'invalid', 'syntax'],
    ['NXDOMAIN', { ...base, mx: { kind: 'no_domain' } }, 'invalid', 'dns'],
    ['null MX', { ...base, mx: { kind: 'null_mx' } }, 'invalid', 'dns'],
    ['no mail host', { ...base, mx: { kind: 'no_mail_host' } }, 'invalid', 'dns'],
    ['SERVFAIL', { ...base, mx: { kind: 'lookup_failed', reason: 'SERVFAIL' } }, 'unknown', 'dns'],
    ['no mailbox', { ...base, mx: mxOk, mailbox: mailbox('no_mailbox') }, 'invalid', 'smtp'],
    ['disabled', { ...base, mx: mxOk, mailbox: mailbox('disabled') }, 'invalid', 'smtp'],
    ['full', { ...base, mx: mxOk, mailbox: mailbox('mailbox_full') }, 'risky', 'smtp'],
    ['policy', { ...base, mx: mxOk, mailbox: mailbox('policy') }, 'unknown', 'smtp'],
    ['greylisted', { ...base, mx: mxOk, mailbox: mailbox('greylisted') }, 'unknown', 'smtp'],
    ['unreachable', { ...base, mx: mxOk, mailbox: mailbox('unreachable') }, 'unknown', 'smtp'],
    ['252', { ...base, mx: mxOk, mailbox: mailbox('unverifiable') }, 'unknown', 'smtp'],
    ['accepted, no catch-all answer', { ...base, mx: mxOk, mailbox: mailbox('accepted') }, 'valid', 'smtp'],
    [
      'accepted, not catch-all',
      { ...base, mx: mxOk, mailbox: mailbox('accepted'), catchAll: { isCatchAll: false, confidence: 'high', reply: '550' } },
      'valid',
      'catchall',
    ],
    [
      'accepted, catch-all',
      { ...base, mx: mxOk, mailbox: mailbox('accepted'), catchAll: { isCatchAll: true, confidence: 'high', reply: '250' } },
      'risky',
      'catchall',
    ],
    ['offline', { ...base, notChecked: 'Not checked: offline' }, 'unknown', 'syntax'],
  ])('%s', (_name, findings, result, layer) => {
    const verdict = verdictOf(findings);
    expect(verdict.result).toBe(result);
    expect(verdict.validation_layer).toBe(layer);
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
});
