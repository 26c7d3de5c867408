import { describe, it, expect } from 'vitest';
import { checkSyntax, dedupKey, type SyntaxErrorCode } from '../../src/core/syntax.js';

// Public test sets, re-labelled for RFC 5321 *sending* (SPEC "pipeline → syntax"):
//  - is_email: dominicsayers/isemail test/tests.xml (also carried by pyIsEmail and by
//    python-email-validator's test_pyisemail_tests). Its RFC 5321 "valid with warning" quoted
//    strings stay valid; address literals need allowAddressLiterals; CFWS, comments and the
//    obsolete (DEPREC) forms are invalid; a lone TLD (test@io) is invalid (not fully qualified).
//  - python-email-validator: JoshData/python-email-validator tests/test_syntax.py.
// Deliberate differences from the originals are marked "re-labelled".

const L64 = 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghiklm'; // 64 octets
const LABEL63 = 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghikl'; // 63 octets
const LABEL61 = 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghi';
const ALPHABET = 'a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z';
const D251 = `${ALPHABET}.${ALPHABET}.${ALPHABET}.${ALPHABET}.${ALPHABET.slice(0, 43)}`; // is_email: 251 octets of one-letter labels
// python-email-validator's long-domain fixtures
const N1 = '1111111111222222222233333333334444444444555555555';
const N2 = '6666666666777777777788888888889999999999000000000';
const LONG4 = `${N1}.${N2}.${N1}.${N2}`;

