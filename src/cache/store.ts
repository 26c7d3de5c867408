// The on-disk cache: DNS answers, per-domain facts, per-address results and resume checkpoints,
// in one LMDB file that several processes (cron jobs) may open at once. LMDB serialises writers
// with a lock file and gives readers a consistent snapshot, so no process sees a torn write.
//
// Writes are queued with lmdb's asynchronous put: everything written in one event turn is
// committed in one transaction by lmdb's writer thread, so the engine never waits for an fsync
// per row. Until a write is committed it is kept in an in-memory overlay (`Table.pending`), which
// is what lets a read right after a put in the same process see it.

import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { lmdbOptions } from './lmdb-options.js';
import { systemClock, type Clock } from '../core/clock.js';
import { RunError } from '../errors.js';
import { boundedWait, trackWriterJobs } from './lmdb-writer-guard.js';

// Imported from here by code written before the guard had its own module.
export { trackWriterJobs } from './lmdb-writer-guard.js';

// The project's one clock; the store only reads it.
export type { Clock } from '../core/clock.js';

export interface CacheStats {
  dnsHits: number;
  dnsMisses: number;
  resultHits: number;
  resultMisses: number;
}

export interface CacheStore {
  /** DNS answers by name (e.g. 'mx:acme.example'), honouring the TTL given at put time. */
  getDns<T>(key: string): T | undefined;
  putDns<T>(key: string, value: T, ttlMs: number): void;
  /** Per-domain facts (kind e.g. 'catchall', 'mx-behaviour'), with a TTL. */
  getDomainFact<T>(domain: string, kind: string): T | undefined;
  putDomainFact<T>(domain: string, kind: string, value: T, ttlMs: number): void;
  /** Per-address results; a result older than maxAgeMs is not returned. */
  getResult<T>(key: string, maxAgeMs: number): T | undefined;
  putResult<T>(key: string, value: T): void;
  /** A run's own results, whatever their category, kept until clearRun: what a resumed run reuses. */
  putRunResult<T>(runKey: string, key: string, value: T): void;
  getRunResult<T>(runKey: string, key: string): T | undefined;
  /** Forgets a run's results. */
  clearRun(runKey: string): void;
  /** Counters for the bench: hits and misses per kind since open. */
  stats(): CacheStats;
  /**
   * Resolves once every write made so far is committed and on disk; rejects with the first write
   * that failed. Await it before exiting on a signal so the last checkpoints are not lost.
   */
  flush(): Promise<void>;
  /** Flushes, then closes the database. Rejects like flush(), after closing. */
  close(): Promise<void>;
}

export interface CacheStoreOptions {
  dir: string;
  /** Only read, never asked to schedule: a clock with just now() will do. */
  clock?: Pick<Clock, 'now'>;
}

/**
 * The layout of what is stored. Bump it when an entry's shape changes: a store written with an
 * older number is emptied on open; a store written by a newer version is refused (see open).
 */
export const CACHE_FORMAT_VERSION = 1;

/** The LMDB file inside the cache dir (LMDB puts `cache.mdb-lock` beside it). */
export const CACHE_FILE = 'cache.mdb';
/** The named databases in the cache file (lmdb's maxDbs), with room to spare. */
export const CACHE_MAX_DBS = 8;

const SWEEP_EVERY_MS = 24 * 60 * 60 * 1000;

// LMDB keys are limited to 1978 bytes in lmdb-js (511 in stock LMDB). Ours are names and
// addresses, well under this; anything longer is stored under its digest instead.
const MAX_PLAIN_KEY_BYTES = 400;

