// Heap kept by the engine per distinct domain (and per distinct mail host with OWN_HOSTS=1), on
// an instant in-process network: `node --expose-gc --import tsx scripts/domain-memory.ts 200000`.
// Run it at two sizes: the heap should stay about the same.
import { createVerifier, resolveOptions, verifyRows, type Network } from '../src/index.js';

const domains = Number(process.argv[2] ?? 200_000);
const shared = { exchange: 'mx.shared.example', priority: 10, addresses: ['127.0.0.1'] };
const network: Network = {
  lookupMx: async (domain) => ({
    kind: 'mx',
    implicit: false,
    hosts: [process.env.OWN_HOSTS ? { ...shared, exchange: `mx.${domain}` } : shared],
  }),
  askMailboxes: async (_hosts, recipients) =>
    recipients.map(() => ({ outcome: 'accepted' as const, reason: '', reply: '250 ok', mxHost: shared.exchange })),
};
const verifier = createVerifier(resolveOptions({ concurrency: 20, greylistBudgetMs: 0 }), network);
const rows = (function* () {
  for (let index = 0; index < domains; index++) yield { index, address: `user@d${index}.example` };
})();
const started = performance.now();
for await (const row of verifyRows(rows, verifier)) void row;
globalThis.gc?.();
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
console.log(
  `${domains.toLocaleString('en-US')} domains${process.env.OWN_HOSTS ? ', each on its own mail host' : ''}: ` +
    `${((performance.now() - started) / 1000).toFixed(1)} s, heap used ${mb(process.memoryUsage().heapUsed)} MB after GC`,
);
