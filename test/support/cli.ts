// Runs the built bin as a child process, the way users run it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/email-verify.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the bin to completion. Each run gets a cache folder of its own (XDG_CACHE_HOME), so runs
 * do not see each other's answers, unless `env` names one.
 */
export function runCli(
  args: string[],
  options: { input?: string | Buffer; cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; keepCache?: boolean } = {},
): Promise<CliRun> {
  const cacheHome = mkdtempSync(join(tmpdir(), 'email-verify-cache-'));
  // Runs that are not about the cache go without it, so no test's answers depend on another's;
  // the tests of the cache and of resume name --cache-dir. (This began as a guard against an
  // lmdb crash at close, since found and fixed: trackWriterJobs in src/cache/store.ts.)
  const aboutCache = args.some((a) => a === '--cache-dir' || a === '--no-cache');
  const takesCacheFlag = args[0] !== 'merge' && !args.includes('--version') && !args.includes('--help');
  const fullArgs = aboutCache || !takesCacheFlag || options.keepCache ? args : [...args, '--no-cache'];
  return new Promise<CliRun>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...fullArgs], {
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
