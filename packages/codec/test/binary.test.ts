import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fromBase64, fromHex, toBase64, toHex } from '../src/index.ts';
import { thrown } from './thrown.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('hex', () => {
  it('round trips and matches Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = toHex(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('hex'));
        expect(hex(fromHex(text))).toBe(text);
        expect(hex(fromHex(text.toUpperCase(), bytes.length))).toBe(text);
      }),
    );
  });

  it('refuses bad characters, odd lengths and wrong lengths with INVALID_ENCODING', () => {
    const cases: [string, number | undefined, string][] = [
      ['abc', undefined, 'odd number'],
      ['zz', undefined, 'only 0-9 and a-f'],
      ['0x00', undefined, 'only 0-9 and a-f'],
      [' ab', undefined, 'only 0-9 and a-f'],
      ['ab\n', undefined, 'only 0-9 and a-f'],
      ['abcd', 1, 'Expected 1 bytes'],
      ['ab', 2, 'Expected 2 bytes'],
      ['a'.repeat(1_000_000), 32, 'got 1000000 characters'],
    ];
    for (const [text, n, why] of cases) {
      const e = thrown(() => fromHex(text, n));
      expect(e.code, text).toBe('INVALID_ENCODING');
      expect(e.message, text).toContain(why);
    }
    expect(fromHex('')).toHaveLength(0);
  });
});

describe('base64', () => {
  it('round trips and matches Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = toBase64(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64'));
        expect(hex(fromBase64(text))).toBe(hex(bytes));
        expect(hex(fromBase64(text, bytes.length))).toBe(hex(bytes));
      }),
    );
  });

  it('refuses non-canonical text, bad characters, padding and lengths with INVALID_ENCODING', () => {
    const cases: [string, number | undefined, string][] = [
      ['AB==', undefined, 'canonical'],
      ['AAB=', undefined, 'canonical'],
      ['AA=', undefined, 'multiple of 4'],
      ['AA', undefined, 'multiple of 4'],
      ['AAAAA', undefined, 'multiple of 4'],
      ['A===', undefined, 'wrong place'],
      ['AA==AA==', undefined, 'wrong place'],
      ['A=A=', undefined, 'wrong place'],
      ['-_8=', undefined, 'base64url'],
      [' AA=', undefined, 'not " "'],
      ['AA==\n', undefined, 'not "\\n"'],
      ['AAAA', 2, 'Expected 2 bytes'],
      ['AAA=', 3, 'Expected 3 bytes'],
      [toBase64(new Uint8Array(31)), 32, 'Expected 32 bytes, got 31'],
      ['A'.repeat(1_000_000), 32, 'got 1000000'],
    ];
    for (const [text, n, why] of cases) {
      const e = thrown(() => fromBase64(text, n));
      expect(e.code, text).toBe('INVALID_ENCODING');
      expect(e.message, text).toContain(why);
    }
    expect(fromBase64('')).toHaveLength(0);
    expect(hex(fromBase64('/+8='))).toBe('ffef');
  });
});
