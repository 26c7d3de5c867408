// One of several processes writing into the same cache dir at once (store.test.ts starts them
// with `node --import tsx`, so it runs the TypeScript source under the Node running the tests).
// Usage: writer-child.mjs DIR WRITER COUNT START_AT_MS
//        writer-child.mjs DIR WRITER until-killed   (checkpoints rows 0, 1, 2, ... until killed,
//                                                    printing how many are flushed to disk)
import { openCacheStore } from '../../src/cache/store.ts';

const [dir, writerArg, countArg, startAtArg] = process.argv.slice(2);
const writer = Number(writerArg);

if (countArg === 'until-killed') {
  const store = openCacheStore({ dir });
  // The parent kills this process; the cap only bounds a run whose parent died first.
  for (let index = 0; index < 1_000_000; index += 50) {
    for (let k = 0; k < 50; k++) store.putRunResult('killed-run', `row-${index + k}`, 'valid');
    store.putResult(`killed-${index}`, { index });
    await store.flush();
    process.stdout.write(`${index + 50}\n`);
  }
  await store.close();
} else {
  const count = Number(countArg);
  const startAt = Number(startAtArg);

  // Start together, so the writes really overlap instead of following each other's start-up.
  while (Date.now() < startAt) await new Promise((resolve) => setTimeout(resolve, 5));

  const store = openCacheStore({ dir });
  const firstWriteAt = Date.now();
  for (let i = 0; i < count; i++) {
    store.putResult(`own-${writer}-${i}`, { writer, i });
    store.putResult(`shared-${i % 100}`, { writer, i });
    store.putDns(`mx:shared-${i % 50}.example`, { writer, i }, 3_600_000);
    store.putRunResult('shared-run', `row-${writer * count + i}`, `b${writer}`);
    // Read what the others wrote while they write.
    store.getResult(`shared-${(i + 7) % 100}`, 3_600_000);
    // A new event turn every 25 rows: many small transactions, interleaved with the other writers.
    if (i % 25 === 24) await new Promise((resolve) => setImmediate(resolve));
  }
  await store.close();
  const closedAt = Date.now();
  process.stdout.write(JSON.stringify({ writer, done: count, firstWriteAt, closedAt }) + '\n');
}
