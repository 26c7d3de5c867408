// The engine against the simulated network: one scripted behaviour per case.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDefaultVerifier, verifyRows, type Verifier } from '../../src/index.js';
import { DEMO_NETWORK } from '../support/demo-network.js';
import { startSimNet, type SimNet } from '../support/simnet.js';

let net: SimNet;
let verifier: Verifier;

beforeAll(async () => {
  net = await startSimNet(DEMO_NETWORK);
  verifier = createDefaultVerifier({
    dnsServers: [net.dnsServer],
    smtpPort: net.smtpPort,
    timeoutMs: 3000,
    helo: 'verifier.test',
  });
});
afterAll(() => net.close());

describe('verdicts against scripted hosts', () => {
  it.each([
    // address, result, validation_layer, reason pattern
    ['alice@acme.example', 'valid', 'catchall', /^$/],
    ['oliver@acme.example', 'invalid', 'smtp', /does not exist|unknown/i],
    ['eve@acme.example', 'invalid', 'smtp', /disabled/i],
    ['dave@acme.example', 'risky', 'smtp', /full/i],
    ['info@acme.example', 'valid_role_based', 'catchall', /role/i],
    ['carl@catchall.example', 'risky', 'catchall', /catch-all/i],
    ['carol@implicit.example', 'valid', 'catchall', /^$/],
    ['nora@nullmx.example', 'invalid', 'dns', /null MX/i],
    ['nick@nowhere.example', 'invalid', 'dns', /does not exist/i],
    ['hal@nomailhost.example', 'invalid', 'dns', /no MX records and no address/i],
    ['sam@servfail.example', 'unknown', 'dns', /SERVFAIL/],
    ['bea@blocked.example', 'unknown', 'smtp', /.+/],
    ['frank@multi.example', 'valid', 'catchall', /^$/],
    ['grace@tls.example', 'valid', 'catchall', /^$/],
    ['temp123@mailinator.com', 'risky', 'catchall', /disposable/i],
    ['not-an-address', 'invalid', 'syntax', /.+/],
  ])('%s -> %s at %s', async (address, result, layer, reason) => {
    const verdict = await verifier.verify(address);
    expect(verdict.result).toBe(result);
    expect(verdict.validation_layer).toBe(layer);
    expect(verdict.reason).toMatch(reason);
  });

  it('charges a credit only for a valid personal address', async () => {
    const valid = await verifier.verify('bob@acme.example');
    expect(valid).toMatchObject({ credits_charged: 1, b2b_outbound_quality: 'high', mx_host: 'mx1.acme.example' });
    expect(valid.smtp_response).toMatch(/^250/);
    const role = await verifier.verify('support@acme.example');
    expect(role).toMatchObject({ credits_charged: 0, b2b_outbound_quality: 'low', is_role_based: true, role_type: 'support' });
  });

  it('flags free providers and suggests a fix for a typo without calling the typo valid', async () => {
    const free = await verifier.verify('jane.doe@gmail.com');
    expect(free).toMatchObject({ result: 'valid', is_free_provider: true, suggestion: '' });
    const typo = await verifier.verify('john.smith@gmial.com');
    expect(typo).toMatchObject({ result: 'invalid', suggestion: 'john.smith@gmail.com' });
  });

  it('marks catch-all domains with a confidence and never as valid', async () => {
    const verdict = await verifier.verify('someone.else@catchall.example');
    expect(verdict).toMatchObject({ result: 'risky', is_catch_all: true, catch_all_confidence: 'high', credits_charged: 0 });
  });

  it('reports the block text as the SMTP response of a policy refusal', async () => {
    const verdict = await verifier.verify('bea@blocked.example');
    expect(verdict.smtp_response).toMatch(/^550 5\.7\.1/);
  });

  it('never sends DATA, and tries the secondary MX after the primary refuses', async () => {
    await verifier.verify('frank@multi.example');
    expect(net.counters('mx2.multi.example').rcpts).toContain('frank@multi.example');
    for (const host of Object.keys(DEMO_NETWORK.hosts)) expect(net.counters(host).data).toBe(0);
  });

  it('probes a catch-all domain once however many of its addresses are verified', async () => {
    const fresh = createDefaultVerifier({ dnsServers: [net.dnsServer], smtpPort: net.smtpPort, timeoutMs: 3000 });
    const before = net.counters('mx1.acme.example').rcpts.filter((r) => r.startsWith('ev-')).length;
    await Promise.all(['alice', 'bob', 'info', 'support'].map((l) => fresh.verify(`${l}@acme.example`)));
    const after = net.counters('mx1.acme.example').rcpts.filter((r) => r.startsWith('ev-')).length;
    expect(after - before).toBe(1);
  });
});

describe('verifyRows', () => {
  it('keeps input order, flags repeats and verifies each address once', async () => {
    const rows = ['alice@acme.example', 'oliver@acme.example', 'Alice@acme.example', 'ALICE@ACME.EXAMPLE', 'x'].map(
      (address, index) => ({ index, address }),
    );
    const rcptsBefore = net.counters('mx1.acme.example').rcpts.length;
    const fresh = createDefaultVerifier({ dnsServers: [net.dnsServer], smtpPort: net.smtpPort, timeoutMs: 3000 });
    const out = [];
    for await (const item of verifyRows(rows, fresh, { window: 2 })) out.push(item);
    expect(out.map((o) => o.row.index)).toEqual([0, 1, 2, 3, 4]);
    expect(out.map((o) => o.result.duplicate)).toEqual([false, false, true, true, false]);
    expect(out[2]?.result.result).toBe('valid');
    // alice, oliver, and one catch-all probe.
    expect(net.counters('mx1.acme.example').rcpts.length - rcptsBefore).toBe(3);
  });
});

describe('domains that share mail hosts', () => {
  it('share sessions: fewer connections than domains, each domain probed once, every verdict its own', async () => {
    const domains = Array.from({ length: 8 }, (_, i) => `shop${i}.example`);
    const shared = await startSimNet({
      hosts: { 'mx.hosting.example': { behaviour: { kind: 'mailboxes', mailboxes: ['ann', 'bob'] } } },
      domains: Object.fromEntries(domains.map((d) => [d, { mx: [{ host: 'mx.hosting.example', priority: 10 }] }])),
    });
    try {
      const hosted = createDefaultVerifier({
        dnsServers: [shared.dnsServer],
        smtpPort: shared.smtpPort,
        timeoutMs: 3000,
        concurrency: 1,
      });
      const addresses = domains.flatMap((d) => [`ann@${d}`, `bob@${d}`, `zed@${d}`]);
      const verdicts = await Promise.all(addresses.map((a) => hosted.verify(a)));
      verdicts.forEach((v, i) =>
        expect([addresses[i], v.result]).toEqual([addresses[i], addresses[i]!.startsWith('zed') ? 'invalid' : 'valid']),
      );
      const counters = shared.counters('mx.hosting.example');
      // 8 domains x (3 addresses + 1 probe) = 32 RCPTs: two sessions of 25 at most would do.
      expect(counters.connections).toBeLessThan(domains.length);
      expect(counters.rcpts.filter((r) => !r.startsWith('ev-')).sort()).toEqual([...addresses].sort());
      for (const d of domains) expect(counters.rcpts.filter((r) => r.startsWith('ev-') && r.endsWith(`@${d}`))).toHaveLength(1);
    } finally {
      await shared.close();
    }
  });
});
