// The config file: the same settings as the flags, for the cron job that runs with the same ones
// every night. Values come out as commander would hand them over (strings, booleans, string
// lists), so one function (options.ts) checks flags and config alike.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command, Option } from 'commander';
import { UsageError } from '../errors.js';

export const DEFAULT_CONFIG_FILE = 'email-verify.config.json';

/**
 * How commander delivers an option: `--x <v>`, `--x`, `--no-x`, or a repeatable `--x <v>`.
 * `negated` is a `--no-x` flag: commander files it as `x` (true unless given), so the file says
 * `"x": false`, or `"noX": true` as the flag is spelled.
 */
export type ConfigKind = 'string' | 'boolean' | 'negated' | 'list';
/** The keys a config file may set (commander's camelCase option names) and their kinds. */
export type ConfigKeys = Readonly<Record<string, ConfigKind>>;

// "out-dir" is how the flag is spelled, so accept it beside commander's "outDir".
const camelCase = (key: string): string => key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function typeName(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'a list' : `a ${typeof value}`;
}

function convert(file: string, key: string, kind: ConfigKind, value: unknown): string | boolean | string[] {
  // Numbers become strings so that they are checked exactly like the same text given as a flag.
  const text = (v: unknown): string | undefined =>
    typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
  if (kind === 'boolean' || kind === 'negated') {
    if (typeof value === 'boolean') return value;
    throw new UsageError(`${file}: "${key}" should be true or false, not ${typeName(value)}`);
  }
  if (kind === 'string') {
    const s = text(value);
    if (s !== undefined) return s;
    throw new UsageError(`${file}: "${key}" should be a string or a number, not ${typeName(value)}`);
  }
  const items = Array.isArray(value) ? value.map(text) : [text(value)];
  if (items.every((s) => s !== undefined)) return items as string[];
  throw new UsageError(`${file}: "${key}" should be a string or a list of strings, such as ["1.1.1.1", "8.8.8.8"]`);
}

/** Names where JSON.parse stopped, as file:line:column, when V8 says ("at position N"). */
function parseError(file: string, text: string, error: Error): UsageError {
  const position = /at position (\d+)/.exec(error.message);
  let where = file;
  if (position) {
    const before = text.slice(0, Number(position[1]));
    where += `:${before.split('\n').length}:${before.length - before.lastIndexOf('\n')}`;
  }
  // V8 may quote the whole text ("…" is not valid JSON); the message must stay one line.
  const what = error.message.replace(/ in JSON at position \d+.*$/s, '').replace(/, ".*" is not valid JSON$/s, '');
  return new UsageError(
    `${where}: not valid JSON (${what.replace(/\s+/g, ' ')}); fix it (keys in double quotes, no trailing commas)`,
  );
}

/**
 * Reads `--config FILE`, or `email-verify.config.json` in cwd when no file is named.
 * A missing default file is no config ({}); a missing named file is an error.
 */
export async function loadConfig(path: string | undefined, cwd: string, known: ConfigKeys): Promise<Record<string, unknown>> {
  const file = path ?? DEFAULT_CONFIG_FILE;
  let text: string;
  try {
    text = await readFile(resolve(cwd, file), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && path === undefined) return {};
    if (code === 'ENOENT') throw new UsageError(`--config ${file}: no such file; check the path`);
    throw new UsageError(`${file}: cannot read the config file (${code ?? (error as Error).message}); check its permissions`);
  }

  let content: unknown;
  text = text.replace(/^\uFEFF/, ''); // editors on Windows save UTF-8 with a BOM
  try {
    content = JSON.parse(text);
  } catch (error) {
    throw parseError(file, text, error as Error);
  }
  if (typeof content !== 'object' || content === null || Array.isArray(content)) {
    throw new UsageError(`${file}: should hold one JSON object such as {"concurrency": 10}, not ${typeName(content)}`);
  }

  const config: Record<string, unknown> = {};
  const seen = new Map<string, string>();
  for (const [written, value] of Object.entries(content)) {
    if (written === '$schema') continue; // editors use it for completion; it is not a setting
    const { key, negate } = settingOf(camelCase(written), known);
    const kind = known[key];
    if (kind === undefined) {
      throw new UsageError(`${file}: unknown key "${written}"; known keys: ${Object.keys(known).join(', ')}`);
    }
    const earlier = seen.get(key);
    if (earlier !== undefined) throw new UsageError(`${file}: "${earlier}" and "${written}" are the same setting; keep one`);
    seen.set(key, written);
    const converted = convert(file, written, kind, value);
    config[key] = negate ? !converted : converted;
  }
  return config;
}

/** `noCache` is how `--no-cache` reads in camelCase: the setting `cache`, its value inverted. */
function settingOf(key: string, known: ConfigKeys): { key: string; negate: boolean } {
  const match = /^no([A-Z])(.*)$/.exec(key);
  if (known[key] === undefined && match) {
    const positive = match[1]!.toLowerCase() + match[2]!;
    if (known[positive] === 'negated') return { key: positive, negate: true };
  }
  return { key, negate: false };
}

/** The keys a config file may set: the command's options (commander's attribute names) but --config. */
export function configKeysOf(options: readonly Option[]): ConfigKeys {
  const keys: Record<string, ConfigKind> = {};
  for (const option of options) {
    const name = option.attributeName();
    if (name === 'config' || name === 'version') continue;
    // isBoolean() is false for --no-x (commander 14), yet the value is a boolean all the same.
    keys[name] = option.negate ? 'negated' : option.isBoolean() ? 'boolean' : name === 'dnsServer' ? 'list' : 'string';
  }
  return keys;
}

/**
 * The flags of `command` with the config file under them. A subcommand (`check`) shares its flags
 * with the list command, and commander files such a flag under whichever command it parsed it
 * for, so both are read: a value given on the command line wins wherever it was filed. The config
 * is checked against the list command's keys, so one file serves `email-verify list.csv` and
 * `email-verify check` alike (a key only the list command uses is accepted and left unused).
 */
export async function flagsWithConfig<T extends object>(command: Command, cwd: string): Promise<T> {
  const chain: Command[] = [];
  for (let c: Command | null = command; c !== null; c = c.parent) chain.push(c);
  const root = chain[chain.length - 1]!;
  const flags: Record<string, unknown> = {};
  const explicit = new Set<string>();
  // Outermost first, so the subcommand's own defaults and values come last and win.
  for (const cmd of chain.reverse()) {
    for (const option of cmd.options) {
      const name = option.attributeName();
      const value: unknown = cmd.getOptionValue(name);
      if (cmd.getOptionValueSource(name) === 'cli') {
        flags[name] = value;
        explicit.add(name);
      } else if (!explicit.has(name) && value !== undefined) {
        flags[name] = value;
      }
    }
  }
  const config = await loadConfig(flags.config as string | undefined, cwd, configKeysOf(root.options));
  return mergeFlags(config, flags as T, explicit);
}

/**
 * The flags commander parsed with the config underneath: a flag given on the command line wins,
 * then the config file, then commander's defaults. `explicit` names the keys set on the command
 * line (commander: `getOptionValueSource(key) === 'cli'`). A list flag replaces the config's list.
 */
export function mergeFlags<T extends object>(config: Record<string, unknown>, flags: T, explicit: Iterable<string>): T {
  const fromCommandLine = new Set(explicit);
  const merged: Record<string, unknown> = { ...(flags as Record<string, unknown>) };
  for (const [key, value] of Object.entries(config)) {
    if (!fromCommandLine.has(key)) merged[key] = value;
  }
  return merged as T;
}
