import { LIMITS } from '@mutual/interface';
import { pb } from '@mutual/protocol';
import { isCategoryName } from './prepare.ts';
import type { RateSchedule } from './types.ts';

/** Room for the schedule in an entry, leaving space for the entry's own fields. */
export const MAX_SCHEDULE_BYTES = LIMITS.MAX_ENTRY_BYTES - 64;

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
  // The schedule is recorded in one entry, which must stay within MAX_ENTRY_BYTES.
  const bytes = pb.RateScheduleAdopted.encode({ rates: rates.map(([category, rateMilli]) => ({ category, rateMilli })) }).finish().length;
  if (bytes > MAX_SCHEDULE_BYTES) return `the schedule takes ${bytes} bytes; at most ${MAX_SCHEDULE_BYTES} (fewer or shorter categories)`;
  return undefined;
}

export function toSchedule(rates: ReadonlyArray<readonly [string, number]>): RateSchedule {
  return new Map(rates);
}

/** notes issued = hours x rate, in milli units, rounded down (protocol/README.md, "Issuance"). */
export function issuedFor(milliHours: bigint, rateMilli: number): bigint {
  return (milliHours * BigInt(rateMilli)) / 1000n;
}
