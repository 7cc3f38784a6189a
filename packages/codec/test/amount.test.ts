import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LIMITS } from '@mutual/interface';
import { formatAmount, MAX_DECIMAL_CHARS, parseAmount } from '../src/index.ts';
import { thrown } from './thrown.ts';

const MAX = LIMITS.MAX_AMOUNT_MILLI;

/** Shortest decimal text, built digit by digit independently of the code under test. */
const shortestText = fc
  .tuple(
    fc.oneof(fc.constant('0'), fc.stringMatching(/^[1-9][0-9]{0,11}$/)),
    fc.oneof(fc.constant(''), fc.stringMatching(/^[0-9]{0,2}[1-9]$/)),
  )
  .map(([whole, fraction]) => (fraction === '' ? whole : `${whole}.${fraction}`))
  .filter((t) => t !== '0');

describe('parseAmount', () => {
  it('reads decimals into milli-notes', () => {
    const cases: [string, bigint][] = [
      ['7.5', 7500n],
      ['0.001', 1n],
      ['12', 12000n],
      ['12.000', 12000n],
      ['0.5', 500n],
      ['0.05', 50n],
      ['1.234', 1234n],
      ['1000000000000', MAX],
      ['999999999999.999', MAX - 1n],
    ];
    for (const [text, milli] of cases) expect(parseAmount(text)).toBe(milli);
  });

  it('refuses everything outside the grammar, with INVALID_AMOUNT and a message that says what to fix', () => {
    const cases: [string, string][] = [
      ['-1', 'negative'],
      ['-0.5', 'negative'],
      ['+1', '"+"'],
      ['1e3', 'exponent'],
      ['1E3', 'exponent'],
      ['', 'empty'],
      [' 1', 'space'],
      ['1 ', 'space'],
      ['1\u00a0000', 'space'],
      ['1.', 'after the "."'],
      ['.5', 'before the "."'],
      ['1.2345', 'at most 3 decimal places'],
      ['0.0001', 'milli-note'],
      ['01', 'leading zeros'],
      ['00', 'leading zeros'],
      ['00.5', 'leading zeros'],
      ['1,5', 'decimal separator'],
      ['1.2.3', 'more than one'],
      ['\u0663', 'ASCII'], // ARABIC-INDIC DIGIT THREE
      ['\uff11', 'ASCII'], // FULLWIDTH DIGIT ONE
      ['0x10', 'only the digits'],
      ['NaN', 'only the digits'],
      ['Infinity', 'only the digits'],
      ['1_000', 'only the digits'],
    ];
    for (const [text, why] of cases) {
      const e = thrown(() => parseAmount(text));
      expect(e.code, text).toBe('INVALID_AMOUNT');
      expect(e.message, text).toContain(why);
    }
  });

  it('refuses zero unless allowed', () => {
    expect(thrown(() => parseAmount('0')).message).toContain('more than 0');
    expect(thrown(() => parseAmount('0.000')).message).toContain('more than 0');
    expect(parseAmount('0', { allowZero: true })).toBe(0n);
    expect(parseAmount('0.0', { allowZero: true })).toBe(0n);
  });

  it('refuses amounts above MAX_AMOUNT_MILLI', () => {
    expect(parseAmount(formatAmount(MAX))).toBe(MAX);
    for (const text of ['1000000000000.001', '1000000000001', '99999999999999999']) {
      const e = thrown(() => parseAmount(text));
      expect(e.code).toBe('INVALID_AMOUNT');
      expect(e.message).toContain('too large');
    }
  });

  it('checks the length before anything else', () => {
    const e = thrown(() => parseAmount('1'.repeat(MAX_DECIMAL_CHARS + 1)));
    expect(e.message).toContain('characters long');
    const huge = thrown(() => parseAmount(`0.${'0'.repeat(5_000_000)}1`));
    expect(huge.message).toContain('characters long');
    expect(huge.message.length).toBeLessThan(200);
  });

  it('agrees with a digit-by-digit reading of the text', () => {
    fc.assert(
      fc.property(shortestText, (text) => {
        const [whole, fraction = ''] = text.split('.');
        expect(parseAmount(text)).toBe(BigInt(whole! + fraction.padEnd(3, '0')));
      }),
    );
  });
});

describe('formatAmount', () => {
  it('writes the shortest decimal, with "-" for negative positions', () => {
    const cases: [bigint, string][] = [
      [7500n, '7.5'],
      [12000n, '12'],
      [1n, '0.001'],
      [10n, '0.01'],
      [0n, '0'],
      [1234n, '1.234'],
      [-7500n, '-7.5'],
      [-1n, '-0.001'],
      [MAX, '1000000000000'],
      [LIMITS.MAX_BALANCE_MILLI, '9223372036854775.807'],
    ];
    for (const [milli, text] of cases) expect(formatAmount(milli)).toBe(text);
  });

  it('round trips every amount from 1 to MAX: parse(format(v)) === v', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: MAX }), (v) => {
        const text = formatAmount(v);
        expect(text).toMatch(/^(0|[1-9][0-9]*)(\.[0-9]{0,2}[1-9])?$/);
        expect(parseAmount(text)).toBe(v);
      }),
      { numRuns: 1000 },
    );
  });

  it('round trips shortest texts: format(parse(x)) === x', () => {
    fc.assert(
      fc.property(shortestText, (text) => {
        expect(formatAmount(parseAmount(text))).toBe(text);
      }),
    );
  });

  it('negates exactly', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: MAX }), (v) => {
        expect(formatAmount(-v)).toBe(`-${formatAmount(v)}`);
      }),
    );
  });
});
