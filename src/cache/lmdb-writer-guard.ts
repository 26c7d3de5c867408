// A guard around lmdb-js's writer thread jobs, so that closing the database never frees the
// environment under a writer thread still using it (the SIGSEGV of issue 5).
//
// Why, with the evidence (see also lmdb-pin.md beside this file, which explains the pin):
// lmdb-js resolves a commit (and so `flushed`) as soon as the main thread sees the commit flag
// in the shared instruction buffer, which its writer thread sets *before* it is done with the
// environment: WriteWorker::Write still calls mdb_env_get_userctx(env) and
// ExtendedEnv::notifyUserCallbacks after publishing the flag (lmdb 3.5.6, src/writer.cpp:
// `atomic_fetch_or(instructions, TXN_COMMITTED)` at line 527, then the two calls at 529-530;
// the source ships in node_modules/lmdb/src). The main thread can see the flag
// early (another writer job's completion callback, or the check lmdb-js makes on every eighth
// write), and `close()` then frees the environment under that thread. Backtraces from cores
// taken under load: a libuv worker in WriteWorker::Write -> ExtendedEnv::notifyUserCallbacks ->
// std::_Hashtable::find while the main thread was in root.close() -> mdb_env_close. With an lmdb
// rebuilt to widen the window: 12 crashes in 120 runs without the guard, 0 in 120 with it
// (commit 5943aa1).
//
// A job's completion callback runs on the main thread only after its thread has returned, so
// closing once every started job has called back is safe. The guard wraps env.startWriting, an
// internal of lmdb-js: hence lmdb is pinned exactly (3.5.6), and the tests fail if the method
// goes away or if close() returns while a job is still out.
import type { RootDatabase } from 'lmdb';

type Callback = (this: unknown, status: number) => unknown;
type NativeEnv = { startWriting?: (address: number, callback: Callback) => void };

/**
 * Counts the writer jobs lmdb-js starts on the thread pool; the function returned resolves once
 * every job started so far has called back complete.
 */
export function trackWriterJobs(root: RootDatabase<string, string>): () => Promise<void> {
  const env = (root as unknown as { env?: NativeEnv }).env;
  const startWriting = env?.startWriting;
  if (!env || typeof startWriting !== 'function') return () => Promise.resolve(); // another lmdb-js: nothing to wait for
  let running = 0;
  let idle: (() => void)[] = [];
  const finished = (): void => {
    running -= 1;
    if (running > 0) return;
    const waiting = idle;
    idle = [];
    for (const resolve of waiting) resolve();
  };
  // A native method: read-only on the prototype, so it is shadowed with an own property.
  const tracked = (address: number, callback: Callback): void => {
    // The native side calls back with the receiver set to the callback itself when the job is
    // complete (writes_complete), and with an undefined receiver for progress reports.
    const wrapped: Callback = function (this: unknown, status) {
      try {
        return callback.call(this, status);
      } finally {
        if (this === wrapped) finished();
      }
    };
    running += 1;
    try {
      startWriting.call(env, address, wrapped);
    } catch (error) {
      finished();
      throw error;
    }
  };
  Object.defineProperty(env, 'startWriting', { value: tracked, configurable: true, writable: true });
  return () => (running === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve)));
}

/** Writer jobs finish within milliseconds of their commit; this is only a bound. */
const WRITERS_IDLE_WAIT_MS = 10_000;

/**
 * trackWriterJobs' wait, bounded: a store's close waits for its writer jobs at most this long, so
 * one that never called back cannot keep a cron job or a server's shutdown from ending.
 */
export function boundedWait(writersIdle: () => Promise<void>, ms = WRITERS_IDLE_WAIT_MS): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      void writersIdle().then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
}
