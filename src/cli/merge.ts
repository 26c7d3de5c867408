// `email-verify merge`: joins the outputs of --shard runs into one set of files and one summary.
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DEFAULT_CREDIT_PRICE } from '../core/summary.js';
import { OUTPUT_BUCKETS } from '../core/types.js';
import { mergeOutputs } from '../io/merge.js';
import { renderSummary } from '../report/render.js';
import { RunError, UsageError } from '../errors.js';
import { checkOutputPaths } from './output-paths.js';
import type { Streams } from './run.js';

export interface MergeFlags {
  outDir: string;
  summaryJson?: string;
  creditPrice?: string;
  allowPartial?: boolean;
}

export async function runMerge(inputs: string[], flags: MergeFlags, streams: Streams, env: NodeJS.ProcessEnv): Promise<void> {
  const creditPrice = flags.creditPrice === undefined ? undefined : Number(flags.creditPrice);
  if (creditPrice !== undefined && (!Number.isFinite(creditPrice) || creditPrice < 0)) {
    throw new UsageError(`--credit-price ${flags.creditPrice}: expected a price in USD such as ${DEFAULT_CREDIT_PRICE}`);
  }
  // As the list command: the outputs' paths before the shards are read, and before the folder is made.
  await checkOutputPaths({
    folders: [{ path: flags.outDir, flag: '--out-dir' }],
    files: flags.summaryJson === undefined ? [] : [{ path: flags.summaryJson, flag: '--summary-json' }],
  });
  const merged = await mergeOutputs(inputs, { outDir: flags.outDir, creditPrice, allowPartial: flags.allowPartial });
  // Named as the user named --out-dir, as a single run names its outputs.
  const paths = Object.fromEntries(
    Object.entries(merged.paths).map(([bucket, path]) => [bucket, join(flags.outDir, basename(path))]),
  );

  const { shards } = merged;
  if (shards && shards.missing.length > 0) {
    // --allow-partial: said on stderr all the same, so a cron log shows what the files lack.
    const missing = shards.missing.map((k) => `${k}/${shards.count}`).join(', ');
    streams.stderr.write(
      `email-verify: merged without shard ${missing} (--allow-partial): those rows are not in the merged files\n`,
    );
  }
  // More files than one run writes: rows of several shards, whose order across shards is lost.
  if (!merged.inInputOrder && merged.sources.length > OUTPUT_BUCKETS.length) {
    streams.stderr.write(
      "email-verify: the shards' CSVs have no input_row column (an older email-verify wrote them), so the rows follow shard by shard, not the input's order\n",
    );
  }

  const color = !env.NO_COLOR && streams.stdout.isTTY === true;
  streams.stdout.write(`${renderSummary(merged.summary, { color })}\n${Object.values(paths).join('\n')}\n`);
  if (flags.summaryJson) {
    const content = {
      input: merged.input ?? null,
      ...(shards ? { shards: { count: shards.count, merged: shards.merged, missing: shards.missing } } : {}),
      merged_from: inputs,
      ...(merged.rowsRead === undefined ? {} : { rows_read: merged.rowsRead }),
      ...(merged.badByteRows === undefined ? {} : { bad_byte_rows: merged.badByteRows }),
      ...merged.summary,
      outputs: paths,
    };
    await writeFile(flags.summaryJson, `${JSON.stringify(content, null, 2)}\n`).catch((error: Error) => {
      throw new RunError(`${flags.summaryJson}: cannot write the summary (${error.message}); choose another --summary-json path`);
    });
  }
}
