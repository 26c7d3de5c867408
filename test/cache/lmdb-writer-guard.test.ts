// The guard of issue 5: the store's close() must not free lmdb's environment while a writer
// thread job has not called back complete. lmdb itself runs for real; only its `open` is
// wrapped, so that the test can hold one job's completion callback back, as a slow thread
// would, before the guard installs itself over it.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RootDatabase } from 'lmdb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openCacheStore, trackWriterJobs } from '../../src/cache/store.js';

type Callback = (this: unknown, status: number) => unknown;
type Env = { startWriting: (address: number, callback: Callback) => void };

/** Completion callbacks held back from the store, in the order their jobs completed. */
const held: (() => void)[] = [];
let holdNextJob = false;
let jobsStarted = 0;

// Sits between lmdb's native startWriting and whatever the store wraps around it.
function instrument(root: RootDatabase<string, string>): void {
  const env = (root as unknown as { env: Env }).env;
  const native = env.startWriting;
  Object.defineProperty(env, 'startWriting', {
    configurable: true,
    writable: true,
    value(address: number, callback: Callback) {
      jobsStarted += 1;
      if (!holdNextJob) return native.call(env, address, callback);
      holdNextJob = false;
      // The native side calls back with itself as the receiver when the job is complete.
      const holding: Callback = function (this: unknown, status) {
        if (this !== holding) return callback.call(this, status);
        held.push(() => callback.call(callback, status));
        return undefined;
      };
      return native.call(env, address, holding);
    },
  });
}

vi.mock('lmdb', async (importOriginal) => {
  const lmdb = await importOriginal<typeof import('lmdb')>();
  return {
    ...lmdb,
    open: (...args: Parameters<typeof lmdb.open>) => {
      const root = lmdb.open(...args) as RootDatabase<string, string>;
      instrument(root);
      return root;
    },
  };
});

const dirs: string[] = [];
afterEach(() => {
  held.splice(0).forEach((release) => release());
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('closing while an lmdb writer job is out (issue 5)', () => {
  it('close() waits for the completion callback of every writer job, even once the writes are committed', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'email-verify-guard-'));
    dirs.push(dir);
    const store = openCacheStore({ dir });

    // Job A: its thread finishes, but its completion callback is held back.
    holdNextJob = true;
    store.putResult('a@held.example', { n: 1 });
    await until(() => held.length === 1);
    // Job B completes normally; its callback sees A's commit too, so everything is "flushed":
    // exactly the moment at which lmdb-js lets close() free the environment.
    const before = jobsStarted;
    store.putResult('b@free.example', { n: 2 });
    await until(() => jobsStarted > before);
    await store.flush();

    let closed = false;
    const closing = store.close().then(() => (closed = true));
    // Many turns of the event loop and a real pause: nothing else is left for close() to wait on.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(closed).toBe(false);

    held.shift()!();
    await closing;
    expect(closed).toBe(true);
    // And what was written is there.
    const reopened = openCacheStore({ dir });
    expect(reopened.getResult('a@held.example', 60_000)).toEqual({ n: 1 });
    expect(reopened.getResult('b@free.example', 60_000)).toEqual({ n: 2 });
    await reopened.close();
  });

  it("wraps lmdb's startWriting: an lmdb upgrade that drops it must not lose the guard unnoticed", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'email-verify-guard-'));
    dirs.push(dir);
    const { open } = await import('lmdb');
    const root = open<string, string>({ path: path.join(dir, 'w.mdb'), encoding: 'string' });
    const env = (root as unknown as { env: Env }).env;
    const beneath = env.startWriting;
    trackWriterJobs(root);
    expect(env.startWriting).not.toBe(beneath);
    await root.close();
  });
});
