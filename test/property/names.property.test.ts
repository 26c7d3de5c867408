// Name handling never throws, and what it makes is a valid local part or nothing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSyntax } from '../../src/core/syntax.js';
import { nameSpellings } from '../../src/core/names.js';
import { candidatesOf, isCandidateLocalPart, patternsOf } from '../../src/core/patterns.js';
import { companyDomain } from '../../src/core/company-domain.js';

// Names as they come: any text, or words from scripts lists hold, with the punctuation they carry.
const nameWord = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc
    .array(
      fc.constantFrom(
        ...'aeiouéüøßñłçžšáíóúAEZ',
        "'",
        '-',
        ' ',
        '.',
        ',',
        '’',
        'van',
        'de',
        'Дми',
        '张',
        'Ελ',
        'محمد',
        '\u0301',
        '\t',
      ),
      {
        maxLength: 12,
      },
    )
    .map((parts) => parts.join('')),
);

describe('nameSpellings (property)', () => {
  it('never throws; every candidate is a valid local part and makes a valid address', () => {
    fc.assert(
      fc.property(
        fc.option(nameWord),
        fc.option(nameWord),
        fc.option(nameWord),
        fc.integer({ min: 1, max: 30 }),
        (first, last, full, max) => {
          const result = nameSpellings({ first: first ?? undefined, last: last ?? undefined, full: full ?? undefined });
          if (!result.ok) {
            expect(result.reason.length).toBeGreaterThan(0);
            return;
          }
          for (const spelling of [...result.name.first, ...result.name.last])
            expect(spelling).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
          const candidates = candidatesOf(result.name, { max });
          expect(candidates.length).toBeLessThanOrEqual(max);
          expect(new Set(candidates.map((c) => c.local)).size).toBe(candidates.length);
          for (const { local, pattern } of candidates) {
            expect(isCandidateLocalPart(local)).toBe(true);
            expect(checkSyntax(`${local}@example.com`, {}).ok).toBe(true);
            expect(patternsOf(local, result.name)).toContain(pattern);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a Latin name with letters on both sides always gives candidates', () => {
    const latin = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzÀÉÎÕÜÑÇ'), minLength: 1, maxLength: 15 });
    fc.assert(
      fc.property(latin, latin, (first, last) => {
        const result = nameSpellings({ first, last });
        expect(result.ok).toBe(true);
        if (result.ok) expect(candidatesOf(result.name, { max: 8 }).length).toBeGreaterThan(0);
      }),
    );
  });

  it('companyDomain never throws and gives a lower-case host name or a reason', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.webUrl(), fc.domain()), (text) => {
        const result = companyDomain(text);
        if (result.ok) expect(result.domain).toMatch(/^[a-z0-9.-]+$/);
        else expect(result.reason).not.toBe('');
      }),
    );
  });
});
