// Seed 004 (validation jobs) and seed 002 (results links) over real HTTP: uploads, results by
// position, filtered downloads, pause / resume / delete, and the signed links.
import { readFile } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/core/options.js';
import { DEMO_NETWORK } from '../support/demo-network.js';
import { startSimNet, type SimNet, type SimNetSpec } from '../support/simnet.js';
import { ALICE, BOB, startTestServer, waitFor, type TestServer } from '../support/server.js';

const NETWORK: SimNetSpec = {
  hosts: { ...DEMO_NETWORK.hosts, 'mx.tarpit.example': { behaviour: { kind: 'tarpit' } } },
  domains: { ...DEMO_NETWORK.domains, 'tarpit.example': { mx: [{ host: 'mx.tarpit.example', priority: 10 }] } },
};

let net: SimNet;
let server: TestServer;

beforeAll(async () => {
  net = await startSimNet(NETWORK);
  server = await startTestServer(net);
});
afterAll(async () => {
  await server?.close();
  await net?.close();
});

interface KitJob {
  id: number;
  label: string;
  state: string;
  emailCount: number;
  source: string;
  summary: { totalEmails: number; deliverableCount: number; undeliverableCount: number; riskyCount: number };
  finishedAt: string | null;
}

function form(fields: Record<string, string>, file?: { name: string; content: Buffer | string }): FormData {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.set(name, value);
  if (file) body.set('file', new Blob([file.content]), file.name);
  return body;
}

/** A short step timeout: the tarpit holds a session that long. */
const quick = () =>
  resolveOptions({
    dnsServers: [net.dnsServer],
    smtpPort: net.smtpPort,
    timeoutMs: 1000,
    helo: 'verifier.test',
    greylistBudgetMs: 0,
  });

const jobOf = async (s: TestServer, id: number): Promise<KitJob> =>
  (await (await s.call(`/v1/email/validate/job/${id}`)).json()) as KitJob;
const settled = (s: TestServer, id: number) =>
  waitFor(
    () => jobOf(s, id),
    (job) => job.state === 'done' || job.state === 'failed',
  );

