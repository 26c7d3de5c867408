import { describe, expect, it } from 'vitest';
import { fallbackSender } from '../../src/smtp/prober.js';

describe('fallbackSender (who asks again when the null sender is refused)', () => {
  it.each([
    ['verify@checker.example', 'mail.example.org', 'verify@checker.example'], // --from wins
    ['', 'mail.example.org', 'postmaster@mail.example.org'],
    ['', 'Mail.Example.ORG', 'postmaster@mail.example.org'],
    ['', '', ''], // an address literal of our end goes in EHLO
    ['', '[192.0.2.1]', ''],
    ['', '[IPv6:2001:db8::1]', ''],
    ['', '192.0.2.1', ''],
    ['', 'localhost', ''], // not a domain name anyone can answer for
    ['', '-bad.example', ''],
  ])('from %j, EHLO %j -> %j', (from, helo, expected) => {
    expect(fallbackSender({ from, helo })).toBe(expected);
  });
});
