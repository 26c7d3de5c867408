// Seeds 003 and 001 over real HTTP: the seeds' own example requests, their error shapes, keys.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_NETWORK } from '../support/demo-network.js';
import { startSimNet, type SimNet } from '../support/simnet.js';
import { ALICE, startTestServer, type TestServer } from '../support/server.js';

let net: SimNet;
let server: TestServer;

beforeAll(async () => {
  net = await startSimNet(DEMO_NETWORK);
  server = await startTestServer(net);
});
afterAll(async () => {
  await server?.close();
  await net?.close();
});

describe('POST /v1/validate (seed 003)', () => {
  it('answers the seed example request with every result field', async () => {
    // The seed's curl, with an address of the simulated network.
    const response = await server.call('/v1/validate', { json: { email: 'alice@acme.example' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      email: 'alice@acme.example',
      result: 'valid',
      reason: '',
      is_role_based: false,
      is_free_provider: false,
      is_catch_all: false,
      b2b_outbound_quality: 'high',
      credits_charged: 1,
      charge_reason: 'Valid personal email with high B2B outbound quality',
      mx_host: 'mx1.acme.example',
    });
  });

  it('gives each category of the seed', async () => {
    const cases: [string, string][] = [
      ['info@acme.example', 'valid_role_based'],
      ['anyone@catchall.example', 'risky'],
      ['nobody@nullmx.example', 'invalid'],
      ['someone@blocked.example', 'unknown'],
    ];
    for (const [email, result] of cases) {
      const body = (await (await server.call('/v1/validate', { json: { email } })).json()) as { result: string };
      expect(body.result, email).toBe(result);
    }
  });

  it('takes the key as Authorization: Bearer too', async () => {
    const response = await server.call('/v1/validate', {
      key: null,
      headers: { authorization: `Bearer ${ALICE}` },
      json: { email: 'bob@acme.example' },
    });
    expect(response.status).toBe(200);
  });

  it('refuses a missing or wrong key with 401 in the seed shape', async () => {
    const missing = await server.call('/v1/validate', { key: null, json: { email: 'a@acme.example' } });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ error: 'Unauthorized', message: expect.stringMatching(/API key/) });
    const wrong = await server.call('/v1/validate', { key: 'not-a-key-at-all', json: { email: 'a@acme.example' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: 'Unauthorized', message: 'Invalid API key' });
  });

  it('answers bad requests with 400 and the fix: no email, empty email, malformed JSON, wrong type', async () => {
    const noEmail = await server.call('/v1/validate', { json: {} });
    expect(noEmail.status).toBe(400);
    expect(await noEmail.json()).toEqual({ error: 'Bad Request', message: 'Email field is required' });
    const empty = await server.call('/v1/validate', { json: { email: '  ' } });
    expect(await empty.json()).toEqual({ error: 'Bad Request', message: 'Email field is required' });
    const malformed = await server.call('/v1/validate', { body: '{"email": ', headers: { 'content-type': 'application/json' } });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: 'Bad Request', message: expect.stringMatching(/^Malformed JSON/) });
    const notJson = await server.call('/v1/validate', { body: 'email=a@b.c', headers: { 'content-type': 'text/plain' } });
    expect(notJson.status).toBe(415);
    expect(await notJson.json()).toMatchObject({
      error: 'Unsupported Media Type',
      message: expect.stringMatching(/application\/json/),
    });
    const wrongType = await server.call('/v1/validate', { json: { email: 42 } });
    expect(wrongType.status).toBe(400);
  });

  it('answers an unknown route with 404 in the seed shape', async () => {
    const response = await server.call('/v1/nothing-here');
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: 'Not Found' });
  });
});

describe('POST /v1/validate/bulk (seed 001)', () => {
  it('answers in input order with the summary; repeats are verified and charged once', async () => {
    const before = net.counters('mx1.acme.example').rcpts.filter((r) => r.startsWith('bob@')).length;
    const response = await server.call('/v1/validate/bulk', {
      json: {
        emails: ['john@acme.example', 'info@acme.example', 'invalid@nullmx.example', 'bob@acme.example', 'BOB@acme.example'],
      },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      results: { email: string; result: string; duplicate: boolean }[];
      summary: unknown;
    };
    expect(body.results.map((r) => [r.email, r.result, r.duplicate])).toEqual([
      ['john@acme.example', 'invalid', false],
      ['info@acme.example', 'valid_role_based', false],
      ['invalid@nullmx.example', 'invalid', false],
      ['bob@acme.example', 'valid', false],
      ['BOB@acme.example', 'valid', true],
    ]);
    expect(body.summary).toEqual({
      total: 5,
      valid: 2,
      valid_role_based: 1,
      risky: 0,
      invalid: 2,
      unknown: 0,
      duplicates: 1,
      credits_charged: 1,
    });
    // bob@ was asked at most once by this request (an earlier test may have asked it too).
    const after = net.counters('mx1.acme.example').rcpts.filter((r) => r.toLowerCase().startsWith('bob@')).length;
    expect(after - before).toBeLessThanOrEqual(1);
  });

  it('refuses 101 addresses with the seed message', async () => {
    const emails = Array.from({ length: 101 }, (_, i) => `user${i}@acme.example`);
    const response = await server.call('/v1/validate/bulk', { json: { emails } });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'Bad Request', message: 'Maximum 100 emails per request. Received: 101' });
  });

  it('refuses a body without emails, or emails that are not strings', async () => {
    expect((await server.call('/v1/validate/bulk', { json: {} })).status).toBe(400);
    expect((await server.call('/v1/validate/bulk', { json: { emails: [1, 2] } })).status).toBe(400);
    expect((await server.call('/v1/validate/bulk', { json: { emails: [] } })).status).toBe(400);
  });
});

describe('around the APIs', () => {
  it('serves /healthz and /openapi.json without a key, with every seed route documented', async () => {
    expect((await server.call('/healthz', { key: null })).status).toBe(200);
    const doc = (await (await server.call('/openapi.json', { key: null })).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      '/v1/validate',
      '/v1/validate/bulk',
      '/v1/jobs',
      '/v1/jobs/{id}',
      '/v1/jobs/{id}/results',
      '/v1/email/validate/job',
      '/v1/email/validate/job/{id}/download',
      '/v1/results',
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
  });
});
