// Requests from domains that share mail hosts, merged into shared sessions while they wait for a
// slot, split to fill them, and held while a part-full session would open beside one in flight.
import pLimit from 'p-limit';
import { describe, expect, it } from 'vitest';
import { hostSetKey, SessionBatcher } from '../../src/core/session-batcher.js';
import type { OnAnswer } from '../../src/core/domain-queue.js';
import type { MailboxResult, MxHost } from '../../src/core/types.js';

const hosts: MxHost[] = [{ exchange: 'mx.hosting.example', priority: 10, addresses: ['127.0.0.1'] }];
const answer = (address: string): MailboxResult => ({ outcome: 'accepted', reason: address, reply: '250', mxHost: 'mx' });
const addresses = (domain: string, n: number) => Array.from({ length: n }, (_, i) => `u${i}@${domain}`);

/** A host that records each session's recipients and answers each with its own address. */
function recorder() {
  const sessions: string[][] = [];
  const ask = async (_hosts: MxHost[], recipients: string[]) => {
    sessions.push(recipients);
    return recipients.map(answer);
  };
  return { ask, sessions };
}

/** One slot, held until release() is called, so requests pile up behind it; keeps each backlog it is given. */
function heldSlot() {
  const limit = pLimit(1);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  void limit(() => gate);
  const reports: { results: MailboxResult[]; backlog: boolean }[] = [];
  const backlogs: (() => number)[] = [];
  const run = <T>(fn: () => Promise<T>, backlog: () => number): Promise<T> => {
    backlogs.push(backlog);
    return limit(fn);
  };
  return {
    limit: { run, report: (results: MailboxResult[], backlog: boolean) => reports.push({ results, backlog }) },
    release,
    reports,
    backlogs,
  };
}

