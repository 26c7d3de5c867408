// The finder's programmatic API on the simulated network with the real engine: what a domain's
// pattern known from earlier runs does to the search and to a catch-all guess, and the RCPTs
// the network was asked for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDefaultVerifier } from '../../src/index.js';
import { createFinder } from '../../src/finder/finder.js';
import type { KnownAddresses, PatternFacts } from '../../src/finder/domain-patterns.js';
import { FINDER_NETWORK } from '../support/finder-network.js';
import { startSimNet, type SimNet } from '../support/simnet.js';

let net: SimNet;
beforeAll(async () => {
  net = await startSimNet(FINDER_NETWORK);
});
afterAll(() => net.close());

function finderWith(known: Record<string, KnownAddresses>, learn = true) {
  let rcpts = 0;
  const verifier = createDefaultVerifier(
    { dnsServers: [net.dnsServer], smtpPort: net.smtpPort, timeoutMs: 3000, helo: 'verifier.test', greylistBudgetMs: 0 },
    { onAsk: (n) => (rcpts += n) },
  );
  const kept = new Map(Object.entries(known));
  const facts: PatternFacts = { get: (d) => kept.get(d), put: (d, k) => void kept.set(d, k) };
  return { finder: createFinder(verifier, { maxCandidates: 8, learn }, { facts }), rcpts: () => rcpts, kept, verifier };
}

describe('createFinder', () => {
  it('guesses a catch-all domain’s learned pattern with more confidence than the common one', async () => {
    const learned = finderWith({ 'catchall.example': { asmith: 'flast', bjones: 'flast' } });
    const guess = await learned.finder.find({ first: 'Tim', last: 'Cook', domain: 'catchall.example' });
    expect(guess).toMatchObject({
      email: 'tcook@catchall.example',
      find_status: 'catch_all_guess',
      pattern: 'flast',
      candidates_tried: 1,
    });
    const plain = finderWith({});
    const common = await plain.finder.find({ first: 'Tim', last: 'Cook', domain: 'catchall.example' });
    expect(common).toMatchObject({ email: 'tim.cook@catchall.example', find_status: 'catch_all_guess', pattern: 'first.last' });
    expect(guess.confidence).toBeGreaterThan(common.confidence);
    expect(common.confidence).toBeLessThan(95);
    learned.verifier.close();
    plain.verifier.close();
  });

  it('asks the learned pattern first, counts what it spared, and keeps what it found for later runs', async () => {
    const { finder, rcpts, kept, verifier } = finderWith({ 'flast.example': { asmith: 'flast', bjones: 'flast' } });
    const found = await finder.find({ first: 'Dan', last: 'Lee', domain: 'www.flast.example' });
    expect(found).toMatchObject({ email: 'dlee@flast.example', find_status: 'found', candidates_tried: 1, saved: 2 });
    // One candidate and the domain's catch-all probe.
    expect(rcpts()).toBe(2);
    expect(kept.get('flast.example')).toMatchObject({ dlee: 'flast' });
    verifier.close();
  });

  it('without learning ignores what earlier runs found', async () => {
    const { finder, verifier } = finderWith({ 'flast.example': { asmith: 'flast', bjones: 'flast' } }, false);
    const found = await finder.find({ first: 'Carl', last: 'Brown', domain: 'flast.example' });
    expect(found).toMatchObject({ email: 'cbrown@flast.example', candidates_tried: 3, saved: 0 });
    verifier.close();
  });
});
