import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatHours, parseHours } from '../src/index.ts';
import { thrown } from './thrown.ts';

describe('hours', () => {
  it('reads decimal hours into milli-hours', () => {
    expect(parseHours('7.5')).toBe(7500n);
    expect(parseHours('0.001')).toBe(1n);
    expect(parseHours('8')).toBe(8000n);
    expect(parseHours('24')).toBe(24000n);
    expect(parseHours('24.000')).toBe(24000n);
  });

  it('refuses more than 24 hours, zero and bad text with VALIDATION_FAILED', () => {
    for (const text of ['24.001', '25', '1000000']) {
      const e = thrown(() => parseHours(text));
      expect(e.code).toBe('VALIDATION_FAILED');
      expect(e.message).toContain('24 hours');
    }
    expect(thrown(() => parseHours('0')).message).toContain('more than 0');
    expect(parseHours('0', { allowZero: true })).toBe(0n);
    for (const [text, why] of [['-1', 'negative'], ['7.25h', 'only the digits'], ['7.2500', 'at most 3'], ['', 'empty']] as const) {
      const e = thrown(() => parseHours(text));
      expect(e.code).toBe('VALIDATION_FAILED');
      expect(e.message).toMatch(/^Hours/);
      expect(e.message).toContain(why);
    }
  });

  it('formats the shortest decimal and round trips 1..24000 milli-hours', () => {
    expect(formatHours(7500n)).toBe('7.5');
    expect(formatHours(24000n)).toBe('24');
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 24000n }), (v) => {
        expect(parseHours(formatHours(v))).toBe(v);
      }),
    );
  });
});
