// The per-host session limit: halved when the host turns a session away, raised by one after a
// quiet spell, never below one or above --per-host.
import { describe, expect, it } from 'vitest';
import { HostLimit, PUSHBACK_QUIET_MS, turnedAway } from '../../src/core/host-limit.js';
import type { MailboxOutcome, MailboxResult } from '../../src/core/types.js';
import { manualClock } from '../support/clock.js';

const result = (outcome: MailboxOutcome, reply = ''): MailboxResult => ({ outcome, reason: outcome, reply, mxHost: 'mx' });
const busy = [result('temporary', '421 4.7.0 Too many concurrent SMTP connections')];
const answered = [result('accepted', '250 2.1.5 Ok'), result('no_mailbox', '550 5.1.1 unknown')];

const clockAt = () => manualClock();

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

  it('lets a host that answers earn one more session per window of clean sessions, up to --per-host-max', () => {
    const levels: number[] = [];
    const limit = new HostLimit(5, clockAt(), 10, undefined, (level) => levels.push(level));
    // A small host's few sessions earn nothing: it stays at --per-host.
    for (let i = 0; i < 4; i++) limit.report(answered);
    expect(limit.sessions).toBe(5);
    // 5 clean sessions earn the 6th, 6 more the 7th … (5 + 6 + 7 + 8 + 9 = 35 to reach 10).
    limit.report(answered);
    expect(limit.sessions).toBe(6);
    for (let i = 0; i < 30; i++) limit.report(answered);
    expect(limit.sessions).toBe(10);
    for (let i = 0; i < 20; i++) limit.report(answered);
    expect(levels).toEqual([6, 7, 8, 9, 10]);
    limit.report(busy);
    expect(limit.sessions).toBe(5);
    expect(levels.at(-1)).toBe(5);
  });

  it('starts where an earlier run left the host, within one and the maximum', () => {
    expect(new HostLimit(5, clockAt(), 10, 8).sessions).toBe(8);
    expect(new HostLimit(5, clockAt(), 10, 40).sessions).toBe(10);
    expect(new HostLimit(5, clockAt(), 10, 0).sessions).toBe(1);
  });
});
