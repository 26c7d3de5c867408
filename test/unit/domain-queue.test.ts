// The per-domain scheduler with a scripted AskMailboxes and a manual clock: batching, the
// catch-all probe riding in the first session, and greylisting retries within the budget.
import { describe, expect, it } from 'vitest';
import { DomainQueue, type DomainQueueOptions, type OnAnswer } from '../../src/core/domain-queue.js';
import type { MailboxOutcome, MailboxResult, MxHost } from '../../src/core/types.js';
import { manualClock } from '../support/clock.js';

const hosts: MxHost[] = [{ exchange: 'mx.a.example', priority: 10, addresses: ['127.0.0.1'] }];
const PROBE = 'probe@a.example';

const result = (outcome: MailboxOutcome): MailboxResult => ({ outcome, reason: outcome, reply: outcome, mxHost: 'mx.a.example' });

/** A scripted server: answers per address, in order of the tries; records each session. */
function scripted(answers: Record<string, MailboxOutcome[]>) {
  const sessions: string[][] = [];
  const tries = new Map<string, number>();
  const ask = async (_hosts: MxHost[], addresses: string[]) => {
    sessions.push(addresses);
    return addresses.map((a) => {
      const n = tries.get(a) ?? 0;
      tries.set(a, n + 1);
      const list = answers[a] ?? ['accepted'];
      return result(list[Math.min(n, list.length - 1)]!);
    });
  };
  return { ask, sessions };
}

const options: DomainQueueOptions = {
  sessions: 2,
  recipientsPerSession: 10,
  retryDelayMs: 1000,
  retryBudgetMs: 5000,
  catchAll: true,
  probeAttempts: 3,
};
const tick = () => new Promise((r) => setImmediate(r));

