// The hard cases of issue 3, each a scripted host on loopback: the verdict the open-source
// verifiers get wrong, and the one we must give.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDefaultVerifier, createNetwork, createVerifier, resolveOptions, type VerifyOptions } from '../../src/index.js';
import type { Clock } from '../../src/core/clock.js';
import { manualClock, skippingClock } from '../support/clock.js';
import { startSimNet, type SimNet, type SimNetSpec } from '../support/simnet.js';

const mailboxes = ['alice', 'bob', 'carol', 'dan', 'erin', 'fay'];

const CROWDED_DOMAINS = Array.from({ length: 12 }, (_, i) => `crowded${i}.example`);

// The greylisting host's clock: the greylisting test steps it together with the engine's, so
// "300 ms after the first attempt" does not depend on how busy the machine is.
const greyClock = manualClock();

const SPEC: SimNetSpec = {
  hosts: {
    'mx.normal.example': { behaviour: { kind: 'mailboxes', mailboxes, full: ['full'], disabled: ['gone'] } },
    'mx.bigmail.example': { behaviour: { kind: 'catch_all' } },
    'mx.blocklist.example': {
      behaviour: {
        kind: 'policy_block',
        text: '5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org',
      },
    },
    'mx.noverify.example': { behaviour: { kind: 'policy_block' } },
    'mx1.busy.example': { behaviour: { kind: 'busy' } },
    'mx2.busy.example': { behaviour: { kind: 'mailboxes', mailboxes } },
    'mx1.refused.example': { behaviour: { kind: 'refused' } },
    'mx2.refused.example': { behaviour: { kind: 'mailboxes', mailboxes } },
    'mx1.tarpit.example': { behaviour: { kind: 'tarpit' } },
    'mx2.tarpit.example': { behaviour: { kind: 'mailboxes', mailboxes } },
    'mx.onlytarpit.example': { behaviour: { kind: 'tarpit' } },
    'mx1.reset.example': { behaviour: { kind: 'reset_after_mail' } },
    'mx2.reset.example': { behaviour: { kind: 'mailboxes', mailboxes } },
    'mx.allbusy.example': { behaviour: { kind: 'busy' } },
    'mx.crowded.example': { behaviour: { kind: 'mailboxes', mailboxes }, maxConnections: 1 },
    'mx.tls.example': { behaviour: { kind: 'mailboxes', mailboxes }, requireTls: true },
    'mx.nonull.example': { behaviour: { kind: 'mailboxes', mailboxes }, refuseNullSender: true },
    'mx.delayreject.example': { behaviour: { kind: 'mailboxes', mailboxes }, refuseNullSenderAtRcpt: true },
    'mx.delayreject-pipe.example': { behaviour: { kind: 'mailboxes', mailboxes }, refuseNullSenderAtRcpt: true },
    'mx.limit.example': { behaviour: { kind: 'mailboxes', mailboxes }, maxRecipients: 2 },
    'a-host.implicit.example': { behaviour: { kind: 'mailboxes', mailboxes } },
    'mx.grey.example': { behaviour: { kind: 'greylist', delayMs: 300, inner: { kind: 'mailboxes', mailboxes } } },
    'mx.pipe.example': { behaviour: { kind: 'mailboxes', mailboxes }, advertiseStartTls: false },
    'mx.helo.example': { behaviour: { kind: 'mailboxes', mailboxes }, advertiseStartTls: false },
    'mx.nopipe.example': { behaviour: { kind: 'mailboxes', mailboxes }, advertiseStartTls: false, advertisePipelining: false },
    'mx.utf8.example': { behaviour: { kind: 'mailboxes', mailboxes: ['jörg'] } },
    'mx.ascii.example': { behaviour: { kind: 'mailboxes', mailboxes: ['jörg'] }, advertiseSmtpUtf8: false },
  },
  domains: {
    'normal.example': { mx: [{ host: 'mx.normal.example', priority: 10 }] },
    'bigmail.example': { mx: [{ host: 'mx.bigmail.example', priority: 10 }] },
    'blocklist.example': { mx: [{ host: 'mx.blocklist.example', priority: 10 }] },
    'noverify.example': { mx: [{ host: 'mx.noverify.example', priority: 10 }] },
    'busy.example': {
      mx: [
        { host: 'mx1.busy.example', priority: 10 },
        { host: 'mx2.busy.example', priority: 20 },
      ],
    },
    'refused.example': {
      mx: [
        { host: 'mx1.refused.example', priority: 10 },
        { host: 'mx2.refused.example', priority: 20 },
      ],
    },
    'tarpit.example': {
      mx: [
        { host: 'mx1.tarpit.example', priority: 10 },
        { host: 'mx2.tarpit.example', priority: 20 },
      ],
    },
    'onlytarpit.example': { mx: [{ host: 'mx.onlytarpit.example', priority: 10 }] },
    'reset.example': {
      mx: [
        { host: 'mx1.reset.example', priority: 10 },
        { host: 'mx2.reset.example', priority: 20 },
      ],
    },
    'allbusy.example': { mx: [{ host: 'mx.allbusy.example', priority: 10 }] },
    'tls.example': { mx: [{ host: 'mx.tls.example', priority: 10 }] },
    'nonull.example': { mx: [{ host: 'mx.nonull.example', priority: 10 }] },
    'delayreject.example': { mx: [{ host: 'mx.delayreject.example', priority: 10 }] },
    'delayreject-pipe.example': { mx: [{ host: 'mx.delayreject-pipe.example', priority: 10 }] },
    'limit.example': { mx: [{ host: 'mx.limit.example', priority: 10 }] },
    'noaddress.example': { mx: [{ host: 'mx.unresolvable.example', priority: 10 }] },
    'nullmx.example': { nullMx: true },
    'servfail.example': { servfail: true },
    'slowdns.example': { timeout: true },
    'implicit.example': { aHost: 'a-host.implicit.example' },
    'grey.example': { mx: [{ host: 'mx.grey.example', priority: 10 }] },
    'pipe.example': { mx: [{ host: 'mx.pipe.example', priority: 10 }] },
    'helo.example': { mx: [{ host: 'mx.helo.example', priority: 10 }] },
    ...Object.fromEntries(CROWDED_DOMAINS.map((d) => [d, { mx: [{ host: 'mx.crowded.example', priority: 10 }] }])),
    'nopipe.example': { mx: [{ host: 'mx.nopipe.example', priority: 10 }] },
    'utf8.example': { mx: [{ host: 'mx.utf8.example', priority: 10 }] },
    'ascii.example': { mx: [{ host: 'mx.ascii.example', priority: 10 }] },
  },
  now: greyClock.now,
};

