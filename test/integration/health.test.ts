// The run's health check fed by the engine's typed answers, against real hosts on loopback:
// hosts that refuse every connection read as port 25 blocked, hosts that cite a blocklist as
// our IP blocked. Neither depends on the prober's wording.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHealthMonitor, type Health, type MailboxAnswer } from '../../src/core/health.js';
import { createNetwork, createVerifier, resolveOptions } from '../../src/index.js';
import { startSimNet, type SimNet, type SimNetSpec } from '../support/simnet.js';

const DOMAINS = 6;
const SPAMHAUS = '5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org';
const SPEC: SimNetSpec = {
  hosts: Object.fromEntries(
    Array.from({ length: DOMAINS }, (_, i) => [
      [`mx.dark${i}.example`, { behaviour: { kind: 'refused' as const } }],
      [`mx.bl${i}.example`, { behaviour: { kind: 'policy_block' as const, text: SPAMHAUS } }],
    ]).flat(),
  ),
  domains: Object.fromEntries(
    Array.from({ length: DOMAINS }, (_, i) => [
      [`dark${i}.example`, { mx: [{ host: `mx.dark${i}.example`, priority: 10 }] }],
      [`bl${i}.example`, { mx: [{ host: `mx.bl${i}.example`, priority: 10 }] }],
    ]).flat(),
  ),
};

let net: SimNet;
beforeAll(async () => {
  net = await startSimNet(SPEC);
});
afterAll(() => net.close());

/** Verifies `addresses` one after another; the health verdict after each. */
async function healthOver(addresses: string[]): Promise<{ verdicts: Health[]; answers: MailboxAnswer[] }> {
  const monitor = createHealthMonitor();
  const answers: MailboxAnswer[] = [];
  const options = resolveOptions({ dnsServers: [net.dnsServer], smtpPort: net.smtpPort, timeoutMs: 5000, greylistBudgetMs: 0 });
  const verifier = createVerifier(options, createNetwork(options), { onMailboxAnswer: (answer) => answers.push(answer) });
  const verdicts: Health[] = [];
  for (const address of addresses) {
    const before = answers.length;
    await verifier.verify(address);
    for (const answer of answers.slice(before)) verdicts.push(monitor.observeAnswer(answer));
  }
  return { verdicts, answers };
}

describe("health from the engine's answers", () => {
  it('connections refused everywhere: unreachable outcomes, then port 25 blocked', async () => {
    const addresses = Array.from({ length: 8 }, (_, i) => `user${i}@dark${i % 4}.example`);
    const { verdicts, answers } = await healthOver(addresses);
    expect(answers.map((a) => a.mailbox.outcome)).toEqual(Array(8).fill('unreachable'));
    expect(verdicts.slice(0, 7)).toEqual(Array(7).fill('ok'));
    expect(verdicts[7]).toBe('port25_blocked');
  });

  it('blocklist refusals from five domains: our IP blocked', async () => {
    const addresses = Array.from({ length: 5 }, (_, i) => `user@bl${i}.example`);
    const { verdicts, answers } = await healthOver(addresses);
    expect(answers.every((a) => a.mailbox.outcome === 'policy')).toBe(true);
    expect(verdicts.slice(0, 4)).toEqual(Array(4).fill('ok'));
    expect(verdicts[4]).toBe('ip_blocked');
  });
});
