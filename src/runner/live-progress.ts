// Where a run stands, in numbers a person reads: rows decided of the total, the rate, the time
// left, and whether all that is left waits for greylisted addresses to be asked again. The
// CLI's progress line and the server's job view read the same numbers.
import type { RetryStatus } from '../core/engine.js';
import type { RunProgress } from './run-rows.js';

export interface LiveProgress {
  /** Rows whose verdict is known, in whatever order: a greylisted row does not hold the count back. */
  decided: number;
  /** Rows in the input, when known. */
  total: number | undefined;
  /** Rows decided per second since the run started. */
  rate: number;
  /** At the current rate; undefined when the total or the rate is not known. */
  etaSeconds: number | undefined;
  /** Addresses waiting to be asked again (greylisted). */
  greylisted: number;
  /** Seconds until the next of them is asked; undefined when none waits. */
  nextRetryInSeconds: number | undefined;
  /** Everything still under way waits for greylisting: the run is alive, only waiting. */
  waiting: boolean;
}

export function liveProgress(
  p: RunProgress,
  total: number | undefined,
  elapsedMs: number,
  retry: RetryStatus | undefined,
): LiveProgress {
  const decided = p.rowsDecided;
  const rate = elapsedMs > 0 ? (decided * 1000) / elapsedMs : 0;
  const greylisted = retry?.addresses ?? 0;
  return {
    decided,
    total,
    rate,
    etaSeconds: total && rate > 0 && total > decided ? (total - decided) / rate : undefined,
    greylisted,
    nextRetryInSeconds: greylisted > 0 && retry?.nextInMs !== undefined ? retry.nextInMs / 1000 : undefined,
    waiting: greylisted > 0 && p.inFlight <= greylisted,
  };
}