/** [input, expected normalised email] */
const valid: Array<[string, string]> = [
  // IDNA 2008's exceptions to "letters, marks and digits": Catalan's l·l, the ideographic full stop
  ['a@col·legi.cat', 'a@xn--collegi-xma.cat'],
  ['a@例え。テスト', 'a@xn--r8jz45g.xn--zckzah'],
  // is_email
  ['test@iana.org', 'test@iana.org'],
  ['test@nominet.org.uk', 'test@nominet.org.uk'],
  ['test@about.museum', 'test@about.museum'],
  ['a@iana.org', 'a@iana.org'],
  ['test.test@iana.org', 'test.test@iana.org'],
  ['!#$%&`*+/=?^`{|}~@iana.org', '!#$%&`*+/=?^`{|}~@iana.org'],
  ['123@iana.org', '123@iana.org'],
  ['test@123.com', 'test@123.com'],
  [`${L64}@iana.org`, `${L64}@iana.org`],
  [`test@${LABEL63}.com`, `test@${LABEL63}.com`],
  ['test@mason-dixon.com', 'test@mason-dixon.com'],
  ['test@c--n.com', 'test@c--n.com'],
  ['test@g--a.com', 'test@g--a.com'],
  ['test@e.com', 'test@e.com'], // DNSWARN: a DNS question, not syntax
  ['test@iana.a', 'test@iana.a'],
  ['test@iana.co-uk', 'test@iana.co-uk'],
  [`a@${D251}`, `a@${D251}`],
  [`${L64}@${LABEL63}.${LABEL63}.${LABEL61}`, `${L64}@${LABEL63}.${LABEL63}.${LABEL61}`], // exactly 254
  ['"test"@iana.org', '"test"@iana.org'],
  ['"\\a"@iana.org', '"\\a"@iana.org'],
  ['"\\""@iana.org', '"\\""@iana.org'],
  ['"\\\\"@iana.org', '"\\\\"@iana.org'],
  ['"test\\ test"@iana.org', '"test\\ test"@iana.org'],
  ['test@xn--hxajbheg2az3al.xn--jxalpdlp', 'test@xn--hxajbheg2az3al.xn--jxalpdlp'],
  ['xn--test@iana.org', 'xn--test@iana.org'],
  ['test@iana.org.', 'test@iana.org'], // re-labelled (ERR_DOT_END): the root dot is dropped
  [' test@iana.org', 'test@iana.org'], // re-labelled (CFWS_FWS): input is trimmed
  ['test@iana.org ', 'test@iana.org'], // re-labelled (CFWS_FWS): input is trimmed

  // python-email-validator
  ['Abc@example.tld', 'Abc@example.tld'],
  ['Abc.123@test-example.com', 'Abc.123@test-example.com'],
  ['user+mailbox/department=shipping@example.tld', 'user+mailbox/department=shipping@example.tld'],
  ["!#$%&'*+-/=?^_`.{|}~@example.tld", "!#$%&'*+-/=?^_`.{|}~@example.tld"],
  ['jeff@臺網中心.tw', 'jeff@xn--fiqq24b10vi0d.tw'],
  ['伊昭傑@郵件.商務', '伊昭傑@xn--5nqv22n.xn--lhr59c'],
  ['राम@मोहन.ईन्फो', 'राम@xn--l2bl7a9d.xn--o1b8dj2ki'],
  ['юзер@екзампл.ком', 'юзер@xn--80ajglhfv.xn--j1aef'],
  ['θσερ@εχαμπλε.ψομ', 'θσερ@xn--mxahbxey0c.xn--xxaf0a'],
  ['葉士豪@臺網中心.台灣', '葉士豪@xn--fiqq24b10vi0d.xn--kpry57d'],
  ['ñoñó@example.tld', 'ñoñó@example.tld'],
  ['чебурашкаящик-с-апельсинами.рф@example.tld', 'чебурашкаящик-с-апельсинами.рф@example.tld'],
  ['उदाहरण.परीक्ष@domain.with.idn.tld', 'उदाहरण.परीक्ष@domain.with.idn.tld'],
  ['ιωάννης@εεττ.gr', 'ιωάννης@xn--qxaa9ba.gr'],
  // quoted local parts are kept as written (that library unquotes them, behind an option)
  ['"unnecessarily.quoted.local.part"@example.com', '"unnecessarily.quoted.local.part"@example.com'],
  ['"quoted..local.part"@example.com', '"quoted..local.part"@example.com'],
  ['"quoted.with.at@"@example.com', '"quoted.with.at@"@example.com'],
  ['"quoted with space"@example.com', '"quoted with space"@example.com'],
  ['"quoted.with.dquote\\""@example.com', '"quoted.with.dquote\\""@example.com'],
  ['"quoted.with..unicode.λ"@example.com', '"quoted.with..unicode.λ"@example.com'], // RFC 6531 qtextSMTP
  ['my@trailingdot.com.', 'my@trailingdot.com'], // re-labelled: the root dot is dropped
  ['me@yy--0.tld', 'me@yy--0.tld'], // re-labelled: a valid LDH host name; IDNA's R-LDH rule is not ours
  ['me@host.localhost', 'me@host.localhost'], // re-labelled: reserved names are for DNS to answer
  ['me@bad.tld-2', 'me@bad.tld-2'], // re-labelled: LDH and not all-numeric; no such TLD is for DNS to say

  // this project
  ['info@bücher.de', 'info@xn--bcher-kva.de'],
  ['Info@BÜCHER.DE', 'Info@xn--bcher-kva.de'],
  ['John.Smith@EXAMPLE.COM', 'John.Smith@example.com'],
  ['mailto:john@example.com', 'john@example.com'],
  ['MAILTO:john@example.com?subject=Hello%20there&cc=x@y.com', 'john@example.com'],
  ['mailto:john%2Bnews@example.com', 'john+news@example.com'],
  ['John Doe <john@example.com>', 'john@example.com'],
  ['"Doe, John <jd>" <John@Example.COM>', 'John@example.com'],
  ['<john@example.com>', 'john@example.com'],
  ['<mailto:john@example.com>', 'john@example.com'],
  ['  \t john@example.com \r\n', 'john@example.com'], // trimmed: edge whitespace never reaches SMTP
  ['"john doe"@example.com', '"john doe"@example.com'],
  ['josé@example.com', 'josé@example.com'],
  ['test@xn--bcher-kva.de', 'test@xn--bcher-kva.de'],
];

