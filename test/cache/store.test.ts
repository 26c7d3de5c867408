import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { open } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { LMDB_MAP_SIZE, lmdbOptions } from '../../src/cache/lmdb-options.js';
import {
  CACHE_FILE,
  CACHE_FORMAT_VERSION,
  CACHE_MAX_DBS,
  type CacheStore,
  defaultCacheDir,
  noCache,
  openCacheStore,
} from '../../src/cache/store.js';
import type { CatchAllResult, MxResult } from '../../src/core/types.js';
import { RunError } from '../../src/errors.js';
import { manualClock, type ManualClock } from '../support/clock.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const fakeClock = (): ManualClock => manualClock(Date.UTC(2026, 0, 1));

const dirs: string[] = [];
const stores: CacheStore[] = [];

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'email-verify-cache-'));
  dirs.push(dir);
  return dir;
}

function openStore(dir: string, clock?: ManualClock): CacheStore {
  const store = openCacheStore(clock ? { dir, clock } : { dir });
  stores.push(store);
  return store;
}

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const acmeMx: MxResult = {
  kind: 'mx',
  implicit: false,
  hosts: [{ exchange: 'mx1.acme.example', priority: 10, addresses: ['192.0.2.10'] }],
};

describe('DNS answers', () => {
  it('expire with the TTL given at put time, positive and negative entries alike', () => {
    const clock = fakeClock();
    const store = openStore(tempDir(), clock);
    store.putDns<MxResult>('mx:acme.example', acmeMx, HOUR);
    store.putDns<MxResult>('mx:gone.example', { kind: 'no_domain' }, 5 * MINUTE);

    expect(store.getDns<MxResult>('mx:acme.example')).toEqual(acmeMx);
    expect(store.getDns<MxResult>('mx:gone.example')).toEqual({ kind: 'no_domain' });

    clock.advance(5 * MINUTE);
    expect(store.getDns('mx:gone.example')).toBeUndefined();
    expect(store.getDns<MxResult>('mx:acme.example')).toEqual(acmeMx);

    clock.advance(HOUR - 5 * MINUTE);
    expect(store.getDns('mx:acme.example')).toBeUndefined();
    expect(store.getDns('mx:never.example')).toBeUndefined();

    expect(store.stats()).toEqual({ dnsHits: 3, dnsMisses: 3, resultHits: 0, resultMisses: 0 });
  });

  it('keeps nothing for a TTL of zero, and a later put replaces an earlier one', () => {
    const clock = fakeClock();
    const store = openStore(tempDir(), clock);
    store.putDns('mx:zero.example', acmeMx, 0);
    expect(store.getDns('mx:zero.example')).toBeUndefined();

    store.putDns<MxResult>('mx:acme.example', { kind: 'lookup_failed', reason: 'SERVFAIL' }, MINUTE);
    store.putDns<MxResult>('mx:acme.example', acmeMx, HOUR);
    clock.advance(2 * MINUTE);
    expect(store.getDns('mx:acme.example')).toEqual(acmeMx);
  });
});

describe('domain facts', () => {
  it('are kept per domain and kind, until their TTL', () => {
    const clock = fakeClock();
    const store = openStore(tempDir(), clock);
    const catchAll: CatchAllResult = { isCatchAll: true, confidence: 'high', reply: '250 2.1.5 Ok' };
    store.putDomainFact('acme.example', 'catchall', catchAll, DAY);
    store.putDomainFact('acme.example', 'mx-behaviour', { greylists: true }, HOUR);

    expect(store.getDomainFact('acme.example', 'catchall')).toEqual(catchAll);
    expect(store.getDomainFact('acme.example', 'mx-behaviour')).toEqual({ greylists: true });
    expect(store.getDomainFact('other.example', 'catchall')).toBeUndefined();

    clock.advance(HOUR);
    expect(store.getDomainFact('acme.example', 'mx-behaviour')).toBeUndefined();
    expect(store.getDomainFact('acme.example', 'catchall')).toEqual(catchAll);
    clock.advance(DAY);
    expect(store.getDomainFact('acme.example', 'catchall')).toBeUndefined();
  });
});