function storedKey(key: string): string {
  if (Buffer.byteLength(key) <= MAX_PLAIN_KEY_BYTES) return key;
  return `#sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/**
 * A run's results are keyed `<digest of the run key>:r:<address key>`: a short prefix, free of
 * ':'. A run asks it twice a row for the same key, so the last one is kept.
 */
let lastRun = { key: '', prefix: '' };
function runPrefix(runKey: string): string {
  if (lastRun.key !== runKey || lastRun.prefix === '') {
    lastRun = { key: runKey, prefix: `${createHash('sha256').update(runKey).digest('hex').slice(0, 32)}:` };
  }
  return lastRun.prefix;
}

/** What an entry with a TTL is stored as. */
interface Expiring {
  /** Expires at, ms since epoch. */
  e: number;
  v: unknown;
}

/** What a result is stored as. */
interface Dated {
  /** Stored at, ms since epoch. */
  t: number;
  v: unknown;
}

function parse<E>(raw: string | undefined): E | undefined {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as E;
  } catch {
    return undefined; // a damaged entry is a miss, not a crash
  }
}

type Db = Database<string, string>;

interface PendingWrite {
  /** The value written, or null for a removal. */
  value: string | null;
  seq: number;
}

/** One named LMDB database plus the overlay of its uncommitted writes. */
class Table {
  private readonly pending = new Map<string, PendingWrite>();
  private seq = 0;

  constructor(
    readonly db: Db,
    private readonly onWriteError: (error: unknown) => void,
    /** False once the store began to close: see put. */
    private readonly isOpen: () => boolean,
  ) {}

  get(key: string): string | undefined {
    const write = this.pending.get(key);
    if (write) return write.value ?? undefined;
    return this.db.get(key);
  }

  /**
   * Dropped once the store began to close: a session that ends after the run's last row still
   * tells its host's limit how it went, and the level it keeps would be written after close().
   * lmdb-js starts that write's transaction later, on a closed environment, and throws where
   * nothing can catch it ("The environment is already closed"): the process died after its
   * outputs were written. The run is over; nothing it needs is lost.
   */
  put(key: string, value: string): void {
    if (this.isOpen()) this.track(key, value, this.db.put(key, value));
  }

  remove(key: string): void {
    if (this.isOpen()) this.track(key, null, this.db.remove(key));
  }

  /** Entries whose key starts with `prefix`, committed and pending. */
  *entries(prefix: string): Generator<[string, string]> {
    // ':' + 1 is ';': the range [prefix, prefix with its last char bumped) is exactly the prefix.
    const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    const overlay = new Map<string, string | null>();
    for (const [key, write] of this.pending) if (key.startsWith(prefix)) overlay.set(key, write.value);
    for (const { key, value } of this.db.getRange({ start: prefix, end })) {
      if (overlay.has(key)) continue;
      yield [key, value];
    }
    for (const [key, value] of overlay) if (value !== null) yield [key, value];
  }

  private track(key: string, value: string | null, committed: Promise<boolean>): void {
    const seq = ++this.seq;
    this.pending.set(key, { value, seq });
    const settle = (): void => {
      // A later write to the same key keeps its own overlay entry until it commits too.
      if (this.pending.get(key)?.seq === seq) this.pending.delete(key);
    };
    committed.then(settle, (error: unknown) => {
      settle();
      this.onWriteError(error);
    });
  }
}

class LmdbCacheStore implements CacheStore {
  private readonly dns: Table;
  private readonly facts: Table;
  private readonly results: Table;
  private readonly runs: Table;
  private readonly counters: CacheStats = { dnsHits: 0, dnsMisses: 0, resultHits: 0, resultMisses: 0 };
  private writeError: unknown;
  private closing: Promise<void> | undefined;
  private readonly writersIdle: () => Promise<void>;

  constructor(
    private readonly root: RootDatabase<string, string>,
    private readonly clock: Pick<Clock, 'now'>,
  ) {
    this.writersIdle = boundedWait(trackWriterJobs(root));
    const onWriteError = (error: unknown): void => {
      this.writeError ??= error;
    };
    const isOpen = (): boolean => this.closing === undefined;
    const table = (name: string): Table => new Table(root.openDB({ name, encoding: 'string' }), onWriteError, isOpen);
    this.dns = table('dns');
    this.facts = table('facts');
    this.results = table('results');
    this.runs = table('runs');
  }

  /** Empties a store of an older format, refuses one of a newer format, sweeps expired entries daily. */
  prepare(dir: string): void {
    const meta: Db = this.root.openDB({ name: 'meta', encoding: 'string' });
    const now = this.clock.now();
    const format = (): number => Number(meta.get('format') ?? 0) || 0;
    const sweepDue = (): boolean => now - Number(meta.get('swept-at') ?? 0) >= SWEEP_EVERY_MS;
    // The usual case needs no write transaction (each one is a commit, and takes the write lock).
    if (format() === CACHE_FORMAT_VERSION && !sweepDue()) return;
    this.root.transactionSync(() => {
      // Read again under the write lock: another process may have just done this.
      const stored = format();
      if (stored > CACHE_FORMAT_VERSION) {
        // Another install (a newer email-verify) shares this dir; emptying it would wipe its data.
        throw new RunError(
          `the cache in ${dir} was written by a newer email-verify (format ${stored}, this one reads ${CACHE_FORMAT_VERSION}); pass --cache-dir DIR or --no-cache`,
        );
      }
      if (stored < CACHE_FORMAT_VERSION) {
        // Not clearSync(): it crashes lmdb-js now and then (kriszyp/lmdb-js#317, exit 139 seen in
        // our CI on brand-new stores). A new store has nothing to remove; an old one, key by key.
        for (const table of [this.dns, this.facts, this.results, this.runs]) {
          const keys = [...table.db.getKeys()];
          for (const key of keys) table.db.removeSync(key);
        }
        meta.putSync('format', String(CACHE_FORMAT_VERSION));
        meta.putSync('swept-at', String(now));
        return;
      }
      if (!sweepDue()) return;
      // Entries are only ever overwritten when looked up again; a domain seen once would stay forever.
      for (const table of [this.dns, this.facts]) {
        const expired: string[] = [];
        for (const { key, value } of table.db.getRange()) {
          if ((parse<Expiring>(value)?.e ?? 0) <= now) expired.push(key);
        }
        for (const key of expired) table.db.removeSync(key);
      }
      meta.putSync('swept-at', String(now));
    });
  }

  getDns<T>(key: string): T | undefined {
    const value = this.getExpiring<T>(this.dns, storedKey(key));
    if (value === undefined) this.counters.dnsMisses++;
    else this.counters.dnsHits++;
    return value;
  }

  putDns<T>(key: string, value: T, ttlMs: number): void {
    this.putExpiring(this.dns, storedKey(key), value, ttlMs);
  }

  getDomainFact<T>(domain: string, kind: string): T | undefined {
    return this.getExpiring<T>(this.facts, factKey(domain, kind));
  }

  putDomainFact<T>(domain: string, kind: string, value: T, ttlMs: number): void {
    this.putExpiring(this.facts, factKey(domain, kind), value, ttlMs);
  }

  getResult<T>(key: string, maxAgeMs: number): T | undefined {
    const entry = parse<Dated>(this.results.get(storedKey(key)));
    // A result dated in the future (another machine's clock) counts as fresh.
    if (entry && this.clock.now() - entry.t <= maxAgeMs) {
      this.counters.resultHits++;
      return entry.v as T;
    }
    this.counters.resultMisses++;
    return undefined;
  }

  putResult<T>(key: string, value: T): void {
    const entry: Dated = { t: this.clock.now(), v: value };
    this.results.put(storedKey(key), JSON.stringify(entry));
  }

  putRunResult<T>(runKey: string, key: string, value: T): void {
    this.runs.put(`${runPrefix(runKey)}r:${storedKey(key)}`, JSON.stringify(value));
  }

  getRunResult<T>(runKey: string, key: string): T | undefined {
    return parse<T>(this.runs.get(`${runPrefix(runKey)}r:${storedKey(key)}`));
  }

  clearRun(runKey: string): void {
    const prefix = runPrefix(runKey);
    for (const [key] of [...this.runs.entries(prefix)]) this.runs.remove(key);
  }

  stats(): CacheStats {
    return { ...this.counters };
  }

  async flush(): Promise<void> {
    await this.root.flushed;
    if (this.writeError !== undefined) throw cacheWriteError(this.writeError);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.root.flushed;
      } finally {
        // Committed is not finished: see lmdb-writer-guard.ts. Bounded, so that a writer job
        // that never called back could not keep a cron job from ending.
        await this.writersIdle();
        await this.root.close();
      }
      if (this.writeError !== undefined) throw cacheWriteError(this.writeError);
    })();
    return this.closing;
  }

  private getExpiring<T>(table: Table, key: string): T | undefined {
    const entry = parse<Expiring>(table.get(key));
    if (!entry || entry.e <= this.clock.now()) return undefined;
    return entry.v as T;
  }

  private putExpiring(table: Table, key: string, value: unknown, ttlMs: number): void {
    if (!(ttlMs > 0)) return; // nothing to keep: it would be expired on the next read
    const entry: Expiring = { e: this.clock.now() + ttlMs, v: value };
    table.put(key, JSON.stringify(entry));
  }
}

function factKey(domain: string, kind: string): string {
  return storedKey(`${kind}|${domain}`);
}

function cacheWriteError(error: unknown): RunError {
  const reason = error instanceof Error ? error.message : String(error);
  return new RunError(`could not write to the cache: ${reason}; pass --cache-dir DIR or --no-cache`, {
    cause: error,
  });
}

/** Opens (creating if needed) the cache store in `dir`. Throws RunError when it cannot be opened. */
export function openCacheStore(options: CacheStoreOptions): CacheStore {
  const { dir, clock = systemClock } = options;
  let root: RootDatabase<string, string>;
  try {
    mkdirSync(dir, { recursive: true });
    root = open<string, string>({ ...lmdbOptions(path.join(dir, CACHE_FILE), CACHE_MAX_DBS), encoding: 'string' });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new RunError(`cannot open the cache in ${dir}: ${reason}; pass --cache-dir DIR or --no-cache`, {
      cause: error,
    });
  }
  const store = new LmdbCacheStore(root, clock);
  try {
    store.prepare(dir);
  } catch (error) {
    void root.close();
    throw error;
  }
  return store;
}

/**
 * XDG_CACHE_HOME/email-verify, ~/Library/Caches/email-verify on macOS,
 * %LOCALAPPDATA%\email-verify\Cache on Windows, else ~/.cache/email-verify.
 */
export function defaultCacheDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = os.homedir(),
): string {
  // Joined with the target platform's separators, so the answer does not depend on where it runs.
  const p = platform === 'win32' ? path.win32 : path.posix;
  // The XDG spec says a relative value is invalid and must be ignored.
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && p.isAbsolute(xdg)) return p.join(xdg, 'email-verify');
  if (platform === 'darwin') return p.join(home, 'Library', 'Caches', 'email-verify');
  if (platform === 'win32') {
    const localAppData = env.LOCALAPPDATA || p.join(home, 'AppData', 'Local');
    return p.join(localAppData, 'email-verify', 'Cache');
  }
  return p.join(home, '.cache', 'email-verify');
}

/** A cache that stores nothing (for --no-cache): every read is a miss, runs never resume. */
export function noCache(): CacheStore {
  const counters: CacheStats = { dnsHits: 0, dnsMisses: 0, resultHits: 0, resultMisses: 0 };
  return {
    getDns: () => {
      counters.dnsMisses++;
      return undefined;
    },
    putDns: () => {},
    getDomainFact: () => undefined,
    putDomainFact: () => {},
    getResult: () => {
      counters.resultMisses++;
      return undefined;
    },
    putResult: () => {},
    putRunResult: () => {},
    getRunResult: () => undefined,
    clearRun: () => {},
    stats: () => ({ ...counters }),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}