const TIMEOUT_MS = 800;
let net: SimNet;
let base: Partial<VerifyOptions>;

beforeAll(async () => {
  net = await startSimNet(SPEC);
  base = { dnsServers: [net.dnsServer], smtpPort: net.smtpPort, timeoutMs: TIMEOUT_MS, helo: 'verifier.test' };
});
afterAll(() => net.close());

const verify = (address: string, extra: Partial<VerifyOptions> = {}) =>
  createDefaultVerifier({ ...base, ...extra }).verify(address);

/** The real network, with the engine's retries and back-off on the test's clock. */
function verifierOn(clock: Clock, extra: Partial<VerifyOptions> = {}) {
  const options = resolveOptions({ ...base, ...extra });
  return createVerifier(options, createNetwork(options), { clock });
}

describe('mailbox answers', () => {
  it.each([
    ['alice@normal.example', 'valid', /^$/],
    ['nobody@normal.example', 'invalid', /does not exist/i],
    ['gone@normal.example', 'invalid', /disabled/i],
    ['full@normal.example', 'risky', /full/i],
  ])('%s -> %s', async (address, result, reason) => {
    const verdict = await verify(address);
    expect(verdict.result).toBe(result);
    expect(verdict.reason).toMatch(reason);
    expect(verdict.validation_layer).not.toBe('dns');
  });
});

describe('catch-all', () => {
  it('a big-provider style host that accepts every recipient is risky, never valid', async () => {
    const verdict = await verify('anyone.at.all@bigmail.example');
    expect(verdict).toMatchObject({
      result: 'risky',
      is_catch_all: true,
      catch_all_confidence: 'high',
      credits_charged: 0,
      validation_layer: 'catchall',
    });
  });
});

describe('policy blocks are not verdicts', () => {
  it.each(['alice@blocklist.example', 'alice@noverify.example'])('%s -> unknown', async (address) => {
    const verdict = await verify(address);
    expect(verdict.result).toBe('unknown');
    expect(verdict.smtp_response).toMatch(/^550 5\.7\.1/);
    expect(verdict.reason).not.toMatch(/does not exist/i);
  });
});