describe('results', () => {
  it('are not returned once older than the max age asked for', () => {
    const clock = fakeClock();
    const store = openStore(tempDir(), clock);
    store.putResult('jane@acme.example', { email: 'jane@acme.example', result: 'valid' });
    clock.advance(3 * DAY);

    expect(store.getResult('jane@acme.example', 7 * DAY)).toEqual({ email: 'jane@acme.example', result: 'valid' });
    expect(store.getResult('jane@acme.example', 3 * DAY)).toBeDefined();
    expect(store.getResult('jane@acme.example', 3 * DAY - 1)).toBeUndefined();
    expect(store.getResult('jane@acme.example', 0)).toBeUndefined();
    expect(store.getResult('bob@acme.example', 7 * DAY)).toBeUndefined();
    expect(store.stats()).toEqual({ dnsHits: 0, dnsMisses: 0, resultHits: 2, resultMisses: 3 });
  });

  it('are stored as JSON: a later change to the object put does not leak in', () => {
    const store = openStore(tempDir());
    const value = { result: 'valid', when: new Date(0) };
    store.putResult('jane@acme.example', value);
    value.result = 'invalid';
    expect(store.getResult('jane@acme.example', DAY)).toEqual({ result: 'valid', when: '1970-01-01T00:00:00.000Z' });
  });

  it('take keys longer than LMDB allows', () => {
    const store = openStore(tempDir());
    const long = `${'x'.repeat(3000)}@acme.example`;
    store.putResult(long, 1);
    store.putResult(`${'x'.repeat(3000)}@other.example`, 2);
    expect(store.getResult(long, DAY)).toBe(1);
  });
});

