import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  configKeysOf,
  DEFAULT_CONFIG_FILE,
  flagsWithConfig,
  loadConfig,
  mergeFlags,
  type ConfigKeys,
} from '../../src/cli/config.js';
import { defaultHelo, runOptionsFrom } from '../../src/cli/options.js';
import { UsageError } from '../../src/errors.js';

const KNOWN: ConfigKeys = {
  outDir: 'string',
  concurrency: 'string',
  timeout: 'string',
  creditPrice: 'string',
  dnsServer: 'list',
  webhook: 'string',
  quiet: 'boolean',
  color: 'negated',
  cache: 'negated',
};

let cwd: string;
beforeEach(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'email-verify-config-'));
});
afterEach(async () => {
  await rm(cwd, { recursive: true, force: true });
});

const write = (name: string, text: string) => writeFile(join(cwd, name), text);

describe('config file', () => {
  it('is optional: no email-verify.config.json means no settings', async () => {
    expect(await loadConfig(undefined, cwd, KNOWN)).toEqual({});
  });

  it('reads email-verify.config.json from the current folder, as commander would hand the values over', async () => {
    await write(
      DEFAULT_CONFIG_FILE,
      '\uFEFF' +
        JSON.stringify({
          $schema: './schema.json',
          concurrency: 10,
          'out-dir': 'cleaned',
          creditPrice: 0.002,
          dnsServer: '127.0.0.1:5353',
          quiet: true,
          color: false,
        }),
    );
    expect(await loadConfig(undefined, cwd, KNOWN)).toEqual({
      concurrency: '10',
      outDir: 'cleaned',
      creditPrice: '0.002',
      dnsServer: ['127.0.0.1:5353'],
      quiet: true,
      color: false,
    });
  });

  it('reads --config FILE relative to the current folder', async () => {
    await mkdir(join(cwd, 'conf'));
    await write('conf/nightly.json', '{"dnsServer": ["1.1.1.1", 53], "timeout": "10s"}');
    expect(await loadConfig('conf/nightly.json', cwd, KNOWN)).toEqual({ dnsServer: ['1.1.1.1', '53'], timeout: '10s' });
  });

  it('refuses a named --config file that does not exist', async () => {
    const loading = loadConfig('missing.json', cwd, KNOWN);
    await expect(loading).rejects.toThrow(UsageError);
    await expect(loading).rejects.toThrow('--config missing.json: no such file; check the path');
  });

  it('names an unknown key and lists the known ones', async () => {
    await write(DEFAULT_CONFIG_FILE, '{"concurency": 5}');
    await expect(loadConfig(undefined, cwd, KNOWN)).rejects.toThrow(
      'email-verify.config.json: unknown key "concurency"; known keys: outDir, concurrency, timeout, creditPrice, dnsServer, webhook, quiet, color, cache',
    );
  });

  it('names the file, line and column of invalid JSON, in one line', async () => {
    await write('bad.json', '{\n  "concurrency": 5,\n}\n');
    await expect(loadConfig('bad.json', cwd, KNOWN)).rejects.toThrow(/^bad\.json:3:1: not valid JSON \(.+\); fix it/);
    await write('bad2.json', '{"quiet": tru}');
    const error = await loadConfig('bad2.json', cwd, KNOWN).catch((e: Error) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/^bad2\.json(:1:\d+)?: not valid JSON/);
    expect((error as Error).message).not.toContain('\n');
  });

  it.each([
    ['[1, 2]', /should hold one JSON object/],
    ['{"quiet": "yes"}', /"quiet" should be true or false, not a string/],
    ['{"timeout": null}', /"timeout" should be a string or a number, not null/],
    ['{"outDir": ["a"]}', /"outDir" should be a string or a number, not a list/],
    ['{"dnsServer": [{"host": "x"}]}', /"dnsServer" should be a string or a list of strings/],
    ['{"outDir": "a", "out-dir": "b"}', /"outDir" and "out-dir" are the same setting/],
    ['{"cache": false, "noCache": true}', /"cache" and "noCache" are the same setting/],
    ['{"cache": "no"}', /"cache" should be true or false, not a string/],
    ['{"noCache": 1}', /"noCache" should be true or false, not a number/],
    // Only a --no-x flag has a "noX" spelling: there is no --no-quiet.
    ['{"noQuiet": true}', /unknown key "noQuiet"/],
  ])('refuses %s', async (text, message) => {
    await write(DEFAULT_CONFIG_FILE, text);
    await expect(loadConfig(undefined, cwd, KNOWN)).rejects.toThrow(message);
  });

  it.each([
    ['{"cache": false}', { cache: false }],
    ['{"noCache": true}', { cache: false }],
    ['{"no-cache": true}', { cache: false }],
    ['{"noCache": false}', { cache: true }],
    ['{"color": false, "noCache": true}', { color: false, cache: false }],
    ['{"noColor": true}', { color: false }],
    ['{"no-color": true}', { color: false }],
  ])('reads the --no-x flags as %s', async (text, expected) => {
    await write(DEFAULT_CONFIG_FILE, text);
    expect(await loadConfig(undefined, cwd, KNOWN)).toEqual(expected);
  });

  it("derives the keys from commander's options: --no-x is the negated setting x", () => {
    const options = [
      new Option('--no-cache'),
      new Option('--quiet'),
      new Option('--dns-server <host>'),
      new Option('--timeout <duration>'),
      new Option('--config <file>'),
    ];
    expect(configKeysOf(options)).toEqual({ cache: 'negated', quiet: 'boolean', dnsServer: 'list', timeout: 'string' });
  });

  it("gives a subcommand the list command's config, its own flags (wherever commander filed them) winning", async () => {
    await write(DEFAULT_CONFIG_FILE, '{"offline": true, "timeout": "1s", "noCache": true, "outDir": "clean", "helo": "cfg"}');
    const program = new Command('email-verify')
      .option('--out-dir <dir>')
      .option('--offline')
      .option('--timeout <duration>')
      .option('--helo <name>')
      .option('--no-cache')
      .option('--config <file>')
      .exitOverride();
    let got: unknown;
    program
      .command('check')
      .argument('<email>')
      .option('--offline')
      .option('--timeout <duration>')
      .option('--no-cache')
      .option('--config <file>')
      .action(async (_email: string, _flags: unknown, command: Command) => {
        got = await flagsWithConfig(command, cwd);
      });
    // --helo is only the list command's: commander files it under the parent.
    await program.parseAsync(['check', 'a@b.example', '--timeout', '5s', '--helo', 'flag'], { from: 'user' });
    expect(got).toEqual({ offline: true, timeout: '5s', cache: false, outDir: 'clean', helo: 'flag' });
  });

  it('lets flags given on the command line override the config, and the config override defaults', () => {
    const config = { concurrency: '10', color: false, dnsServer: ['1.1.1.1'], outDir: 'cleaned' };
    // As commander hands them over: color defaults to true (from --no-color), the rest came from argv.
    const flags = { concurrency: '50', color: true, dnsServer: ['9.9.9.9'], quiet: true };
    expect(mergeFlags(config, flags, ['concurrency', 'dnsServer', 'quiet'])).toEqual({
      concurrency: '50',
      color: false,
      dnsServer: ['9.9.9.9'],
      outDir: 'cleaned',
      quiet: true,
    });
  });
});

describe('the default EHLO name', () => {
  it.each([
    ['mail.example.com', 'mail.example.com'],
    ['worker-3.eu-west.compute.internal', 'worker-3.eu-west.compute.internal'],
    ['laptop', ''],
    ['localhost', ''],
    ['build-box.local', ''],
    ['host.localdomain', ''],
    ['bad_name.example', ''],
  ])('%s -> %j (empty: an address literal)', (name, expected) => {
    expect(defaultHelo(name)).toBe(expected);
  });
});

describe('the plain progress interval', () => {
  // Read with the run's options from the environment main() is given, not once at import: a
  // caller (or a test) that sets it after loading the CLI gets it.
  it('is EMAIL_VERIFY_PROGRESS_MS when set, else 10 s', () => {
    expect(runOptionsFrom({}, { EMAIL_VERIFY_PROGRESS_MS: '250' }).progressEveryMs).toBe(250);
    expect(runOptionsFrom({}, {}).progressEveryMs).toBe(10_000);
    expect(runOptionsFrom({}, { EMAIL_VERIFY_PROGRESS_MS: 'soon' }).progressEveryMs).toBe(10_000);
  });
});
