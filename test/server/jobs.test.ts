// Seed 000 over real HTTP: a job run to completion, paginated results, the job.completed
// webhook, tenant isolation in every endpoint, the rate limit.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_NETWORK } from '../support/demo-network.js';
import { startSimNet, type SimNet } from '../support/simnet.js';
import { ALICE, BOB, startTestServer, waitFor, type TestServer } from '../support/server.js';

let net: SimNet;
let server: TestServer;
let hook: Server;
let hookUrl: string;
const delivered: { body: Record<string, unknown>; agent: string | undefined }[] = [];

beforeAll(async () => {
  net = await startSimNet(DEMO_NETWORK);
  server = await startTestServer(net);
  hook = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      delivered.push({ body: JSON.parse(body) as Record<string, unknown>, agent: request.headers['user-agent'] });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hooks/verify`;
});
afterAll(async () => {
  await server?.close();
  await net?.close();
  await new Promise((resolve) => hook?.close(resolve));
});

interface Job {
  id: string;
  status: string;
  total: number;
  completed: number;
  credits_used?: number;
  completed_at?: string;
}

const jobOf = async (id: string, key = ALICE): Promise<Job> =>
  (await (await server.call(`/v1/jobs/${id}`, { key })).json()) as Job;
const finished = (id: string) =>
  waitFor(
    () => jobOf(id),
    (job) => job.status === 'completed' || job.status === 'failed',
  );

describe('seed 000 jobs', () => {
  let id = '';
  const emails = [
    'alice@acme.example',
    'oliver@acme.example',
    'info@acme.example',
    'x@nullmx.example',
    'anyone@catchall.example',
  ];

  it('creates a validate job (pending), runs it to completed, and tells the webhook once', async () => {
    const response = await server.call('/v1/jobs', {
      json: { type: 'validate', data: emails.map((email) => ({ email })), webhook_url: hookUrl },
    });
    expect(response.status).toBe(201);
    const created = (await response.json()) as Job & { created_at: string; type: string };
    expect(created).toMatchObject({ type: 'validate', status: 'pending', total: 5, completed: 0 });
    expect(created.id).toMatch(/^job_\d+$/);
    expect(created.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    id = created.id;

    const done = await finished(id);
    expect(done).toMatchObject({ status: 'completed', total: 5, completed: 5, credits_used: 1 });
    expect(done.completed_at).toMatch(/Z$/);
    const delivery = await waitFor(
      () => Promise.resolve(delivered.filter((d) => d.body.job_id === id)),
      (found) => found.length > 0,
    );
    expect(delivery).toHaveLength(1);
    expect(delivery[0]!.body).toMatchObject({
      event: 'job.completed',
      job_id: id,
      type: 'validate',
      status: 'completed',
      total: 5,
      completed: 5,
      credits_used: 1,
    });
    expect(delivery[0]!.agent).toMatch(/^email-verify\//);
  });

  it('pages the results in input order with status and provider', async () => {
    const first = (await (await server.call(`/v1/jobs/${id}/results?page=1&per_page=2`)).json()) as {
      results: { email: string; status: string; provider: string; result: string }[];
      page: number;
      per_page: number;
      total: number;
      total_pages: number;
    };
    expect(first).toMatchObject({ page: 1, per_page: 2, total: 5, total_pages: 3 });
    expect(first.results.map((r) => [r.email, r.status])).toEqual([
      ['alice@acme.example', 'valid'],
      ['oliver@acme.example', 'invalid'],
    ]);
    expect(typeof first.results[0]!.provider).toBe('string');
    const last = (await (await server.call(`/v1/jobs/${id}/results?page=3&per_page=2`)).json()) as {
      results: { email: string }[];
    };
    expect(last.results.map((r) => r.email)).toEqual(['anyone@catchall.example']);
    const past = (await (await server.call(`/v1/jobs/${id}/results?page=9`)).json()) as { results: unknown[] };
    expect(past.results).toEqual([]);
    const all = (await (await server.call(`/v1/jobs/${id}/results`)).json()) as { per_page: number; results: unknown[] };
    expect(all.per_page).toBe(100);
    expect(all.results).toHaveLength(5);
  });

  it('refuses bad page numbers with 400 and the allowed range', async () => {
    for (const query of ['page=0', 'page=abc', 'per_page=1001', 'per_page=0', 'page=1.5']) {
      const response = await server.call(`/v1/jobs/${id}/results?${query}`);
      expect(response.status, query).toBe(400);
      expect(((await response.json()) as { message: string }).message, query).toMatch(/whole number from 1 to/);
    }
  });

  it('lists the key’s jobs, newest first', async () => {
    const second = (await (
      await server.call('/v1/jobs', { json: { type: 'validate', data: [{ email: 'bob@acme.example' }] } })
    ).json()) as Job;
    const list = (await (await server.call('/v1/jobs')).json()) as { jobs: Job[] };
    expect(list.jobs.map((j) => j.id).slice(0, 2)).toEqual([second.id, id]);
    await finished(second.id);
  });

  it('keeps a job from every other key: 404 everywhere, absent from its list', async () => {
    expect((await server.call(`/v1/jobs/${id}`, { key: BOB })).status).toBe(404);
    expect((await server.call(`/v1/jobs/${id}/results`, { key: BOB })).status).toBe(404);
    const number = id.replace('job_', '');
    expect((await server.call(`/v1/email/validate/job/${number}`, { key: BOB })).status).toBe(404);
    expect((await server.call(`/v1/email/validate/job/${number}/result`, { key: BOB })).status).toBe(404);
    expect((await server.call(`/v1/email/validate/job/${number}/download`, { key: BOB })).status).toBe(404);
    expect((await server.call(`/v1/email/validate/job/${number}/pause`, { key: BOB, method: 'POST' })).status).toBe(404);
    expect((await server.call(`/v1/email/validate/job/${number}`, { key: BOB, method: 'DELETE' })).status).toBe(404);
    const links = await server.call('/v1/results', { key: null, json: { user_API_token: BOB, job_id: number } });
    expect(links.status).toBe(404);
    const bobs = (await (await server.call('/v1/jobs', { key: BOB })).json()) as { jobs: Job[] };
    expect(bobs.jobs).toEqual([]);
    // And the job is still there for its owner.
    expect((await server.call(`/v1/jobs/${id}`)).status).toBe(200);
  });

  it('answers unknown jobs with 404 and bad bodies with 400 naming the fix', async () => {
    expect(await (await server.call('/v1/jobs/job_999999')).json()).toEqual({ error: 'Not Found', message: 'Job not found' });
    expect((await server.call('/v1/jobs/not-a-job')).status).toBe(404);
    const noType = await server.call('/v1/jobs', { json: { data: [{ email: 'a@acme.example' }] } });
    expect(await noType.json()).toEqual({ error: 'Bad Request', message: 'Type field is required' });
    const badType = await server.call('/v1/jobs', { json: { type: 'clean', data: [] } });
    expect(badType.status).toBe(400);
    const noEmail = await server.call('/v1/jobs', { json: { type: 'validate', data: [{ mail: 'a@acme.example' }] } });
    expect(((await noEmail.json()) as { message: string }).message).toMatch(/data\[0\] has no email field/);
    const badHook = await server.call('/v1/jobs', {
      json: { type: 'validate', data: [{ email: 'a@acme.example' }], webhook_url: 'ftp://x' },
    });
    expect(badHook.status).toBe(400);
  });
});

describe('rate limit', () => {
  it('answers 429 with retry_after and Retry-After past the per-key limit; other keys go on', async () => {
    const limited = await startTestServer(net, { rateLimitPerMinute: 3 });
    try {
      for (let i = 0; i < 3; i += 1) expect((await limited.call('/v1/jobs')).status).toBe(200);
      const refused = await limited.call('/v1/jobs');
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      const body = (await refused.json()) as { error: string; message: string; retry_after: number };
      expect(body).toMatchObject({
        error: 'Rate limit exceeded',
        message: 'You have exceeded the rate limit of 3 requests per minute',
      });
      expect(body.retry_after).toBeGreaterThan(0);
      expect((await limited.call('/v1/jobs', { key: BOB })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
