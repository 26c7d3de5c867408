// The command line: commander collects flags, options.ts checks them, run.ts does the work.
import { createRequire } from 'node:module';
import { Command, CommanderError, Option } from 'commander';
import { createDefaultVerifier } from '../index.js';
import { DEFAULT_CREDIT_PRICE } from '../core/summary.js';
import type { ResultCategory } from '../core/types.js';
import { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, isKnownError, UsageError } from '../errors.js';
import { flagsWithConfig } from './config.js';
import { runMerge, type MergeFlags } from './merge.js';
import { runOptionsFrom, type RawFlags } from './options.js';
import { runList, type Streams } from './run.js';
// The server and the finder are loaded when their command runs: fastify and the name tables took
// a third of a second of every list run's start.
import type { ServeFlags } from './serve.js';
import type { FindFlags } from './find.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

const EXAMPLES = `
Cleaning a list:
  email-verify list.csv                       writes list.valid.csv, .risky.csv, .invalid.csv, .unknown.csv
  email-verify list.xlsx --out-dir cleaned    reads the first sheet, writes into ./cleaned
  email-verify list.csv --estimate            what a paid service would charge, before any network work
  email-verify check someone@example.com      one address, as JSON

Finding addresses (a name and a company domain -> a verified address):
  email-verify find people.csv                writes people.found.csv
  email-verify find --first Tim --last Cook --domain apple.com

In a pipeline (standard input in, records out in input order):
  cut -d, -f3 users.csv | email-verify - --format csv --only valid
  email-verify list.csv --stdout | jq -r 'select(.result=="valid") | .email'

From cron (email-verify.config.json holds repeated options; a re-run resumes an interrupted job):
  email-verify list.csv --out-dir clean --quiet --summary-json clean/summary.json --webhook https://…

On several machines:
  email-verify list.csv --shard 2/4 --out-dir shard2      then: email-verify merge shard1 shard2 shard3 shard4 -o merged

Exit codes: 0 finished, 1 failed while running, 2 bad usage or unreadable input, 130 interrupted.
check exits 0 for valid and valid_role_based, 1 for invalid, 3 for risky or unknown (2 for bad usage).`;

/** `check`'s exit code: 0 deliverable, 1 invalid, 3 undecided (risky or unknown). */
const CHECK_EXIT: Record<ResultCategory, number> = { valid: 0, valid_role_based: 0, invalid: 1, risky: 3, unknown: 3 };

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function addVerifyFlags(command: Command): Command {
  return command
    .option('--concurrency <n>', 'DNS lookups and SMTP sessions at once (default 20)')
    .option('--per-domain <n>', 'SMTP sessions at once per domain (default 2)')
    .option('--per-host <n>', 'SMTP sessions at once per mail host, over all its domains, at first (default 5)')
    .option('--per-host-max <n>', 'at most this many for a host that answers every session; halved on push-back (default 10)')
    .option('--timeout <duration>', 'timeout for each network step: 30s, 500ms, 2m; a bare number is seconds (default 30s)')
    .option('--greylist-delay <duration>', 'ask greylisted addresses again after this long (default 5m)')
    .option('--greylist-budget <duration>', 'keep retrying for at most this long; 0 = do not wait (default 15m)')
    .option('--helo <name>', 'the name given in EHLO (default: the host name if fully qualified, else an address literal)')
    .option('--from <address>', 'MAIL FROM address when a server refuses the null sender')
    .option('--smtp-port <port>', 'SMTP port of the mail hosts (default 25)')
    .option('--dns-server <host[:port]>', "DNS server to ask (repeatable; default: the system's)", collect)
    .option(
      '--proxy <url>',
      'make SMTP connections through a SOCKS5 proxy: socks5://[user:password@]host:port (DNS is not proxied)',
    )
    .option('--source-ip <address>', 'make SMTP connections from this local IP address')
    .option('--no-color', 'no colours in the output (NO_COLOR is honoured too)')
    .option('--cache-dir <dir>', 'where DNS answers, domain facts and results are kept (default: the user cache folder)')
    .option('--no-cache', 'keep nothing on disk and reuse nothing (and so no resume)')
    .option('--max-age <duration>', 'reuse kept results younger than this, e.g. 12h, 7d; 0 = never (default 7d)');
}

