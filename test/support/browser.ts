// A real headless browser for the page's tests: Debian's chromium driven by playwright-core
// (whose own browser download never works here). .ci/run installs chromium when it is missing.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Screenshots of each state the tests reach: a git-ignored folder kept as CI artifacts. */
export const SCREENSHOTS = join('test-artifacts', 'page');

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`No browser at ${CHROMIUM}: apt-get install -y chromium (as .ci/run does), or set CHROMIUM_PATH`);
  }
  await mkdir(SCREENSHOTS, { recursive: true });
  // Playwright gives each launch a new empty profile (its own --user-data-dir). Without the
  // background-networking flags Chromium keeps dialling Google's hosts, which this closed
  // network refuses; --no-sandbox because CI runs as root.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
