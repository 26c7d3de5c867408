// Which columns of a people list hold the name and the company domain, found by header name.
import { InputError } from '../errors.js';
import type { TableShape } from '../io/table.js';

export interface PeopleColumns {
  first?: number;
  last?: number;
  /** A whole name, used when first or last is missing (in the column or the row). */
  full?: number;
  domain: number;
}

// Header names compared without case, spaces or punctuation: "First Name", "first_name", "firstName".
const FIRST = ['firstname', 'first', 'givenname', 'given', 'forename', 'prenom', 'vorname', 'nombre'];
const LAST = ['lastname', 'last', 'surname', 'familyname', 'family', 'nom', 'nachname', 'apellido', 'apellidos'];
const FULL = ['fullname', 'name', 'contactname', 'personname', 'contact', 'person'];
const DOMAIN = [
  'domain', 'companydomain', 'emaildomain', 'website', 'companywebsite', 'url', 'companyurl', 'web', 'site', 'homepage',
  'websiteurl', 'webseite',
]; // prettier-ignore

const normalise = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '');
const find = (header: string[], names: string[]): number | undefined => {
  const normalised = header.map(normalise);
  for (const name of names) {
    const i = normalised.indexOf(name);
    if (i >= 0) return i;
  }
  return undefined;
};

/** The name and domain columns of a header; a usage error naming the columns when they are not there. */
export function peopleColumnsOf(header: string[], source: string): PeopleColumns {
  const columns = {
    first: find(header, FIRST),
    last: find(header, LAST),
    full: find(header, FULL),
    domain: find(header, DOMAIN),
  };
  const listed = header.map((h) => `"${h}"`).join(', ');
  if (columns.domain === undefined) {
    throw new InputError(`${source}: no domain column (the columns are ${listed}); name one domain, website or company website`);
  }
  if (columns.full === undefined && (columns.first === undefined || columns.last === undefined)) {
    throw new InputError(
      `${source}: no name columns (the columns are ${listed}); name them first_name and last_name, or full_name`,
    );
  }
  return { ...columns, domain: columns.domain };
}

/**
 * The shape openInput reads a people list with: it always has a header (a list of names cannot
 * be told from its header by content). The address column of the verifier's shape is unused.
 */
export function peopleShapeOf(sample: string[][], source: string): TableShape {
  const first = sample[0];
  if (!first) throw new InputError(`${source}: the input is empty; give a list with a header and one person a row`);
  const width = Math.max(...sample.map((r) => r.length));
  const header = Array.from({ length: width }, (_, i) => first[i]?.trim() || `column_${i + 1}`);
  peopleColumnsOf(header, source);
  return { header, hasHeader: true, emailColumn: 0 };
}

export function personOf(cells: string[], columns: PeopleColumns) {
  const cell = (i: number | undefined) => (i === undefined ? undefined : (cells[i] ?? ''));
  return { first: cell(columns.first), last: cell(columns.last), full: cell(columns.full), domain: cell(columns.domain) ?? '' };
}
