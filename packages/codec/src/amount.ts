import { LIMITS } from '@mutual/interface';
import { formatDecimal, parseDecimal } from './decimal.ts';

/** Options of {@link parseAmount} and {@link parseHours}. */
export interface ParseDecimalOptions {
  /** Accept "0" (default false: an amount of nothing is almost always a mistake). */
  readonly allowZero?: boolean;
}

/**
 * Milli-notes of a decimal amount of notes: "7.5" -> 7500n, "0.001" -> 1n, "12" -> 12000n.
 * Accepts exactly `0|[1-9][0-9]*` with an optional "." and 1 to 3 decimals, up to
 * LIMITS.MAX_AMOUNT_MILLI. Zero is refused unless `allowZero`. Throws `INVALID_AMOUNT`.
 */
export function parseAmount(text: string, options: ParseDecimalOptions = {}): bigint {
  return parseDecimal(text, {
    noun: 'Amount',
    milliUnit: 'milli-note',
    code: 'INVALID_AMOUNT',
    max: LIMITS.MAX_AMOUNT_MILLI,
    tooLargeCode: 'INVALID_AMOUNT',
    tooLarge: `the largest amount is ${formatDecimal(LIMITS.MAX_AMOUNT_MILLI)} notes.`,
    allowZero: options.allowZero ?? false,
  });
}

/**
 * The shortest decimal text of an amount in milli-notes: 7500n -> "7.5", 12000n -> "12".
 * Negative values (signed positions) get a leading "-".
 */
export function formatAmount(milli: bigint): string {
  return formatDecimal(milli);
}
