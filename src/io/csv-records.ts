// How CSV records are read, on the main thread or on the parse worker (parse-worker.ts): the
// csv-parse options, and the batches handed over as csv-parse has them ready.
import type { Readable } from 'node:stream';
import { parse, type Options as CsvParseOptions } from 'csv-parse';

// A row of an address list is under a kilobyte; a megabyte means a quote left open or a file that
// is not a list, and refusing it keeps memory flat.
export const MAX_RECORD_SIZE = 2 ** 20;

/**
 * The objects of an object-mode stream, handed over as many at a time as it has ready: a
 * million rows cost a million awaits less than `for await` over the stream.
 */
export async function* batchesOf<T>(stream: Readable): AsyncGenerator<T[]> {
  let ended = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const onReadable = () => wake?.();
  const onEnd = () => {
    ended = true;
    wake?.();
  };
  const onError = (error: unknown) => {
    failure = { error };
    wake?.();
  };
  stream.on('readable', onReadable).on('end', onEnd).on('error', onError);
  try {
    for (;;) {
      const batch: T[] = [];
      for (let item = stream.read() as T | null; item !== null; item = stream.read() as T | null) batch.push(item);
      if (batch.length > 0) {
        yield batch;
        continue;
      }
      if (failure) throw failure.error;
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    stream.off('readable', onReadable).off('end', onEnd).off('error', onError);
    // A consumer that stops early (or fails) must not leave the file open.
    if (!ended) stream.destroy();
  }
}

export function csvOptions(delimiter: string): CsvParseOptions {
  return {
    delimiter,
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    trim: false,
    // A quote inside an unquoted field (John "JJ" Doe) is text, as Excel reads it.
    relax_quotes: true,
    // A stray quote opening a field swallows the rest of the file; this bounds memory.
    max_record_size: MAX_RECORD_SIZE,
  };
}

/** The records of a UTF-8 text stream, parsed with csvOptions, in batches (see batchesOf). */
export function csvBatches(text: Readable, delimiter: string): AsyncGenerator<string[][]> {
  const parser = text.pipe(parse(csvOptions(delimiter)));
  text.on('error', (error) => parser.destroy(error));
  return batchesOf<string[]>(parser);
}
