// A write that comes while the store closes, or after: a session that ends after the run's last
// row still reports to its host's limit, which keeps the level it learnt (a 20,000-address bench
// run died of lmdb's "The environment is already closed" thrown from its writer, after its
// outputs). Such a write is dropped; the process goes on and ends normally. In a process of its
// own (the built store), since the failure is a crash of the whole process.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { openCacheStore } from '../../src/cache/store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

it('drops writes made while it closes and after, and keeps those made before', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'email-verify-cache-'));
  dirs.push(dir);
  const script = `
    import { openCacheStore } from './dist/cache/store.js';
    const store = openCacheStore({ dir: ${JSON.stringify(dir)} });
    store.putDomainFact('mx.before.example', 'host-level', 7, 86400000);
    const closing = store.close();
    store.putDomainFact('mx.closing.example', 'host-level', 8, 86400000);
    await closing;
    store.putDomainFact('mx.after.example', 'host-level', 9, 86400000);
    store.putResult('late@after.example', { result: 'valid' });
    // Let anything lmdb scheduled run before saying it went well.
    await new Promise((resolve) => setTimeout(resolve, 50));
    process.stdout.write('closed cleanly');`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  expect({ code, out, err }).toEqual({ code: 0, out: 'closed cleanly', err: '' });

  const reopened = openCacheStore({ dir });
  try {
    expect(reopened.getDomainFact('mx.before.example', 'host-level')).toBe(7);
    expect(reopened.getDomainFact('mx.closing.example', 'host-level')).toBeUndefined();
    expect(reopened.getDomainFact('mx.after.example', 'host-level')).toBeUndefined();
  } finally {
    await reopened.close();
  }
});
