// `npm run demo`: verifies fixtures/sample.csv through the whole pipeline against the simulated
// network (a DNS server and scripted SMTP hosts on loopback), with the real built CLI.
import { spawn } from 'node:child_process';
import { DEMO_NETWORK } from '../test/support/demo-network.js';
import { BIN } from '../test/support/cli.js';
import { startSimNet } from '../test/support/simnet.js';

const net = await startSimNet(DEMO_NETWORK);
const args = [
  BIN,
  'fixtures/sample.csv',
  '--out-dir',
  'demo-output',
  '--dns-server',
  net.dnsServer,
  '--smtp-port',
  String(net.smtpPort),
  '--timeout',
  '5s',
  // The simulated hosts get new addresses each run: answers kept from a past demo would be stale.
  '--no-cache',
  ...process.argv.slice(2),
];
console.error(`simulated network: DNS ${net.dnsServer}, SMTP port ${net.smtpPort}`);
console.error(`$ email-verify ${args.slice(1).join(' ')}\n`);
const child = spawn(process.execPath, args, { stdio: 'inherit' });
const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
await net.close();
process.exitCode = code;
