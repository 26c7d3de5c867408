// Keys as an operator gives them to the built bin: --api-key, a keys file (comments, CRLF) and
// EMAIL_VERIFY_API_KEYS; each works, anything else is refused, and no key reaches the log.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BIN, runCli } from '../support/cli.js';

const FLAG_KEY = 'flag-key-0123456789';
const FILE_KEYS = ['file-key-one-0123456789', 'file-key-two-0123456789'];
const ENV_KEYS = ['env-key-one-0123456789', 'env-key-two-0123456789'];
const COMMENTED = 'commented-key-0123456789';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'email-verify-keys-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `serve` until `use` is done with its URL, then stops it with SIGTERM; returns its stderr. */
async function serving(args: string[], env: NodeJS.ProcessEnv, use: (url: string) => Promise<void>): Promise<string> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', join(dir, 'data'), '--offline', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  let stderr = '';
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        const match = /listening on (http:\/\/\S+)/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      void exited.then(() => reject(new Error(`serve exited before listening: ${stderr}`)));
    });
    await use(url);
  } finally {
    child.kill('SIGTERM');
    await exited;
    clearTimeout(killer);
  }
  return stderr;
}

it('takes keys from --api-key, --api-keys-file and EMAIL_VERIFY_API_KEYS, and logs none of them', async () => {
  const file = join(dir, 'keys.txt');
  await writeFile(file, `# the team's keys\r\n${FILE_KEYS[0]}\r\n\r\n  ${FILE_KEYS[1]}  \r\n# ${COMMENTED}\r\n`);
  const statuses: Record<string, number> = {};
  const stderr = await serving(
    ['--api-key', FLAG_KEY, '--api-keys-file', file, '--log-level', 'info'],
    { EMAIL_VERIFY_API_KEYS: ENV_KEYS.join(',') },
    async (url) => {
      for (const key of [FLAG_KEY, ...FILE_KEYS, ...ENV_KEYS, COMMENTED, 'not-a-key-0123456789']) {
        statuses[key] = (await fetch(`${url}/v1/jobs`, { headers: { 'x-api-key': key } })).status;
      }
    },
  );
  expect(statuses).toEqual({
    [FLAG_KEY]: 200,
    [FILE_KEYS[0]!]: 200,
    [FILE_KEYS[1]!]: 200,
    [ENV_KEYS[0]!]: 200,
    [ENV_KEYS[1]!]: 200,
    [COMMENTED]: 401,
    'not-a-key-0123456789': 401,
  });
  // The log is on standard error, a JSON line per request, and names no key.
  expect(stderr).toMatch(/"msg":"incoming request"/);
  for (const key of [FLAG_KEY, ...FILE_KEYS, ...ENV_KEYS]) expect(stderr).not.toContain(key);
}, 40_000);

it('refuses a keys file it cannot read, and a short key, in one line', async () => {
  for (const [args, message] of [
    [['--api-keys-file', join(dir, 'missing.txt')], /--api-keys-file .*missing\.txt: cannot be read \(ENOENT\)/],
    [['--api-key', 'short'], /an API key is shorter than 8 characters/],
  ] as const) {
    const { code, stderr } = await runCli(['serve', '--port', '0', '--data-dir', join(dir, 'data'), ...args], {
      timeoutMs: 30_000,
    });
    expect(code, stderr).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  }
}, 40_000);
