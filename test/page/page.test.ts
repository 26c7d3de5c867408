// The page at GET /, driven as a person drives it: in a real headless Chromium, typing the key,
// picking a file, reading the estimate, starting, watching, pausing, downloading. Every wait is
// on a state of the page (Playwright's auto-waiting locators), never a fixed sleep. Screenshots
// of each state go to test-artifacts/page/.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/core/options.js';
import { launchBrowser, SCREENSHOTS } from '../support/browser.js';
import { runCli } from '../support/cli.js';
import { DEMO_NETWORK } from '../support/demo-network.js';
import { startSimNet, type HostBehaviour, type SimNet, type SimNetSpec } from '../support/simnet.js';
import { ALICE, startTestServer, type TestServer } from '../support/server.js';

// A host that greylists until the test says otherwise: the job waits as long as the test needs.
const GREY: Extract<HostBehaviour, { kind: 'greylist' }> = {
  kind: 'greylist',
  delayMs: 3_600_000,
  inner: { kind: 'mailboxes', mailboxes: ['ann', 'ben', 'cat'] },
};
const NETWORK: SimNetSpec = {
  hosts: { ...DEMO_NETWORK.hosts, 'mx.grey.example': { behaviour: GREY } },
  domains: { ...DEMO_NETWORK.domains, 'grey.example': { mx: [{ host: 'mx.grey.example', priority: 10 }] } },
};

// Long enough for a job on a busy 2-core machine; the waits end as soon as the state shows.
const JOB_TIMEOUT = 45_000;

let net: SimNet;
let server: TestServer;
let browser: Browser;
let context: BrowserContext | undefined;
let work: string;

beforeAll(async () => {
  net = await startSimNet(NETWORK);
  server = await startTestServer(net);
  browser = await launchBrowser();
  work = await mkdtemp(join(tmpdir(), 'email-verify-page-'));
});
afterEach(async () => {
  await context?.close();
  context = undefined;
});
/** Waits for a teardown step, at most `ms`: a browser slow to exit must not fail the file. */
async function atMost(ms: number, what: string, step: Promise<unknown> | undefined): Promise<void> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  const outcome = await Promise.race([Promise.resolve(step).catch(() => undefined), late]);
  clearTimeout(timer);
  // Said, not failed: the tests have passed; a slow exit is worth knowing about, not a red run.
  if (outcome === 'late') console.warn(`page tests: ${what} did not finish within ${ms} ms`);
  else if (Date.now() - started > 5000) console.warn(`page tests: ${what} took ${Date.now() - started} ms`);
}

afterAll(async () => {
  await atMost(20_000, 'closing the browser', browser?.close());
  await atMost(20_000, 'closing the server', server?.close());
  await net?.close();
  await rm(work, { recursive: true, force: true });
}, 60_000);

/** A fresh tab (its own sessionStorage) on the server's page; what it logs as an error fails the test. */
async function openPage(url = server.url, viewport = { width: 1200, height: 900 }): Promise<{ page: Page; problems: string[] }> {
  context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // The API's refusals are shown in the page; the browser also logs them as failed loads.
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) problems.push(message.text());
  });
  await page.goto(`${url}/`);
  return { page, problems };
}

async function enterKey(page: Page, key: string): Promise<void> {
  await page.getByRole('textbox', { name: 'API key' }).fill(key);
  await page.getByRole('button', { name: 'Use key' }).click();
}

/** Waits until the locator shows this text (auto-waiting, bounded). */
async function shows(locator: Locator, text: string | RegExp, timeout = 10_000): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor({ timeout });
}