const invalid: Array<[string, SyntaxErrorCode]> = [
  // is_email
  ['', 'empty'],
  ['test', 'no_at'],
  ['@', 'bad_local'],
  ['test@', 'bad_domain'],
  ['test@io', 'bad_domain'], // re-labelled (RFC5321_TLD): not fully qualified
  ['@io', 'bad_local'],
  ['@iana.org', 'bad_local'],
  ['.test@iana.org', 'bad_local'],
  ['test.@iana.org', 'bad_local'],
  ['test..iana.org', 'no_at'],
  ['test_exa-mple.com', 'no_at'],
  ['test\\@test@iana.org', 'bad_local'],
  ['test@iana.123', 'numeric_tld'],
  ['test@255.255.255.255', 'numeric_tld'],
  [`${L64}n@iana.org`, 'local_too_long'],
  [`test@${LABEL63}m.com`, 'label_too_long'],
  ['test@-iana.org', 'bad_domain'],
  ['test@iana-.com', 'bad_domain'],
  ['test@.iana.org', 'bad_domain'],
  ['test@iana..com', 'bad_domain'],
  [`${L64}@${LABEL63}.${LABEL63}.${LABEL61}j`, 'too_long'], // 255
  [`a@${LABEL63}.${LABEL63}.${LABEL63}.${LABEL63.slice(0, 59)}.hij`, 'too_long'],
  [`a@${LABEL63}.${LABEL63}.${LABEL63}.${LABEL63.slice(0, 59)}.hijk`, 'too_long'],
  ['""@iana.org', 'bad_local'], // re-labelled (RFC5321_QUOTEDSTRING): names no mailbox
  ['"""@iana.org', 'bad_local'],
  ['"\\"@iana.org', 'bad_local'],
  ['test"@iana.org', 'bad_local'],
  ['"test@iana.org', 'bad_local'],
  ['"test"test@iana.org', 'bad_local'],
  ['test"text"@iana.org', 'bad_local'],
  ['"test""test"@iana.org', 'bad_local'],
  ['"test"."test"@iana.org', 'bad_local'], // obsolete local part
  ['"test".test@iana.org', 'bad_local'], // obsolete local part
  ['"test\u0000"@iana.org', 'control_chars'],
  ['"test\\\u0000"@iana.org', 'control_chars'], // obsolete quoted-pair
  ['"abcdefghijklmnopqrstuvwxyz abcdefghijklmnopqrstuvwxyz abcdefghj"@iana.org', 'local_too_long'],
  ['"abcdefghijklmnopqrstuvwxyz abcdefghijklmnopqrstuvwxyz abcdefg\\h"@iana.org', 'local_too_long'],
  ['test@a[255.255.255.255]', 'bad_domain'],
  ['test@[255.255.255.255]', 'address_literal'],
  ['test@[RFC-5322]-domain-literal]', 'bad_domain'],
  [' test @iana.org', 'bad_local'],
  ['test@ iana .com', 'bad_domain'],
  ['test . test@iana.org', 'bad_local'],
  ['(comment)test@iana.org', 'bad_local'],
  ['((comment)test@iana.org', 'bad_local'],
  ['(comment(comment))test@iana.org', 'bad_local'],
  ['test@(comment)iana.org', 'bad_domain'],
  ['test(comment)test@iana.org', 'bad_local'],
  ['test.(comment)test@iana.org', 'bad_local'],
  ['(test@iana.org', 'bad_local'],
  ['test@(iana.org', 'bad_domain'],
  ['test@iana.org(comment\\)', 'bad_domain'],
  ['test@[1.2.3.4', 'bad_domain'],
  ['test@iana.org-', 'bad_domain'],
  ['test@iana/icann.org', 'bad_domain'],
  ['"test\\©"@iana.org', 'bad_local'],
  ['\u007f@iana.org', 'control_chars'],
  ['test@\u007f.org', 'control_chars'],
  ['"\u007f"@iana.org', 'control_chars'],
  ['\u0007@iana.org', 'control_chars'],
  ['"\rtest"@iana.org', 'control_chars'],
  ['"\n"@iana.org', 'control_chars'],
  ['(\r)test@iana.org', 'control_chars'],

  // python-email-validator
  ['my@localhost', 'bad_domain'],
  ['my@.leadingdot.com', 'bad_domain'],
  ['my@．leadingfwdot.com', 'bad_domain'],
  ['my@twodots..com', 'bad_domain'],
  ['my@twofwdots．．.com', 'bad_domain'],
  ['me@-leadingdash', 'bad_domain'],
  ['me@－leadingdashfw', 'bad_domain'],
  ['me@trailingdash-', 'bad_domain'],
  ['my@baddash.-.com', 'bad_domain'],
  ['my@baddash.-a.com', 'bad_domain'],
  ['my@baddash.b-.com', 'bad_domain'],
  ['my@baddashfw.－a.com', 'bad_domain'],
  ['my@example\n.com', 'control_chars'],
  ['me@x!', 'bad_domain'],
  ['me@x ', 'bad_domain'],
  ['.leadingdot@domain.com', 'bad_local'],
  ['twodots..here@domain.com', 'bad_local'],
  ['trailingdot.@domain.email', 'bad_local'],
  ['me@⒈wouldbeinvalid.com', 'bad_domain'],
  ['@example.com', 'bad_local'],
  ['white space@test', 'bad_local'],
  ['test@white space', 'bad_domain'],
  ['m\ny@example.com', 'control_chars'],
  ['my\n@example.com', 'control_chars'],
  ['bad"quotes"@example.com', 'bad_local'],
  ['obsolete."quoted".atom@example.com', 'bad_local'],
  ['11111111112222222222333333333344444444445555555555666666666677777@example.com', 'local_too_long'],
  ['111111111122222222223333333333444444444455555555556666666666777777@example.com', 'local_too_long'],
  [`me@${LONG4}.111111111122222222223333333333444444444455555555556.com`, 'too_long'],
  [`me@中${LONG4}.1111111111222222222233333333334444444444555555555566.com`, 'too_long'],
  [`my.long.address@${LONG4}.11111111112222222222333333333344444.info`, 'too_long'],
  [`my.λong.address@${LONG4}.111111111122222222223333333333444.info`, 'too_long'], // 254 chars, 255 octets
  ['me@bad-tld-1', 'bad_domain'],
  ['me@xn--0.tld', 'bad_domain'],
  ['me@[127.0.0.1]', 'address_literal'],
  ['me@[IPv6:::1]', 'address_literal'],
  ['a\u2005b@example.com', 'bad_local'], // four-per-em space
  ['a\u2028b@example.com', 'bad_local'], // line separator
  ['zero\u200Bwidth@example.com', 'bad_local'],
  ['\u202Dforward-\u202Ereversed@example.com', 'bad_local'],
  ['\uD800@example.com', 'bad_local'], // lone surrogate
  ['\uE000@example.com', 'bad_local'], // private use
  ['\u009C@example.com', 'control_chars'], // C1
  ['test@zero\u200Bwidth.com', 'bad_domain'],
  ['test@\u202Eexample.com', 'bad_domain'],

  // this project
  ['   ', 'empty'],
  ['<>', 'empty'],
  ['mailto:', 'empty'],
  ['a@b.com\r\nRCPT TO:<x@y.com>', 'control_chars'],
  ['a@b.com\nDATA', 'control_chars'],
  ['a@b.com\u0000', 'control_chars'],
  ['a\u0000@b.com', 'control_chars'],
  ['a\tb@c.com', 'control_chars'],
  ['a@b.com\u0085x', 'control_chars'],
  ['Eve <a@b.com\r\nRSET>', 'control_chars'],
  ['<\n>', 'control_chars'],
  ['mailto:a%0D%0ARCPT%20TO:x@b.com', 'control_chars'],
  ['a@1.2.3.4', 'numeric_tld'],
  ['a@999.999.999.999', 'numeric_tld'],
  ['a@１２３.com.４５６', 'numeric_tld'],
  ['a@b@c.com', 'bad_local'],
  ['a@under_score.com', 'bad_domain'],
  ['a@evil.com/x.org', 'bad_domain'], // the WHATWG host parser would cut this to evil.com
  ['a@evil.com／x.org', 'bad_domain'], // … and map U+FF0F to '/'
  ['a@ex%41mple.com', 'bad_domain'], // … and percent-decode
  ['a@exa\uD800mple.com', 'bad_domain'],
  // bytes the reader could not decode (U+FFFD), anywhere
  ['ab\uFFFDc@example.com', 'undecodable'],
  ['a@exa\uFFFDmple.com', 'undecodable'],
  ['"\uFFFD"@example.com', 'undecodable'],
  ['Jos\uFFFD <jose@example.com>', 'undecodable'],
  // symbols IDNA 2008 disallows, which UTS #46 (and so url.domainToASCII) lets through
  ['username@domain.com©', 'bad_domain'],
  ['a@brand®.com', 'bad_domain'],
  ['a@☃.net', 'bad_domain'],
  ['a@i❤.ws', 'bad_domain'],
  ['a@ex·ample.com', 'bad_domain'], // a middle dot not between two l's
];

