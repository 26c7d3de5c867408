/**
 * Pipeline step "syntax" (SPEC.md): normalise an address the way people write it, then check that
 * it is an RFC 5321 mailbox we may put in `RCPT TO:<…>`. Pure: no I/O.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII, domainToUnicode } from 'node:url';
import type { DomainFlags } from './flags.js';
import { memoized } from './memo.js';

export type SyntaxErrorCode =
  | 'empty'
  | 'control_chars'
  | 'undecodable'
  | 'no_at'
  | 'bad_local'
  | 'local_too_long'
  | 'too_long'
  | 'bad_domain'
  | 'label_too_long'
  | 'numeric_tld'
  | 'address_literal';

export interface SyntaxOk {
  ok: true;
  /** The raw input as given. */
  input: string;
  /** Local part as written (quoted form kept), '@', ASCII lowercase domain (or the literal as written). */
  email: string;
  local: string;
  /** ASCII (punycode), lowercase, no trailing dot; for an address literal the literal as written. */
  domain: string;
  /** Unicode form of `domain` (equal to it when not IDN). */
  unicodeDomain: string;
  /** The local part contains non-ASCII, so delivery needs the SMTPUTF8 extension (RFC 6531). */
  smtputf8: boolean;
  quoted: boolean;
  addressLiteral: boolean;
  /** Where later steps keep what they work out once per domain (see DomainKept). */
  domainKept: DomainKept;
}

/**
 * Kept with the domain's own syntax answer, which is remembered for the domains seen last (one
 * object per domain while it is): the flags' answer for the domain (flags.ts) is then found with
 * no lookup of its own, which a million-row --offline run measured as a thirtieth of its time.
 */
export interface DomainKept {
  flags: DomainFlags | undefined;
}

export interface SyntaxFail {
  ok: false;
  input: string;
  /** Best-effort normalised form for display; control characters replaced with U+FFFD. */
  email: string;
  code: SyntaxErrorCode;
  reason: string;
}

export type SyntaxResult = SyntaxOk | SyntaxFail;

export interface SyntaxOptions {
  /** Accept `[1.2.3.4]` / `[IPv6:…]` domains (RFC 5321 §4.1.3). Default false. */
  allowAddressLiterals?: boolean;
}

// Limits are in octets of the on-the-wire form: UTF-8 local part, punycode domain.
const MAX_LOCAL = 64; // RFC 5321 §4.5.3.1.1
const MAX_LABEL = 63; // RFC 1035 §2.3.4
const MAX_DOMAIN = 253; // RFC 1035 §2.3.4: 255 on the wire, less the first length octet and the root
const MAX_ADDRESS = 254; // RFC 5321 §4.5.3.1.3: a 256-octet path less its angle brackets

// C0, DEL and C1. CRLF ends an SMTP command line (RFC 5321 §2.3.8), so an address carrying one
// could smuggle commands to the server; none of these may ever leave this module as "ok".
const CONTROL = /\p{Cc}/u;
const UNDISPLAYABLE = /[\p{Cc}\p{Cs}]/gu;

// UTF8-non-ascii (RFC 6531 §3.3), less format, private-use, unassigned and lone-surrogate code
// points (\p{C}) and separators (\p{Z}): legal in the grammar but invisible, so only good for spoofing.
const NON_ASCII = String.raw`[^\p{ASCII}\p{C}\p{Z}]`;
// atext (RFC 5322 §3.2.3, used by RFC 5321 §4.1.2 Atom), extended by RFC 6531.
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
const ATOM_CHAR = new RegExp(`^(?:${ATEXT}|${NON_ASCII})$`, 'u');
// Nearly every local part is plain ASCII atext: one test instead of one a character.
const ASCII_DOT_ATOM_CHARS = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$/;
// Quoted-string of qtextSMTP / quoted-pairSMTP (RFC 5321 §4.1.2); RFC 6531 adds UTF-8 to qtextSMTP.
const QUOTED = new RegExp(String.raw`^"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|${NON_ASCII}|\\[\x20-\x7e])*"$`, 'u');
// What may precede IDNA conversion: LDH, dots, or a visible non-ASCII character.
const HOST_CHAR = new RegExp(String.raw`^(?:[A-Za-z0-9.-]|${NON_ASCII})$`, 'u');
// sub-domain = Let-dig [Ldh-str] (RFC 5321 §4.1.2)
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const NUMERIC = /^[0-9]+$/;

