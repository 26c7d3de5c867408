// One bench run in its own process, so its peak RSS is its own: verifies a list with the built
// engine ("engine") or one connection per address and no cache ("naive"), prints JSON.
import { readFile } from 'node:fs/promises';
import pLimit from 'p-limit';
import {
  createCachedVerifier,
  createDefaultVerifier,
  createVerifier,
  openCacheStore,
  resolveOptions,
  verifyRows,
} from '../dist/index.js';
import { probeRecipients } from '../dist/smtp/prober.js';
import { checkMx, createResolver } from '../dist/dns/mx.js';

const [mode, listFile, dnsServer, smtpPort, concurrency, cacheDir, extra] = process.argv.slice(2);
const addresses = (await readFile(listFile, 'utf8')).split('\n').filter(Boolean);
const options = resolveOptions({
  dnsServers: [dnsServer],
  smtpPort: Number(smtpPort),
  concurrency: Number(concurrency),
  timeoutMs: 10_000,
  helo: 'bench.test',
  greylistBudgetMs: 0,
  // Per-scenario settings (per-host caps), as JSON.
  ...JSON.parse(extra || '{}'),
});

let verifier;
let store;
if (mode === 'naive') {
  // What the usual open-source verifier does: a lookup and a connection for every address, the
  // catch-all probe in a connection of its own, no per-domain queue and no cache.
  const resolver = createResolver({ servers: options.dnsServers, timeoutMs: options.timeoutMs });
  const probe = { port: options.smtpPort, timeoutMs: options.timeoutMs, helo: options.helo, from: '' };
  const network = {
    lookupMx: (domain) => checkMx(resolver, domain),
    askMailboxes: async (hosts, recipients) =>
      (await Promise.all(recipients.map((r) => probeRecipients(hosts, [r], probe)))).flat(),
  };
  const naive = { ...options, recipientsPerSession: 1, perDomainConcurrency: options.concurrency };
  // A verifier per address: its own lookup, and its own connection carrying the catch-all probe
  // and the address, as Reacher's check-if-email-exists does. --concurrency still applies.
  const limit = pLimit(options.concurrency);
  verifier = {
    verify: (address) => limit(() => createVerifier(naive, network).verify(address)),
    close: () => undefined,
  };
} else {
  if (cacheDir) {
    store = openCacheStore({ dir: cacheDir });
    verifier = createCachedVerifier(options, { store, maxAgeMs: 7 * 86_400_000 });
  } else {
    verifier = createDefaultVerifier(options);
  }
}

const started = performance.now();
const results = {};
const rows = addresses.map((address, index) => ({ index, address }));
for await (const { row, result } of verifyRows(rows, verifier)) {
  results[row.address] = result.result;
}
const elapsedMs = performance.now() - started;
verifier.close();
const cache = store?.stats();
const cacheMapRssMb = store ? await mappedRssMb('cache.mdb') : undefined;
await store?.close();
process.stdout.write(
  JSON.stringify({ elapsedMs, maxRssMb: process.resourceUsage().maxRSS / 1024, results, cache, cacheMapRssMb }),
);

/** Resident memory of this process's maps of files named `name` (Linux; undefined elsewhere). */
async function mappedRssMb(name) {
  let smaps;
  try {
    smaps = await readFile('/proc/self/smaps', 'utf8');
  } catch {
    return undefined;
  }
  let inFile = false;
  let kb = 0;
  for (const line of smaps.split('\n')) {
    // A mapping's header line starts with its address range; its fields follow, one a line.
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inFile = line.trimEnd().endsWith(`/${name}`);
    else if (inFile && line.startsWith('Rss:')) kb += Number(line.split(/\s+/)[1]);
  }
  return kb / 1024;
}
