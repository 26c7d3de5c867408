// The API the page uses, beside seed 004's: the estimate of an uploaded list (the CLI's
// --estimate rule, the column it found, the first rows), the column chosen at job creation, and
// the job view's live progress, reason_code counts and links to the split files.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/core/options.js';
import { runCli } from '../support/cli.js';
import { DEMO_NETWORK } from '../support/demo-network.js';
import { startSimNet, type SimNet, type SimNetSpec } from '../support/simnet.js';
import { startTestServer, waitFor, type TestServer } from '../support/server.js';

const NETWORK: SimNetSpec = {
  hosts: {
    ...DEMO_NETWORK.hosts,
    // Greylists far longer than the test waits: the job stays in its waiting state until deleted.
    'mx.grey.example': { behaviour: { kind: 'greylist', delayMs: 600_000, inner: { kind: 'catch_all' } } },
  },
  domains: { ...DEMO_NETWORK.domains, 'grey.example': { mx: [{ host: 'mx.grey.example', priority: 10 }] } },
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

function form(fields: Record<string, string>, file?: { name: string; content: Buffer | string }): FormData {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.set(name, value);
  if (file) body.set('file', new Blob([file.content]), file.name);
  return body;
}

interface Estimate {
  header: string[];
  emailColumn: { index: number; name: string };
  rows: number;
  unique: number;
  duplicates: number;
  wellFormed: number;
  chargeable: number;
  credits: Record<string, number | string>;
  preview: string[][];
}

describe('POST /v1/email/validate/estimate', () => {
  it('gives the CLI --estimate numbers, the column it found and the first rows, and keeps nothing', async () => {
    const content = await readFile('fixtures/sample.csv');
    const response = await server.call('/v1/email/validate/estimate', { body: form({}, { name: 'sample.csv', content }) });
    expect(response.status).toBe(200);
    const estimate = (await response.json()) as Estimate;

    const dir = await mkdtemp(join(tmpdir(), 'email-verify-estimate-'));
    try {
      const cli = await runCli(['fixtures/sample.csv', '--estimate', '--summary-json', join(dir, 'summary.json')]);
      expect(cli.code).toBe(0);
      const expected = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as Record<string, unknown>;
      expect({
        total: estimate.rows,
        unique: estimate.unique,
        well_formed: estimate.wellFormed,
        credits: estimate.credits,
      }).toEqual({
        total: expected.total,
        unique: expected.unique,
        well_formed: expected.well_formed,
        credits: expected.credits,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(estimate.header).toEqual(['name', 'email', 'company', 'note']);
    expect(estimate.emailColumn).toEqual({ index: 1, name: 'email' });
    expect(estimate.duplicates).toBe(1);
    expect(estimate.preview).toHaveLength(5);
    expect(estimate.preview[0]).toEqual(['Alice Example', 'alice@acme.example', 'Acme', 'Met at the fair, very keen']);
    // Nothing verified, nothing kept: no job, no stored upload.
    expect(await (await server.call('/v1/email/validate/job')).json()).toEqual([]);
    expect(readdirSync(join(server.dataDir, 'inputs'))).toEqual([]);
  });

  it('reads the column it is told, by name or number', async () => {
    const content = 'name,work,home\nA,a@acme.example,alice@acme.example\nB,b@acme.example,b@acme.example\n';
    const byName = (await (
      await server.call('/v1/email/validate/estimate', { body: form({ column: 'home' }, { name: 'two.csv', content }) })
    ).json()) as Estimate;
    expect(byName.emailColumn).toEqual({ index: 2, name: 'home' });
    expect(byName.duplicates).toBe(0);
    const byNumber = (await (
      await server.call('/v1/email/validate/estimate', { body: form({ column: '2' }, { name: 'two.csv', content }) })
    ).json()) as Estimate;
    expect(byNumber.emailColumn).toEqual({ index: 1, name: 'work' });
  });

  it('reads an XLSX upload like the CLI does', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('People');
    sheet.addRow(['Name', 'Work email']);
    sheet.addRow(['Alice', 'alice@acme.example']);
    sheet.addRow(['Alice again', 'Alice@ACME.example']);
    sheet.addRow(['Nobody', 'not an address']);
    const content = Buffer.from(await workbook.xlsx.writeBuffer());
    const response = await server.call('/v1/email/validate/estimate', { body: form({}, { name: 'people.xlsx', content }) });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      header: ['Name', 'Work email'],
      emailColumn: { index: 1, name: 'Work email' },
      rows: 3,
      unique: 2,
      duplicates: 1,
      wellFormed: 1,
      chargeable: 1,
    });
  });

  it('refuses a list with no email column in words, with its columns to choose from', async () => {
    const response = await server.call('/v1/email/validate/estimate', {
      body: form({}, { name: 'x.csv', content: await readFile('fixtures/no-email-column.csv') }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; header: string[] };
    expect(body.error).toMatch(/no email column found.*choose|no email column found.*column field/);
    expect(body.error).not.toMatch(/--column|inputs\//);
    expect(body.header).toEqual(['name', 'phone']);
  });

  it('needs a file and a key', async () => {
    expect((await server.call('/v1/email/validate/estimate', { body: form({}) })).status).toBe(400);
    const noKey = await server.call('/v1/email/validate/estimate', {
      key: null,
      body: form({}, { name: 'a.csv', content: 'email\na@acme.example\n' }),
    });
    expect(noKey.status).toBe(401);
  });
});

interface JobView {
  id: number;
  state: string;
  column: string | null;
  summary: Record<string, number>;
  progress: {
    decided: number;
    total: number;
    rate: number;
    etaSeconds: number | null;
    greylisted: number;
    nextRetryInSeconds: number | null;
    waiting: boolean;
  } | null;
  reasons: Record<string, Record<string, number>> | null;
  files: Record<string, string> | null;
}

const jobOf = async (s: TestServer, id: number): Promise<JobView> =>
  (await (await s.call(`/v1/email/validate/job/${id}`)).json()) as JobView;

describe('the job view for the page', () => {
  it('verifies the column chosen at creation, and a finished job has reason counts and split-file links', async () => {
    const content = 'name,work,home\nA,a@nowhere.example,alice@acme.example\nB,b@nowhere.example,bob@acme.example\n';
    const created = await server.call('/v1/email/validate/job', {
      body: form({ label: 'two columns', source: 'file', column: 'home' }, { name: 'two.csv', content }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };
    const job = await waitFor(
      () => jobOf(server, id),
      (j) => j.state === 'done',
    );
    expect(job.state).toBe('done');
    expect(job.column).toBe('home');
    expect(job.summary.deliverableCount).toBe(2);
    expect(job.progress).toBeNull();
    expect(job.reasons).toEqual({ valid: { accepted: 2 } });
    expect(job).toMatchObject({ creditsCharged: 2, creditPrice: 0.001 });
    expect(Object.keys(job.files ?? {}).sort()).toEqual(['invalid', 'risky', 'unknown', 'valid']);
    const valid = await fetch(job.files!.valid!);
    expect(valid.status).toBe(200);
    const rows = parse(await valid.text(), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.email)).toEqual(['alice@acme.example', 'bob@acme.example']);
  });

  it('counts reason codes for every result, summing to the rows', async () => {
    const created = await server.call('/v1/email/validate/job', {
      body: form({ label: 'demo', source: 'file' }, { name: 'sample.csv', content: await readFile('fixtures/sample.csv') }),
    });
    const { id } = (await created.json()) as { id: number };
    const job = await waitFor(
      () => jobOf(server, id),
      (j) => j.state === 'done',
    );
    expect(job.state).toBe('done');
    const reasons = job.reasons!;
    const sum = Object.values(reasons).reduce((n, codes) => n + Object.values(codes).reduce((a, b) => a + b, 0), 0);
    expect(sum).toBe(21);
    expect(reasons.invalid).toMatchObject({ mailbox_not_found: expect.any(Number) });
    expect(reasons.risky).toMatchObject({ catch_all: expect.any(Number) });
  });

  it('shows a running job waiting for greylisted addresses, with the next retry', async () => {
    const grey = await startTestServer(net, {
      verify: resolveOptions({
        dnsServers: [net.dnsServer],
        smtpPort: net.smtpPort,
        timeoutMs: 5000,
        helo: 'verifier.test',
        greylistDelayMs: 60_000,
        greylistBudgetMs: 600_000,
      }),
    });
    try {
      const content = 'email\nalice@acme.example\nann@grey.example\n';
      const created = await grey.call('/v1/email/validate/job', {
        body: form({ label: 'grey', source: 'file' }, { name: 'grey.csv', content }),
      });
      const { id } = (await created.json()) as { id: number };
      const job = await waitFor(
        () => jobOf(grey, id),
        (j) => j.progress?.waiting === true,
      );
      expect(job.state).toBe('running');
      expect(job.progress).toMatchObject({ decided: 1, total: 2, greylisted: 1, waiting: true });
      expect(job.progress!.nextRetryInSeconds).toBeGreaterThan(0);
      expect(job.progress!.nextRetryInSeconds).toBeLessThanOrEqual(60);
      expect(job.files).toBeNull();
      expect((await grey.call(`/v1/email/validate/job/${id}`, { method: 'DELETE' })).status).toBe(200);
    } finally {
      await grey.close();
    }
  });
});

describe('/openapi.json', () => {
  it('documents the estimate endpoint and the job view fields', async () => {
    const spec = (await (await server.call('/openapi.json', { key: null })).json()) as { paths: Record<string, unknown> };
    expect(spec.paths).toHaveProperty('/v1/email/validate/estimate');
    const one = spec.paths['/v1/email/validate/job/{id}'] as { get: { description: string } };
    expect(one.get.description).toMatch(/progress .*reasons .*files/);
  });
});