describe('persistence', () => {
  it('keeps everything across close and reopen', async () => {
    const clock = fakeClock();
    const dir = tempDir();
    const first = openCacheStore({ dir, clock });
    first.putDns('mx:acme.example', acmeMx, HOUR);
    first.putDomainFact('acme.example', 'catchall', { isCatchAll: false }, DAY);
    first.putResult('jane@acme.example', { result: 'valid' });
    first.putRunResult('run-1', 'jane@acme.example', { result: 'valid' });
    first.putRunResult('run-1', 'joe@acme.example', { result: 'invalid' });
    await first.close();

    clock.advance(MINUTE);
    const second = openStore(dir, clock);
    expect(second.getDns('mx:acme.example')).toEqual(acmeMx);
    expect(second.getDomainFact('acme.example', 'catchall')).toEqual({ isCatchAll: false });
    expect(second.getResult('jane@acme.example', HOUR)).toEqual({ result: 'valid' });
    expect(second.getRunResult('run-1', 'jane@acme.example')).toEqual({ result: 'valid' });
    expect(second.getRunResult('run-1', 'joe@acme.example')).toEqual({ result: 'invalid' });
  });

  it('empties a store written in an older format, and refuses one from a newer version', async () => {
    const dir = tempDir();
    const first = openCacheStore({ dir });
    first.putResult('jane@acme.example', { result: 'valid' });
    await first.close();

    // Raw opens of the store's file use the store's own settings (src/cache/lmdb-options.ts).
    const setFormat = async (format: number): Promise<void> => {
      const root = open<string, string>({ ...lmdbOptions(path.join(dir, CACHE_FILE), CACHE_MAX_DBS), encoding: 'string' });
      root.openDB<string, string>({ name: 'meta', encoding: 'string' }).putSync('format', String(format));
      await root.close();
    };

    await setFormat(CACHE_FORMAT_VERSION - 1);
    const upgraded = openCacheStore({ dir });
    expect(upgraded.getResult('jane@acme.example', DAY)).toBeUndefined();
    upgraded.putResult('bob@acme.example', { result: 'risky' });
    await upgraded.close();

    await setFormat(CACHE_FORMAT_VERSION + 1);
    expect(() => openCacheStore({ dir })).toThrow(RunError);
    expect(() => openCacheStore({ dir })).toThrow(/newer email-verify.*--no-cache/);

    await setFormat(CACHE_FORMAT_VERSION);
    expect(openStore(dir).getResult('bob@acme.example', DAY)).toEqual({ result: 'risky' });
  });

  it('drops expired DNS answers and facts from disk at most once a day, on open', async () => {
    const clock = fakeClock();
    const dir = tempDir();
    const first = openCacheStore({ dir, clock });
    first.putDns('mx:short.example', acmeMx, MINUTE);
    first.putDns('mx:long.example', acmeMx, 3 * DAY);
    await first.close();

    clock.advance(DAY + 1);
    await openCacheStore({ dir, clock }).close();

    const root = open<string, string>({ ...lmdbOptions(path.join(dir, CACHE_FILE), CACHE_MAX_DBS), encoding: 'string' });
    const dnsKeys = [...root.openDB<string, string>({ name: 'dns', encoding: 'string' }).getKeys()];
    await root.close();
    expect(dnsKeys).toEqual(['mx:long.example']);
  });

  it('reserves a large memory map where it costs only address space, and the file grows with its data', async () => {
    expect(lmdbOptions('/x/cache.mdb', 8, 'linux')).toMatchObject({ mapSize: LMDB_MAP_SIZE, overlappingSync: false });
    expect(lmdbOptions('/x/cache.mdb', 8, 'darwin')).toMatchObject({ mapSize: LMDB_MAP_SIZE });
    // Windows' LMDB makes the file as large as the map.
    expect(lmdbOptions('C:\\x\\cache.mdb', 8, 'win32')).not.toHaveProperty('mapSize');
    const dir = tempDir();
    const store = openCacheStore({ dir });
    for (let i = 0; i < 1000; i++) store.putResult(`user${i}@acme.example`, { result: 'valid', i });
    await store.close();
    const root = open<string, string>({ ...lmdbOptions(path.join(dir, CACHE_FILE), CACHE_MAX_DBS), encoding: 'string' });
    const mapSize = (root.getStats() as { mapSize: number }).mapSize;
    await root.close();
    expect(mapSize).toBe(process.platform === 'win32' ? mapSize : LMDB_MAP_SIZE);
    expect(statSync(path.join(dir, CACHE_FILE)).size).toBeLessThan(16 * 1024 ** 2);
  });

  it('reports a dir it cannot create as a known error', () => {
    // A regular file where a parent dir should be.
    const file = path.join(tempDir(), 'not-a-dir');
    writeFileSync(file, '');
    expect(() => openCacheStore({ dir: path.join(file, 'cache') })).toThrow(RunError);
    expect(() => openCacheStore({ dir: path.join(file, 'cache') })).toThrow(/cannot open the cache in .*--no-cache/);
  });
});

describe('resume checkpoints', () => {
  it('clearRun forgets one run and leaves the others', async () => {
    const store = openStore(tempDir());
    store.putRunResult('run-a', 'a@acme.example', { result: 'valid' });
    store.putRunResult('run-a', 'b@acme.example', { result: 'risky' });
    store.putRunResult('run-b', 'a@acme.example', { result: 'unknown' });
    store.clearRun('run-a');
    expect(store.getRunResult('run-a', 'a@acme.example')).toBeUndefined();
    await store.flush();
    expect(store.getRunResult('run-a', 'b@acme.example')).toBeUndefined();
    expect(store.getRunResult('run-b', 'a@acme.example')).toEqual({ result: 'unknown' });

    store.putRunResult('run-a', 'c@acme.example', { result: 'invalid' });
    expect(store.getRunResult('run-a', 'c@acme.example')).toEqual({ result: 'invalid' });
  });

  it("keeps a run's results apart from other runs across reopening, until clearRun", async () => {
    const dir = tempDir();
    let store = openStore(dir);
    store.putRunResult('run-a', 'alice@acme.example', { result: 'unknown' });
    expect(store.getRunResult('run-b', 'alice@acme.example')).toBeUndefined();
    await store.close();
    store = openStore(dir);
    expect(store.getRunResult('run-a', 'alice@acme.example')).toEqual({ result: 'unknown' });
    store.clearRun('run-a');
    expect(store.getRunResult('run-a', 'alice@acme.example')).toBeUndefined();
    await store.close();
  });
});

