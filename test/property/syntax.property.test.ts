// Property-based tests (fast-check) for the syntax step (SPEC "pipeline → syntax"):
// whatever string comes in, checkSyntax answers without throwing, and what it calls `ok` is a
// mailbox that may be put in `RCPT TO:<…>` as it is.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSyntax, dedupKey, type SyntaxResult } from '../../src/core/syntax.js';

// FC_NUM_RUNS=20000 npx vitest run test/property for a longer search.
const NUM_RUNS = Number(process.env.FC_NUM_RUNS) || 300;
const run = { numRuns: NUM_RUNS };

const utf8 = new TextEncoder();
const octets = (s: string): number => utf8.encode(s).length;
const CONTROL = /\p{Cc}/u;

// ---------------------------------------------------------------------------------------
// Generators

const fromCode = (lo: number, hi: number) => fc.integer({ min: lo, max: hi }).map((n) => String.fromCodePoint(n));
/** One UTF-16 code unit that is a lone surrogate half. */
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((n) => String.fromCharCode(n));
/** Characters an address-shaped string is made of, plus the ones that trip parsers up. */
const interesting = fc.constantFrom(
  '@',
  '.',
  '"',
  '\\',
  '<',
  '>',
  '[',
  ']',
  ':',
  ' ',
  '-',
  '%',
  '?',
  '/',
  '#',
  ',',
  ';',
  '\r',
  '\n',
  '\r\n',
  '\0',
  '\t',
  '\x7f',
  '\x85',
  '\u00a0',
  '\u200b',
  '\u2028',
  '\ufeff',
  '\uff0f',
  '\uff0e',
  '\u3002',
  'mailto:',
  'xn--',
  'IPv6:',
  'a',
  'Z',
  '0',
  'é',
  'ß',
  'İ',
  '日本',
  '😀',
  'ｅ',
);
const unit = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: interesting },
  { weight: 1, arbitrary: fromCode(0, 0x1f) }, // C0
  { weight: 1, arbitrary: fromCode(0x7f, 0x9f) }, // DEL, C1
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) }, // any code point
  { weight: 1, arbitrary: loneSurrogate },
);
/** Arbitrary strings: control characters, any Unicode, lone surrogates. */
const anyString = fc.oneof(
  fc.string({ unit, maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
);
/** Very long strings, shaped like addresses so they get past the first checks. */
const longString = fc
  .tuple(
    fc.string({ unit, maxLength: 40 }),
    fc.integer({ min: 60, max: 5000 }),
    fc.constantFrom('a', 'é', '😀', '.', '"', 'a.'),
    fc.string({ unit, maxLength: 40 }),
  )
  .map(([head, n, filler, tail]) => `${head}${filler.repeat(n)}@${tail}${'b.'.repeat(n % 200)}com`);

const ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-";
const LDH = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-';
const LETDIG = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const charOf = (alphabet: string) => fc.constantFrom(...alphabet);

/** dot-atom local part (RFC 5321 §4.1.2): atoms of atext joined by single dots. */
const atom = fc.string({ unit: charOf(ATEXT), minLength: 1, maxLength: 16 });
const dotAtom = fc.array(atom, { minLength: 1, maxLength: 4 }).map((atoms) => atoms.join('.'));
/** sub-domain = Let-dig [Ldh-str]; not an A-label (those must be valid punycode). */
const ldhLabel = fc
  .tuple(charOf(LETDIG), fc.string({ unit: charOf(LDH), maxLength: 61 }), charOf(LETDIG))
  .map(([a, mid, z]) => (mid === '' && z === a ? a : `${a}${mid}${z}`))
  .filter((l) => !/^xn--/i.test(l));
/** A top-level label that is not all-numeric. */
const tld = fc
  .tuple(charOf(LETTERS), fc.string({ unit: charOf(LDH), maxLength: 20 }), charOf(LETDIG))
  .map(([a, mid, z]) => `${a}${mid}${z}`)
  .filter((l) => !/^xn--/i.test(l));
const domain = fc
  .tuple(fc.array(ldhLabel, { minLength: 1, maxLength: 4 }), tld)
  .map(([labels, top]) => [...labels, top].join('.'))
  .filter((d) => d.length <= 253);
/** Valid ASCII addresses within every length limit. */
const validAddress = fc
  .tuple(dotAtom, domain)
  .filter(([local, dom]) => local.length <= 64 && local.length + 1 + dom.length <= 254);

/** Valid addresses with a few arbitrary characters inserted, and Unicode ones: many are still ok. */
const nearlyValid = fc.oneof(
  fc.tuple(validAddress, fc.array(fc.tuple(fc.nat(), unit), { minLength: 1, maxLength: 3 })).map(([[local, dom], edits]) =>
    edits.reduce((s, [at, c]) => {
      const i = at % (s.length + 1);
      return s.slice(0, i) + c + s.slice(i);
    }, `${local}@${dom}`),
  ),
  fc
    .tuple(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
      fc.array(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 3 }),
      fc.constantFrom('com', 'xn--p1ai', 'рф', '中国', 'Org'),
    )
    .map(([local, labels, top]) => `${local}@${[...labels, top].join('.')}`),
);

/** Flips the case of the characters where `mask` says so. */
const recase = (s: string, mask: boolean[]): string =>
  [...s].map((c, i) => (mask[i % Math.max(mask.length, 1)] ? c.toUpperCase() : c.toLowerCase())).join('');

// ---------------------------------------------------------------------------------------

function checkBoth(s: string): SyntaxResult[] {
  return [checkSyntax(s), checkSyntax(s, { allowAddressLiterals: true })];
}

describe('checkSyntax on arbitrary strings', () => {
  it('never throws, and always returns a result of the documented shape', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, longString, nearlyValid), (s) => {
        for (const r of checkBoth(s)) {
          expect(r.input).toBe(s);
          expect(typeof r.email).toBe('string');
          if (!r.ok) {
            expect(typeof r.code).toBe('string');
            expect(r.reason.length).toBeGreaterThan(0);
            // The display form is safe to print.
            expect(r.email).not.toMatch(/[\p{Cc}\p{Cs}]/u);
          }
        }
      }),
      run,
    );
  });

  it('an ok result never carries a control character', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, longString, nearlyValid), (s) => {
        for (const r of checkBoth(s)) {
          if (!r.ok) continue;
          expect(r.email).not.toMatch(CONTROL);
          expect(r.local).not.toMatch(CONTROL);
          expect(r.domain).not.toMatch(CONTROL);
        }
      }),
      run,
    );
  });

  it('an ok result respects the length limits in octets, and is local@domain', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, longString, nearlyValid), (s) => {
        for (const r of checkBoth(s)) {
          if (!r.ok) continue;
          expect(r.email).toBe(`${r.local}@${r.domain}`);
          expect(octets(r.local)).toBeLessThanOrEqual(64);
          expect(octets(r.email)).toBeLessThanOrEqual(254);
          expect(r.local.length).toBeGreaterThan(0);
          if (!r.addressLiteral) {
            expect(r.domain).toBe(r.domain.toLowerCase());
            expect(r.domain).toMatch(/^[a-z0-9.-]+$/);
            expect(r.domain.length).toBeLessThanOrEqual(253);
            for (const label of r.domain.split('.')) {
              expect(label.length).toBeGreaterThan(0);
              expect(label.length).toBeLessThanOrEqual(63);
            }
          }
        }
      }),
      run,
    );
  });

  it('is idempotent on its own output', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, longString, nearlyValid), (s) => {
        for (const options of [{}, { allowAddressLiterals: true }]) {
          const r = checkSyntax(s, options);
          if (!r.ok) continue;
          const again = checkSyntax(r.email, options);
          expect(again.ok).toBe(true);
          expect(again.email).toBe(r.email);
          if (again.ok) {
            expect(again.domain).toBe(r.domain);
            expect(again.smtputf8).toBe(r.smtputf8);
          }
        }
      }),
      run,
    );
  });
});

