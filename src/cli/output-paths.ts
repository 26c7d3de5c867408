// Output paths: where a run writes (its out-dir and files), checked before the work (issue 16).
// A summary or a folder that cannot be written should stop a run before its first address is
// asked, not after an hour of SMTP with the outputs already written. Checking creates nothing,
// so a refused run leaves nothing behind.
import { access, stat } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { OUTPUT_BUCKETS } from '../core/types.js';
import { UsageError } from '../errors.js';
import { outputBaseName } from '../io/write.js';
import type { RunOptions } from './options.js';

export interface OutputPath {
  path: string;
  /** The flag that chose it, to name in the error (`--summary-json`, `--out-dir`). */
  flag: string;
}

export interface OutputPaths {
  /** Folders the run makes if missing (mkdir -p): --out-dir, or the default beside the input. */
  folders?: OutputPath[];
  /** Files the run writes: --summary-json, and the outputs inside the folders. */
  files?: OutputPath[];
}

type Kind = 'folder' | 'file' | 'none';

/** What stands at `path` (`output` or a folder on its way), for the error that names `output`. */
async function kindOf(path: string, output: OutputPath): Promise<Kind> {
  try {
    return (await stat(path)).isDirectory() ? 'folder' : 'file';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOTDIR: a file stands where a folder of the path should be; it is found on the way up.
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'none';
    throw refusal(output, `${path} cannot be looked at (${code ?? (error as Error).message})`, 'choose another path');
  }
}

const writable = (path: string) =>
  access(path, fsConstants.W_OK).then(
    () => true,
    () => false,
  );

function refusal(output: OutputPath, why: string, fix: string): UsageError {
  return new UsageError(`${output.flag} ${output.path}: ${why}; ${fix}`);
}

/** A folder that is there and writable, or that mkdir -p can make: its nearest existing ancestor is. */
async function checkFolder(output: OutputPath): Promise<void> {
  const target = resolve(output.path);
  let at = target;
  let kind = await kindOf(at, output);
  // Bounded by the path's depth: the root always exists.
  while (kind === 'none' && dirname(at) !== at) {
    at = dirname(at);
    kind = await kindOf(at, output);
  }
  if (at === target && kind === 'file') throw refusal(output, 'is a file, not a folder', 'choose another path');
  if (kind === 'file') throw refusal(output, `${at} is a file, so the folder cannot be made`, 'choose another path');
  if (!(await writable(at))) {
    const why =
      at === target ? `the folder ${at} cannot be written` : `the folder ${at} cannot be written, so ${target} cannot be made`;
    throw refusal(output, why, 'choose another path');
  }
}

/** A file that can be written: not a folder, not read-only, in a folder that is (or will be) there. */
async function checkFile(output: OutputPath, folders: Set<string>): Promise<void> {
  const target = resolve(output.path);
  const kind = await kindOf(target, output);
  if (kind === 'folder') throw refusal(output, 'is a folder, not a file', 'name a file (in it, or elsewhere)');
  if (kind === 'file' && !(await writable(target))) throw refusal(output, 'the file cannot be written', 'choose another path');
  const folder = dirname(target);
  // A folder the run makes itself (the summary beside the outputs in a new --out-dir) is checked as one.
  if (kind === 'file' || folders.has(folder)) return;
  const folderKind = await kindOf(folder, output);
  if (folderKind === 'none') throw refusal(output, `the folder ${folder} does not exist`, 'create it or choose another path');
  if (folderKind === 'file') throw refusal(output, `${folder} is a file, not a folder`, 'choose another path');
  if (!(await writable(folder))) throw refusal(output, `the folder ${folder} cannot be written`, 'choose another path');
}

/**
 * Refuses (UsageError, exit 2) output paths the run could not write, before anything is made:
 * called by the list command, `find` and `merge` before their first address or row.
 */
export async function checkOutputPaths(outputs: OutputPaths): Promise<void> {
  const folders = outputs.folders ?? [];
  for (const folder of folders) await checkFolder(folder);
  const made = new Set(folders.map((f) => resolve(f.path)));
  for (const file of outputs.files ?? []) await checkFile(file, made);
}

/** Where the output files go, or undefined when the rows go to standard output as records. */
export function outDirOf(inputPath: string, options: RunOptions): string | undefined {
  const toStdout = options.stdout || (inputPath === '-' && options.outDir === undefined);
  if (toStdout) return undefined;
  return options.outDir ?? (inputPath === '-' ? process.cwd() : dirname(resolve(inputPath)));
}

/** What a run will write: its folder, `<base>.<suffix>.csv` for each suffix, and the summary. */
export function outputPathsOf(inputPath: string, options: RunOptions, suffixes: readonly string[] = OUTPUT_BUCKETS): OutputPaths {
  const outDir = outDirOf(inputPath, options);
  const summary = options.summaryJson === undefined ? [] : [{ path: options.summaryJson, flag: '--summary-json' }];
  if (outDir === undefined) return { files: summary };
  const base = outputBaseName(inputPath);
  return {
    folders: [{ path: outDir, flag: '--out-dir' }],
    files: [...suffixes.map((b) => ({ path: join(outDir, `${base}.${b}.csv`), flag: '--out-dir' })), ...summary],
  };
}
