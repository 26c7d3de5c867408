// The page as users get it: in the npm package (dist/server/page, copied there by the build) and
// served by the built bin, byte for byte the files of src/server/page.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { BIN } from '../support/cli.js';

const PAGE_FILES = ['index.html', 'app.js', 'style.css'];

it('is in the npm package', async () => {
  // --ignore-scripts: `prepare` would build again; `npm test` has just built.
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { timeout: 60_000 });
  const [packed] = JSON.parse(stdout) as { files: { path: string }[] }[];
  const paths = packed!.files.map((f) => f.path);
  for (const file of PAGE_FILES) expect(paths).toContain(`dist/server/page/${file}`);
});

it('is served by the built bin, the files of src/server/page as they are', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'email-verify-page-bin-'));
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--port', '0', '--api-key', 'page-key-0123456789', '--data-dir', dataDir, '--log-level', 'silent'],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
  );
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        const match = /listening on (http:\/\/\S+)/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      void exited.then(() => reject(new Error(`serve exited before listening: ${stderr}`)));
    });
    const index = await fetch(`${url}/`);
    expect(index.status).toBe(200);
    expect(await index.text()).toBe(await readFile('src/server/page/index.html', 'utf8'));
    for (const file of PAGE_FILES) {
      const response = await fetch(`${url}/page/${file}`);
      expect(response.status, file).toBe(200);
      expect(await response.text()).toBe(await readFile(join('src/server/page', file), 'utf8'));
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  }
});
