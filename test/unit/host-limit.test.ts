// The per-host session limit: halved when the host pushes back (turns a session away, refuses the
// connection, rate-limits), raised by one after a quiet spell, and above --per-host only while
// work waits for its sessions; never below one or above --per-host-max.
import { describe, expect, it } from 'vitest';
import { HostLimit, PUSHBACK_QUIET_MS, sessionSignal, turnedAway } from '../../src/core/host-limit.js';
import { classifyRcpt, parseReply } from '../../src/core/smtp-reply.js';
import type { MailboxOutcome, MailboxResult } from '../../src/core/types.js';
import { manualClock } from '../support/clock.js';

const result = (outcome: MailboxOutcome, reply = ''): MailboxResult => ({ outcome, reason: outcome, reply, mxHost: 'mx' });
const busy = [result('temporary', '421 4.7.0 Too many concurrent SMTP connections')];
const answered = [result('accepted', '250 2.1.5 Ok'), result('no_mailbox', '550 5.1.1 unknown')];

const clockAt = () => manualClock();

/** Starts `count` sessions that stay in flight until the test ends, as reports come from sessions. */
async function inFlight(limit: HostLimit, count: number): Promise<void> {
  for (let i = 0; i < count; i++) void limit.run(() => new Promise<void>(() => undefined));
  await new Promise((r) => setImmediate(r));
}

