// A run's checkpoints at the size of a real list, in a file of its own: vitest gives each file a
// fresh process, so this heavy write and read of one store starts on a clean heap, with no
// store of another test still closing beside it. (On Node 24, which loads lmdb-js's N-API build,
// store.test.ts's worker died of SIGSEGV in 4 of 14 full-suite runs here, and the one run traced died in this test.)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { openCacheStore } from '../../src/cache/store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The keys whose stored answer is not the one put, at most a few of them. */
function wrongAnswers(
  read: (key: string) => { result: string } | undefined,
  answers: { key: string; result: string }[],
): string[] {
  const wrong: string[] = [];
  for (const { key, result } of answers) {
    const found = read(key);
    if (found?.result !== result || Object.keys(found).length !== 1) wrong.push(`${key}: ${JSON.stringify(found)}`);
    if (wrong.length >= 5) break;
  }
  return wrong;
}

it('round-trips 100,000 answers of a run', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'email-verify-cache-'));
  dirs.push(dir);
  const results = ['valid', 'risky', 'invalid', 'unknown'];
  const answers = Array.from({ length: 100_000 }, (_, i) => ({ key: `user${i}@acme.example`, result: results[i % 4]! }));

  let started = performance.now();
  const store = openCacheStore({ dir });
  for (const { key, result } of answers) store.putRunResult('big-run', key, { result });
  const putMs = performance.now() - started;

  // Checked in bulk: 200,000 expect() calls made the test slow for nothing.
  started = performance.now();
  expect(wrongAnswers((key) => store.getRunResult('big-run', key), answers)).toEqual([]);
  const readPendingMs = performance.now() - started;

  started = performance.now();
  await store.close();
  const closeMs = performance.now() - started;

  const reopened = openCacheStore({ dir });
  try {
    started = performance.now();
    expect(wrongAnswers((key) => reopened.getRunResult('big-run', key), answers)).toEqual([]);
    const readMs = performance.now() - started;
    expect(reopened.getRunResult('another-run', answers[0]!.key)).toBeUndefined();
    console.log(
      `100,000 run answers: put ${putMs.toFixed(0)} ms, read before commit ${readPendingMs.toFixed(0)} ms, ` +
        `commit and close ${closeMs.toFixed(0)} ms, read after reopen ${readMs.toFixed(0)} ms`,
    );
  } finally {
    await reopened.close();
  }
});