describe('checkSyntax on generated valid addresses', () => {
  it('accepts every dot-atom@LDH address within the limits, lowercasing only the domain', () => {
    fc.assert(
      fc.property(validAddress, ([local, dom]) => {
        const r = checkSyntax(`${local}@${dom}`);
        expect(r).toMatchObject({ ok: true, email: `${local}@${dom.toLowerCase()}`, local, domain: dom.toLowerCase() });
      }),
      run,
    );
  });

  it('accepts them however they are wrapped (spaces, mailto:, Name <…>)', () => {
    fc.assert(
      fc.property(
        validAddress,
        fc.constantFrom('plain', 'spaces', 'mailto', 'angle', 'named'),
        fc.string({ unit: charOf(`${LETTERS} `), maxLength: 20 }),
        ([local, dom], wrap, name) => {
          const address = `${local}@${dom}`;
          const input =
            wrap === 'spaces'
              ? `  ${address}\t`
              : wrap === 'mailto'
                ? `mailto:${encodeURIComponent(local)}@${dom}?subject=hi`
                : wrap === 'angle'
                  ? `<${address}>`
                  : wrap === 'named'
                    ? `"${name}" <${address}>`
                    : address;
          expect(checkSyntax(input)).toMatchObject({ ok: true, email: `${local}@${dom.toLowerCase()}` });
        },
      ),
      run,
    );
  });

  it('dedupKey does not change with the case of the local part or of the domain', () => {
    fc.assert(
      fc.property(
        validAddress,
        fc.array(fc.boolean(), { minLength: 1 }),
        fc.array(fc.boolean(), { minLength: 1 }),
        ([local, dom], m1, m2) => {
          const key = dedupKey(`${local}@${dom}`);
          expect(dedupKey(`${recase(local, m1)}@${recase(dom, m2)}`)).toBe(key);
          expect(dedupKey(`${local.toUpperCase()}@${dom}`)).toBe(key);
          expect(key).toBe(`${local.toLowerCase()}@${dom.toLowerCase()}`);
        },
      ),
      run,
    );
  });

  it('dedupKey ignores case in quoted and UTF-8 local parts too', () => {
    // Characters whose lower case is stable under toUpperCase (not ß -> SS, not İ -> i̇).
    const caseStable = fc
      .constantFrom(...'abcxyzABCXYZ019_éÉüÜøØжЖωΩ日本')
      .filter((c) => c.toUpperCase().toLowerCase() === c.toLowerCase());
    fc.assert(
      fc.property(
        fc.string({ unit: caseStable, minLength: 1, maxLength: 20 }),
        fc.boolean(),
        domain,
        fc.array(fc.boolean(), { minLength: 1 }),
        (body, quoted, dom, mask) => {
          const local = quoted ? `"${body} x"` : body;
          fc.pre(checkSyntax(`${local}@${dom}`).ok);
          expect(dedupKey(`${recase(local, mask)}@${dom.toUpperCase()}`)).toBe(dedupKey(`${local}@${dom}`));
        },
      ),
      run,
    );
  });
});

