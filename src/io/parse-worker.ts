// Parses a CSV file on a thread of its own and posts its records in batches, so csv-parse (40%
// of an --offline run's CPU on a million-row contact export, issue 15) runs beside the verdicts
// and the writers on the machine's other core. It reads ahead at most AHEAD batches that the
// main thread has not taken yet, so a slow consumer (a run waiting on the network) holds memory
// flat, as the stream's own back-pressure did.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { CsvError } from 'csv-parse';
import { csvBatches } from './csv-records.js';
import { asUtf8 } from './encoding.js';

export interface ParseJob {
  path: string;
  delimiter: string;
  /** The file's encoding, as iconv-lite names it. */
  encoding: string;
}

export type ParseMessage =
  | { kind: 'records'; records: string[][] }
  | { kind: 'end' }
  /** `csv`: csv-parse refused the text (its code, and the records it read before); otherwise a read failed. */
  | { kind: 'error'; csv: boolean; code: string | undefined; message: string; records: number | undefined };

/** Batches posted and not yet taken (the main thread posts one message per batch it takes). */
const AHEAD = 8;

async function parseFile(job: ParseJob, port: NonNullable<typeof parentPort>): Promise<void> {
  let credit = AHEAD;
  let wake: (() => void) | undefined;
  port.on('message', () => {
    credit += 1;
    wake?.();
  });
  try {
    const text = Readable.from(asUtf8(createReadStream(job.path), job.encoding), { objectMode: false });
    for await (const records of csvBatches(text, job.delimiter)) {
      while (credit === 0) await new Promise<void>((resolve) => (wake = resolve));
      credit -= 1;
      port.postMessage({ kind: 'records', records } satisfies ParseMessage);
    }
    port.postMessage({ kind: 'end' } satisfies ParseMessage);
  } catch (error) {
    const { code, message, records } = error as Error & { code?: string; records?: number };
    port.postMessage({ kind: 'error', csv: error instanceof CsvError, code, message, records } satisfies ParseMessage);
  } finally {
    port.close();
  }
}

if (parentPort) await parseFile(workerData as ParseJob, parentPort);