describe('DomainQueue', () => {
  it('asks addresses that arrive together in one session, with the probe first', async () => {
    const server = scripted({ [PROBE]: ['no_mailbox'], 'x@a.example': ['no_mailbox'] });
    const queue = new DomainQueue(hosts, PROBE, server.ask, options, manualClock());
    const answers = await Promise.all(['a@a.example', 'b@a.example', 'x@a.example'].map((a) => queue.check(a)));
    expect(server.sessions).toEqual([[PROBE, 'a@a.example', 'b@a.example', 'x@a.example']]);
    expect(answers.map((a) => a.mailbox.outcome)).toEqual(['accepted', 'accepted', 'no_mailbox']);
    expect(answers[0]!.catchAll).toMatchObject({ isCatchAll: false, confidence: 'high' });
  });

  it('tells its host how many addresses wait in it: each one once in, once out to its session', async () => {
    const server = scripted({ [PROBE]: ['no_mailbox'] });
    let queued = 0;
    const seen: number[] = [];
    const onQueued = (change: number) => seen.push((queued += change));
    const queue = new DomainQueue(
      hosts,
      PROBE,
      server.ask,
      { ...options, recipientsPerSession: 4, sessions: 1, onQueued },
      manualClock(),
    );
    await Promise.all(Array.from({ length: 9 }, (_, i) => queue.check(`u${i}@a.example`)));
    // All nine in; three leave with the probe's session, then four, then two.
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 6, 2, 0]);
  });

  it('counts the addresses a stop answers unasked out of the queue', async () => {
    let queued = 0;
    const never = () => new Promise<MailboxResult[]>(() => undefined);
    const queue = new DomainQueue(
      hosts,
      PROBE,
      never,
      { ...options, recipientsPerSession: 4, sessions: 1, onQueued: (c) => (queued += c) },
      manualClock(),
    );
    const answers = Array.from({ length: 6 }, (_, i) => queue.check(`u${i}@a.example`));
    await tick();
    expect(queued).toBe(3); // the first session took the probe and three
    queue.stop(result('unverifiable'));
    expect(queued).toBe(0);
    expect((await Promise.all(answers.slice(3))).map((a) => a.mailbox.outcome)).toEqual([
      'unverifiable',
      'unverifiable',
      'unverifiable',
    ]);
  });

  it('splits a large batch by the per-session cap and never runs more sessions than allowed', async () => {
    const server = scripted({ [PROBE]: ['no_mailbox'] });
    let running = 0;
    let most = 0;
    const slow = async (h: MxHost[], a: string[]) => {
      running += 1;
      most = Math.max(most, running);
      await tick();
      running -= 1;
      return server.ask(h, a);
    };
    const queue = new DomainQueue(hosts, PROBE, slow, { ...options, recipientsPerSession: 4 }, manualClock());
    await Promise.all(Array.from({ length: 11 }, (_, i) => queue.check(`u${i}@a.example`)));
    expect(server.sessions.map((s) => s.length)).toEqual([4, 4, 4]); // probe + 3, then 4, then 4
    expect(server.sessions.flat().filter((a) => a === PROBE)).toHaveLength(1);
    expect(most).toBeLessThanOrEqual(2);
  });

  it('holds rows that arrive while a session is out and sends them together when it ends', async () => {
    const sessions: string[][] = [];
    const gates: (() => void)[] = [];
    const ask = async (_h: MxHost[], addresses: string[]) => {
      sessions.push(addresses);
      await new Promise<void>((r) => gates.push(r));
      return addresses.map(() => result('accepted'));
    };
    let backlog = 0;
    const queue = new DomainQueue(hosts, PROBE, ask, { ...options, onBacklog: () => (backlog += 1) }, manualClock());
    const answers = [queue.check('a@a.example')];
    await tick();
    // Rows that trickle in (one per tick, as the look-ahead reads them) while the first session
    // is out wait for it, though a second session is allowed: none opens with one row.
    for (const local of ['b', 'c', 'd']) {
      answers.push(queue.check(`${local}@a.example`));
      await tick();
    }
    expect(sessions).toEqual([[PROBE, 'a@a.example']]);
    expect(backlog).toBe(0);
    gates.shift()!();
    await tick();
    expect(sessions.at(-1)).toEqual(['b@a.example', 'c@a.example', 'd@a.example']);
    // A full session's worth goes at once; past the domain's two sessions the rest waits, and
    // the queue says so (the demand that lets a host earn more sessions).
    for (let i = 0; i < 25; i++) answers.push(queue.check(`u${i}@a.example`));
    await tick();
    expect(sessions.map((s) => s.length)).toEqual([2, 3, 10]);
    expect(backlog).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) {
      gates.splice(0).forEach((open) => open());
      await tick();
    }
    const settled = await Promise.all(answers);
    expect(settled.every((a) => a.mailbox.outcome === 'accepted')).toBe(true);
    expect(sessions.map((s) => s.length)).toEqual([2, 3, 10, 10, 5]);
  });

  it('marks accepted addresses of a catch-all domain', async () => {
    const server = scripted({});
    const queue = new DomainQueue(hosts, PROBE, server.ask, options, manualClock());
    const answer = await queue.check('a@a.example');
    expect(answer.catchAll).toMatchObject({ isCatchAll: true, confidence: 'high' });
  });

  it('asks a greylisted address again after the delay, and the probe with the same address', async () => {
    const clock = manualClock();
    const server = scripted({ [PROBE]: ['greylisted', 'no_mailbox'], 'a@a.example': ['greylisted', 'accepted'] });
    const queue = new DomainQueue(hosts, PROBE, server.ask, options, clock);
    const pending = queue.check('a@a.example');
    await tick();
    await tick();
    expect(server.sessions).toHaveLength(1);
    clock.advance(999);
    await tick();
    expect(server.sessions).toHaveLength(1);
    clock.advance(1);
    const answer = await pending;
    expect(server.sessions).toEqual([
      [PROBE, 'a@a.example'],
      [PROBE, 'a@a.example'],
    ]);
    expect(answer.mailbox.outcome).toBe('accepted');
    expect(answer.catchAll?.isCatchAll).toBe(false);
  });

  it('gives up with the greylisted answer when the budget runs out', async () => {
    const clock = manualClock();
    const server = scripted({ [PROBE]: ['no_mailbox'], 'a@a.example': ['greylisted'] });
    const queue = new DomainQueue(hosts, PROBE, server.ask, { ...options, retryBudgetMs: 2500 }, clock);
    const pending = queue.check('a@a.example');
    for (let i = 0; i < 5; i++) {
      await tick();
      await tick();
      clock.advance(1000);
    }
    const answer = await pending;
    expect(answer.mailbox.outcome).toBe('greylisted');
    // First try, then retries at +1 s and +2 s; +3 s would exceed the 2.5 s budget.
    expect(server.sessions.filter((s) => s.includes('a@a.example'))).toHaveLength(3);
  });

  it('does not wait at all with a zero budget', async () => {
    const server = scripted({ [PROBE]: ['no_mailbox'], 'a@a.example': ['temporary'] });
    const queue = new DomainQueue(hosts, PROBE, server.ask, { ...options, retryBudgetMs: 0 }, manualClock());
    expect((await queue.check('a@a.example')).mailbox.outcome).toBe('temporary');
  });

  it('when stopped, answers waiting retries with their last answer and unasked addresses as unasked', async () => {
    const server = scripted({ [PROBE]: ['no_mailbox'], 'a@a.example': ['greylisted'] });
    const queue = new DomainQueue(hosts, PROBE, server.ask, { ...options, sessions: 1, recipientsPerSession: 2 }, manualClock());
    const retried = queue.check('a@a.example');
    await tick();
    await tick();
    const unasked = result('error');
    const later = queue.check('b@a.example');
    queue.stop(unasked);
    expect((await retried).mailbox.outcome).toBe('greylisted');
    expect((await later).mailbox).toBe(unasked);
    await tick();
    expect(server.sessions).toHaveLength(1);
  });

  it('uses a catch-all verdict known from an earlier run instead of probing', async () => {
    const server = scripted({});
    const known = { isCatchAll: true, confidence: 'high' as const, reply: '250 earlier' };
    const queue = new DomainQueue(hosts, PROBE, server.ask, { ...options, knownCatchAll: known }, manualClock());
    expect((await queue.check('a@a.example')).catchAll).toBe(known);
    expect(server.sessions).toEqual([['a@a.example']]);
  });

  it('reports a catch-all verdict its probe decided, to be kept', async () => {
    const decided: unknown[] = [];
    const server = scripted({ [PROBE]: ['no_mailbox'] });
    const queue = new DomainQueue(hosts, PROBE, server.ask, { ...options, onCatchAll: (r) => decided.push(r) }, manualClock());
    await queue.check('a@a.example');
    expect(decided).toEqual([{ isCatchAll: false, confidence: 'high', reply: 'no_mailbox' }]);
  });

  it('turns a failing session into error answers instead of a rejection', async () => {
    const queue = new DomainQueue(hosts, PROBE, async () => Promise.reject(new Error('boom')), options, manualClock());
    const answer = await queue.check('a@a.example');
    expect(answer.mailbox).toMatchObject({ outcome: 'error', reason: 'Verification failed: boom' });
  });

  it('decides each address as its answer is told, before the session ends, the probe first', async () => {
    // A session whose replies came in but whose QUIT has not: what a kill -9 would cut short.
    let tell!: OnAnswer;
    let end!: (results: MailboxResult[]) => void;
    const ask = (_hosts: MxHost[], _addresses: string[], onAnswer?: OnAnswer) => {
      tell = onAnswer!;
      return new Promise<MailboxResult[]>((resolve) => (end = resolve));
    };
    const decided: unknown[] = [];
    const queue = new DomainQueue(hosts, PROBE, ask, { ...options, onCatchAll: (r) => decided.push(r) }, manualClock());
    const got: string[] = [];
    const pending = ['a@a.example', 'x@a.example', 'c@a.example'].map((a) =>
      queue.check(a).then((answer) => got.push(`${a} ${answer.mailbox.outcome}`)),
    );
    await tick();
    const told = [result('no_mailbox'), result('accepted'), result('no_mailbox')];
    told.forEach((r, i) => tell(i, r));
    await tick();
    expect(decided).toMatchObject([{ isCatchAll: false }]);
    expect(got).toEqual(['a@a.example accepted', 'x@a.example no_mailbox']);
    // The session's own answers do not decide anyone twice; the one not yet told is decided now.
    end([...told, result('accepted')]);
    await Promise.all(pending);
    expect(got).toEqual(['a@a.example accepted', 'x@a.example no_mailbox', 'c@a.example accepted']);
    expect(decided).toHaveLength(1);
  });
});