describe('HostLimit', () => {
  it('halves the sessions at once on each push-back, down to one', () => {
    const limit = new HostLimit(8, clockAt());
    const seen = [limit.sessions];
    for (let i = 0; i < 4; i++) {
      limit.report(busy);
      seen.push(limit.sessions);
    }
    expect(seen).toEqual([8, 4, 2, 1, 1]);
  });

  it('gives one more back per answered session only after a quiet spell, up to the maximum', () => {
    const clock = clockAt();
    const limit = new HostLimit(3, clock);
    limit.report(busy);
    limit.report(busy);
    expect(limit.sessions).toBe(1);
    limit.report(answered);
    expect(limit.sessions).toBe(1); // too soon after the push-back
    clock.advance(PUSHBACK_QUIET_MS);
    for (let i = 0; i < 5; i++) limit.report(answered);
    expect(limit.sessions).toBe(3);
  });

  it('runs no more at once than it allows', async () => {
    const limit = new HostLimit(4, clockAt());
    limit.report(busy); // 2 at once
    let running = 0;
    let most = 0;
    const task = async () => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((r) => setImmediate(r));
      running -= 1;
    };
    await Promise.all(Array.from({ length: 10 }, () => limit.run(task)));
    expect(most).toBe(2);
  });

  it('counts a session as turned away only when every answer is a temporary refusal', () => {
    expect(turnedAway(busy)).toBe(true);
    expect(turnedAway([...busy, result('accepted')])).toBe(false);
    expect(turnedAway([result('greylisted', '451 4.7.1 try later')])).toBe(false);
    expect(turnedAway([])).toBe(false);
  });

  it('is idle, and may be dropped, only with nothing running or waiting and nothing learnt', async () => {
    const limit = new HostLimit(2, clockAt());
    expect(limit.isIdle).toBe(true);
    let release!: () => void;
    const running = limit.run(() => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setImmediate(r));
    expect(limit.isIdle).toBe(false);
    release();
    await running;
    expect(limit.isIdle).toBe(true);
    limit.report(busy);
    expect(limit.isIdle).toBe(false); // it has learnt to send fewer: kept
  });

  it('is not idle while addresses of its domains wait for its sessions, and counts them', () => {
    const limit = new HostLimit(2, clockAt());
    limit.noteQueued(40);
    limit.noteQueued(-15);
    expect(limit.queued).toBe(25);
    expect(limit.isIdle).toBe(false);
    limit.noteQueued(-25);
    expect(limit.isIdle).toBe(true);
  });

  it('lets a host that answers earn one more session per round of clean sessions, up to --per-host-max', async () => {
    const levels: number[] = [];
    const limit = new HostLimit(5, clockAt(), 10, undefined, (level) => levels.push(level));
    await inFlight(limit, 5);
    // A small host's few sessions earn nothing: it stays at --per-host.
    for (let i = 0; i < 4; i++) limit.report(answered, true);
    expect(limit.sessions).toBe(5);
    // A round is the 5 sessions in flight: 5 clean ones earn the 6th, 5 more the 7th … (25 to reach 10).
    limit.report(answered, true);
    expect(limit.sessions).toBe(6);
    for (let i = 0; i < 20; i++) limit.report(answered, true);
    expect(limit.sessions).toBe(10);
    for (let i = 0; i < 20; i++) limit.report(answered, true);
    expect(levels).toEqual([6, 7, 8, 9, 10]);
    limit.report(busy);
    expect(limit.sessions).toBe(5);
    expect(levels.at(-1)).toBe(5);
  });

  it('counts a round as the sessions in flight: a domain held to two sessions grows per two', async () => {
    const limit = new HostLimit(5, clockAt(), 10);
    await inFlight(limit, 2);
    const seen: number[] = [];
    for (let i = 0; i < 10; i++) {
      limit.report(answered, true);
      seen.push(limit.sessions);
    }
    expect(seen).toEqual([5, 6, 6, 7, 7, 8, 8, 9, 9, 10]);
  });

  it('starts where an earlier run left the host, within one and the maximum', () => {
    expect(new HostLimit(5, clockAt(), 10, 8).sessions).toBe(8);
    expect(new HostLimit(5, clockAt(), 10, 40).sessions).toBe(10);
    expect(new HostLimit(5, clockAt(), 10, 0).sessions).toBe(1);
  });

  it('earns nothing above --per-host for clean sessions while no work waits for a session', async () => {
    const limit = new HostLimit(5, clockAt(), 10);
    await inFlight(limit, 5);
    // A company host whose few rows never wait: any number of clean sessions leave it at 5.
    for (let i = 0; i < 100; i++) limit.report(answered);
    expect(limit.sessions).toBe(5);
    // A domain held back by its cap says so (noteBacklog); the next session's report counts it.
    for (let i = 0; i < 5; i++) {
      limit.noteBacklog();
      limit.report(answered);
    }
    expect(limit.sessions).toBe(6);
    // The note is used up by one report: sessions after the backlog cleared earn nothing.
    for (let i = 0; i < 100; i++) limit.report(answered);
    expect(limit.sessions).toBe(6);
  });

  it('still climbs back to --per-host after a push-back without waiting work', () => {
    const clock = clockAt();
    const limit = new HostLimit(4, clock, 10);
    limit.report(busy);
    expect(limit.sessions).toBe(2);
    clock.advance(PUSHBACK_QUIET_MS);
    for (let i = 0; i < 10; i++) limit.report(answered);
    expect(limit.sessions).toBe(4);
  });

  it('halves on a refused connection and on a rate-limit reply, 4xx or 5xx, and never counts them clean', () => {
    const refused = [result('unreachable', ''), result('unreachable', '')].map((r) => ({
      ...r,
      reason: 'No mail server answered: mx.big.example: connect ECONNREFUSED 127.0.0.9:25',
    }));
    // Classified as the prober does (smtp-reply.ts): Gmail's rate-limit replies (sisimai's table).
    const rcptAnswer = (line: string): MailboxResult => {
      const { outcome, reason } = classifyRcpt(parseReply([line]));
      return { outcome: outcome as MailboxOutcome, reason, reply: line, mxHost: 'mx' };
    };
    const limited5xx = [
      result('accepted', '250 2.1.5 OK'),
      rcptAnswer(
        '550 5.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered.',
      ),
    ];
    const limited4xx = [
      rcptAnswer(
        '450 4.2.1 The user you are trying to contact is receiving mail too quickly. Please resend your message at a later time.',
      ),
      result('no_mailbox', '550 5.1.1 unknown'),
    ];
    expect(limited5xx[1]!.outcome).toBe('policy');
    expect(limited4xx[0]!.outcome).toBe('temporary');
    for (const pushback of [refused, limited5xx, limited4xx]) {
      expect(sessionSignal(pushback)).toBe('pushback');
      const clock = clockAt();
      const limit = new HostLimit(8, clock, 10);
      limit.report(pushback, true);
      expect(limit.sessions).toBe(4);
      // However many of them come after the quiet spell, they earn nothing.
      clock.advance(PUSHBACK_QUIET_MS);
      for (let i = 0; i < 20; i++) limit.report(pushback, true);
      expect(limit.sessions).toBe(1);
    }
    expect(sessionSignal(answered)).toBe('clean');
    expect(sessionSignal([result('greylisted', '451 4.7.1 try later')])).toBe('clean');
    // Some answers, then the connection broke: neither clean nor push-back.
    expect(sessionSignal([result('accepted'), result('unreachable')])).toBe('neutral');
    expect(sessionSignal([])).toBe('neutral');
  });
});