describe('unreachable hosts', () => {
  it.each([
    ['421 on connect', 'alice@busy.example', 'mx2.busy.example'],
    ['connection refused', 'alice@refused.example', 'mx2.refused.example'],
    ['banner never comes (tarpit)', 'alice@tarpit.example', 'mx2.tarpit.example'],
    ['reset mid-session', 'alice@reset.example', 'mx2.reset.example'],
  ])('%s: the next MX in preference order answers', async (_case, address, secondary) => {
    const verdict = await verify(address);
    expect(verdict).toMatchObject({ result: 'valid', mx_host: secondary });
  });

  it('a host answering 421 is asked again after a pause (back-off), then unknown', async () => {
    const before = net.counters('mx.allbusy.example').connections;
    // On a clock that jumps to each retry, however long each session takes in real time.
    const verifier = verifierOn(skippingClock(), { greylistDelayMs: 200, greylistBudgetMs: 700 });
    const verdict = await verifier.verify('bob@allbusy.example');
    expect(verdict.result).toBe('unknown');
    // Answers at 0, 200, 400 and 600 ms: a retry is made while it falls within 700 ms of the
    // first answer (600 + 200 does not).
    expect(net.counters('mx.allbusy.example').connections - before).toBe(4);
  });

  it('a host that takes one session at a time and turns away the rest gets fewer at once (adaptive back-off)', async () => {
    // Time moves only by the retry delays: the limit, once lowered, is not raised again after its
    // quiet spell (30 s) however slow the machine, and a turned-away batch is retried at once.
    const verifier = verifierOn(skippingClock(), {
      concurrency: 8,
      perHostConcurrency: 4,
      recipientsPerSession: 3,
      greylistDelayMs: 100,
      greylistBudgetMs: 20_000,
    });
    const addresses = CROWDED_DOMAINS.flatMap((d) => ['alice', 'bob', 'carol', 'zed'].map((u) => `${u}@${d}`));
    const verdicts = await Promise.all(addresses.map((a) => verifier.verify(a)));
    expect(verdicts.map((v) => v.result)).toEqual(addresses.map((a) => (a.startsWith('zed') ? 'invalid' : 'valid')));
    const host = net.counters('mx.crowded.example');
    // 60 RCPTs (48 addresses and 12 probes) at 3 a session: 20 sessions at least. The first burst
    // of 4 turns 3 away and halves the limit each time, down to 1; without adapting, every round
    // of retries would again send 4 at once and have 3 turned away.
    expect(host.turnedAway).toBeGreaterThan(0);
    expect(host.turnedAway).toBeLessThanOrEqual(6);
  });

  it.each([
    ['a tarpit', 'alice@onlytarpit.example', /no reply within/i],
    ['421', 'alice@allbusy.example', /busy|421|try again/i],
  ])('when the only MX is %s the address is unknown with the reason', async (_case, address, reason) => {
    const host = `mx.${address.split('@')[1]}`;
    const before = net.counters(host).connections;
    const verdict = await verify(address, { greylistBudgetMs: 0 });
    expect(verdict.result).toBe('unknown');
    expect(verdict.reason).toMatch(reason);
    // Given up after one try (no budget to wait for): counted, not timed, so load cannot break it.
    expect(net.counters(host).connections - before).toBe(1);
  });
});

describe('session quirks', () => {
  it('does STARTTLS when the host demands it, with a self-signed certificate', async () => {
    expect((await verify('alice@tls.example')).result).toBe('valid');
    expect((await verify('nobody@tls.example')).result).toBe('invalid');
  });

  it('without --helo gives an address literal of its own end in EHLO, never a bare name (RFC 5321 §4.1.4)', async () => {
    const verdict = await verify('alice@helo.example', { helo: '' });
    expect(verdict.result).toBe('valid');
    expect(net.counters('mx.helo.example').bytes).toMatch(/^EHLO \[127\.\d+\.\d+\.\d+\]\r$/m);
  });

  it('retries with --from when the null sender is refused', async () => {
    const verdict = await verify('bob@nonull.example', { from: 'verify@checker.example' });
    expect(verdict.result).toBe('valid');
    const senders = net.counters('mx.nonull.example').mailFrom;
    expect(senders).toContain('');
    expect(senders).toContain('verify@checker.example');
  });

  it('without --from asks again as postmaster@ the EHLO name when the null sender is refused at MAIL', async () => {
    const verdict = await verify('carol@nonull.example');
    expect(verdict.result).toBe('valid');
    expect(net.counters('mx.nonull.example').mailFrom).toContain('postmaster@verifier.test');
  });

  it('with an address literal in EHLO and no --from, a refused null sender is unknown and the reason names --from', async () => {
    const verdict = await verify('dan@nonull.example', { helo: '' });
    expect(verdict.result).toBe('unknown');
    expect(verdict.reason).toMatch(/--from/);
    // The code the summary counts, with the fix it names ("pass --from"), from the prober's own wording.
    expect(verdict.reason_code).toBe('sender_refused');
  });
});

