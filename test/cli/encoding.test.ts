// Excel's exports on Windows: Windows-1252 CSV detected (or named with --encoding), outputs in UTF-8.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { beforeAll, expect, it } from 'vitest';
import { cliWorkspace, runCli } from '../support/cli.js';
import { DEMO_NETWORK } from '../support/demo-network.js';

let work: string;
beforeAll(async () => {
  const workspace = await cliWorkspace(DEMO_NETWORK, 'encoding');
  work = workspace.work;
  return workspace.close;
});

it('reads a Windows-1252 CSV, says so once, and writes UTF-8; --encoding names it outright', async () => {
  const list = join(work, 'excel.csv');
  await writeFile(list, iconv.encode('name,email\r\nRenée Café,renee@nullmx.example\r\n', 'windows-1252'));
  const detected = await runCli([list, '--out-dir', join(work, 'a'), '--offline']);
  expect(detected.code).toBe(0);
  expect(detected.stderr).toMatch(/reading .*excel\.csv as windows-1252 \(detected\); the outputs are UTF-8/);
  expect(await readFile(join(work, 'a', 'excel.unknown.csv'), 'utf8')).toMatch(/Renée Café/);

  const named = await runCli([list, '--out-dir', join(work, 'b'), '--offline', '--encoding', 'latin1']);
  expect(named.code).toBe(0);
  expect(named.stderr).toMatch(/as latin1 \(as --encoding said\)/);
  expect(await readFile(join(work, 'b', 'excel.unknown.csv'), 'utf8')).toMatch(/Renée Café/);

  const wrong = await runCli([list, '--offline', '--encoding', 'klingon']);
  expect(wrong.code).toBe(2);
  expect(wrong.stderr).toMatch(/--encoding klingon/);
});
