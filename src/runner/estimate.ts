// The most a list could cost before any network work: syntax and dedup alone. One rule for the
// CLI's --estimate and the server's estimate endpoint, so the page and the terminal agree.
import { checkSyntax, duplicateKey } from '../core/syntax.js';
import { hash53, HashSet53 } from '../core/hash.js';
import { chargeFlagsOf } from '../core/flags.js';
import type { DataRow } from '../io/read.js';
import { estimateCredits, type CreditEstimate } from '../core/summary.js';
import { mayBeCharged } from '../core/verdict.js';

export interface ListEstimate {
  /** Data rows. */
  total: number;
  /** Distinct addresses (as duplicates are counted: local part case-folded). */
  unique: number;
  duplicates: number;
  /** Distinct addresses that pass the syntax check. */
  well_formed: number;
  /** Distinct well-formed addresses a pay-per-valid service could charge for. */
  chargeable: number;
  credits: CreditEstimate;
}

export async function estimateList(
  batches: AsyncIterable<DataRow[]>,
  options: { allowAddressLiterals: boolean; creditPrice: number },
): Promise<ListEstimate> {
  const seen = new HashSet53();
  let total = 0;
  let wellFormed = 0;
  let chargeable = 0;
  for await (const batch of batches) {
    for (const row of batch) {
      total += 1;
      const syntax = checkSyntax(row.address, { allowAddressLiterals: options.allowAddressLiterals });
      if (!seen.add(hash53(duplicateKey(syntax)))) continue;
      if (!syntax.ok) continue;
      wellFormed += 1;
      // The verdict's own charge rule, as far as it is known without the network.
      if (mayBeCharged(chargeFlagsOf(syntax.local, syntax.domain))) chargeable += 1;
    }
  }
  return {
    total,
    unique: seen.size,
    duplicates: total - seen.size,
    well_formed: wellFormed,
    chargeable,
    credits: estimateCredits(total, seen.size, chargeable, options.creditPrice),
  };
}