describe('null sender refused at RCPT (Postfix, smtpd_delay_reject)', () => {
  it('without --from asks again as postmaster@ the EHLO name and gets the true verdicts', async () => {
    const before = net.counters('mx.delayreject.example').mailFrom.length;
    expect((await verify('alice@delayreject.example')).result).toBe('valid');
    expect((await verify('nobody@delayreject.example')).result).toBe('invalid');
    const senders = net.counters('mx.delayreject.example').mailFrom.slice(before);
    expect(senders).toContain('');
    expect(senders).toContain('postmaster@verifier.test');
  });

  it('remembers the host: later sessions start with the real sender', async () => {
    const verifier = createDefaultVerifier(base);
    const host = net.counters('mx.delayreject.example');
    expect((await verifier.verify('carol@delayreject.example')).result).toBe('valid');
    const before = host.mailFrom.length;
    expect((await verifier.verify('dan@delayreject.example')).result).toBe('valid');
    expect(host.mailFrom.slice(before)).toEqual(['postmaster@verifier.test']);
  });

  it('with an address literal in EHLO and no --from, the refusal at RCPT is unknown, coded sender_refused', async () => {
    const verdict = await verify('erin@delayreject.example', { helo: '' });
    expect(verdict.result).toBe('unknown');
    expect(verdict.reason_code).toBe('sender_refused');
  });

  it('asks with --from when it is given', async () => {
    const verdict = await verify('bob@delayreject.example', { from: 'verify@checker.example' });
    expect(verdict.result).toBe('valid');
    expect(net.counters('mx.delayreject.example').mailFrom).toContain('verify@checker.example');
    expect(net.counters('mx.delayreject.example').mailFrom).not.toContain('postmaster@checker.example');
  });

  it('asks a whole pipelined batch again with the real sender', async () => {
    const verifier = createDefaultVerifier(base);
    const locals = ['alice', 'bob', 'nobody', 'carol'];
    const verdicts = await Promise.all(locals.map((l) => verifier.verify(`${l}@delayreject-pipe.example`)));
    expect(verdicts.map((v) => v.result)).toEqual(['valid', 'valid', 'invalid', 'valid']);
    expect(net.counters('mx.delayreject-pipe.example').mostCommandsAtOnce).toBeGreaterThan(1);
  });

  it('with an address literal in EHLO and no --from, the address is unknown (never invalid) and the reason names --from', async () => {
    const verdict = await verify('erin@delayreject.example', { helo: '' });
    expect(verdict).toMatchObject({ result: 'unknown', smtp_response: '554 5.7.1 <>: Sender address rejected: Access denied' });
    expect(verdict.reason).toMatch(/--from/);
  });

  it('verifies the rest in a new session after 452 too many recipients, reporting none of them', async () => {
    const verifier = createDefaultVerifier(base);
    const before = net.counters('mx.limit.example').connections;
    const addresses = ['alice', 'bob', 'carol', 'dan', 'nobody'].map((l) => `${l}@limit.example`);
    const verdicts = await Promise.all(addresses.map((a) => verifier.verify(a)));
    expect(verdicts.map((v) => v.result)).toEqual(['valid', 'valid', 'valid', 'valid', 'invalid']);
    // Six recipients (the probe included) at two per session.
    expect(net.counters('mx.limit.example').connections - before).toBeGreaterThanOrEqual(3);
  });
});

describe('PIPELINING (RFC 2920)', () => {
  const many = ['alice', 'bob', 'carol', 'nobody', 'dan'];
  it('sends a batch of RCPTs at once where the host offers it, with the same verdicts', async () => {
    const verifier = createDefaultVerifier(base);
    const verdicts = await Promise.all(many.map((l) => verifier.verify(`${l}@pipe.example`)));
    expect(verdicts.map((v) => v.result)).toEqual(['valid', 'valid', 'valid', 'invalid', 'valid']);
    expect(net.counters('mx.pipe.example').connections).toBe(1);
    expect(net.counters('mx.pipe.example').mostCommandsAtOnce).toBeGreaterThanOrEqual(6);
  });

  it('waits for each reply where it does not', async () => {
    const verifier = createDefaultVerifier(base);
    const verdicts = await Promise.all(many.map((l) => verifier.verify(`${l}@nopipe.example`)));
    expect(verdicts.map((v) => v.result)).toEqual(['valid', 'valid', 'valid', 'invalid', 'valid']);
    expect(net.counters('mx.nopipe.example').mostCommandsAtOnce).toBe(1);
  });
});

