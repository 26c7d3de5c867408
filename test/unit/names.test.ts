// Names as lists give them -> spellings -> candidate local parts, and websites -> domains.
import { describe, expect, it } from 'vitest';
import { companyDomain } from '../../src/core/company-domain.js';
import { nameSpellings, type RawName } from '../../src/core/names.js';
import { candidatesOf, patternsOf, PATTERN_NAMES } from '../../src/core/patterns.js';

const spell = (raw: RawName) => {
  const result = nameSpellings(raw);
  if (!result.ok) throw new Error(result.reason);
  return result.name;
};

describe('nameSpellings', () => {
  it.each<[RawName, string[], string[], string[]]>([
    [{ first: 'Tim', last: 'Cook' }, ['tim'], ['cook'], []],
    [{ first: '  tim ', last: ' COOK  ' }, ['tim'], ['cook'], []],
    [{ first: 'José', last: 'Núñez' }, ['jose'], ['nunez'], []],
    [{ first: 'Hans', last: 'Müller' }, ['hans'], ['mueller', 'muller'], []],
    [{ first: 'Jürgen', last: 'Groß' }, ['juergen', 'jurgen'], ['gross'], []],
    [{ first: 'Conan', last: "O'Brien" }, ['conan'], ['obrien'], []],
    [{ first: 'Conan', last: 'O’Brien' }, ['conan'], ['obrien'], []],
    [{ first: 'Jan', last: 'van der Berg' }, ['jan'], ['vanderberg', 'berg', 'van-der-berg'], []],
    [{ first: 'Gabriel', last: 'García Márquez' }, ['gabriel'], ['garciamarquez', 'garcia', 'garcia-marquez', 'marquez'], []],
    [{ first: 'Anna', last: 'Smith-Jones' }, ['anna'], ['smithjones', 'smith', 'smith-jones', 'jones'], []],
    [{ first: 'Jean-Pierre', last: 'Roux' }, ['jeanpierre', 'jean-pierre', 'jean'], ['roux'], []],
    [{ first: 'John Q.', last: 'Public' }, ['john'], ['public'], ['q']],
    [{ full: 'Mary Ann Lee' }, ['mary'], ['lee'], ['a']],
    [{ full: 'Dr. Jane Doe, PhD' }, ['jane'], ['doe'], []],
    [{ full: 'Doe, Jane' }, ['jane'], ['doe'], []],
    [{ full: 'Ludwig van Beethoven' }, ['ludwig'], ['vanbeethoven', 'beethoven', 'van-beethoven'], []],
    [{ first: 'Дмитрий', last: 'Иванов' }, ['dmitriy'], ['ivanov'], []],
    [{ first: '伟', last: '张' }, ['wei'], ['zhang'], []],
    [{ first: 'Ελένη', last: 'Παπαδοπούλου' }, ['eleni'], ['papadopoyloy'], []],
    [{ first: 'Søren', last: 'Kierkegaard' }, ['soren'], ['kierkegaard'], []],
    [{ first: 'Tim', full: 'Tim Cook' }, ['tim'], ['cook'], []],
  ])('%j', (raw, first, last, middle) => {
    const name = spell(raw);
    expect(name.first).toEqual(expect.arrayContaining(first));
    expect(name.first[0]).toBe(first[0]);
    expect(name.last).toEqual(expect.arrayContaining(last));
    expect(name.last[0]).toBe(last[0]);
    expect(name.middleInitials).toEqual(middle);
  });

  it.each<[RawName, string]>([
    [{ first: '', last: 'Cook' }, 'no_first_name'],
    [{ first: 'Tim', last: '' }, 'no_last_name'],
    [{ full: 'Cher' }, 'no_last_name'],
    [{ first: '🦄', last: 'Cook' }, 'not_transliterable'],
    [{ first: '...', last: 'Cook' }, 'not_transliterable'],
  ])('%j has no spelling: %s, said rather than dropped', (raw, problem) => {
    const result = nameSpellings(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problem).toBe(problem);
      expect(result.reason).not.toBe('');
    }
  });
});

describe('candidatesOf', () => {
  it('orders the conventions by how common they are', () => {
    const locals = candidatesOf(spell({ first: 'Tim', last: 'Cook' }), { max: 8 }).map((c) => c.local);
    expect(locals).toEqual(['tim.cook', 'tim', 'tcook', 'timcook', 't.cook', 'tim_cook', 'cook', 'timc']);
  });

  it('stops at max and never repeats a local part', () => {
    const all = candidatesOf(spell({ first: 'Al', last: 'Al' }), { max: 50 });
    expect(new Set(all.map((c) => c.local)).size).toBe(all.length);
    expect(candidatesOf(spell({ first: 'Tim', last: 'Cook' }), { max: 3 })).toHaveLength(3);
  });

  it('puts a learned pattern first', () => {
    const locals = candidatesOf(spell({ first: 'Tim', last: 'Cook' }), { max: 3, preferred: 'flast' }).map((c) => c.local);
    expect(locals).toEqual(['tcook', 'tim.cook', 'tim']);
  });

  it('tries the other spelling of an umlaut after the main spelling’s likeliest patterns', () => {
    const locals = candidatesOf(spell({ first: 'Hans', last: 'Müller' }), { max: 8 }).map((c) => c.local);
    expect(locals.slice(0, 4)).toEqual(['hans.mueller', 'hans', 'hmueller', 'hansmueller']);
    expect(locals).toContain('hans.muller');
  });

  it('uses middle initials only in the patterns made for them', () => {
    const all = candidatesOf(spell({ first: 'John Q.', last: 'Public' }), { max: 50 }).map((c) => c.local);
    expect(all).toContain('jqpublic');
    expect(all).toContain('john.q.public');
    expect(candidatesOf(spell({ first: 'John', last: 'Public' }), { max: 50 }).map((c) => c.local)).not.toContain('jpublic.');
  });

  it('tells which pattern made an address', () => {
    const name = spell({ first: 'Hans', last: 'Müller' });
    expect(patternsOf('HMuller', name)).toEqual(['flast']);
    expect(patternsOf('hans.mueller', name)).toEqual(['first.last']);
    expect(patternsOf('someone', name)).toEqual([]);
    expect(PATTERN_NAMES.slice(0, 7)).toEqual(['first.last', 'first', 'flast', 'firstlast', 'f.last', 'first_last', 'last']);
  });
});

describe('companyDomain', () => {
  it.each([
    ['apple.com', 'apple.com'],
    ['https://www.apple.com/about?x=1', 'apple.com'],
    ['www.Apple.com', 'apple.com'],
    ['apple.com.', 'apple.com'],
    ['jobs.apple.com', 'apple.com'],
    ['http://shop.example.co.uk', 'example.co.uk'],
    ['bücher.de', 'xn--bcher-kva.de'],
    ['tim@apple.com', 'apple.com'],
    ['  acme.test ', 'acme.test'],
  ])('%s -> %s', (given, domain) => {
    expect(companyDomain(given)).toEqual({ ok: true, domain });
  });

  it.each(['', 'not a domain', 'http://', '1.2.3.4', 'localhost', 'a..b.com', '-bad.com'])(
    'refuses %j with a reason',
    (given) => {
      const result = companyDomain(given);
      expect(result.ok).toBe(false);
    },
  );
});
