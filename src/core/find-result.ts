// What the finder answers per person. Here in core, not in src/finder, so the finder's summary
// (report/find-summary.ts) reads the shape without reaching into src/finder, a room of its own.
import type { VerificationResult } from './types.js';

export type FindStatus = 'found' | 'catch_all_guess' | 'not_found' | 'unknown' | 'invalid_domain';
export const FIND_STATUSES: readonly FindStatus[] = ['found', 'catch_all_guess', 'not_found', 'unknown', 'invalid_domain'];

export interface FindResult {
  /** The address found or guessed; '' when there is none. */
  email: string;
  find_status: FindStatus;
  /** 0-100: how sure the address is the person's working one. */
  confidence: number;
  /** The convention of the address given (first.last, flast …); '' without one. */
  pattern: string;
  /** Candidates asked (answers from the store included). */
  candidates_tried: number;
  /** The domain searched (the registrable domain of what was given). */
  domain: string;
  /** Why, in words: what was found, or what stopped the search. */
  find_reason: string;
  /** The verifier's answer for the address given, or the one that stopped the search. */
  verification?: VerificationResult;
  /** Candidates the domain's learned pattern spared this person (0 when none was learned). */
  saved: number;
}