// Run in the page, so written as the page's own script (this file is type-checked for Node).
const STORED_KEY = "sessionStorage.getItem('email-verify.key')";
const KEY_FIELD_FOCUSED = "document.activeElement === document.getElementById('key-input')";
const START_FOCUSED = "document.activeElement === document.getElementById('start')";
/** A file dropped on the drop zone, as a drag from the desktop delivers it. */
const DROPPED_FILE = `(() => {
  const transfer = new DataTransfer();
  transfer.items.add(new File(['Name;E-mail\\nAnn;ann@acme.example\\nAnn again;ANN@acme.example\\n'], 'dropped.csv', { type: 'text/csv' }));
  return transfer;
})()`;
/** The visible controls with no name a screen reader could say: no label, no text, no aria-label. */
const UNNAMED_CONTROLS = `[...document.querySelectorAll('button, input, select, a[href]')]
  .filter((e) => e.offsetParent !== null)
  .filter((e) => !((e.labels && e.labels.length > 0) || e.getAttribute('aria-label') || e.textContent.trim()))
  .map((e) => e.outerHTML)`;

const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });

describe('the page', () => {
  it('is one offline page with a strict Content-Security-Policy', async () => {
    const response = await fetch(`${server.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(response.headers.get('content-security-policy')).not.toMatch(/unsafe-inline|https?:/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await response.text();
    // Nothing from elsewhere: no CDN, no remote fonts.
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script>|<style>|style="/);
    // Bodies are read to the end: an unread response keeps its connection busy, and the server's
    // close would wait for it.
    const script = await fetch(`${server.url}/page/app.js`);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    await script.arrayBuffer();
    const outside = await fetch(`${server.url}/page/..%2Fapp.ts`);
    expect(outside.status).toBe(404);
    await outside.arrayBuffer();
  });

  it('refuses a wrong key in words and asks for the key again', async () => {
    const { page, problems } = await openPage();
    await shows(page.getByRole('heading', { level: 2 }), 'Enter your API key');
    await shot(page, '01-enter-key.png');
    await enterKey(page, 'wrong-key-0123456789');
    await shows(page.getByRole('alert'), /refused the API key \(Invalid API key\)/);
    await page.getByRole('textbox', { name: 'API key' }).waitFor();
    expect(await page.evaluate(STORED_KEY)).toBeNull();
    await shot(page, '02-wrong-key.png');
    expect(problems).toEqual([]);
  });

  it('estimates the demo list, runs it, and downloads the same valid file as the CLI writes', { timeout: 90_000 }, async () => {
    const { page, problems } = await openPage();
    // By keyboard alone: Tab to the key field, type, Enter.
    for (let i = 0; i < 10 && !(await page.evaluate(KEY_FIELD_FOCUSED)); i++) {
      await page.keyboard.press('Tab');
    }
    await page.keyboard.type(ALICE);
    await page.keyboard.press('Enter');
    expect(await page.evaluate(STORED_KEY)).toBe(ALICE);

    await page.getByLabel(/choose a file/).setInputFiles('fixtures/sample.csv');
    await shows(page.locator('#est-rows'), /^21$/);
    expect(await page.getByLabel('Email column').inputValue()).toBe('2');
    expect(await page.locator('#est-duplicates').textContent()).toBe('1');
    expect(await page.locator('#est-unique').textContent()).toBe('20');
    expect(await page.locator('#est-well-formed').textContent()).toBe('18');
    expect(await page.locator('#est-credits').textContent()).toBe('15 ($0.0150)');
    expect(await page.locator('#preview tbody tr').count()).toBe(5);
    await shot(page, '03-estimate.png');
    // Nothing is verified before Start.
    expect(await (await server.call('/v1/email/validate/job')).json()).toEqual([]);

    // Start by keyboard too: Tab on from the column choice to the button, then Enter.
    await page.getByLabel('Email column').focus();
    for (let i = 0; i < 10 && !(await page.evaluate(START_FOCUSED)); i++) await page.keyboard.press('Tab');
    expect(await page.evaluate(START_FOCUSED)).toBe(true);
    await page.keyboard.press('Enter');
    await shows(page.locator('#job-state'), /^done$/, JOB_TIMEOUT);
    await shows(page.locator('#job-decided'), '21 / 21 rows decided');
    await shows(page.locator('#chart-results'), /invalid\s*\d+ \(\d+%\)/);
    await shows(page.locator('#chart-reasons'), 'mailbox_not_found (invalid)');
    // The charge the estimate announced at most (15), as it turned out.
    await shows(page.locator('#job-credits'), /would have charged \d+ credits \(\$0\.0\d{3} at \$0\.0010 each\)/);
    await shot(page, '04-done.png');

    // The valid file, as the CLI writes it for the same list on the same network.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download valid.csv' }).click(),
    ]);
    const fromPage = await readFile((await download.path())!, 'utf8');
    const cli = await runCli([
      'fixtures/sample.csv',
      '--out-dir',
      work,
      '--dns-server',
      net.dnsServer,
      '--smtp-port',
      String(net.smtpPort),
      '--timeout',
      '5s',
      '--helo',
      'verifier.test',
      '--greylist-budget',
      '0',
    ]);
    expect(cli.code, cli.stderr).toBe(0);
    const fromCli = await readFile(join(work, 'sample.valid.csv'), 'utf8');
    expect(parse(fromPage)).toEqual(parse(fromCli));
    expect(parse(fromPage).length).toBeGreaterThan(2);

    // Seed 004's filtered download: valid and risky (checked by default) in one file.
    const [filtered] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download selected' }).click(),
    ]);
    const rows = parse(await readFile((await filtered.path())!, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(new Set(rows.map((r) => r.classifier))).toEqual(new Set(['valid', 'risky']));

    // The list of the key's jobs links to this one.
    await page.getByRole('link', { name: /New list and all jobs/ }).click();
    await shows(page.locator('#jobs-table'), /Job 1: sample\.csv\s*done\s*21 \/ 21/);
    await shot(page, '05-jobs.png');
    await page.getByRole('link', { name: 'Job 1: sample.csv' }).click();
    await shows(page.locator('#job-state'), /^done$/);
    expect(problems).toEqual([]);
  });

  it('estimates a file dropped on the page', async () => {
    const { page, problems } = await openPage();
    await enterKey(page, ALICE);
    const dataTransfer = await page.evaluateHandle(DROPPED_FILE);
    await page.locator('#drop').dispatchEvent('dragover', { dataTransfer });
    await page.locator('#drop').dispatchEvent('drop', { dataTransfer });
    await shows(page.locator('#est-rows'), /^2$/);
    expect(await page.locator('#est-duplicates').textContent()).toBe('1');
    expect(await page.getByLabel('Email column').inputValue()).toBe('2');
    expect(await page.getByLabel('Job name').inputValue()).toBe('dropped.csv');
    expect(problems).toEqual([]);
  });

  it('names the problem when a file has no email column, and offers its columns', async () => {
    const { page, problems } = await openPage();
    await enterKey(page, ALICE);
    await page.getByLabel(/choose a file/).setInputFiles('fixtures/no-email-column.csv');
    await shows(page.getByRole('alert'), /no email column found \(the columns are "name", "phone"\)/);
    expect(await page.getByLabel('Email column').locator('option').allTextContents()).toEqual([
      'Choose a column',
      '1. name',
      '2. phone',
    ]);
    expect(await page.getByRole('button', { name: 'Start verifying' }).isDisabled()).toBe(true);
    await shot(page, '06-no-email-column.png');
    expect(problems).toEqual([]);
  });

  it('shows a <script> in a CSV cell as text, and runs none of it', async () => {
    const path = join(work, '<img src=x onerror=window.pwned=3>.csv');
    await writeFile(
      path,
      'name,email\n"<script>window.pwned = 1</script>",ann@acme.example\n"<img src=x onerror=""window.pwned = 2"">",bob@acme.example\n',
    );
    const { page, problems } = await openPage();
    await enterKey(page, ALICE);
    await page.getByLabel(/choose a file/).setInputFiles(path);
    await shows(page.locator('#preview tbody'), '<script>window.pwned = 1</script>');
    await shows(page.locator('#preview tbody'), '<img src=x onerror="window.pwned = 2">');
    expect(await page.locator('#preview script, #preview img').count()).toBe(0);
    await shot(page, '07-script-as-text.png');
    await page.getByRole('button', { name: 'Start verifying' }).click();
    await shows(page.locator('#job-state'), /^done$/, JOB_TIMEOUT);
    await shows(page.locator('#job-title'), '<img src=x onerror=window.pwned=3>.csv');
    expect(await page.locator('#job-title img').count()).toBe(0);
    expect(await page.evaluate('window.pwned')).toBeUndefined();
    expect(problems).toEqual([]);
  });

  it('is readable at 375 px: nothing wider than the screen, every control labelled', async () => {
    const { page, problems } = await openPage(server.url, { width: 375, height: 800 });
    await enterKey(page, ALICE);
    await page.getByLabel(/choose a file/).setInputFiles('fixtures/sample.csv');
    await shows(page.locator('#est-rows'), /^21$/);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await shot(page, '08-phone-estimate.png');
    // Each visible control has a name a screen reader says: a label, its text, or aria-label.
    const unnamed = await page.evaluate(UNNAMED_CONTROLS);
    expect(unnamed).toEqual([]);
    // The key goes when asked to.
    await page.getByRole('button', { name: 'Forget key' }).click();
    await page.getByRole('textbox', { name: 'API key' }).waitFor();
    expect(await page.evaluate(STORED_KEY)).toBeNull();
    expect(problems).toEqual([]);
  });
});

describe('a job that waits', () => {
  it('shows the greylisting wait live, pauses, resumes, finishes and is deleted', { timeout: 90_000 }, async () => {
    const slow = await startTestServer(net, {
      verify: resolveOptions({
        dnsServers: [net.dnsServer],
        smtpPort: net.smtpPort,
        timeoutMs: 5000,
        helo: 'verifier.test',
        greylistDelayMs: 2000,
        greylistBudgetMs: 600_000,
      }),
    });
    try {
      const list = join(work, 'waiting.csv');
      await writeFile(list, 'email\nalice@acme.example\nann@grey.example\nben@grey.example\ncat@grey.example\n');
      const { page, problems } = await openPage(slow.url);
      await enterKey(page, ALICE);
      await page.getByLabel(/choose a file/).setInputFiles(list);
      await shows(page.locator('#est-rows'), /^4$/);
      await page.getByRole('button', { name: 'Start verifying' }).click();

      await shows(
        page.locator('#job-waiting'),
        /Waiting: 3 addresses are greylisted .* asking again in (\d+ s|a moment)/,
        JOB_TIMEOUT,
      );
      await shows(page.locator('#job-state'), /^running$/);
      await shows(page.locator('#job-decided'), '1 / 4 rows decided');
      await shot(page, '09-waiting.png');

      await page.getByRole('button', { name: 'Pause' }).click();
      await shows(page.locator('#job-state'), /^paused$/);
      await page.getByRole('button', { name: 'Resume' }).waitFor();
      await shot(page, '10-paused.png');

      // The mail server stops greylisting; the resumed job is let through on its next retry.
      await page.getByRole('button', { name: 'Resume' }).click();
      GREY.delayMs = 0;
      await shows(page.locator('#job-state'), /^done$/, JOB_TIMEOUT);
      await shows(page.locator('#chart-results'), /valid\s*4 \(100%\)/);
      await shot(page, '11-resumed-done.png');

      page.once('dialog', (dialog) => void dialog.accept());
      await page.getByRole('button', { name: 'Delete job' }).click();
      await shows(page.locator('#jobs-empty'), 'No jobs yet.');
      expect(await (await slow.call('/v1/email/validate/job')).json()).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      GREY.delayMs = 3_600_000;
      await slow.close();
    }
  });
});