describe('checkSyntax: CR, LF and NUL never pass', () => {
  const breaker = fc.constantFrom('\r', '\n', '\r\n', '\0', '\r\nRCPT TO:<x@evil.example>\r\n', '\n.\n');

  it('inside an arbitrary string (not at its ends, which trimming removes)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit, minLength: 1, maxLength: 40 }),
        breaker,
        fc.string({ unit, minLength: 1, maxLength: 40 }),
        (a, b, c) => {
          fc.pre(a.trim() !== '' && c.trim() !== '');
          for (const r of checkBoth(`${a}${b}${c}`)) expect(r.ok).toBe(false);
        },
      ),
      run,
    );
  });

  it('anywhere inside a valid address, wrapped or not, raw or percent-encoded after mailto:', () => {
    fc.assert(
      fc.property(
        validAddress,
        fc.nat(),
        breaker,
        fc.constantFrom('plain', 'angle', 'named', 'mailto', 'mailto-encoded', 'quoted'),
        ([local, dom], at, b, wrap) => {
          const address = wrap === 'quoted' ? `"${local}"@${dom}` : `${local}@${dom}`;
          // A position strictly inside the address, so that trimming cannot remove it.
          const i = 1 + (at % (address.length - 1));
          const broken = `${address.slice(0, i)}${b}${address.slice(i)}`;
          const input =
            wrap === 'angle'
              ? `<${broken}>`
              : wrap === 'named'
                ? `Someone <${broken}>`
                : wrap === 'mailto'
                  ? `mailto:${broken}`
                  : wrap === 'mailto-encoded'
                    ? // Encoded throughout: a stray '%' (atext) would make the whole decoding fail,
                      // and then "%0D" stays three harmless characters.
                      `mailto:${encodeURIComponent(address.slice(0, i))}${encodeURIComponent(b)}${encodeURIComponent(address.slice(i))}`
                    : broken;
          for (const r of checkBoth(input)) {
            expect(r.ok).toBe(false);
            expect(r.email).not.toMatch(CONTROL);
          }
        },
      ),
      run,
    );
  });

  it('a control character in the display name fails the whole input', () => {
    fc.assert(
      fc.property(
        validAddress,
        breaker,
        fc.string({ unit: charOf(LETTERS), minLength: 1, maxLength: 10 }),
        ([local, dom], b, name) => {
          expect(checkSyntax(`${name}${b}${name} <${local}@${dom}>`).ok).toBe(false);
        },
      ),
      run,
    );
  });
});
