// What a careless or hostile client sends: each gets a 4xx in the seed's shape, the server stays
// up, and nothing lands outside the data folder.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEMO_NETWORK } from '../support/demo-network.js';
import { startSimNet, type SimNet } from '../support/simnet.js';
import { ALICE, BOB, startTestServer, waitFor, type TestServer } from '../support/server.js';

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

it('answers malformed multipart, oversized JSON, garbage and odd paths with 4xx, and stays up', async () => {
  const inputs = () => readdirSync(join(server.dataDir, 'inputs'));
  const before = inputs();
  const cases: [string, Promise<Response>][] = [
    [
      'multipart without its boundary',
      server.call('/v1/email/validate/job', { body: 'garbage', headers: { 'content-type': 'multipart/form-data' } }),
    ],
    [
      'multipart cut short',
      server.call('/v1/email/validate/job', {
        body: '--XyZ\r\nContent-Disposition: form-data; name="source"\r\n\r\nfile\r\n--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nemail\na@acme.example',
        headers: { 'content-type': 'multipart/form-data; boundary=XyZ' },
      }),
    ],
    ['2 MB of JSON', server.call('/v1/validate', { json: { email: 'a'.repeat(2 * 1024 * 1024) } })],
    [
      'binary as JSON',
      server.call('/v1/validate/bulk', { body: '\u0000\u00ff\u0001{', headers: { 'content-type': 'application/json' } }),
    ],
    ['JSON that is an array', server.call('/v1/validate', { json: ['a@acme.example'] })],
    ['a job id that is not one', server.call('/v1/jobs/..%2F..%2Fetc%2Fpasswd')],
    ['a huge job id', server.call(`/v1/email/validate/job/${'9'.repeat(40)}`)],
    ['a negative page', server.call('/v1/jobs/job_1/results?page=-1')],
  ];
  for (const [name, pending] of cases) {
    const response = await pending;
    expect(response.status, name).toBeGreaterThanOrEqual(400);
    expect(response.status, name).toBeLessThan(500);
    const body = (await response.json()) as { error?: string };
    expect(typeof body.error, name).toBe('string');
  }
  expect((await server.call('/healthz', { key: null })).status).toBe(200);
  // The form cut short left no part of its file behind.
  expect(inputs()).toEqual(before);
});

it('never uses the uploaded file name as a path', async () => {
  const form = new FormData();
  form.set('source', 'file');
  form.set('file', new Blob(['email\nalice@acme.example\n']), '../../../escape.csv');
  const response = await server.call('/v1/email/validate/job', { body: form });
  expect(response.status).toBe(201);
  const { id } = (await response.json()) as { id: number };
  await waitFor(
    async () => (await (await server.call(`/v1/email/validate/job/${id}`)).json()) as { state: string },
    (job) => job.state === 'done',
  );
  expect(readdirSync(join(server.dataDir, '..')).filter((name) => name === 'escape.csv')).toEqual([]);
  expect(readdirSync(join(server.dataDir, 'inputs')).every((name) => /^[0-9a-f]{24}\.csv$/.test(name))).toBe(true);
});

it('keeps a cell that looks like a formula as text in the seed-004 download', async () => {
  // Spreadsheet programs run cells starting with = + - @ as formulas; the CSV keeps the text as sent.
  const form = new FormData();
  form.set('source', 'input');
  form.set('input', '=cmd@acme.example');
  const { id } = (await (await server.call('/v1/email/validate/job', { body: form })).json()) as { id: number };
  await waitFor(
    async () => (await (await server.call(`/v1/email/validate/job/${id}`)).json()) as { state: string },
    (job) => job.state === 'done',
  );
  const csv = await (await server.call(`/v1/email/validate/job/${id}/download`)).text();
  expect(csv.split('\n')[1]).toMatch(/^=cmd@acme\.example,/);
});

it('logs each request without the key or a link signature in it', async () => {
  const lines: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const logged = await startTestServer(net, { logLevel: 'info', logStream });
  try {
    await logged.call('/v1/validate', { json: { email: 'alice@acme.example' } });
    await logged.call('/v1/jobs', { headers: { authorization: `Bearer ${ALICE}` }, key: null });
    await logged.call(`/v1/results/1/valid.csv?sig=s3cr3t-signature&api_key=${BOB}`, { key: null });
  } finally {
    await logged.close();
  }
  const log = lines.join('\n');
  // One JSON line per request received (pino), so the test reads what an operator would.
  expect(lines.filter((line) => (JSON.parse(line) as { msg?: string }).msg === 'incoming request')).toHaveLength(3);
  expect(log).toContain('/v1/results/1/valid.csv?sig=[Redacted]&api_key=[Redacted]');
  expect(log).not.toContain(ALICE);
  expect(log).not.toContain(BOB);
  expect(log).not.toContain('s3cr3t-signature');
});