/** With allowAddressLiterals: [input, expected code or 'ok'] */
const literals: Array<[string, SyntaxErrorCode | 'ok']> = [
  // is_email
  ['test@[255.255.255.255]', 'ok'],
  ['test@[255.255.255]', 'bad_domain'],
  ['test@[255.255.255.255.255]', 'bad_domain'],
  ['test@[255.255.255.256]', 'bad_domain'],
  ['test@[1111:2222:3333:4444:5555:6666:7777:8888]', 'bad_domain'],
  ['test@[IPv6:1111:2222:3333:4444:5555:6666:7777]', 'bad_domain'],
  ['test@[IPv6:1111:2222:3333:4444:5555:6666:7777:8888]', 'ok'],
  ['test@[IPv6:1111:2222:3333:4444:5555:6666:7777:8888:9999]', 'bad_domain'],
  ['test@[IPv6:1111:2222:3333:4444:5555:6666:7777:888G]', 'bad_domain'],
  ['test@[IPv6:1111:2222:3333:4444:5555:6666::8888]', 'ok'], // IPV6DEPRECATED: '::' for one group, accepted
  ['test@[IPv6:1111:2222:3333:4444:5555::8888]', 'ok'],
  ['test@[IPv6:1111:2222:3333:4444:5555:6666::7777:8888]', 'bad_domain'],
  ['test@[IPv6::3333:4444:5555:6666:7777:8888]', 'bad_domain'],
  ['test@[IPv6:::3333:4444:5555:6666:7777:8888]', 'ok'],
  ['test@[IPv6:1111::4444:5555::8888]', 'bad_domain'],
  ['test@[IPv6:::]', 'ok'],
  ['test@[IPv6:1111:2222:3333:4444:5555:255.255.255.255]', 'bad_domain'],
  ['test@[IPv6:1111:2222:3333:4444:5555:6666:255.255.255.255]', 'ok'],
  ['test@[IPv6:1111:2222:3333:4444:5555:6666:7777:255.255.255.255]', 'bad_domain'],
  ['test@[IPv6:1111:2222:3333:4444::255.255.255.255]', 'ok'],
  ['test@[IPv6:1111:2222:3333:4444:5555:6666::255.255.255.255]', 'bad_domain'],
  ['test@[IPv6:1111:2222:3333:4444:::255.255.255.255]', 'bad_domain'],
  ['test@[IPv6::255.255.255.255]', 'bad_domain'],
  ['test@[IPv6:1::2:]', 'bad_domain'],
  ['test@[RFC-5322-domain-literal]', 'bad_domain'],
  ['test@[RFC 5322 domain literal]', 'bad_domain'],
  ['test@[RFC-5322-[domain-literal]', 'bad_domain'],
  ['test@[RFC-5322-domain-literal] (comment)', 'bad_domain'],
  ['test@(comment)[255.255.255.255]', 'bad_domain'],
  // python-email-validator
  ['me@[127.0.0.1]', 'ok'],
  ['me@[IPv6:::1]', 'ok'],
  ['me@[IPv6:0000:0000:0000:0000:0000:0000:0000:0001]', 'ok'],
  ['me@[127.0.0.999]', 'bad_domain'],
  ['me@[IPv6:::G]', 'bad_domain'],
  ['me@[tag:text]', 'bad_domain'],
  ['me@[untaggedtext]', 'bad_domain'],
  ['me@[tag:invalid space]', 'bad_domain'],
  // this project
  ['me@[ipv6:::1]', 'ok'],
  ['me@[IPv6:fe80::1%eth0]', 'bad_domain'],
];

