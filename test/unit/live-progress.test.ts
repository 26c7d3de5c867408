// Where a run stands, as the CLI's progress line and the server's job view both read it.
import { describe, expect, it } from 'vitest';
import { liveProgress } from '../../src/runner/live-progress.js';
import type { RunProgress } from '../../src/runner/run-rows.js';

const at = (p: Partial<RunProgress>): RunProgress => ({
  rowsRead: 0,
  rowsWritten: 0,
  decided: 0,
  rowsDecided: 0,
  inFlight: 0,
  ...p,
});

describe('liveProgress', () => {
  it('counts rows decided in any order, and gives rate and time left', () => {
    expect(liveProgress(at({ rowsDecided: 50, rowsWritten: 10, inFlight: 5 }), 150, 10_000, undefined)).toEqual({
      decided: 50,
      total: 150,
      rate: 5,
      etaSeconds: 20,
      greylisted: 0,
      nextRetryInSeconds: undefined,
      waiting: false,
    });
  });

  it('has no time left to give without a total or a rate', () => {
    expect(liveProgress(at({ rowsDecided: 5 }), undefined, 1000, undefined).etaSeconds).toBeUndefined();
    expect(liveProgress(at({}), 10, 1000, undefined).etaSeconds).toBeUndefined();
    expect(liveProgress(at({ rowsDecided: 5 }), 10, 0, undefined)).toMatchObject({ rate: 0, etaSeconds: undefined });
  });

  it('is waiting when all that is under way is greylisted, and says when the next retry is', () => {
    const waiting = liveProgress(at({ rowsDecided: 7, inFlight: 3 }), 10, 1000, { addresses: 3, nextInMs: 4500 });
    expect(waiting).toMatchObject({ greylisted: 3, nextRetryInSeconds: 4.5, waiting: true });
    const busy = liveProgress(at({ rowsDecided: 7, inFlight: 5 }), 10, 1000, { addresses: 3, nextInMs: 4500 });
    expect(busy).toMatchObject({ greylisted: 3, waiting: false });
    const none = liveProgress(at({ rowsDecided: 7, inFlight: 0 }), 10, 1000, { addresses: 0, nextInMs: undefined });
    expect(none).toMatchObject({ greylisted: 0, nextRetryInSeconds: undefined, waiting: false });
  });
});
