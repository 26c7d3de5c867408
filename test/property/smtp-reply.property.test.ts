// Property-based tests (fast-check) for reading SMTP replies (RFC 5321 §4.2) and judging them
// (SPEC "pipeline → smtp"): a hostile or broken server can send any bytes, and the parser and the
// classifiers must answer without throwing and without holding more than the caps.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  classifyRcpt,
  classifySessionReply,
  isNullSenderRefusal,
  isStartTlsRequired,
  parseReply,
  ReplyParser,
  type SmtpReply,
} from '../../src/core/smtp-reply.js';

// FC_NUM_RUNS=20000 npx vitest run test/property for a longer search.
const NUM_RUNS = Number(process.env.FC_NUM_RUNS) || 300;
const run = { numRuns: NUM_RUNS };

const MAX_RAW = 1000;
const MAX_TEXT = 4000;
const MAX_LINES = 64;

// ---------------------------------------------------------------------------------------
// Generators

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((n) => String.fromCharCode(n));
const unit = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.constantFrom(' ', '-', '\r', '\n', '\0', '\t', '.', '5', '2', '4') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: loneSurrogate },
);
const code = fc.oneof(
  fc.integer({ min: 200, max: 599 }),
  fc.constantFrom(250, 251, 252, 421, 450, 451, 452, 550, 551, 552, 553, 554),
  fc.integer({ min: 0, max: 999 }),
);
const enhancedCode = fc.oneof(
  fc.tuple(fc.constantFrom(2, 4, 5), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 999 })).map((p) => p.join('.')),
  fc.constantFrom('5.1.1', '5.2.1', '5.2.2', '5.7.1', '4.7.1', '4.2.2', '5.5.3', '2.1.5'),
);
/** A line a server might send: a code, a separator, maybe an enhanced code, then anything. */
const replyLine = fc.oneof(
  { weight: 2, arbitrary: fc.string({ unit, maxLength: 60 }) },
  {
    weight: 5,
    arbitrary: fc
      .tuple(code, fc.constantFrom(' ', '-', '', '_'), fc.option(enhancedCode), fc.string({ unit, maxLength: 60 }))
      .map(([c, sep, e, text]) => `${c}${sep}${e === null ? '' : `${e} `}${text}`),
  },
  { weight: 1, arbitrary: fc.tuple(code, fc.integer({ min: 0, max: 20_000 })).map(([c, n]) => `${c} ${'x'.repeat(n)}`) },
);
const lineSequence = fc.array(replyLine, { maxLength: 120 });

/** Text a server puts after the code: anything but CR and LF (the transport splits on those). */
const textUnit = unit.filter((c) => !/[\r\n]/.test(c));
const lineText = fc.string({ unit: textUnit, maxLength: 60 });

/** Feeds every line, collecting the replies the parser hands out. */
function feed(lines: string[]): SmtpReply[] {
  const parser = new ReplyParser();
  const replies: SmtpReply[] = [];
  for (const line of lines) {
    const r = parser.push(line);
    if (r) replies.push(r);
  }
  return replies;
}

function expectBounded(r: SmtpReply): void {
  expect(r.raw.length).toBeLessThanOrEqual(MAX_RAW);
  expect(r.text.length).toBeLessThanOrEqual(MAX_TEXT);
  expect((r.lines ?? []).length).toBeLessThanOrEqual(MAX_LINES);
  expect(r.code === 0 || (r.code >= 200 && r.code <= 599)).toBe(true);
}

// ---------------------------------------------------------------------------------------

describe('ReplyParser on arbitrary input', () => {
  it('never throws, and every reply it hands out is within the caps', () => {
    fc.assert(
      fc.property(lineSequence, (lines) => {
        for (const r of feed(lines)) expectBounded(r);
        expectBounded(parseReply(lines));
      }),
      run,
    );
  });

  it('raw never exceeds 1000 characters, however long or many the lines', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 0, max: 3000 }),
        fc.constantFrom('250-', '550-', '', 'x'),
        (count, length, prefix) => {
          const lines = [...Array.from({ length: count }, () => `${prefix}${'y'.repeat(length)}`), `250 ${'z'.repeat(length)}`];
          for (const r of [...feed(lines), parseReply(lines)]) expectBounded(r);
        },
      ),
      { numRuns: Math.min(NUM_RUNS, 500) }, // up to 900 KB a run
    );
  });

  it('a single well-formed line is one reply whose raw is the line (up to 1000 characters)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 200, max: 599 }), fc.constantFrom(' ', ''), lineText, (c, sep, text) => {
        const line = sep === '' ? `${c}` : `${c} ${text}`;
        const r = parseReply([line]);
        expect(r.code).toBe(c);
        expect(r.raw).toBe(line.slice(0, MAX_RAW));
      }),
      run,
    );
  });
});