const hasControl = (s: string) => /\p{Cc}/u.test(s);

describe('checkSyntax: valid addresses', () => {
  it.each(valid)('%j → %s', (input, email) => {
    const r = checkSyntax(input);
    expect(r).toMatchObject({ ok: true, input, email });
  });
});

describe('checkSyntax: invalid addresses', () => {
  it.each(invalid)('%j → %s', (input, code) => {
    const r = checkSyntax(input);
    expect(r).toMatchObject({ ok: false, input, code });
    expect(r.ok || r.reason.length > 0).toBe(true);
    expect(hasControl(r.email)).toBe(false);
  });
});

describe('checkSyntax: address literals when allowed', () => {
  it.each(literals)('%j → %s', (input, expected) => {
    const r = checkSyntax(input, { allowAddressLiterals: true });
    if (expected === 'ok') expect(r).toMatchObject({ ok: true, addressLiteral: true });
    else expect(r).toMatchObject({ ok: false, code: expected });
  });

  it('keeps the literal as written and is refused by default', () => {
    expect(checkSyntax('Me@[IPv6:::1]', { allowAddressLiterals: true })).toEqual({
      ok: true,
      input: 'Me@[IPv6:::1]',
      email: 'Me@[IPv6:::1]',
      local: 'Me',
      domain: '[IPv6:::1]',
      unicodeDomain: '[IPv6:::1]',
      smtputf8: false,
      quoted: false,
      addressLiteral: true,
      domainKept: expect.any(Object),
    });
    expect(checkSyntax('me@[127.0.0.1]')).toMatchObject({ ok: false, code: 'address_literal' });
  });
});