// Buffer.byteLength counts UTF-8 octets without encoding (a lone surrogate counts as U+FFFD's 3).
const octets = (s: string): number => Buffer.byteLength(s, 'utf8');
// A UTF-16 code unit is at most 3 octets in UTF-8: text that short is within `limit` uncounted.
const within = (s: string, limit: number): boolean => s.length * 3 <= limit || octets(s) <= limit;

type Problem = [SyntaxErrorCode, string];
interface Domain {
  ascii: string;
  unicode: string;
  literal: boolean;
  kept: DomainKept;
}

// The engine checks each row's address twice in a row (its identity for dedup, then its verdict,
// with the run's allowAddressLiterals): the last answer is kept for the second call.
let lastInput: string | undefined;
let lastAllowLiterals = false;
let lastResult: SyntaxResult | undefined;

/** Whether allowAddressLiterals could change this result: only for a domain written as a literal. */
function literalMatters(result: SyntaxResult): boolean {
  if (result.ok) return result.addressLiteral;
  return result.email.slice(result.email.lastIndexOf('@') + 1).startsWith('[');
}

export function checkSyntax(input: string, options: SyntaxOptions = {}): SyntaxResult {
  const allowLiterals = options.allowAddressLiterals ?? false;
  if (lastResult !== undefined && lastInput === input && (lastAllowLiterals === allowLiterals || !literalMatters(lastResult))) {
    return lastResult;
  }
  const result = checkSyntaxAnew(input, allowLiterals);
  lastInput = input;
  lastAllowLiterals = allowLiterals;
  lastResult = result;
  return result;
}

function checkSyntaxAnew(input: string, allowLiterals: boolean): SyntaxResult {
  const trimmed = String(input ?? '').trim();
  const address = unwrap(trimmed);
  const fail = (code: SyntaxErrorCode, reason: string, shown = address): SyntaxFail => ({
    ok: false,
    input,
    email: display(shown),
    code,
    reason,
  });

  // Checked on the whole trimmed input: unwrapping `a@b\r\nRCPT TO:<x@y>` would yield a clean `x@y`.
  if (CONTROL.test(trimmed) || (address !== trimmed && CONTROL.test(address))) {
    return fail('control_chars', 'Address contains control characters (such as CR, LF, TAB or NUL)', trimmed);
  }
  // U+FFFD stands where the reader met bytes that were not text: the address as written is lost,
  // and no server has a mailbox by that name.
  if (trimmed.includes('\uFFFD')) {
    return fail('undecodable', "Address contains bytes that are not text in the file's encoding (shown as U+FFFD)", trimmed);
  }
  if (address === '') return fail('empty', 'Address is empty');
  // '@' is never valid in a domain we accept, so the last one separates even `"a@b"@c.d`.
  const at = address.lastIndexOf('@');
  if (at < 0) return fail('no_at', "Address has no '@'");
  const local = address.slice(0, at);

  const localProblem = checkLocal(local);
  if (localProblem) return fail(...localProblem);
  const domain = checkDomainOnce(address.slice(at + 1), allowLiterals);
  if (!('ascii' in domain)) return fail(...domain);
  const { ascii, unicode, literal, kept } = domain;
  if (!within(local, MAX_ADDRESS - 1 - ascii.length)) {
    return fail('too_long', `Address is longer than ${MAX_ADDRESS} octets`);
  }
  return {
    ok: true,
    input,
    email: `${local}@${ascii}`,
    local,
    domain: ascii,
    unicodeDomain: unicode,
    smtputf8: /[^\x00-\x7f]/.test(local),
    quoted: local.startsWith('"'),
    addressLiteral: literal,
    domainKept: kept,
  };
}

/** Key used to detect duplicates: the normalised address with its local part case-folded (toLowerCase). */
export function dedupKey(email: string): string {
  return keyOfNormalised(checkSyntax(email, { allowAddressLiterals: true }).email);
}

/**
 * The key repeats of an address share, from a checkSyntax result: well-formed addresses by
 * dedupKey, malformed ones by their display form (so a repeated typo is a duplicate too).
 */
export function duplicateKey(syntax: SyntaxResult): string {
  return syntax.ok ? withLocalFolded(syntax.email, syntax.local) : `invalid:${syntax.email}`;
}

