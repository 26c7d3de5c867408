// Requests from domains that share mail hosts, merged into shared sessions while they wait for a slot.
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

/** One slot, held until release() is called, so requests pile up behind it. */
function heldSlot() {
  const limit = pLimit(1);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  void limit(() => gate);
  const reports: MailboxResult[][] = [];
  return { limit: { run: limit, report: (results: MailboxResult[]) => reports.push(results) }, release, reports };
}

describe('SessionBatcher', () => {
  it('merges waiting requests of several domains into sessions of at most the cap: the oldest, then others that fit', async () => {
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
    expect(host.sessions).toEqual([[...requests[0]!, ...requests[1]!, ...requests[3]!], requests[2]]);
    answers.forEach((got, i) => expect(got.map((a) => a.reason)).toEqual(requests[i]));
    // Each session's answers go to the host's slots, which adapt to how the host takes them.
    expect(slot.reports.map((r) => r.length)).toEqual([23, 10]);
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
});
