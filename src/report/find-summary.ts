// The finder's summary: people per status, and what the search cost the mail hosts. Pure.
import { FIND_STATUSES, type FindResult, type FindStatus } from '../core/find-result.js';

export interface FindSummary {
  people: number;
  counts: Record<FindStatus, number>;
  /** Share of people with a verified address (found), 0-1. */
  found_share: number;
  /** Candidates asked, over all people (answers from the store included). */
  candidates_tried: number;
  /** RCPT commands sent to mail hosts (catch-all probes and greylisting retries included). */
  rcpts: number;
  rcpts_per_person: number;
  /** Candidates the learned domain patterns spared (against the commonness order). */
  rcpts_saved_by_learning: number;
  elapsed_ms: number;
}

export function createFindSummary() {
  const counts = Object.fromEntries(FIND_STATUSES.map((s) => [s, 0])) as Record<FindStatus, number>;
  let people = 0;
  let tried = 0;
  let saved = 0;
  return {
    add(result: FindResult): void {
      people += 1;
      counts[result.find_status] += 1;
      tried += result.candidates_tried;
      saved += result.saved;
    },
    count: () => people,
    finish(rcpts: number, elapsedMs: number): FindSummary {
      const share = (n: number) => (people === 0 ? 0 : Math.round((n / people) * 1000) / 1000);
      return {
        people,
        counts: { ...counts },
        found_share: share(counts.found),
        candidates_tried: tried,
        rcpts,
        rcpts_per_person: people === 0 ? 0 : Math.round((rcpts / people) * 100) / 100,
        rcpts_saved_by_learning: saved,
        elapsed_ms: Math.round(elapsedMs),
      };
    },
  };
}

/** The summary as plain text lines, for the terminal or a log. */
export function renderFindSummary(s: FindSummary): string {
  const pct = (n: number) => (s.people === 0 ? '0.0' : ((100 * n) / s.people).toFixed(1));
  const lines = [`${s.people} people`];
  for (const status of FIND_STATUSES)
    lines.push(`  ${status.padEnd(16)} ${String(s.counts[status]).padStart(7)}  ${pct(s.counts[status]).padStart(5)}%`);
  lines.push(
    `RCPTs sent: ${s.rcpts} (${s.rcpts_per_person} per person); candidates asked: ${s.candidates_tried}; ` +
      `spared by learned domain patterns: ${s.rcpts_saved_by_learning}`,
    `elapsed: ${(s.elapsed_ms / 1000).toFixed(1)}s`,
  );
  return lines.join('\n');
}
