import { describe, expect, it } from 'vitest';
import { createHealthMonitor, type MailboxAnswer } from '../../src/core/health.js';
import type { MailboxOutcome, VerificationResult } from '../../src/core/types.js';

const result = (email: string, fields: Partial<VerificationResult>) =>
  ({ email, result: 'unknown', reason: '', smtp_response: '', ...fields }) as VerificationResult;
// As the engine records an address no mail host answered for: unknown at the SMTP layer, a host
// named, no reply. (The reason's wording is the prober's business, and is not read.)
const unreachable = (email: string) =>
  result(email, { validation_layer: 'smtp', mx_host: 'mx.x', reason: 'whatever the prober says' });
const blocked = (email: string) =>
  result(email, {
    smtp_response: '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org',
    reason: 'Refused by policy',
  });
const answered = (email: string) => result(email, { result: 'valid', smtp_response: '250 2.1.5 OK' });

describe("health monitor, fed the engine's answers (typed outcomes)", () => {
  const answer = (domain: string, outcome: MailboxOutcome, reply = ''): MailboxAnswer => ({
    domain,
    mailbox: { outcome, reply },
  });
  const SPAMHAUS = '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org';

  it('calls port 25 blocked on unreachable answers over several domains, before any host answered', () => {
    const monitor = createHealthMonitor();
    const verdicts = Array.from({ length: 8 }, (_, i) => monitor.observeAnswer(answer(`d${i % 4}.example`, 'unreachable')));
    expect(verdicts.slice(0, 7).every((v) => v === 'ok')).toBe(true);
    expect(verdicts[7]).toBe('port25_blocked');
  });

  it('does not count an unreachable outcome that came with a reply (a 421 or a refused HELO: a host talked)', () => {
    const monitor = createHealthMonitor();
    for (let i = 0; i < 20; i++) monitor.observeAnswer(answer(`d${i % 5}.example`, 'unreachable', '421 4.3.2 Too busy'));
    expect(monitor.observeAnswer(answer('d9.example', 'unreachable'))).toBe('ok');
  });

  it('does not count errors or unverifiable answers as unreachable', () => {
    const monitor = createHealthMonitor();
    const verdicts = Array.from({ length: 20 }, (_, i) =>
      monitor.observeAnswer(answer(`d${i % 5}.example`, i % 2 ? 'error' : 'unverifiable')),
    );
    expect(verdicts.every((v) => v === 'ok')).toBe(true);
  });

  it('calls the IP blocked when most answering domains refuse it by blocklist', () => {
    const monitor = createHealthMonitor();
    monitor.observeAnswer(answer('fine.example', 'accepted', '250 2.1.5 OK'));
    const verdicts = Array.from({ length: 5 }, (_, i) => monitor.observeAnswer(answer(`bl${i}.example`, 'policy', SPAMHAUS)));
    expect(verdicts.slice(0, 4).every((v) => v === 'ok')).toBe(true);
    expect(verdicts[4]).toBe('ip_blocked');
  });

  it('a verdict on the mailbox is never a refusal of us, whatever its wording', () => {
    const monitor = createHealthMonitor();
    const verdicts = Array.from({ length: 10 }, (_, i) =>
      monitor.observeAnswer(answer(`v${i}.example`, 'no_mailbox', '550 5.1.1 user unknown; listed in our directory as gone')),
    );
    expect(verdicts.every((v) => v === 'ok')).toBe(true);
  });
});

describe('health monitor, fed finished records', () => {
  it('calls port 25 blocked when the first answers are all unreachable, over several domains', () => {
    const monitor = createHealthMonitor();
    const verdicts = Array.from({ length: 8 }, (_, i) => monitor.observe(unreachable(`u${i}@d${i % 4}.example`)));
    expect(verdicts.slice(0, 7).every((v) => v === 'ok')).toBe(true);
    expect(verdicts[7]).toBe('port25_blocked');
  });

  it('never calls port 25 blocked once any host has answered', () => {
    const monitor = createHealthMonitor();
    monitor.observe(answered('a@ok.example'));
    const verdicts = Array.from({ length: 20 }, (_, i) => monitor.observe(unreachable(`u${i}@d${i % 5}.example`)));
    expect(verdicts.every((v) => v === 'ok')).toBe(true);
  });

  it('needs several domains: one dead domain with many addresses is not port 25', () => {
    const monitor = createHealthMonitor();
    const verdicts = Array.from({ length: 20 }, (_, i) => monitor.observe(unreachable(`u${i}@dead.example`)));
    expect(verdicts.every((v) => v === 'ok')).toBe(true);
  });

  it('calls the IP blocked when most answering domains refuse it by blocklist', () => {
    const monitor = createHealthMonitor();
    monitor.observe(answered('a@fine.example'));
    const verdicts = Array.from({ length: 5 }, (_, i) => monitor.observe(blocked(`b@bl${i}.example`)));
    expect(verdicts.slice(0, 4).every((v) => v === 'ok')).toBe(true);
    expect(verdicts[4]).toBe('ip_blocked');
  });

  it('does not call the IP blocked for a few blocking domains among many answering ones', () => {
    const monitor = createHealthMonitor();
    for (let i = 0; i < 30; i++) monitor.observe(answered(`a@fine${i}.example`));
    const verdicts = Array.from({ length: 6 }, (_, i) => monitor.observe(blocked(`b@bl${i}.example`)));
    expect(verdicts.every((v) => v === 'ok')).toBe(true);
  });

  it('does not take a mailbox-level policy refusal for a blocklist', () => {
    const monitor = createHealthMonitor();
    const refusal = (i: number) => result(`x@v${i}.example`, { smtp_response: '550 5.7.1 Recipient verification not allowed' });
    const verdicts = Array.from({ length: 10 }, (_, i) => monitor.observe(refusal(i)));
    expect(verdicts.every((v) => v === 'ok')).toBe(true);
  });
});
