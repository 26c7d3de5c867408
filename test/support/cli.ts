// Runs the built bin as a child process, the way users run it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { OUTPUT_BUCKETS } from '../../src/core/types.js';
import { startSimNet, type SimNet, type SimNetSpec } from './simnet.js';

export const BIN = fileURLToPath(new URL('../../bin/email-verify.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the bin to completion, with the cache on as users run it: each run gets a cache folder
 * of its own (XDG_CACHE_HOME, removed afterwards), so no test's answers depend on another's,
 * unless `env` names one or the args pass --cache-dir / --no-cache.
 */
export function runCli(
  args: string[],
  options: { input?: string | Buffer; cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliRun> {
  const cacheHome = mkdtempSync(join(tmpdir(), 'email-verify-cache-'));
  return new Promise<CliRun>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '1', CI: 'true', XDG_CACHE_HOME: cacheHome, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // Killed by a signal: report it as a shell would (128 + n), and say which in stderr.
      if (code === null) {
        resolve({
          code: 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0),
          stdout,
          stderr: `${stderr}[killed by ${signal}]`,
        });
      } else {
        resolve({ code, stdout, stderr });
      }
    });
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  }).finally(() => rmSync(cacheHome, { recursive: true, force: true }));
}

/** The records of an NDJSON stdout, one per line. */
export function ndjsonRecords(stdout: string): Record<string, unknown>[] {
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

export type SplitRow = Record<string, string>;

/** The rows of a run's four split CSVs (`<base>.<bucket>.csv` in `dir`), by bucket. */
export async function readSplit(dir: string, base: string): Promise<Record<string, SplitRow[]>> {
  const out: Record<string, SplitRow[]> = {};
  for (const bucket of OUTPUT_BUCKETS) {
    out[bucket] = parse(await readFile(join(dir, `${base}.${bucket}.csv`), 'utf8'), { columns: true, bom: true }) as SplitRow[];
  }
  return out;
}

/** Every row of a run's four split CSVs, valid first, unknown last. */
export async function splitRows(dir: string, base: string): Promise<SplitRow[]> {
  return Object.values(await readSplit(dir, base)).flat();
}

export interface CliWorkspace {
  net: SimNet;
  /** A scratch folder, removed by close(). */
  work: string;
  /** --dns-server and --smtp-port of the simulated network, then `extraFlags`. */
  flags: string[];
  close(): Promise<void>;
}

/** A simulated network and a scratch folder for one CLI test file; return its close from beforeAll. */
export async function cliWorkspace(spec: SimNetSpec, name: string, extraFlags: string[] = []): Promise<CliWorkspace> {
  const net = await startSimNet(spec);
  const work = await mkdtemp(join(tmpdir(), `email-verify-${name}-`));
  return {
    net,
    work,
    flags: ['--dns-server', net.dnsServer, '--smtp-port', String(net.smtpPort), ...extraFlags],
    async close() {
      await net.close();
      await rm(work, { recursive: true, force: true });
    },
  };
}
