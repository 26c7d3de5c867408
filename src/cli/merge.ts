// `email-verify merge`: joins the outputs of --shard runs into one set of files and one summary.
import { writeFile } from 'node:fs/promises';
import { mergeOutputs } from '../io/merge.js';
import { renderSummary } from '../report/render.js';
import { createSummary } from '../report/summary.js';
import { RunError, UsageError } from '../errors.js';
import type { Streams } from './run.js';

export async function runMerge(
  inputs: string[],
  flags: { outDir: string; summaryJson?: string; creditPrice?: string },
  streams: Streams,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const creditPrice = flags.creditPrice === undefined ? undefined : Number(flags.creditPrice);
  if (creditPrice !== undefined && (!Number.isFinite(creditPrice) || creditPrice < 0)) {
    throw new UsageError(`--credit-price ${flags.creditPrice}: expected a price in USD such as 0.001`);
  }
  const merged = await mergeOutputs(inputs, { outDir: flags.outDir, creditPrice, summarize: createSummary });
  const color = !env.NO_COLOR && streams.stdout.isTTY === true;
  streams.stdout.write(`${renderSummary(merged.summary, { color })}\n${Object.values(merged.paths).join('\n')}\n`);
  if (flags.summaryJson) {
    const content = { input: merged.sources, ...merged.summary, outputs: merged.paths };
    await writeFile(flags.summaryJson, `${JSON.stringify(content, null, 2)}\n`).catch((error: Error) => {
      throw new RunError(`${flags.summaryJson}: cannot write the summary (${error.message}); choose another --summary-json path`);
    });
  }
}
