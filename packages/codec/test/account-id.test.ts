import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { deriveAccountId, formatAccountId } from '../src/index.ts';
import { thrown } from './thrown.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const counting = (n: number, from = 0) => new Uint8Array(n).map((_, i) => (from + i) & 0xff);
const key = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe('deriveAccountId', () => {
  it('is pinned: bank key 00..1f, holder key ff..e0', () => {
    const bank = counting(32);
    const holder = counting(32, 0xe0).reverse();
    const id = deriveAccountId(bank, holder);
    expect(hex(id)).toBe('8f8b1dcc7a41984748d05d389c6b76d70af553f7');
    expect(formatAccountId(id)).toBe('macct13793mnr6gxvywjxst5ufc6mk6u9025lhcsgapf');
  });

  it('is the first 20 bytes of SHA-256("mutual/v1/account-id\\n" || bank || holder)', () => {
    fc.assert(
      fc.property(key, key, (bank, holder) => {
        const expected = createHash('sha256').update('mutual/v1/account-id\n').update(bank).update(holder).digest().subarray(0, 20);
        expect(hex(deriveAccountId(bank, holder))).toBe(expected.toString('hex'));
      }),
      { numRuns: 50 },
    );
  });

  it('depends on the order of the keys', () => {
    const a = counting(32);
    const b = counting(32, 1);
    expect(hex(deriveAccountId(a, b))).not.toBe(hex(deriveAccountId(b, a)));
  });

  it('refuses keys that are not 32 bytes', () => {
    const good = counting(32);
    for (const n of [0, 20, 31, 33, 64]) {
      expect(thrown(() => deriveAccountId(new Uint8Array(n), good)).message).toContain('bank key');
      expect(thrown(() => deriveAccountId(good, new Uint8Array(n))).message).toContain('holder key');
      expect(thrown(() => deriveAccountId(good, new Uint8Array(n))).code).toBe('INVALID_ENCODING');
    }
  });
});
