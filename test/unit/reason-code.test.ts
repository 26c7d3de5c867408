import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROVIDER_TABLE } from '../../src/core/provider.js';
import { REASON_CODES } from '../../src/core/reason-code.js';

// Scripts filter on these names, so README.md is their contract: each must be documented there.
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('the documented codes', () => {
  it('README.md has a row for every reason_code, with its result', () => {
    for (const [code, info] of Object.entries(REASON_CODES)) {
      expect(readme, code).toContain(`| \`${code}\` | ${info.result} |`);
    }
  });

  it('README.md has a row for every provider', () => {
    for (const provider of new Set(PROVIDER_TABLE.map(([, p]) => p))) {
      expect(readme, provider).toMatch(new RegExp(`^\\| \`${provider}\` \\|`, 'm'));
    }
  });

  it('says what resolves every unknown and risky code', () => {
    for (const [code, info] of Object.entries(REASON_CODES)) {
      if (info.result === 'unknown' || info.result === 'risky') expect(info.fix, code).not.toBe('');
    }
  });
});
