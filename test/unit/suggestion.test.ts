import { describe, expect, it } from 'vitest';
import { suggestionFor } from '../../src/core/flags.js';

describe('suggestionFor', () => {
  it.each([
    ['x@gmial.com', 'x@gmail.com'],
    ['x@gnail.con', 'x@gmail.com'],
    ['x@yaho.com', 'x@yahoo.com'],
    ['x@hotmial.com', 'x@hotmail.com'],
    ['x@outlok.com', 'x@outlook.com'],
    ['x@comcast.nte', 'x@comcast.net'],
  ])('corrects a near-miss of a well-known domain: %s -> %s', (email, suggestion) => {
    expect(suggestionFor(email)).toBe(suggestion);
  });

  it.each([
    'x@y.invalid', // the checker would say yahoo.invalid
    'x@example.test', // … example.de
    'x@mail.example',
    'x@printer.local',
    'x@example.com',
    'x@protonmail.ch', // a real provider's own domain, not a typo of protonmail.com
    'x@gmail.com',
    'x@acme-widgets.co',
  ])('suggests nothing for %s', (email) => {
    expect(suggestionFor(email)).toBe('');
  });
});