describe('noCache', () => {
  it('stores nothing', async () => {
    const store = noCache();
    store.putDns('mx:acme.example', acmeMx, HOUR);
    store.putDomainFact('acme.example', 'catchall', { isCatchAll: true }, HOUR);
    store.putResult('jane@acme.example', { result: 'valid' });
    store.putRunResult('run', 'jane@acme.example', { result: 'valid' });

    expect(store.getDns('mx:acme.example')).toBeUndefined();
    expect(store.getDomainFact('acme.example', 'catchall')).toBeUndefined();
    expect(store.getResult('jane@acme.example', DAY)).toBeUndefined();
    expect(store.getRunResult('run', 'jane@acme.example')).toBeUndefined();
    expect(store.stats()).toEqual({ dnsHits: 0, dnsMisses: 1, resultHits: 0, resultMisses: 1 });
    await store.flush();
    await store.close();
  });
});

describe('defaultCacheDir', () => {
  it('follows each platform', () => {
    expect(defaultCacheDir({}, 'linux', '/home/jane')).toBe('/home/jane/.cache/email-verify');
    expect(defaultCacheDir({}, 'freebsd', '/home/jane')).toBe('/home/jane/.cache/email-verify');
    expect(defaultCacheDir({}, 'darwin', '/Users/jane')).toBe('/Users/jane/Library/Caches/email-verify');
    expect(defaultCacheDir({ LOCALAPPDATA: 'C:\\Users\\jane\\AppData\\Local' }, 'win32', 'C:\\Users\\jane')).toBe(
      'C:\\Users\\jane\\AppData\\Local\\email-verify\\Cache',
    );
    expect(defaultCacheDir({}, 'win32', 'C:\\Users\\jane')).toBe('C:\\Users\\jane\\AppData\\Local\\email-verify\\Cache');
  });

  it('honours an absolute XDG_CACHE_HOME and ignores a relative one', () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/var/cache/jane' }, 'linux', '/home/jane')).toBe('/var/cache/jane/email-verify');
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/Users/jane/.cache' }, 'darwin', '/Users/jane')).toBe(
      '/Users/jane/.cache/email-verify',
    );
    expect(defaultCacheDir({ XDG_CACHE_HOME: 'relative/cache' }, 'linux', '/home/jane')).toBe('/home/jane/.cache/email-verify');
    expect(defaultCacheDir({ XDG_CACHE_HOME: '' }, 'linux', '/home/jane')).toBe('/home/jane/.cache/email-verify');
  });
});

