// The README's curl commands, run as printed (but for the port) against a server on the demo network.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEMO_NETWORK } from '../support/demo-network.js';
import { startSimNet, type SimNet } from '../support/simnet.js';
import { startTestServer, waitFor, type TestServer } from '../support/server.js';

const run = promisify(execFile);
const DEMO_KEY = 'demo-key-0123456789';

let net: SimNet;
let server: TestServer;

beforeAll(async () => {
  net = await startSimNet(DEMO_NETWORK);
  server = await startTestServer(net, { keys: [DEMO_KEY] });
});
afterAll(async () => {
  await server?.close();
  await net?.close();
});

/** The commands of the README's `sh serve-demo` block. */
async function readmeCurls(): Promise<string[]> {
  const readme = await readFile('README.md', 'utf8');
  const block = /```sh serve-demo\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  return block.split('\n').filter((line) => line.startsWith('curl '));
}

/** Splits a command line as the shell would for these commands: single and double quotes, no escapes. */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

it('runs every curl of the README, one per seed, each answered 2xx', async () => {
  const curls = await readmeCurls();
  expect(curls.length).toBeGreaterThanOrEqual(8);
  const answers: string[] = [];
  for (const line of curls) {
    const args = words(line.replaceAll('http://127.0.0.1:8080', server.url)).slice(1);
    // -f: an HTTP error fails the command; -sS: quiet but for errors.
    const { stdout } = await run('curl', ['-fsS', ...args], { timeout: 30_000 });
    answers.push(stdout);
    // A job made here is used by the next lines: let it finish first, as a person reading would.
    const made = /"id":\s*"?(?:job_)?(\d+)/.exec(stdout);
    if (/-X POST \S+\/v1\/(jobs|email\/validate\/job) /.test(line) && made) {
      await waitFor(
        async () =>
          (await (await server.call(`/v1/email/validate/job/${made[1]}`, { key: DEMO_KEY })).json()) as { state: string },
        (job) => job.state === 'done',
      );
    }
  }
  expect(JSON.parse(answers[0]!)).toMatchObject({ email: 'alice@acme.example', result: 'valid' });
  expect(answers.at(-1)).toMatch(/"stage":"Completed"/);
});