describe('checkSyntax: normalised fields', () => {
  it('converts an IDN domain to punycode and keeps its Unicode form', () => {
    expect(checkSyntax('  Info@Bücher.DE. ')).toEqual({
      ok: true,
      input: '  Info@Bücher.DE. ',
      email: 'Info@xn--bcher-kva.de',
      local: 'Info',
      domain: 'xn--bcher-kva.de',
      unicodeDomain: 'bücher.de',
      smtputf8: false,
      quoted: false,
      addressLiteral: false,
      domainKept: expect.any(Object),
    });
  });

  it('flags a UTF-8 local part as needing SMTPUTF8', () => {
    expect(checkSyntax('josé@example.com')).toMatchObject({ ok: true, smtputf8: true, quoted: false });
    expect(checkSyntax('jose@example.com')).toMatchObject({ ok: true, smtputf8: false });
  });

  it('keeps a quoted local part quoted', () => {
    expect(checkSyntax('"john doe"@Example.com')).toMatchObject({
      ok: true,
      email: '"john doe"@example.com',
      local: '"john doe"',
      quoted: true,
      smtputf8: false,
    });
  });

  it('takes the address out of a display name and mailto:', () => {
    expect(checkSyntax('John Doe <John@EXAMPLE.com>')).toMatchObject({ ok: true, email: 'John@example.com' });
    expect(checkSyntax('mailto:John@EXAMPLE.com?subject=hi')).toMatchObject({ ok: true, email: 'John@example.com' });
  });

  it('gives a display form for failures: unwrapped, domain lowercased, no control characters', () => {
    expect(checkSyntax('Jo <Bad..Dots@EXAMPLE.COM>')).toMatchObject({ ok: false, email: 'Bad..Dots@example.com' });
    expect(checkSyntax('a@b.com\r\nRCPT TO:<x@y.com>')).toMatchObject({
      ok: false,
      code: 'control_chars',
      email: 'a@b.com\uFFFD\uFFFDRCPT TO:<x@y.com>',
    });
    expect(checkSyntax('Local@Part@Domain.COM')).toMatchObject({ email: 'Local@Part@domain.com' });
  });

  it('says why in words', () => {
    expect(checkSyntax(`${L64}x@example.com`)).toMatchObject({ reason: 'Local part is longer than 64 octets' });
  });
});

describe('checkSyntax: length limits in octets', () => {
  const label = (n: number, c = 'a') => c.repeat(n);
  // three 63-octet labels and dots = 192 octets; the last label makes up the rest
  const domainOf = (n: number) => `${label(63)}.${label(63, 'b')}.${label(63, 'c')}.${label(n - 192, 'd')}`;

  it('local part: 64 octets ok, 65 not, counting UTF-8 bytes', () => {
    expect(checkSyntax(`${label(64)}@example.com`).ok).toBe(true);
    expect(checkSyntax(`${label(65)}@example.com`)).toMatchObject({ code: 'local_too_long' });
    expect(checkSyntax(`${'é'.repeat(32)}@example.com`)).toMatchObject({ ok: true, smtputf8: true });
    expect(checkSyntax(`${'é'.repeat(32)}a@example.com`)).toMatchObject({ code: 'local_too_long' }); // 33 chars
    // Three octets a code unit, and four a surrogate pair, on either side of the limit.
    expect(checkSyntax(`${'日'.repeat(21)}a@example.com`).ok).toBe(true); // 64
    expect(checkSyntax(`${'日'.repeat(21)}ab@example.com`)).toMatchObject({ code: 'local_too_long' }); // 65, 23 code units
    expect(checkSyntax(`${'😀'.repeat(16)}@example.com`).ok).toBe(true); // 64
    expect(checkSyntax(`${'😀'.repeat(16)}a@example.com`)).toMatchObject({ code: 'local_too_long' }); // 65
  });

  it('whole address: 254 octets ok, 255 not', () => {
    expect(checkSyntax(`a@${domainOf(252)}`)).toMatchObject({ ok: true, email: `a@${domainOf(252)}` });
    expect(checkSyntax(`a@${domainOf(253)}`)).toMatchObject({ code: 'too_long' });
    expect(checkSyntax(`é@${domainOf(251)}`).ok).toBe(true); // 2 + 1 + 251
    expect(checkSyntax(`é@${domainOf(252)}`)).toMatchObject({ code: 'too_long' });
  });

  it('label: 63 octets ok, 64 not', () => {
    expect(checkSyntax(`a@${label(63)}.com`).ok).toBe(true);
    expect(checkSyntax(`a@${label(64)}.com`)).toMatchObject({ code: 'label_too_long' });
  });

  it('label: judged on its punycode form', () => {
    const ok = checkSyntax(`a@${'ü'.repeat(57)}.de`);
    expect(ok.ok && ok.domain.split('.')[0]?.length).toBe(63);
    // 58 Unicode characters, 64 octets once encoded
    expect(checkSyntax(`a@${'ü'.repeat(58)}.de`)).toMatchObject({ code: 'label_too_long' });
  });

  it('address: a Unicode domain short enough as written can be too long in punycode', () => {
    // python-email-validator: "too long (when converted to IDNA ASCII)"
    const input = `my.long.address@λ111111111222222222233333333334444444444555555555.${N2}.${N1}.${N2}.11111111112222222222333333.info`;
    expect(input.length).toBeLessThan(254);
    expect(checkSyntax(input)).toMatchObject({ ok: false, code: 'too_long' });
  });
});

