// withMemory: answers kept from earlier runs are reused, unless kept by a version that lacks
// today's result fields.
import { describe, expect, it } from 'vitest';
import { withMemory, type Verifier } from '../../src/core/engine.js';
import type { VerificationResult } from '../../src/core/types.js';

function counting(): Verifier & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    verify: async (address) => {
      asked.push(address);
      return { email: address, result: 'valid', reason: '', reason_code: 'accepted', provider: 'other' } as VerificationResult;
    },
    close: () => undefined,
  };
}

describe('withMemory', () => {
  it('answers from memory what it knows, in today’s shape', async () => {
    const inner = counting();
    const kept = {
      email: 'a@x.example',
      result: 'invalid',
      reason: 'gone',
      reason_code: 'mailbox_not_found',
      provider: 'google',
    };
    const verifier = withMemory(inner, { recall: () => kept as VerificationResult, remember: () => undefined });
    expect(await verifier.verify('a@x.example')).toMatchObject({ result: 'invalid', reason_code: 'mailbox_not_found' });
    expect(inner.asked).toEqual([]);
  });

  it('asks again for an answer kept before reason_code existed, so no row is written without it', async () => {
    const inner = counting();
    const remembered: VerificationResult[] = [];
    const old = { email: 'a@x.example', result: 'invalid', reason: 'gone' } as VerificationResult;
    const verifier = withMemory(inner, { recall: () => old, remember: (_k, r) => remembered.push(r) });
    expect(await verifier.verify('a@x.example')).toMatchObject({ result: 'valid', reason_code: 'accepted', provider: 'other' });
    expect(inner.asked).toEqual(['a@x.example']);
    expect(remembered).toHaveLength(1);
  });
});
