import roleLists from 'role-based-email-addresses';
import { describe, expect, it } from 'vitest';
import { roleTypeOf } from '../../src/core/flags.js';

const ROLE_NAMES: string[] = [roleLists.MARKETING, roleLists.NOTIFICATION, roleLists.MEETING, roleLists.OTHER].flat();

describe('roleTypeOf', () => {
  it('knows every listed role name, in any case and with a +tag', () => {
    expect(ROLE_NAMES.length).toBeGreaterThan(50);
    const missed = ROLE_NAMES.filter(
      (name) => roleTypeOf(name) === '' || roleTypeOf(name.toUpperCase()) === '' || roleTypeOf(`${name}+eu`) === '',
    );
    expect(missed).toEqual([]);
  });

  it("gives personal addresses of a role name's length and first letter no role", () => {
    // Same length and first letter as "sales" and "info", and a longer name that starts like one.
    const personal = ['sally', 'Sandy', 'iris', 'info.desk', 'salesman', 'x'];
    expect(personal.map(roleTypeOf)).toEqual(personal.map(() => ''));
  });

  it('looks the long way at a first letter beyond ASCII, which may lowercase to a role name', () => {
    // U+0130 (capital I with a dot) lowercases to "i" and a combining dot: not "info".
    expect(roleTypeOf('\u0130nfo')).toBe('');
    expect(roleTypeOf('\u00e9quipe')).toBe('');
    // U+212A (Kelvin sign) lowercases to "k".
    expect(roleTypeOf('kontakt')).not.toBe('');
    expect(roleTypeOf('\u212Aontakt')).toBe(roleTypeOf('kontakt'));
  });
});
