// Reproduces issue 10.2: after fast answers, node:dns (c-ares 1.34) gave up on a slow one long
// before --timeout. A loopback DNS server answers 20 names in 5 ms, then one in 1,200 ms; the
// engine's MX lookup (timeout 30 s) must wait for it. Run: npx tsx scripts/dns-latency-repro.ts
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { createMxLookup } from '../src/dns/mx.js';

const server = dgram.createSocket('udp4');
let closed = false;
server.on('message', (message, remote) => {
  const query = dnsPacket.decode(message);
  const question = query.questions![0]!;
  const slow = question.name.startsWith('slow');
  const answers: dnsPacket.Answer[] =
    question.type === 'MX'
      ? [{ type: 'MX', name: question.name, ttl: 300, data: { preference: 10, exchange: `mx.${question.name}` } }]
      : question.type === 'A'
        ? [{ type: 'A', name: question.name, ttl: 300, data: '127.0.0.1' }]
        : [];
  const response = dnsPacket.encode({
    type: 'response',
    id: query.id,
    flags: dnsPacket.RECURSION_AVAILABLE,
    questions: [question],
    answers,
  });
  setTimeout(() => closed || server.send(response, remote.port, remote.address), slow ? 1200 : 5);
});
await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
const lookup = createMxLookup({ servers: [`127.0.0.1:${server.address().port}`], timeoutMs: 30_000 });
for (let i = 0; i < 20; i++) await lookup(`fast${i}.example`);
const started = Date.now();
const result = await lookup('slow.example');
console.log(
  `slow answer: ${result.kind}${result.kind === 'lookup_failed' ? ` (${result.reason})` : ''} after ${Date.now() - started} ms`,
);
closed = true;
server.close();
