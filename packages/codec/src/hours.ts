import { LIMITS } from '@mutual/interface';
import type { ParseDecimalOptions } from './amount.ts';
import { formatDecimal, parseDecimal } from './decimal.ts';

/**
 * Milli-hours of a decimal number of hours worked: "7.5" -> 7500n. Same grammar as
 * amounts; at most 24 hours (one day). Zero is refused unless `allowZero`. Throws
 * `VALIDATION_FAILED`.
 */
export function parseHours(text: string, options: ParseDecimalOptions = {}): bigint {
  return parseDecimal(text, {
    noun: 'Hours',
    milliUnit: 'milli-hour',
    code: 'VALIDATION_FAILED',
    max: BigInt(LIMITS.MAX_MILLI_HOURS_PER_DAY),
    tooLargeCode: 'VALIDATION_FAILED',
    tooLarge: `at most ${formatDecimal(BigInt(LIMITS.MAX_MILLI_HOURS_PER_DAY))} hours can be recorded for one day.`,
    allowZero: options.allowZero ?? false,
  });
}

/** The shortest decimal text of milli-hours: 7500n -> "7.5", 8000n -> "8". */
export function formatHours(milliHours: bigint): string {
  return formatDecimal(milliHours);
}
