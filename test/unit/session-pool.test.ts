// The global pool of SMTP session slots: never more at once than its size, and a freed slot goes
// to the host with the most addresses left to ask (read when the slot frees), ties to whoever
// asked first, so a big provider runs beside the small hosts instead of after them.
import { describe, expect, it } from 'vitest';
import { SessionPool } from '../../src/core/session-pool.js';

/** A session that runs until its release() is called, recording when it started. */
function sessions() {
  const started: string[] = [];
  const releases = new Map<string, () => void>();
  const session = (name: string) => () =>
    new Promise<string>((resolve) => {
      started.push(name);
      releases.set(name, () => resolve(name));
    });
  const release = async (name: string) => {
    releases.get(name)!();
    // Let the pool hand the freed slot on.
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { started, session, release };
}

/**
 * A pool of one slot, held by a session named 'first', and sessions of hosts whose addresses
 * left to ask are read from `left` when a slot frees.
 */
function oneSlotHeld<H extends string>(left: Record<H, number>) {
  const pool = new SessionPool(1);
  const s = sessions();
  const running = pool.run('first', () => 0, s.session('first'));
  const ask = (host: H, name: string) => pool.run(host, () => left[host], s.session(name));
  return { s, running, ask };
}

describe('SessionPool', () => {
  it('runs no more sessions at once than its size', async () => {
    const pool = new SessionPool(2);
    const s = sessions();
    const done = ['a', 'b', 'c', 'd'].map((name) => pool.run(name, () => 0, s.session(name)));
    await Promise.resolve();
    expect(s.started).toEqual(['a', 'b']);
    await s.release('a');
    expect(s.started).toEqual(['a', 'b', 'c']);
    await s.release('b');
    await s.release('c');
    await s.release('d');
    expect(await Promise.all(done)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('gives a freed slot to the host with the most left to ask, read when the slot frees', async () => {
    const left = { small: 3, big: 500 };
    const { s, running, ask } = oneSlotHeld(left);
    const waiting = [ask('small', 'small 1'), ask('small', 'small 2'), ask('big', 'big 1'), ask('big', 'big 2')];
    await s.release('first');
    expect(s.started).toEqual(['first', 'big 1']);
    // The big host's work ran out meanwhile: the small host's first session goes next.
    left.big = 0;
    await s.release('big 1');
    expect(s.started).toEqual(['first', 'big 1', 'small 1']);
    await s.release('small 1');
    expect(s.started.at(-1)).toBe('small 2');
    await s.release('small 2');
    await s.release('big 2');
    await running;
    expect(await Promise.all(waiting)).toEqual(['small 1', 'small 2', 'big 1', 'big 2']);
  });

  it('among hosts with as much left to ask, gives the slot to the session that asked first', async () => {
    const left = { a: 5, b: 1 };
    const { s, running, ask } = oneSlotHeld(left);
    const waiting = [ask('a', 'a 1'), ask('b', 'b 1'), ask('a', 'a 2')];
    await s.release('first');
    expect(s.started.at(-1)).toBe('a 1');
    // Now a tie, and host a was the first to ask of the two; but its waiting session (a 2) asked after b 1.
    left.a = 1;
    await s.release('a 1');
    expect(s.started.at(-1)).toBe('b 1');
    await s.release('b 1');
    await s.release('a 2');
    await running;
    expect(await Promise.all(waiting)).toEqual(['a 1', 'b 1', 'a 2']);
  });

  it('frees the slot of a session that fails, and hands its error to its caller', async () => {
    const pool = new SessionPool(1);
    const failing = pool.run(
      'a',
      () => 0,
      () => Promise.reject(new Error('connection reset')),
    );
    const next = pool.run(
      'b',
      () => 0,
      () => Promise.resolve('b ran'),
    );
    await expect(failing).rejects.toThrow('connection reset');
    expect(await next).toBe('b ran');
  });
});