/** Polls (on real time) until `condition` holds; the test's own timeout bounds the wait. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('greylisting', () => {
  it('asks again after the delay while other work goes on, then gives the true verdict', async () => {
    // The engine and the greylisting host share the test's clock: time moves only when the test
    // moves it, so no retry can come early or late whatever the load.
    const verifier = verifierOn(greyClock, { greylistDelayMs: 400, greylistBudgetMs: 5000 });
    const order: string[] = [];
    const track = (address: string) =>
      verifier.verify(address).then((v) => {
        order.push(address);
        return v;
      });
    const alice = track('alice@grey.example');
    const nobody = track('nobody@grey.example');
    // The other domain's answer does not wait for the greylisting delay: it comes with time standing still.
    expect((await track('bob@normal.example')).result).toBe('valid');
    // Both greylisted addresses wait for their retry (one timer each), and nothing else is done.
    await until(() => greyClock.pending === 2);
    expect(order).toEqual(['bob@normal.example']);
    greyClock.advance(399);
    expect(greyClock.pending).toBe(2);
    greyClock.advance(1);
    expect(await alice).toMatchObject({ result: 'valid', validation_layer: 'catchall' });
    expect((await nobody).result).toBe('invalid');
    const asked = net.counters('mx.grey.example').rcpts.filter((r) => r === 'alice@grey.example');
    expect(asked).toHaveLength(2);
  });

  it('with no budget left the address is unknown, reason greylisted (never invalid)', async () => {
    const verdict = await verify('carol@grey.example', { greylistBudgetMs: 0 });
    expect(verdict).toMatchObject({ result: 'unknown', reason: 'greylisted' });
    expect(verdict.smtp_response).toMatch(/^450 4\.7\.1/);
  });
});

describe('international addresses (RFC 6531)', () => {
  it('asks a host that offers SMTPUTF8, with the SMTPUTF8 parameter', async () => {
    const verdict = await verify('jörg@utf8.example');
    expect(verdict.result).toBe('valid');
    expect(net.counters('mx.utf8.example').bytes).toContain('MAIL FROM:<> SMTPUTF8\r\n');
  });

  it('does not send an international address to a host without SMTPUTF8: unknown, not invalid', async () => {
    const verdict = await verify('jörg@ascii.example');
    expect(verdict.result).toBe('unknown');
    expect(verdict.reason).toMatch(/SMTPUTF8/);
    expect(net.counters('mx.ascii.example').rcpts.some((r) => r.startsWith('j'))).toBe(false);
  });
});

describe('DNS', () => {
  it.each([
    ['noaddress.example', 'invalid', /no MX records and no address/i],
    ['nowhere.example', 'invalid', /does not exist/i],
    ['nullmx.example', 'invalid', /null MX/i],
    ['servfail.example', 'unknown', /SERVFAIL/i],
    ['slowdns.example', 'unknown', /timeout/i],
  ])('%s -> %s', async (domain, result, reason) => {
    const verdict = await verify(`alice@${domain}`);
    expect(verdict).toMatchObject({ result, validation_layer: 'dns' });
    expect(verdict.reason).toMatch(reason);
  });

  it('with no MX but an A record, asks the A host (RFC 5321 §5.1)', async () => {
    const verdict = await verify('carol@implicit.example');
    expect(verdict.result).toBe('valid');
    expect(net.counters('a-host.implicit.example').rcpts).toContain('carol@implicit.example');
  });
});

describe('etiquette', () => {
  it('never sends DATA, and ends every session it opened with one QUIT', async () => {
    for (const host of Object.keys(SPEC.hosts)) expect(net.counters(host).data).toBe(0);
    for (const host of [
      'mx.normal.example',
      'mx.limit.example',
      'mx.tls.example',
      'mx.nonull.example',
      'mx.delayreject.example',
    ]) {
      const { quits, connections } = net.counters(host);
      expect(connections).toBeGreaterThan(0);
      expect(quits).toBe(connections);
    }
  });
});
