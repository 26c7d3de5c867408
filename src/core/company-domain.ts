// A company's website or domain as lists give it -> the domain its addresses are at. Pure.
import { domainToASCII } from 'node:url';
import { getDomain } from 'tldts';

export type DomainResult = { ok: true; domain: string } | { ok: false; reason: string };

/**
 * "https://www.apple.com/about", "www.apple.com", "Apple.com." and "jobs.apple.com" are all
 * apple.com: the registrable domain (the public suffix list, via tldts), where people's
 * addresses are; a subdomain such as a careers site rarely has mailboxes of its own. Names under
 * no public suffix (a company's own .test or .internal zone) are kept as given.
 */
export function companyDomain(text: string): DomainResult {
  const given = text.trim();
  if (given === '') return { ok: false, reason: 'No domain: give domain, website or company website' };
  // "someone@apple.com" given as the domain: the part after the @ is meant.
  const withoutUser = given.includes('@') && !given.includes('/') ? given.slice(given.lastIndexOf('@') + 1) : given;
  const host = hostOf(withoutUser);
  if (host === undefined) return { ok: false, reason: `${JSON.stringify(given)} is not a domain or website address` };
  const registrable = getDomain(host, { allowPrivateDomains: false }) ?? host;
  if (
    !/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/.test(registrable) ||
    /^\d+$/.test(registrable.split('.').pop()!)
  ) {
    return { ok: false, reason: `${JSON.stringify(given)} is not a domain or website address` };
  }
  return { ok: true, domain: registrable };
}

function hostOf(text: string): string | undefined {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  try {
    const url = new URL(withScheme);
    const ascii = domainToASCII(url.hostname.replace(/\.$/, '').toLowerCase());
    return ascii === '' ? undefined : ascii.replace(/^www\d*\./, '');
  } catch {
    return undefined;
  }
}
