import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { createSummary } from '../../src/core/summary.js';
import { checkWebhookUrl, newJobId, sendWebhook, webhookPayload } from '../../src/report/webhook.js';
import type { RowResult } from '../../src/core/types.js';

interface Received {
  method: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server | undefined;

/** A webhook endpoint on loopback answering each request with the next status (the last repeats). */
async function endpoint(statuses: number[] | 'never'): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ method: req.method ?? '', headers: req.headers, body });
      if (statuses === 'never') return; // hold the request open until the client gives up
      res.writeHead(statuses[Math.min(received.length - 1, statuses.length - 1)] ?? 200).end('thanks');
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/verify`, received };
}

afterEach(async () => {
  if (!server) return;
  server.closeAllConnections();
  await new Promise((resolve) => server!.close(resolve));
  server = undefined;
});

const fast = { version: '9.9.9', baseDelayMs: 5, timeoutMs: 2000 };

describe('completion webhook', () => {
  it('delivers the job.completed payload on the first attempt', async () => {
    const { url, received } = await endpoint([200]);
    const summary = createSummary(0.001);
    summary.add({ result: 'valid', credits_charged: 1, duplicate: false } as RowResult);
    summary.add({ result: 'invalid', credits_charged: 0, duplicate: false } as RowResult);
    const payload = webhookPayload({
      id: 'job_abc123',
      createdAt: new Date('2026-04-05T12:00:00.250Z'),
      completedAt: new Date('2026-04-05T12:00:05.900Z'),
      summary: summary.finish(5650),
    });

    const delivery = await sendWebhook(url, payload, fast);

    expect(delivery).toEqual({ ok: true, attempts: 1, status: 200 });
    expect(received).toHaveLength(1);
    expect(received[0]!.method).toBe('POST');
    expect(received[0]!.headers['content-type']).toBe('application/json');
    expect(received[0]!.headers['user-agent']).toBe('email-verify/9.9.9');
    expect(JSON.parse(received[0]!.body)).toMatchObject({
      event: 'job.completed',
      job_id: 'job_abc123',
      type: 'validate',
      status: 'completed',
      total: 2,
      completed: 2,
      credits_used: 1,
      created_at: '2026-04-05T12:00:00Z',
      completed_at: '2026-04-05T12:00:05Z',
      results: { valid: 1, valid_role_based: 0, risky: 0, invalid: 1, unknown: 0 },
      unique: 2,
      duplicates: 0,
      elapsed_ms: 5650,
    });
  });

  it('retries a 500 and succeeds on the third attempt', async () => {
    const { url, received } = await endpoint([500, 500, 200]);
    const delivery = await sendWebhook(url, { event: 'job.completed' }, fast);
    expect(delivery).toEqual({ ok: true, attempts: 3, status: 200 });
    expect(received).toHaveLength(3);
  });

  it('retries 429 like a server error', async () => {
    const { url } = await endpoint([429, 204]);
    expect(await sendWebhook(url, {}, fast)).toEqual({ ok: true, attempts: 2, status: 204 });
  });

  it('does not retry a 400', async () => {
    const { url, received } = await endpoint([400]);
    const delivery = await sendWebhook(url, {}, fast);
    expect(delivery).toEqual({ ok: false, attempts: 1, status: 400, error: 'HTTP 400' });
    expect(received).toHaveLength(1);
  });

  it('gives up after 3 retries when the connection is refused', async () => {
    // Take a free port, then close it again so nothing listens there.
    const { url } = await endpoint([200]);
    server!.close();
    server = undefined;
    const delivery = await sendWebhook(url, {}, fast);
    expect(delivery.ok).toBe(false);
    expect(delivery.attempts).toBe(4);
    expect(delivery.status).toBeUndefined();
    expect(delivery.error).toBe('ECONNREFUSED');
  });

  it('times out each attempt when the server never answers', async () => {
    const { url, received } = await endpoint('never');
    // The error names the 150 ms that cut each attempt off: no stopwatch needed, none to beat.
    const delivery = await sendWebhook(url, {}, { ...fast, timeoutMs: 150, retries: 1 });
    expect(delivery).toEqual({ ok: false, attempts: 2, error: 'no answer within 150 ms' });
    expect(received).toHaveLength(2);
  });

  it('marks a failed run as failed and says why', () => {
    const payload = webhookPayload({ id: newJobId(), createdAt: new Date(0), completedAt: new Date(1000), error: 'disk full' });
    expect(payload).toMatchObject({
      status: 'failed',
      total: 0,
      completed: 0,
      credits: null,
      error: 'disk full',
      elapsed_ms: 1000,
    });
    expect(payload.job_id).toMatch(/^job_[0-9a-f]{12}$/);
  });

  it('accepts only http and https URLs without credentials', () => {
    expect(checkWebhookUrl('https://example.com/hook?token=x').hostname).toBe('example.com');
    expect(checkWebhookUrl('http://127.0.0.1:8080/').port).toBe('8080');
    expect(() => checkWebhookUrl('ftp://example.com/')).toThrow(UsageError);
    expect(() => checkWebhookUrl('example.com/hook')).toThrow(/not a URL/);
    expect(() => checkWebhookUrl('https://user:secret@example.com/')).toThrow(/token/);
  });
});