describe('SessionBatcher', () => {
  it('fills sessions from waiting requests of several domains, oldest first, splitting the one that does not fit', async () => {
    const host = recorder();
    const slot = heldSlot();
    const batcher = new SessionBatcher(hosts, host.ask, slot.limit, 25);
    const requests = [
      addresses('a.example', 10),
      addresses('b.example', 10),
      addresses('c.example', 10),
      addresses('d.example', 3),
    ];
    const pending = requests.map((r) => batcher.ask(r));
    slot.release();
    const answers = await Promise.all(pending);
    const c = requests[2]!;
    expect(host.sessions).toEqual([
      [...requests[0]!, ...requests[1]!, ...c.slice(0, 5)],
      [...c.slice(5), ...requests[3]!],
    ]);
    // Each request gets its own answers, in order, whichever sessions carried them.
    answers.forEach((got, i) => expect(got.map((a) => a.reason)).toEqual(requests[i]));
    // Each session's answers go to the host's slots, which adapt to how the host takes them;
    // the first ended with recipients still waiting (demand for more sessions), the last without.
    expect(slot.reports.map((r) => r.results.length)).toEqual([25, 8]);
    expect(slot.reports.map((r) => r.backlog)).toEqual([true, false]);
  });

  it('opens no part-full session while one of its own is out: what comes meanwhile goes together when it ends', async () => {
    let release!: () => void;
    const sessions: string[][] = [];
    const ask = async (_hosts: MxHost[], recipients: string[]) => {
      sessions.push(recipients);
      if (sessions.length === 1) await new Promise<void>((r) => (release = r));
      return recipients.map(answer);
    };
    // Slots to spare: only Nagle's rule keeps the later requests from a session each.
    const limit = pLimit(5);
    const batcher = new SessionBatcher(hosts, ask, { run: limit, report: () => undefined }, 25);
    const first = batcher.ask(addresses('a.example', 4));
    await new Promise((r) => setImmediate(r));
    expect(sessions).toHaveLength(1);
    const later = ['b.example', 'c.example', 'd.example'].map((d) => batcher.ask(addresses(d, 3)));
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    expect(sessions).toHaveLength(1);
    // A full session's worth goes at once, though (the oldest first): it would not gather more
    // by waiting. It answers at once, and its end lets the part-full rest go.
    const full = batcher.ask(addresses('e.example', 25));
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    expect(sessions.map((s) => s.length)).toEqual([4, 25, 9]);
    expect(sessions[1]!.slice(0, 9)).toEqual(['b', 'c', 'd'].flatMap((d) => addresses(`${d}.example`, 3)));
    release();
    await Promise.all([first, ...later, full]);
    expect(sessions).toHaveLength(3);
  });

  it('answers a split request with its session in flight when stopped: the part asked keeps its answers', async () => {
    let release!: () => void;
    const sessions: string[][] = [];
    const ask = async (_hosts: MxHost[], recipients: string[]) => {
      sessions.push(recipients);
      await new Promise<void>((r) => (release = r));
      return recipients.map(answer);
    };
    const batcher = new SessionBatcher(hosts, ask, { run: pLimit(1), report: () => undefined }, 4);
    const pending = [batcher.ask(addresses('a.example', 2)), batcher.ask(addresses('b.example', 4))];
    await new Promise((r) => setImmediate(r));
    const unasked: MailboxResult = { outcome: 'error', reason: 'stopped', reply: '', mxHost: '' };
    batcher.stop(unasked);
    release();
    const [a, b] = await Promise.all(pending);
    expect(sessions).toEqual([[...addresses('a.example', 2), ...addresses('b.example', 2)]]);
    expect(a!.map((r) => r.reason)).toEqual(addresses('a.example', 2));
    expect(b!.map((r) => r.reason)).toEqual(['u0@b.example', 'u1@b.example', 'stopped', 'stopped']);
  });

  it("tells each request its own recipients' answers as the shared session gets them", async () => {
    const slot = heldSlot();
    const ask = async (_hosts: MxHost[], recipients: string[], onAnswer?: OnAnswer) => {
      const results = recipients.map(answer);
      results.forEach((r, i) => onAnswer?.(i, r));
      return results;
    };
    const batcher = new SessionBatcher(hosts, ask, slot.limit, 25);
    const told: string[][] = [[], []];
    const pending = [addresses('a.example', 2), addresses('b.example', 3)].map((r, k) =>
      batcher.ask(r, (j, result) => told[k]!.push(`${j} ${result.reason}`)),
    );
    slot.release();
    await Promise.all(pending);
    expect(told).toEqual([
      ['0 u0@a.example', '1 u1@a.example'],
      ['0 u0@b.example', '1 u1@b.example', '2 u2@b.example'],
    ]);
  });

  it('tells a request split over two sessions each answer under its own index', async () => {
    const told: [number, string][] = [];
    const ask = async (_hosts: MxHost[], recipients: string[], onAnswer?: OnAnswer) => {
      const results = recipients.map(answer);
      results.forEach((r, i) => onAnswer?.(i, r));
      return results;
    };
    const slot = heldSlot();
    const batcher = new SessionBatcher(hosts, ask, slot.limit, 4);
    const first = addresses('a.example', 3);
    const split = addresses('b.example', 3); // one in the first session, two in the next
    const pending = [batcher.ask(first), batcher.ask(split, (j, r) => told.push([j, r.reason]))];
    slot.release();
    await Promise.all(pending);
    expect(told.sort(([a], [b]) => a - b)).toEqual(split.map((address, j) => [j, address]));
  });

  it('sends a request larger than the cap on its own rather than split it', async () => {
    const host = recorder();
    const slot = heldSlot();
    const batcher = new SessionBatcher(hosts, host.ask, slot.limit, 5);
    const pending = [batcher.ask(addresses('a.example', 2)), batcher.ask(addresses('b.example', 7))];
    slot.release();
    await Promise.all(pending);
    expect(host.sessions.map((s) => s.length)).toEqual([2, 7]);
  });

  it('answers waiting requests unasked once stopped, without connecting', async () => {
    const host = recorder();
    const slot = heldSlot();
    const batcher = new SessionBatcher(hosts, host.ask, slot.limit, 25);
    const pending = batcher.ask(addresses('a.example', 3));
    const unasked: MailboxResult = { outcome: 'error', reason: 'stopped', reply: '', mxHost: '' };
    batcher.stop(unasked);
    slot.release();
    expect(await pending).toEqual([unasked, unasked, unasked]);
    expect(await batcher.ask(addresses('b.example', 1))).toEqual([unasked]);
    expect(host.sessions).toEqual([]);
  });

  it('rejects every request of a session whose ask throws', async () => {
    const slot = heldSlot();
    const batcher = new SessionBatcher(hosts, () => Promise.reject(new Error('boom')), slot.limit, 25);
    const pending = [batcher.ask(['a@a.example']), batcher.ask(['b@b.example'])];
    slot.release();
    for (const p of pending) await expect(p).rejects.toThrow('boom');
  });

  it('keys host sets by name and preference, ignoring case', () => {
    const other: MxHost[] = [{ exchange: 'MX.Hosting.example', priority: 10, addresses: ['127.0.0.2'] }];
    expect(hostSetKey(other)).toBe(hostSetKey(hosts));
    expect(hostSetKey([{ ...hosts[0]!, priority: 20 }])).not.toBe(hostSetKey(hosts));
  });

  it('is idle only when no request waits and no session of its own runs', async () => {
    const host = recorder();
    const slot = heldSlot();
    const batcher = new SessionBatcher(hosts, host.ask, slot.limit, 25);
    expect(batcher.isIdle).toBe(true);
    const pending = batcher.ask(addresses('a.example', 2));
    expect(batcher.isIdle).toBe(false);
    slot.release();
    await pending;
    await new Promise((r) => setImmediate(r));
    expect(batcher.isIdle).toBe(true);
  });

  it('tells the slots how many of its recipients wait for a session, as sessions take them', async () => {
    const slot = heldSlot();
    const seen: number[] = [];
    const ask = async (_hosts: MxHost[], recipients: string[]) => {
      seen.push(slot.backlogs[0]!());
      return recipients.map(answer);
    };
    const batcher = new SessionBatcher(hosts, ask, slot.limit, 25);
    const pending = [batcher.ask(addresses('a.example', 20)), batcher.ask(addresses('b.example', 12))];
    expect(slot.backlogs[0]!()).toBe(32);
    slot.release();
    await Promise.all(pending);
    // What waits once each session has taken its recipients: 7 after the first, none after the second.
    expect(seen).toEqual([7, 0]);
  });

  it('counts nothing waiting once stopped, or once a session that failed has rejected its requests', async () => {
    const failing = async (): Promise<MailboxResult[]> => {
      throw new Error('connection reset');
    };
    const slot = heldSlot();
    const stopped = new SessionBatcher(hosts, failing, slot.limit, 25);
    const unasked = stopped.ask(addresses('a.example', 30));
    stopped.stop(answer('unasked'));
    expect((await unasked).map((a) => a.reason)).toEqual(addresses('a.example', 30).map(() => 'unasked'));
    expect(slot.backlogs[0]!()).toBe(0);

    // The failed session carried all of one request and 5 of the next; the other 7 of that one
    // are rejected with it, and wait no more.
    const failed = new SessionBatcher(hosts, failing, slot.limit, 25);
    const rejected = [failed.ask(addresses('b.example', 20)), failed.ask(addresses('c.example', 12))];
    expect(slot.backlogs[1]!()).toBe(32);
    slot.release();
    for (const request of rejected) await expect(request).rejects.toThrow('connection reset');
    expect(slot.backlogs[1]!()).toBe(0);
  });
});