/** dedupKey of an address checkSyntax already normalised: no second parse on the hot path. */
export function keyOfNormalised(normalised: string): string {
  const at = normalised.lastIndexOf('@');
  if (at < 0) return normalised.toLowerCase();
  return withLocalFolded(normalised, normalised.slice(0, at));
}

/** `email` (`local` + '@' + domain) with its local part lowercased. */
function withLocalFolded(email: string, local: string): string {
  const folded = local.toLowerCase();
  // Most local parts are lowercase already: the address is its own key, with no string to build.
  return folded === local ? email : folded + email.slice(local.length);
}

/** `Name <addr>` → `addr`; `mailto:addr?query` → `addr` (percent-decoded, RFC 6068 §2). */
function unwrap(s: string): string {
  if (s.endsWith('>')) {
    let quoted = false; // the display name may be a quoted-string holding '<'
    for (let i = 0; i < s.length; i++) {
      const c = s[i];
      if (quoted && c === '\\') i++;
      else if (c === '"') quoted = !quoted;
      else if (c === '<' && !quoted) {
        s = s.slice(i + 1, -1).trim();
        break;
      }
    }
  }
  if ((s.charCodeAt(0) | 0x20) === 0x6d && /^mailto:/i.test(s)) {
    s = s.slice('mailto:'.length).split('?')[0] ?? '';
    try {
      s = decodeURIComponent(s);
    } catch {
      // not valid percent-encoding: keep it as written
    }
    s = s.trim();
  }
  return s;
}

function display(s: string): string {
  const at = s.lastIndexOf('@');
  const shown = at < 0 ? s : s.slice(0, at + 1) + s.slice(at + 1).toLowerCase();
  return shown.replace(UNDISPLAYABLE, '\uFFFD');
}