export async function main(argv: string[], streams: Streams, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const program = new Command('email-verify');
  program
    .description('Verify email addresses on your own machine: syntax, DNS/MX, SMTP and catch-all checks.')
    .argument('[input]', 'CSV, TSV, TXT or XLSX file; "-" or a pipe for standard input')
    .option('-o, --out-dir <dir>', 'where the split CSVs go (default: beside the input)')
    .option('--stdout', 'write records to standard output instead of files')
    .addOption(new Option('--format <format>', 'record format on standard output (default ndjson)').choices(['ndjson', 'csv']))
    .option('--only <results>', 'with records on standard output: only these results, e.g. valid,risky')
    .option('--column <name|n>', 'the column holding the addresses (header name or number from 1)')
    .option('--sheet <name|n>', 'XLSX: the sheet to read (default: the first)')
    .option(
      '--encoding <name>',
      "the text's encoding, e.g. windows-1252, utf-16le, latin1 (default: detected; outputs are UTF-8)",
    )
    .option('--summary-json <file>', 'also write the summary as JSON')
    .option('--estimate', 'print the maximum credit cost from syntax and dedup alone, then stop')
    .option('--offline', 'only the checks that need no network; the rest is unknown')
    .option('--credit-price <usd>', `price of one credit at a paid service (default ${DEFAULT_CREDIT_PRICE})`)
    .option('-q, --quiet', 'no progress and no summary table')
    .option('--shard <K/N>', 'verify only the rows whose domain falls in shard K of N (see merge)')
    .option('--webhook <url>', 'POST a job.completed payload here when the run ends')
    .option('--config <file>', 'read flags from this JSON file (default: ./email-verify.config.json)')
    .option('--restart', 'discard the checkpoint of an interrupted run of this list and start over')
    .version(version, '-V, --version')
    .addHelpText('after', EXAMPLES)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => streams.stdout.write(s),
      writeErr: (s) => streams.stderr.write(s),
      // One line, like every other error: "email-verify: unknown option '--x' (email-verify --help)".
      outputError: (s, write) => write(`email-verify: ${s.trim().replace(/^error: /, '')} (email-verify --help)\n`),
    });
  addVerifyFlags(program);

  let exitCode = EXIT_OK;
  program.action(async (input: string | undefined) => {
    const stdinPiped = !streams.stdin.isTTY;
    const path = input ?? (stdinPiped ? '-' : undefined);
    if (path === undefined) throw new UsageError('no input given: name a file, or pipe addresses in (email-verify --help)');
    const options = runOptionsFrom(await flagsWithConfig<RawFlags>(program, process.cwd()), env);
    await runList(path, options, streams, { version });
  });

  program
    .command('merge')
    .description('join the outputs of --shard runs: their folders (or split CSVs and summary JSON files)')
    .argument('<inputs...>', 'shard output folders or files')
    .option('-o, --out-dir <dir>', 'where the merged CSVs go (required)')
    .option('--summary-json <file>', 'also write the merged summary as JSON')
    .option('--credit-price <usd>', "price of one credit (default: the shards' own)")
    .option('--allow-partial', 'merge even when a shard is missing (or its K/N unknown); said on stderr')
    .action(async (inputs: string[], _flags: unknown, command: Command) => {
      // --out-dir and the others are list flags too, so commander may file them under the parent.
      const flags = command.optsWithGlobals<Partial<MergeFlags>>();
      if (flags.outDir === undefined) throw new UsageError('merge needs --out-dir DIR: the folder for the merged CSVs');
      await runMerge(inputs, { ...flags, outDir: flags.outDir }, streams, env);
    });

  addVerifyFlags(
    program
      .command('check')
      .description('verify one address and print its result as JSON')
      .argument('<email>', 'the address to verify')
      .option('--offline', 'only the checks that need no network; the rest is unknown')
      .option('--config <file>', 'read flags from this JSON file (default: ./email-verify.config.json)'),
  ).action(async (email: string, _flags: RawFlags, command: Command) => {
    // The same config file as the list command (a cron job's folder holds one); flags win.
    const options = runOptionsFrom(await flagsWithConfig<RawFlags>(command, process.cwd()), env);
    const result = await createDefaultVerifier(options.verify).verify(email);
    streams.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    // For scripts: `if email-verify check "$a"; then …` takes only deliverable addresses.
    exitCode = CHECK_EXIT[result.result];
  });

  addVerifyFlags(
    program
      .command('serve')
      .description("serve the hosted verifiers' HTTP APIs (single, bulk, jobs, uploads, results links) on this engine")
      .option('--port <n>', 'port to listen on (default 8080; 0 = any free port)')
      .option('--host <address>', 'address to listen on (default 127.0.0.1; another needs API keys)')
      .option('--api-key <key>', 'an API key clients send as X-API-Key, Bearer or user_API_token (repeatable)', collect)
      .option('--api-keys-file <file>', 'more API keys, one per line (EMAIL_VERIFY_API_KEYS also adds keys, comma-separated)')
      .option('--data-dir <dir>', 'where jobs, their lists and results are kept (default: the user data folder)')
      .option('--jobs <n>', 'jobs verified at once (default 2)')
      .option('--rate-limit <n>', 'requests per minute per API key (default 1000)')
      .option('--max-upload <size>', 'largest uploaded list, e.g. 100MB (default 100MB)')
      .option('--credit-price <usd>', `price of one credit at a paid service (default ${DEFAULT_CREDIT_PRICE})`)
      .option('--log-level <level>', 'info, warn, error, debug or silent (default info)'),
  ).action(async (_flags: ServeFlags, command: Command) => {
    const { runServe } = await import('./serve.js');
    await runServe(command.optsWithGlobals<ServeFlags>(), streams, env, version);
  });

  addVerifyFlags(
    program
      .command('find')
      .description(
        "find people's addresses from a name and a company domain: a list (writes <name>.found.csv) or one person (JSON)",
      )
      .argument('[input]', 'CSV, TSV or XLSX with first_name/last_name (or full_name) and domain/website columns; "-" for stdin')
      .option('--first <name>', 'one person: the first name')
      .option('--last <name>', 'one person: the last name')
      .option('--name <full name>', 'one person: the whole name, instead of --first and --last')
      .option('--domain <domain|url>', "one person: the company's domain or website")
      .option('--max-candidates <n>', 'RCPTs (candidate addresses) at most per person (default 8)')
      .option('--no-learn', "do not try a domain's learned pattern first (for comparison)")
      .option('-o, --out-dir <dir>', 'where <name>.found.csv goes (default: beside the input)')
      .option('--stdout', 'write records to standard output instead of the file')
      .addOption(new Option('--format <format>', 'record format on standard output').choices(['ndjson', 'csv']))
      .option('--sheet <name|n>', 'XLSX: the sheet to read (default: the first)')
      .option('--encoding <name>', "the text's encoding (default: detected)")
      .option('--summary-json <file>', 'also write the summary as JSON')
      .option('-q, --quiet', 'no progress and no summary')
      .option('--restart', 'discard the checkpoint of an interrupted run of this list and start over'),
  ).action(async (input: string | undefined, _flags: FindFlags, command: Command) => {
    // The list command shares many of these flags, so commander may have filed them under the parent.
    const flags = command.optsWithGlobals<FindFlags>();
    const onePerson =
      flags.first !== undefined || flags.last !== undefined || flags.name !== undefined || flags.domain !== undefined;
    if (onePerson && input !== undefined) throw new UsageError('find takes a list file or --first/--last/--domain, not both');
    if (onePerson) {
      const { findOne } = await import('./find.js');
      exitCode = await findOne(flags, streams, env);
      return;
    }
    const path = input ?? (!streams.stdin.isTTY ? '-' : undefined);
    if (path === undefined) throw new UsageError('find needs a list file, a pipe, or --first NAME --last NAME --domain DOMAIN');
    const { findList } = await import('./find.js');
    await findList(path, flags, streams, env);
  });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; everything else commander refuses is a usage error.
      exitCode = error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    } else if (isKnownError(error)) {
      streams.stderr.write(`email-verify: ${error.message}\n`);
      exitCode = error.exitCode;
    } else {
      streams.stderr.write(`email-verify: unexpected error\n${(error as Error).stack ?? String(error)}\n`);
      exitCode = EXIT_RUNTIME;
    }
  }
  return exitCode;
}