describe('checkSyntax: control characters never pass', () => {
  const controls = [...Array.from({ length: 0x20 }, (_, i) => i), ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i)].map(
    (cp) => ({ c: String.fromCharCode(cp), hex: cp.toString(16).toUpperCase().padStart(4, '0') }),
  );
  const places = [
    (c: string) => `a${c}b@example.com`,
    (c: string) => `"a${c}b"@example.com`,
    (c: string) => `"a\\${c}b"@example.com`,
    (c: string) => `ab@exa${c}mple.com`,
    (c: string) => `ab@example.com${c}x`,
    (c: string) => `Na${c}me <ab@example.com>`,
    (c: string) => `ab@[127.0.0.1${c}]`,
  ];

  it.each(controls)('U+$hex anywhere inside', ({ c }) => {
    for (const place of places) {
      const r = checkSyntax(place(c), { allowAddressLiterals: true });
      expect(r).toMatchObject({ ok: false, code: 'control_chars' });
      expect(hasControl(r.email)).toBe(false);
    }
  });
});

describe('checkSyntax: robustness', () => {
  it('does not throw on lone surrogates', () => {
    const inputs = ['\uD800', '\uDC00@x.com', 'a@\uDFFF', 'a\uD83D@example.com', '"\uD800"@b.com'];
    for (const s of inputs) {
      expect(() => checkSyntax(s)).not.toThrow();
      expect(checkSyntax(s).ok).toBe(false);
      expect(() => dedupKey(s)).not.toThrow();
    }
    expect(checkSyntax('Na\uD800me <a@b.com>').ok).toBe(true); // only the display name has it
    // a percent-encoded surrogate is not valid percent-encoding, so the text is kept as written
    expect(checkSyntax('mailto:%ED%A0%80@b.com')).toMatchObject({ ok: true, email: '%ED%A0%80@b.com' });
  });
});

describe('dedupKey', () => {
  it('folds the case of the local part only', () => {
    const a = checkSyntax('John.Doe@Example.com');
    const b = checkSyntax('john.doe@EXAMPLE.COM');
    expect(a.email).not.toBe(b.email); // the row keeps its own spelling…
    expect(dedupKey(a.email)).toBe('john.doe@example.com'); // …but they are one address
    expect(dedupKey(b.email)).toBe(dedupKey(a.email));
    expect(dedupKey('"John Doe"@example.com')).toBe('"john doe"@example.com');
    expect(dedupKey('Jo@xn--bcher-kva.de')).toBe('jo@xn--bcher-kva.de');
  });

  it('treats differently written forms of one address alike', () => {
    expect(dedupKey('Jo <JO@Bücher.de.>')).toBe(dedupKey('mailto:jo@xn--bcher-kva.de'));
    expect(dedupKey('not an address')).toBe('not an address');
  });

  it('keeps different local parts apart', () => {
    expect(dedupKey('john+a@example.com')).not.toBe(dedupKey('john+b@example.com'));
  });
});
