// `npm run demo:serve`: `email-verify serve` on http://127.0.0.1:8080 with the API key
// demo-key-0123456789, against the simulated network, with a fresh data folder: the README's
// curl commands work as printed against it. Ctrl-C stops both.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_NETWORK } from '../test/support/demo-network.js';
import { BIN } from '../test/support/cli.js';
import { startSimNet } from '../test/support/simnet.js';

export const DEMO_KEY = 'demo-key-0123456789';

const net = await startSimNet(DEMO_NETWORK);
const dataDir = await mkdtemp(join(tmpdir(), 'email-verify-serve-demo-'));
const args = [
  BIN,
  'serve',
  '--port',
  process.env.PORT ?? '8080',
  '--api-key',
  DEMO_KEY,
  '--data-dir',
  dataDir,
  '--dns-server',
  net.dnsServer,
  '--smtp-port',
  String(net.smtpPort),
  '--timeout',
  '5s',
  '--log-level',
  'warn',
  ...process.argv.slice(2),
];
console.error(`simulated network: DNS ${net.dnsServer}, SMTP port ${net.smtpPort}; API key ${DEMO_KEY}`);
const child = spawn(process.execPath, args, { stdio: 'inherit' });
// Ctrl-C reaches the server too (same process group); it stops cleanly, then so does this.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => child.kill('SIGTERM'));
const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
await net.close();
await rm(dataDir, { recursive: true, force: true });
process.exitCode = code;