describe('several processes', () => {
  const WRITERS = 4;
  const PER_WRITER = 2_000;
  const CHILD_TIMEOUT_MS = 45_000;
  const child = fileURLToPath(new URL('./writer-child.mjs', import.meta.url));

  interface Exit {
    code: number | null;
    signal: NodeJS.Signals | null;
    out: string;
  }

  /** Runs writer-child.mjs; `onOutput` sees everything printed so far and may return true to SIGKILL it. */
  function runChild(args: string[], onOutput?: (out: string) => boolean): Promise<Exit> {
    return new Promise((resolve, reject) => {
      const proc = spawn(process.execPath, ['--import', 'tsx', child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      proc.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (onOutput?.(out)) proc.kill('SIGKILL');
      });
      proc.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const timer = setTimeout(() => proc.kill('SIGKILL'), CHILD_TIMEOUT_MS);
      proc.on('error', reject);
      proc.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, out });
      });
    });
  }

  it(
    `${WRITERS} processes writing ${PER_WRITER} entries each at once lose nothing`,
    async () => {
      const dir = tempDir();
      const started = performance.now();
      const startAt = Date.now() + 2_000;
      const exits = await Promise.all(
        Array.from({ length: WRITERS }, (_, w) => runChild([dir, String(w), String(PER_WRITER), String(startAt)])),
      );
      const elapsedMs = performance.now() - started;
      const spans: string[] = [];
      for (const [w, exit] of exits.entries()) {
        expect(exit.code, exit.out).toBe(0);
        const report = JSON.parse(exit.out) as { writer: number; done: number; firstWriteAt: number; closedAt: number };
        expect(report).toMatchObject({ writer: w, done: PER_WRITER });
        spans.push(`${report.firstWriteAt - startAt}..${report.closedAt - startAt}`);
      }

      const store = openStore(dir);
      for (let w = 0; w < WRITERS; w++) {
        for (let i = 0; i < PER_WRITER; i++) {
          expect(store.getResult(`own-${w}-${i}`, DAY)).toEqual({ writer: w, i });
        }
      }
      // Shared keys hold one writer's whole value (last writer wins), never a mix.
      for (let k = 0; k < 100; k++) {
        const value = store.getResult<{ writer: number; i: number }>(`shared-${k}`, DAY);
        expect(value).toBeDefined();
        expect(value!.writer).toBeGreaterThanOrEqual(0);
        expect(value!.writer).toBeLessThan(WRITERS);
        expect(value!.i % 100).toBe(k);
      }
      for (let k = 0; k < 50; k++) {
        const value = store.getDns<{ writer: number; i: number }>(`mx:shared-${k}.example`);
        expect(value!.i % 50).toBe(k);
      }
      for (let row = 0; row < WRITERS * PER_WRITER; row++) {
        expect(store.getRunResult('shared-run', `row-${row}`)).toBe(`b${Math.floor(row / PER_WRITER)}`);
      }

      console.log(
        `Node ${process.version}, ${WRITERS} processes x ${PER_WRITER} rows (4 writes each) into one store: ${elapsedMs.toFixed(0)} ms ` +
          `including start-up and a 2 s start barrier; each writer's first write..close, ms after the barrier: ${spans.join(', ')}`,
      );
    },
    CHILD_TIMEOUT_MS + 15_000,
  );
  it(
    'a writer killed mid-run leaves a store that opens, with every flushed checkpoint in it',
    async () => {
      const dir = tempDir();
      let flushed = 0;
      const exit = await runChild([dir, '0', 'until-killed'], (out) => {
        flushed = Math.max(0, ...out.trim().split('\n').map(Number));
        return flushed >= 1_000;
      });
      expect(exit.signal, exit.out).toBe('SIGKILL');
      expect(flushed).toBeGreaterThanOrEqual(1_000);

      // Another process can take the write lock the dead one held, and add to what it left.
      const after = await runChild([dir, '1', '50', String(Date.now())]);
      expect(after.code, after.out).toBe(0);

      const store = openStore(dir);
      // Batches commit whole and in order: what survived is rows 0..n-1, at least every flushed one.
      let survived = 0;
      while (survived < 1_000_000 && store.getRunResult('killed-run', `row-${survived}`) === 'valid') survived += 1;
      expect(survived).toBeGreaterThanOrEqual(flushed);
      expect(survived % 50).toBe(0);
      for (let row = survived; row < survived + 50; row++) expect(store.getRunResult('killed-run', `row-${row}`)).toBeUndefined();
      expect(store.getResult(`killed-${flushed - 50}`, DAY)).toEqual({ index: flushed - 50 });
      expect(store.getResult('own-1-49', DAY)).toEqual({ writer: 1, i: 49 });
    },
    2 * CHILD_TIMEOUT_MS + 15_000,
  );
});