function describe(c: string): string {
  if (/^[\x21-\x7e]$/.test(c)) return `'${c}'`;
  const hex = (c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
  return c === ' ' ? 'a space' : `U+${hex}`;
}

function checkLocal(local: string): Problem | undefined {
  if (local === '') return ['bad_local', 'Local part is empty'];
  if (local.startsWith('"')) {
    // RFC 5321 allows "" but it names no mailbox anyone could own.
    if (local === '""') return ['bad_local', 'Quoted local part is empty'];
    if (!QUOTED.test(local)) return ['bad_local', 'Local part is not a well-formed quoted string'];
  } else {
    if (local.includes('@')) return ['bad_local', "Address has more than one '@' outside quotes"];
    const bad = ASCII_DOT_ATOM_CHARS.test(local) ? undefined : [...local].find((c) => c !== '.' && !ATOM_CHAR.test(c));
    if (bad !== undefined) return ['bad_local', `Local part contains ${describe(bad)}`];
    if (/^\.|\.\.|\.$/.test(local)) {
      return ['bad_local', 'Local part starts or ends with a dot, or has two dots in a row'];
    }
  }
  if (!within(local, MAX_LOCAL)) return ['local_too_long', `Local part is longer than ${MAX_LOCAL} octets`];
  return undefined;
}

// A list repeats its domains (a million rows may hold a few thousand), and checking one costs more
// than the rest of the address (NFKC, IDNA both ways): remember the last few thousand answers.
const checkDomainMemo = [memoized(8192, (raw) => checkDomain(raw, false)), memoized(8192, (raw) => checkDomain(raw, true))];

function checkDomainOnce(raw: string, allowLiterals: boolean): Problem | Domain {
  return checkDomainMemo[allowLiterals ? 1 : 0]!(raw);
}

function checkDomain(raw: string, allowLiterals: boolean): Problem | Domain {
  if (raw === '') return ['bad_domain', 'Domain is empty'];
  if (raw.startsWith('[')) return checkLiteral(raw, allowLiterals);

  // url.domainToASCII is the WHATWG host parser: it cuts at '/', '?' or '#', percent-decodes and
  // rewrites IPv4 numbers (`a@evil.com/x.org` → evil.com). Only LDH and visible Unicode may reach it,
  // judged after NFKC because UTS #46 maps e.g. U+FF0F to '/'.
  const folded = raw.normalize('NFKC');
  const bad = [...folded].find((c, i, all) => !HOST_CHAR.test(c) || !idna2008Allows(c, all[i - 1], all[i + 1]));
  if (bad !== undefined) return ['bad_domain', `Domain contains ${describe(bad)}`];
  // Checked before conversion too, since the host parser fails on an out-of-range IPv4 like 999.1.
  if (NUMERIC.test(lastLabel(folded.replace(/\.$/, '')))) {
    return ['numeric_tld', 'Top-level domain is all-numeric'];
  }

  let ascii = domainToASCII(raw);
  if (ascii === '') return ['bad_domain', 'Domain is not a valid (internationalised) domain name'];
  if (ascii.endsWith('.')) ascii = ascii.slice(0, -1); // the root label: same host
  // domainToASCII passes `a..b`, `-a` and long labels through, so validate what it returns.
  const labels = ascii.split('.');
  for (const label of labels) {
    if (label === '') return ['bad_domain', 'Domain starts or ends with a dot, or has two dots in a row'];
    if (label.length > MAX_LABEL) return ['label_too_long', `Domain label is longer than ${MAX_LABEL} octets`];
    if (!LDH_LABEL.test(label)) {
      return ['bad_domain', `Domain label '${label}' must be letters, digits and inner hyphens`];
    }
    // Node 20 rejects malformed punycode (`xn--0`) in domainToASCII, Node 24 passes it through:
    // a real A-label decodes to something that encodes back to itself.
    if (label.startsWith('xn--')) {
      const decoded = domainToUnicode(label);
      if (decoded === '' || decoded === label || domainToASCII(decoded) !== label) {
        return ['bad_domain', `Domain label '${label}' is not valid punycode`];
      }
    }
  }
  // Only fully-qualified names are allowed in SMTP (RFC 5321 §2.3.5).
  if (labels.length < 2) return ['bad_domain', 'Domain is not fully qualified (it has no dot)'];
  // A top-level domain is never all-numeric (RFC 3696 §2).
  if (NUMERIC.test(lastLabel(ascii))) return ['numeric_tld', 'Top-level domain is all-numeric'];
  if (ascii.length > MAX_DOMAIN) return ['too_long', `Domain is longer than ${MAX_DOMAIN} octets`];
  return { ascii, unicode: domainToUnicode(ascii), literal: false, kept: { flags: undefined } };
}

// IDNA 2008 (RFC 5892) lets into a label letters, marks and digits only; UTS #46, which the
// WHATWG host parser follows, still passes symbols such as © or ™ (`a@domain.com©` would become
// an xn-- label no registry accepts). Besides those: the ideographic full stop, a dot (UTS #46
// §2.3), and the CONTEXTO punctuation of RFC 5892 Appendix A where its rule allows it.
const IDNA_LETTER = /^[\p{L}\p{M}\p{Nd}]$/u;
const IDNA_CONTEXTO = new Set(['\u0375', '\u05F3', '\u05F4', '\u30FB']);

function idna2008Allows(c: string, before: string | undefined, after: string | undefined): boolean {
  if (c < '\u0080' || IDNA_LETTER.test(c) || IDNA_CONTEXTO.has(c) || c === '\u3002') return true;
  // MIDDLE DOT only between two l's, as Catalan writes it (col·legi.cat).
  return c === '\u00B7' && before?.toLowerCase() === 'l' && after?.toLowerCase() === 'l';
}

function lastLabel(domain: string): string {
  return domain.slice(domain.lastIndexOf('.') + 1);
}

// address-literal = "[" ( IPv4-address-literal / IPv6-address-literal ) "]" (RFC 5321 §4.1.3).
// General-address-literal tags are not registered for anything we could connect to.
function checkLiteral(raw: string, allow: boolean): Problem | Domain {
  const inner = /^\[([^[\]]*)\]$/.exec(raw)?.[1];
  if (inner === undefined) return ['bad_domain', 'Address literal is not closed by a single ]'];
  if (!allow) return ['address_literal', 'Address literals such as [192.0.2.1] are not allowed'];
  const v6 = /^IPv6:([0-9A-Fa-f:.]+)$/i.exec(inner)?.[1]; // the tag is case-insensitive (RFC 5234 §2.3)
  if (!(v6 === undefined ? isIPv4(inner) : isIPv6(v6))) {
    return ['bad_domain', 'Address literal is not a valid IPv4 or [IPv6:…] address'];
  }
  return { ascii: raw, unicode: raw, literal: true, kept: { flags: undefined } };
}
