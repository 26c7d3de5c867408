// Seed 000's find jobs over real HTTP: the same finder as `email-verify find`, its results paged
// like validate jobs, each item the person, the address and status, our fields and the verifier's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINDER_NETWORK } from '../support/finder-network.js';
import { startSimNet, type SimNet } from '../support/simnet.js';
import { BOB, startTestServer, waitFor, type TestServer } from '../support/server.js';

let net: SimNet;
let server: TestServer;

beforeAll(async () => {
  net = await startSimNet(FINDER_NETWORK);
  server = await startTestServer(net);
});
afterAll(async () => {
  await server?.close();
  await net?.close();
});

interface Job {
  id: string;
  type: string;
  status: string;
  total: number;
  completed: number;
}
interface Page {
  results: Record<string, unknown>[];
  page: number;
  per_page: number;
  total: number;
  total_pages: number;
}

describe('seed 000 find jobs', () => {
  it('finds each person, and pages the results in input order', async () => {
    const data = [
      { first_name: 'Tim', last_name: 'Cook', domain: 'dotted.example' },
      { first_name: 'Jane', last_name: 'Doe', domain: 'https://www.flast.example' },
      { first_name: 'Tim', last_name: 'Cook', domain: 'catchall.example' },
      { first_name: 'Tim', last_name: 'Cook', domain: 'nomail.example' },
      { first_name: 'Nobody', last_name: 'Here', domain: 'first.example' },
      { full_name: 'Hans Müller', domain: 'dotted.example' },
    ];
    const response = await server.call('/v1/jobs', { json: { type: 'find', data } });
    expect(response.status).toBe(201);
    const created = (await response.json()) as Job;
    expect(created).toMatchObject({ type: 'find', status: 'pending', total: 6 });

    const done = await waitFor(
      async () => (await (await server.call(`/v1/jobs/${created.id}`)).json()) as Job,
      (job) => job.status === 'completed' || job.status === 'failed',
    );
    expect(done).toMatchObject({ status: 'completed', completed: 6 });

    const first = (await (await server.call(`/v1/jobs/${created.id}/results?per_page=4`)).json()) as Page;
    expect(first).toMatchObject({ page: 1, per_page: 4, total: 6, total_pages: 2 });
    const second = (await (await server.call(`/v1/jobs/${created.id}/results?per_page=4&page=2`)).json()) as Page;
    const items = [...first.results, ...second.results];
    expect(items.map((r) => [r.email, r.status, r.pattern])).toEqual([
      ['tim.cook@dotted.example', 'found', 'first.last'],
      ['jdoe@flast.example', 'found', 'flast'],
      ['tim.cook@catchall.example', 'catch_all_guess', 'first.last'],
      [null, 'invalid_domain', null],
      [null, 'not_found', null],
      ['hans.mueller@dotted.example', 'found', 'first.last'],
    ]);
    expect(items[0]).toMatchObject({
      first_name: 'Tim',
      last_name: 'Cook',
      domain: 'dotted.example',
      provider: 'other',
      candidates_tried: 1,
      verification: { result: 'valid', is_catch_all: false, email: 'tim.cook@dotted.example' },
    });
    expect(items[1]).toMatchObject({ candidates_tried: 3, searched_domain: 'flast.example' });
    expect(items[2]).toMatchObject({ verification: { is_catch_all: true } });
    expect(Number(items[2]!.confidence)).toBeLessThan(Number(items[0]!.confidence));
    expect(items[4]).toMatchObject({ candidates_tried: 8, confidence: 0 });
    // The job is the caller's alone.
    expect((await server.call(`/v1/jobs/${created.id}/results`, { key: BOB })).status).toBe(404);
  });

  it('refuses find items without a name or a domain, naming the item', async () => {
    const response = await server.call('/v1/jobs', {
      json: { type: 'find', data: [{ first_name: 'Tim', domain: 'x.example' }] },
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(/data\[0\] needs first_name, last_name and domain/);
    const empty = await server.call('/v1/jobs', { json: { type: 'find', data: [] } });
    expect(((await empty.json()) as { message: string }).message).toMatch(/first_name, last_name and domain/);
  });
});