describe('multi-line replies', () => {
  it('250-… then 250 … parse to code 250 with every line, in order', () => {
    fc.assert(
      fc.property(fc.array(lineText, { minLength: 1, maxLength: 30 }), (texts) => {
        // An enhanced code at the start of the first line is read as one (tested below).
        fc.pre(!/^[245]\.\d/.test(texts[0] ?? ''));
        const lines = texts.map((t, i) => `250${i === texts.length - 1 ? ' ' : '-'}${t}`);
        const parser = new ReplyParser();
        const replies = lines.map((l) => parser.push(l));
        expect(replies.slice(0, -1).every((r) => r === null)).toBe(true);
        const r = replies.at(-1);
        expect(r).toEqual({
          code: 250,
          enhanced: null,
          text: texts
            .map((t) => t.trim())
            .filter((t) => t !== '')
            .join(' '),
          raw: lines.join('\n').slice(0, MAX_RAW),
          lines: texts,
        });
        expect(parseReply(lines)).toEqual(r);
      }),
      run,
    );
  });

  it('an enhanced code repeated on every line is read once and dropped from the text', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(250, 550, 452),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 99 }),
        fc.array(
          lineText.map((t) => `w${t}`),
          { minLength: 1, maxLength: 10 },
        ),
        (c, subject, detail, texts) => {
          const enhanced = `${String(c)[0]}.${subject}.${detail}`;
          const lines = texts.map((t, i) => `${c}${i === texts.length - 1 ? ' ' : '-'}${enhanced} ${t}`);
          const r = parseReply(lines);
          expect(r.code).toBe(c);
          expect(r.enhanced).toBe(enhanced);
          expect(r.text).toBe(texts.map((t) => t.trim()).join(' '));
        },
      ),
      run,
    );
  });

  it('a continuation line with another code never yields a reply with either code', () => {
    fc.assert(
      fc.property(fc.integer({ min: 200, max: 599 }), fc.integer({ min: 200, max: 599 }), lineText, lineText, (a, b, t1, t2) => {
        fc.pre(a !== b);
        expect(parseReply([`${a}-${t1}`, `${b} ${t2}`]).code).toBe(0);
      }),
      run,
    );
  });
});

// ---------------------------------------------------------------------------------------

/** Hand-built replies: any code, any enhanced string (even malformed), any text. */
const anyReply: fc.Arbitrary<SmtpReply> = fc.record({
  code: fc.oneof(code, fc.integer(), fc.constantFrom(Number.NaN, -1, 0)),
  enhanced: fc.oneof(fc.constant(null), enhancedCode, fc.string({ unit, maxLength: 12 })),
  text: fc.string({ unit, maxLength: 200 }),
  raw: fc.string({ unit, maxLength: 50 }),
});
const parsedReply = lineSequence.map((lines) => parseReply(lines));

// Words that, in any order, say nothing about a block, a rate limit, the sender or the number
// of recipients. Noise is drawn from letters that spell none of the trigger words (spam, rbl, ptr…).
const NEUTRAL_WORDS = [
  'the',
  'mailbox',
  'recipient',
  'address',
  'user',
  'unknown',
  'does',
  'not',
  'exist',
  'no',
  'such',
  'sorry',
  'please',
  'check',
  'and',
  'again',
  'for',
  'this',
  'domain',
  'here',
  'mx',
  'gsmtp',
  '-',
  ':',
  '<someone@example.com>',
  'someone@example.com',
  'https://support.example.com/mail/?p=NoSuchUser',
  'Recipient',
  'UNKNOWN',
];
const neutralText = fc
  .array(
    fc.oneof(
      fc.constantFrom(...NEUTRAL_WORDS),
      fc.string({ unit: fc.constantFrom(...'qxzjkwv0123456789'), minLength: 1, maxLength: 8 }),
    ),
    {
      maxLength: 12,
    },
  )
  .map((words) => words.join(' '));

describe('classifiers on arbitrary replies', () => {
  it('classifyRcpt and the session classifiers never throw', () => {
    fc.assert(
      fc.property(fc.oneof(anyReply, parsedReply), (r) => {
        const c = classifyRcpt(r);
        expect(typeof c.outcome).toBe('string');
        expect(typeof c.reason).toBe('string');
        expect(typeof classifySessionReply(r).outcome).toBe('string');
        expect(typeof isNullSenderRefusal(r)).toBe('boolean');
        expect(typeof isStartTlsRequired(r)).toBe('boolean');
      }),
      run,
    );
  });

  it('250 and 251 are always accepted, whatever the enhanced code and the text', () => {
    fc.assert(
      fc.property(anyReply, fc.constantFrom(250, 251), (r, c) => {
        expect(classifyRcpt({ ...r, code: c }).outcome).toBe('accepted');
      }),
      run,
    );
  });

  it('250 and 251 lines, single or multi-line, parse to accepted', () => {
    fc.assert(
      fc.property(fc.constantFrom(250, 251), fc.array(lineText, { minLength: 1, maxLength: 5 }), (c, texts) => {
        const lines = texts.map((t, i) => `${c}${i === texts.length - 1 ? ' ' : '-'}${t}`);
        expect(classifyRcpt(parseReply(lines)).outcome).toBe('accepted');
      }),
      run,
    );
  });

  it('any 5xx with enhanced code 5.1.1 and neutral text is no_mailbox', () => {
    fc.assert(
      fc.property(fc.integer({ min: 500, max: 599 }), neutralText, fc.integer({ min: 1, max: 3 }), (c, text, lineCount) => {
        // Directly, and through the parser as one or several lines.
        expect(classifyRcpt({ code: c, enhanced: '5.1.1', text, raw: '' }).outcome).toBe('no_mailbox');
        const lines = Array.from({ length: lineCount }, (_, i) => `${c}${i === lineCount - 1 ? ' ' : '-'}5.1.1 ${text}`);
        const parsed = parseReply(lines);
        expect(parsed.enhanced).toBe('5.1.1');
        expect(classifyRcpt(parsed).outcome).toBe('no_mailbox');
      }),
      run,
    );
  });

  it('a 2xx or 4xx enhanced code on a 5xx reply is not read as one (the code wins)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 500, max: 599 }), fc.constantFrom('2.1.1', '4.1.1', '4.7.1'), neutralText, (c, e, text) => {
        expect(parseReply([`${c} ${e} ${text}`]).enhanced).toBeNull();
      }),
      run,
    );
  });
});
