// Kill-and-resume figures: 400 addresses over 40 domains on the simulated network (100 ms RTT);
// a run is stopped by SIGINT, then by SIGKILL, after 150 RCPTs, and the same command run again.
// Prints how many RCPTs the hosts saw before and after, and how many addresses were asked twice.
// Run: npm run build && npx tsx scripts/resume-figures.ts
import { startSimNet, type SimNetSpec } from '../test/support/simnet.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../test/support/cli.js';
const D = 40,
  PER = 10;
const hosts: SimNetSpec['hosts'] = {};
const domains: SimNetSpec['domains'] = {};
for (let d = 0; d < D; d++) {
  hosts[`mx.d${d}.example`] = {
    behaviour: { kind: 'mailboxes', mailboxes: Array.from({ length: PER }, (_, i) => `u${i}`).filter((_, i) => i % 3) },
    rttMs: 100,
  };
  domains[`d${d}.example`] = { mx: [{ host: `mx.d${d}.example`, priority: 10 }] };
}
const net = await startSimNet({ hosts, domains, dnsDelayMs: 20 });
const work = mkdtempSync(join(tmpdir(), 'email-verify-resume-'));
const list = join(work, 'list.txt');
const cacheDir = join(work, 'cache');
const outDir = join(work, 'out');
const addrs: string[] = [];
for (let d = 0; d < D; d++) for (let i = 0; i < PER; i++) addrs.push(`u${i}@d${d}.example`);
writeFileSync(list, addrs.join('\n'));
const rcpts = () => {
  let n = 0;
  for (let d = 0; d < D; d++) n += net.counters(`mx.d${d}.example`).rcpts.filter((r) => !r.startsWith('ev-')).length;
  return n;
};
for (const sig of ['SIGINT', 'SIGKILL'] as const) {
  rmSync(cacheDir, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });
  const base = rcpts();
  const args = [
    BIN,
    list,
    '--out-dir',
    outDir,
    '--cache-dir',
    cacheDir,
    '--concurrency',
    '4',
    '--per-domain',
    '1',
    '--dns-server',
    net.dnsServer,
    '--smtp-port',
    String(net.smtpPort),
    '--quiet',
  ];
  const c = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  c.stderr.on('data', (d) => (err += d));
  for (let i = 0; i < 400 && rcpts() - base < 150; i++) await new Promise((r) => setTimeout(r, 25));
  const atKill = rcpts() - base;
  c.kill(sig);
  const code = await new Promise((r) => c.on('close', (code, s) => r(code ?? s)));
  const afterFirst = rcpts() - base;
  const again = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const code2 = await new Promise((r) => again.on('close', r));
  const total = rcpts() - base;
  console.log(
    `${sig}: exit ${code}; RCPTs when signalled ${atKill}, when the first run ended ${afterFirst}; second run exit ${code2}, RCPTs ${total - afterFirst}; total RCPTs ${total} for ${addrs.length} addresses (${total - addrs.length} asked twice)`,
  );
  if (sig === 'SIGINT') console.log('  first run said:', err.trim().split('\n').pop());
}
await net.close();
rmSync(work, { recursive: true, force: true });
