// The README's pipeline examples, run as printed by bash, with `email-verify` on the PATH and the
// simulated network named in an email-verify.config.json in the working folder (as a user's
// config file would name their DNS server).
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { beforeAll, expect, it } from 'vitest';
import { BIN, cliWorkspace } from '../support/cli.js';
import { DEMO_NETWORK } from '../support/demo-network.js';
import type { SimNet } from '../support/simnet.js';

const run = promisify(execFile);
let net: SimNet;
let work: string;

beforeAll(async () => {
  const workspace = await cliWorkspace(DEMO_NETWORK, 'readme-pipelines');
  ({ net, work } = workspace);
  return workspace.close;
});

async function readmePipelines(): Promise<string[]> {
  const readme = await readFile('README.md', 'utf8');
  const block = /### In a shell pipeline\n```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  return block.split('\n').filter((line) => line.trim() !== '');
}

it('runs the README pipeline examples as printed', async () => {
  const bin = join(work, 'bin');
  await mkdir(bin, { recursive: true });
  await writeFile(join(bin, 'email-verify'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  await chmod(join(bin, 'email-verify'), 0o755);
  await writeFile(
    join(work, 'email-verify.config.json'),
    JSON.stringify({ dnsServer: [net.dnsServer], smtpPort: String(net.smtpPort) }),
  );
  await writeFile(
    join(work, 'users.csv'),
    'id,name,email\n1,Alice,alice@acme.example\n2,Oliver,oliver@acme.example\n3,Carl,carl@catchall.example\n',
  );
  await writeFile(join(work, 'list.csv'), 'email\nalice@acme.example\noliver@acme.example\ncarl@catchall.example\n');

  const lines = await readmePipelines();
  expect(lines).toHaveLength(2);
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1', XDG_CACHE_HOME: join(work, 'cache') };
  // `cut -d, -f3` also passes the header `email`, as it would on the user's file.
  const first = await run('bash', ['-o', 'pipefail', '-c', lines[0]!], { cwd: work, env, timeout: 60_000 });
  expect(first.stdout.trim().split('\n')).toEqual(['alice@acme.example']);
  await run('bash', ['-o', 'pipefail', '-c', lines[1]!], { cwd: work, env, timeout: 60_000 });
  const kept = parse(await readFile(join(work, 'keep.csv')), { columns: true }) as Record<string, string>[];
  expect(kept.map((r) => [r.email, r.result])).toEqual([
    ['alice@acme.example', 'valid'],
    ['carl@catchall.example', 'risky'],
  ]);
});