describe('seed 004 validation jobs', () => {
  let id = 0;

  it('takes an uploaded CSV (the seed example: label, source=file, file) and runs it to done', async () => {
    const sample = await readFile('fixtures/sample.csv');
    const response = await server.call('/v1/email/validate/job', {
      body: form({ label: 'Newsletter Subscribers', source: 'file' }, { name: 'emails.csv', content: sample }),
    });
    expect(response.status).toBe(201);
    const created = (await response.json()) as { id: number };
    expect(Object.keys(created)).toEqual(['id']);
    id = created.id;
    const job = await settled(server, id);
    expect(job).toMatchObject({
      id,
      label: 'Newsletter Subscribers',
      state: 'done',
      emailCount: 21,
      source: 'file',
      summary: { totalEmails: 21, deliverableCount: 7, undeliverableCount: 8, riskyCount: 4 },
    });
    expect(job.finishedAt).toMatch(/Z$/);
    const list = (await (await server.call('/v1/email/validate/job')).json()) as KitJob[];
    expect(list.map((j) => j.id)).toContain(id);
  });

  it('gives results by position, at most 1000 from pos', async () => {
    const all = (await (await server.call(`/v1/email/validate/job/${id}/result`)).json()) as {
      email: string;
      result: Record<string, unknown>;
    }[];
    expect(all).toHaveLength(21);
    expect(all[0]).toEqual({
      email: 'alice@acme.example',
      result: {
        syntax: 'pass',
        mx: 'pass',
        mailbox: 'pass',
        score: 10,
        classifier: 'valid',
        description: [],
        smtpResponse: '250 Accepted',
      },
    });
    const tail = (await (await server.call(`/v1/email/validate/job/${id}/result?pos=20`)).json()) as unknown[];
    expect(tail).toHaveLength(1);
    expect(await (await server.call(`/v1/email/validate/job/${id}/result?pos=21`)).json()).toEqual([]);
    expect((await server.call(`/v1/email/validate/job/${id}/result?pos=-1`)).status).toBe(400);
  });

  it('downloads the CSV with the seed columns, filtered by classifier', async () => {
    const whole = await server.call(`/v1/email/validate/job/${id}/download`);
    expect(whole.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = parse(await whole.text(), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual([
      'email',
      'syntax',
      'mx',
      'mailbox',
      'score',
      'classifier',
      'description',
      'smtpResponse',
    ]);
    expect(rows).toHaveLength(21);
    const deliverable = parse(
      await (await server.call(`/v1/email/validate/job/${id}/download?filters=valid&filters=risky`)).text(),
      {
        columns: true,
      },
    ) as Record<string, string>[];
    expect(deliverable).toHaveLength(11);
    expect(new Set(deliverable.map((r) => r.classifier))).toEqual(new Set(['valid', 'risky']));
    expect(deliverable.find((r) => r.email === 'info@acme.example')).toMatchObject({
      classifier: 'risky',
      description: 'role_email',
    });
    const bad = await server.call(`/v1/email/validate/job/${id}/download?filters=good`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/Invalid filter/);
  });

  it('takes source=input: comma- or newline-separated addresses', async () => {
    const response = await server.call('/v1/email/validate/job', {
      body: form({
        label: 'Quick Validation',
        source: 'input',
        input: 'alice@acme.example,bob@acme.example\noliver@acme.example',
      }),
    });
    expect(response.status).toBe(201);
    const job = await settled(server, ((await response.json()) as { id: number }).id);
    expect(job).toMatchObject({
      state: 'done',
      emailCount: 3,
      source: 'input',
      summary: { deliverableCount: 2, undeliverableCount: 1 },
    });
  });

  it('takes an XLSX upload with source=excel', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('People');
    sheet.addRow(['Name', 'Email']);
    sheet.addRow(['Alice', 'alice@acme.example']);
    sheet.addRow(['Nobody', 'nobody@nullmx.example']);
    const content = Buffer.from(await workbook.xlsx.writeBuffer());
    const response = await server.call('/v1/email/validate/job', {
      body: form({ source: 'excel' }, { name: 'people.xlsx', content }),
    });
    expect(response.status).toBe(201);
    const job = await settled(server, ((await response.json()) as { id: number }).id);
    expect(job).toMatchObject({
      state: 'done',
      emailCount: 2,
      source: 'excel',
      summary: { deliverableCount: 1, undeliverableCount: 1 },
    });
  });

  it('refuses what it cannot take, in the seed shape {error}, keeping nothing on disk', async () => {
    const inputsBefore = readdirSync(join(server.dataDir, 'inputs')).length;
    const badSource = await server.call('/v1/email/validate/job', { body: form({ source: 'hubspot' }) });
    expect(badSource.status).toBe(400);
    expect(await badSource.json()).toEqual({ error: 'Invalid source type' });
    const noFile = await server.call('/v1/email/validate/job', { body: form({ source: 'file' }) });
    expect(await noFile.json()).toEqual({ error: 'file is required when source is file' });
    const noColumn = await server.call('/v1/email/validate/job', {
      body: form({ source: 'file' }, { name: 'x.csv', content: await readFile('fixtures/no-email-column.csv') }),
    });
    expect(noColumn.status).toBe(400);
    expect(((await noColumn.json()) as { error: string }).error).toMatch(/no email column found.*--column|no email column/);
    const notMultipart = await server.call('/v1/email/validate/job', { json: { source: 'input', input: 'a@acme.example' } });
    expect(notMultipart.status).toBe(415);
    expect(readdirSync(join(server.dataDir, 'inputs'))).toHaveLength(inputsBefore);
    expect(await (await server.call('/v1/email/validate/job/424242')).json()).toEqual({ error: 'Job not found' });
    const noKey = await server.call('/v1/email/validate/job', { key: null });
    expect(noKey.status).toBe(401);
    expect(((await noKey.json()) as { error: string }).error).toMatch(/API key/);
  });

  it('refuses an upload over --max-upload with 413, and keeps no part of it', async () => {
    const small = await startTestServer(net, { maxUploadBytes: 1024 });
    try {
      const big = `email\n${'someone@acme.example\n'.repeat(200)}`;
      const response = await small.call('/v1/email/validate/job', {
        body: form({ source: 'file' }, { name: 'big.csv', content: big }),
      });
      expect(response.status).toBe(413);
      expect(((await response.json()) as { error: string }).error).toMatch(/larger than 1024 bytes.*--max-upload/);
      expect(readdirSync(join(small.dataDir, 'inputs'))).toEqual([]);
    } finally {
      await small.close();
    }
  });

  it('validates one address (POST /v1/email/validate)', async () => {
    const response = await server.call('/v1/email/validate', { json: { email: 'oliver@acme.example' } });
    expect(await response.json()).toMatchObject({
      email: 'oliver@acme.example',
      result: { classifier: 'invalid', mailbox: 'fail' },
    });
  });
});

describe('pause, resume, delete', () => {
  it('pauses a running and a pending job, resumes them to done, and deletes one with its files', async () => {
    // One job at a time, so the second waits while the first is held by the tarpit.
    const s = await startTestServer(net, { concurrentJobs: 1, verify: quick() });
    try {
      const create = async (input: string) =>
        ((await (await s.call('/v1/email/validate/job', { body: form({ source: 'input', input }) })).json()) as { id: number })
          .id;
      const slow = await create('a@tarpit.example,b@tarpit.example');
      const queued = await create('alice@acme.example');
      await waitFor(
        () => jobOf(s, slow),
        (job) => job.state === 'running',
      );

      const pausedQueued = (await (await s.call(`/v1/email/validate/job/${queued}/pause`, { method: 'POST' })).json()) as KitJob;
      expect(pausedQueued.state).toBe('paused');
      const pausedSlow = (await (await s.call(`/v1/email/validate/job/${slow}/pause`, { method: 'POST' })).json()) as KitJob;
      expect(pausedSlow.state).toBe('paused');
      // Paused jobs stay paused: nothing else is queued to run.
      expect((await jobOf(s, queued)).state).toBe('paused');
      const again = await s.call(`/v1/email/validate/job/${queued}/resume`, { method: 'POST' });
      expect(((await again.json()) as KitJob).state).toMatch(/pending|running|done/);
      expect((await settled(s, queued)).summary.deliverableCount).toBe(1);
      expect((await s.call(`/v1/email/validate/job/${queued}/resume`, { method: 'POST' })).status).toBe(400);

      await s.call(`/v1/email/validate/job/${slow}/resume`, { method: 'POST' });
      const slowDone = await settled(s, slow);
      expect(slowDone).toMatchObject({ state: 'done', emailCount: 2, summary: { totalEmails: 2 } });

      const inputs = readdirSync(join(s.dataDir, 'inputs'));
      const deleted = await s.call(`/v1/email/validate/job/${slow}`, { method: 'DELETE' });
      expect(deleted.status).toBe(200);
      expect((await s.call(`/v1/email/validate/job/${slow}`)).status).toBe(404);
      expect(readdirSync(join(s.dataDir, 'inputs'))).toHaveLength(inputs.length - 1);
    } finally {
      await s.close();
    }
  });
});

describe('seed 002 results links', () => {
  it('answers progress and links (JSON or form body); the links download the split CSVs', async () => {
    const response = await server.call('/v1/email/validate/job', {
      body: form({ source: 'file' }, { name: 'list.csv', content: await readFile('fixtures/sample.csv') }),
    });
    const { id } = (await response.json()) as { id: number };
    await settled(server, id);
    const json = await server.call('/v1/results', { key: null, json: { user_API_token: ALICE, job_id: String(id) } });
    expect(json.status).toBe(200);
    const answer = (await json.json()) as Record<string, string>;
    expect(answer).toMatchObject({ status: 'success', percentage: '100.00', stage: 'Completed' });
    const asForm = await server.call('/v1/results', {
      key: null,
      body: `user_API_token=${encodeURIComponent(ALICE)}&job_id=${id}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(((await asForm.json()) as Record<string, string>).valid_result_link).toBe(answer.valid_result_link);

    let rows = 0;
    for (const [link, bucket] of [
      ['valid_result_link', 'valid'],
      ['invalid_result_link', 'invalid'],
      ['unknown_link', 'unknown'],
      ['risky_result_link', 'risky'],
    ] as const) {
      const file = await fetch(answer[link]!);
      expect(file.status, link).toBe(200);
      const records = parse(await file.text(), { columns: true }) as Record<string, string>[];
      rows += records.length;
      for (const record of records) expect(record.result === 'valid_role_based' ? 'valid' : record.result).toBe(bucket);
      // The input's own columns first, as the CLI writes them.
      if (records[0]) expect(Object.keys(records[0]).slice(0, 4)).toEqual(['name', 'email', 'company', 'note']);
    }
    expect(rows).toBe(21);
    const forged = answer.valid_result_link!.replace(/sig=.*/, 'sig=forged');
    expect((await fetch(forged)).status).toBe(404);
    expect(
      (await server.call('/v1/results', { key: null, json: { user_API_token: 'wrong-token-123', job_id: id } })).status,
    ).toBe(401);
    expect(await (await server.call('/v1/results', { key: null, json: { user_API_token: ALICE } })).json()).toMatchObject({
      status: 'failed',
    });
  });

  it('gives no links before the job is done', async () => {
    const s = await startTestServer(net, { concurrentJobs: 1, verify: quick() });
    try {
      const body = form({ source: 'input', input: 'a@tarpit.example' });
      const { id } = (await (await s.call('/v1/email/validate/job', { body })).json()) as { id: number };
      const answer = (await (
        await s.call('/v1/results', { key: null, json: { user_API_token: ALICE, job_id: id } })
      ).json()) as Record<string, string>;
      expect(answer.stage).toMatch(/In Queue|Processing/);
      expect(answer.valid_result_link).toBe('');
      expect(existsSync(s.dataDir)).toBe(true);
    } finally {
      await s.close();
    }
  });
});

describe('sharing the server', () => {
  it('runs jobs fairly across keys: another key’s job does not wait behind all of one key’s jobs', async () => {
    const s = await startTestServer(net, { concurrentJobs: 1, verify: quick() });
    try {
      const submit = async (key: string, input: string) =>
        (
          (await (await s.call('/v1/email/validate/job', { key, body: form({ source: 'input', input }) })).json()) as {
            id: number;
          }
        ).id;
      const first = await submit(ALICE, 'a@tarpit.example'); // holds the one slot for a second
      await waitFor(
        () => jobOf(s, first),
        (job) => job.state === 'running',
      );
      const before = net.counters('mx1.acme.example').rcpts.length;
      const queued = [
        await submit(ALICE, 'alice@acme.example'),
        await submit(ALICE, 'info@acme.example'),
        await submit(BOB, 'bob@acme.example'),
      ];
      for (const id of queued)
        await waitFor(
          () =>
            s
              .call(`/v1/email/validate/job/${id}`, { key: id === queued[2] ? BOB : ALICE })
              .then((r) => r.json()) as Promise<KitJob>,
          (job) => job.state === 'done',
        );
      // One job at a time: the order the mail host was asked is the order the jobs ran.
      const asked = net
        .counters('mx1.acme.example')
        .rcpts.slice(before)
        .filter((r) => !r.startsWith('ev-'));
      expect(asked).toEqual(['bob@acme.example', 'alice@acme.example', 'info@acme.example']);
    } finally {
      await s.close();
    }
  });

  it('refuses to listen beyond loopback without API keys', async () => {
    await expect(startTestServer(net, { host: '0.0.0.0', keys: [] })).rejects.toThrow(
      /reachable from other machines: give API keys/,
    );
  });
});
