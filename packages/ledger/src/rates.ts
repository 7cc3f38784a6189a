import { LIMITS } from '@mutual/interface';
import { isCategoryName } from './prepare.ts';
import type { RateSchedule } from './types.ts';

/** The schedule every bank adopts at genesis: standard work 1.0, unpleasant work 1.5. */
export const DEFAULT_RATES: ReadonlyArray<readonly [string, number]> = [
  ['standard', 1000],
  ['unpleasant', 1500],
];

/**
 * Checks a proposed schedule: 1 to MAX_RATE_CATEGORIES categories, well-formed unique names,
 * rates from 1 to MAX_RATE_MILLI. Returns the problem, or undefined when it is valid.
 */
export function rateScheduleProblem(rates: ReadonlyArray<readonly [string, number]>): string | undefined {
  if (rates.length === 0) return 'a rate schedule needs at least one category';
  if (rates.length > LIMITS.MAX_RATE_CATEGORIES) return `at most ${LIMITS.MAX_RATE_CATEGORIES} categories`;
  const seen = new Set<string>();
  for (const [name, rate] of rates) {
    if (!isCategoryName(name)) return `"${name.slice(0, 40)}" is not a category name (lower-case letters, digits and -, at most ${LIMITS.MAX_CATEGORY_BYTES})`;
    if (seen.has(name)) return `category "${name}" appears twice`;
    seen.add(name);
    if (!Number.isSafeInteger(rate) || rate < 1 || rate > LIMITS.MAX_RATE_MILLI) {
      return `rate of "${name}" must be between 0.001 and ${LIMITS.MAX_RATE_MILLI / 1000}`;
    }
  }
  return undefined;
}

export function toSchedule(rates: ReadonlyArray<readonly [string, number]>): RateSchedule {
  return new Map(rates);
}

/** notes issued = hours x rate, in milli units, rounded down (protocol/README.md, "Issuance"). */
export function issuedFor(milliHours: bigint, rateMilli: number): bigint {
  return (milliHours * BigInt(rateMilli)) / 1000n;
}
