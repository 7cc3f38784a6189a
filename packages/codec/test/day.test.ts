import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { dayOfTimeMs, formatDay, MAX_DAY, parseDay } from '../src/index.ts';
import { thrown } from './thrown.ts';

const DAY_MS = 86_400_000;
const isoDay = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

describe('days', () => {
  it('reads and writes known dates', () => {
    expect(parseDay('1970-01-01')).toBe(0);
    expect(parseDay('1970-01-02')).toBe(1);
    expect(parseDay('2026-11-25')).toBe(20417 + 365);
    expect(parseDay('2000-02-29')).toBe(11016);
    expect(parseDay('9999-12-31')).toBe(MAX_DAY);
    expect(MAX_DAY).toBe(2932896);
    expect(formatDay(0)).toBe('1970-01-01');
    expect(formatDay(20782)).toBe('2026-11-25');
  });

  it('agrees with the calendar of Date on every day from 1970 to 9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_DAY }), (day) => {
        const text = isoDay(day);
        expect(formatDay(day)).toBe(text);
        expect(parseDay(text)).toBe(day);
      }),
      { numRuns: 2000 },
    );
    for (let day = 0; day <= 366 * 5; day++) expect(formatDay(day)).toBe(isoDay(day));
  });

  it('accepts only real dates written as YYYY-MM-DD in 1970..9999', () => {
    const cases: [string, string][] = [
      ['2025-02-29', 'does not exist'],
      ['2100-02-29', 'does not exist'],
      ['2026-04-31', 'does not exist'],
      ['2026-01-00', 'does not exist'],
      ['2026-01-32', 'does not exist'],
      ['2026-00-10', 'no month'],
      ['2026-13-01', 'no month'],
      ['1969-12-31', 'before 1970'],
      ['0000-01-01', 'before 1970'],
      ['10000-01-01', 'YYYY-MM-DD'],
      ['2026-1-01', 'YYYY-MM-DD'],
      ['2026/11/25', 'YYYY-MM-DD'],
      ['20261125', 'YYYY-MM-DD'],
      [' 2026-11-25', 'YYYY-MM-DD'],
      ['2026-11-25 ', 'YYYY-MM-DD'],
      ['2026-11-25T00:00:00Z', 'YYYY-MM-DD'],
      ['\uff12\uff10\uff12\uff16-11-25', 'YYYY-MM-DD'],
      ['+2026-11-25', 'YYYY-MM-DD'],
      ['', 'YYYY-MM-DD'],
    ];
    for (const [text, why] of cases) {
      const e = thrown(() => parseDay(text));
      expect(e.code, text).toBe('VALIDATION_FAILED');
      expect(e.message, text).toContain(why);
    }
    expect(thrown(() => parseDay('x'.repeat(1_000_000))).message.length).toBeLessThan(200);
  });

  it('formats only day numbers in 0..MAX_DAY', () => {
    for (const day of [-1, MAX_DAY + 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(thrown(() => formatDay(day)).code).toBe('VALIDATION_FAILED');
    }
  });

  it('finds the UTC day of a time in milliseconds', () => {
    expect(dayOfTimeMs(0)).toBe(0);
    expect(dayOfTimeMs(DAY_MS - 1)).toBe(0);
    expect(dayOfTimeMs(DAY_MS)).toBe(1);
    expect(dayOfTimeMs(BigInt(DAY_MS) * 20782n + 5n)).toBe(20782);
    expect(dayOfTimeMs(Date.UTC(2026, 10, 25, 23, 59, 59, 999))).toBe(parseDay('2026-11-25'));
    expect(dayOfTimeMs(BigInt(MAX_DAY + 1) * BigInt(DAY_MS) - 1n)).toBe(MAX_DAY);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: (MAX_DAY + 1) * DAY_MS - 1 }), (ms) => {
        expect(dayOfTimeMs(ms)).toBe(Math.floor(ms / DAY_MS));
        expect(dayOfTimeMs(BigInt(ms))).toBe(Math.floor(ms / DAY_MS));
      }),
    );
    for (const ms of [-1, -1n, 1.5, Number.NaN, (MAX_DAY + 1) * DAY_MS, BigInt(MAX_DAY + 1) * BigInt(DAY_MS), 2n ** 80n]) {
      expect(thrown(() => dayOfTimeMs(ms)).code).toBe('VALIDATION_FAILED');
    }
  });
});
