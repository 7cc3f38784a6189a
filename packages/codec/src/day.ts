import { MutualError } from '@mutual/interface';

/**
 * Days: whole UTC days since 1970-01-01, written as YYYY-MM-DD. The arithmetic is the
 * proleptic Gregorian calendar in integers, with no Date object, so that it does not depend
 * on the host's time zone or on Date's handling of odd years.
 */

const MS_PER_DAY = 86_400_000;
const FIRST_YEAR = 1970;
const LAST_YEAR = 9999;

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** The date of a day number: the inverse of {@link daysFromCivil}. */
function civilFromDays(days: number): [year: number, month: number, day: number] {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The last day that can be written (9999-12-31). Days run from 0 (1970-01-01) to this. */
export const MAX_DAY = daysFromCivil(LAST_YEAR, 12, 31);

function refuse(message: string): never {
  throw new MutualError('VALIDATION_FAILED', message);
}

const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

/**
 * The day number of a date written strictly as YYYY-MM-DD ("2026-11-25"): a real calendar
 * date in the years 1970 to 9999. Throws `VALIDATION_FAILED`.
 */
export function parseDay(text: string): number {
  if (typeof text !== 'string') refuse('A date must be text written as YYYY-MM-DD, such as "2026-11-25".');
  // Every valid date has exactly 10 characters; checking first bounds the work.
  const m = text.length === 10 ? DATE.exec(text) : null;
  if (m === null) {
    const shown = text.length > 40 ? `${JSON.stringify(text.slice(0, 40))}...` : JSON.stringify(text);
    refuse(`Date ${shown} must be written as YYYY-MM-DD, such as "2026-11-25".`);
  }
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (year < FIRST_YEAR) refuse(`Date "${text}" is before ${FIRST_YEAR}: dates run from ${FIRST_YEAR}-01-01 to ${LAST_YEAR}-12-31.`);
  if (month < 1 || month > 12) refuse(`Date "${text}" has no month ${m[2]}: months run from 01 to 12.`);
  const last = daysInMonth(year, month);
  if (day < 1 || day > last) refuse(`Date "${text}" does not exist: that month has days 01 to ${last}.`);
  return daysFromCivil(year, month, day);
}

function assertDay(day: number): void {
  if (!Number.isInteger(day) || day < 0 || day > MAX_DAY) {
    refuse(`Day ${String(day)} is not a whole number of days from 0 (${FIRST_YEAR}-01-01) to ${MAX_DAY} (${LAST_YEAR}-12-31).`);
  }
}

/** The YYYY-MM-DD text of a day number (0 = 1970-01-01). Throws `VALIDATION_FAILED` outside 0..MAX_DAY. */
export function formatDay(day: number): string {
  assertDay(day);
  const [y, m, d] = civilFromDays(day);
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/**
 * The UTC day number of a time in milliseconds since 1970-01-01T00:00:00Z. Throws
 * `VALIDATION_FAILED` for a time that is not a whole number of milliseconds or whose day
 * is outside 0..MAX_DAY.
 */
export function dayOfTimeMs(ms: bigint | number): number {
  if (typeof ms !== 'bigint' && typeof ms !== 'number') refuse('A time must be a whole number of milliseconds.');
  if (typeof ms === 'number' && !Number.isSafeInteger(ms)) refuse(`Time ${String(ms)} is not a whole number of milliseconds.`);
  // bigint division truncates toward zero, which is the floor for the non-negative times allowed.
  const time = BigInt(ms);
  if (time < 0n) refuse(`Time ${time} ms is before 1970-01-01.`);
  const day = time / BigInt(MS_PER_DAY);
  if (day > BigInt(MAX_DAY)) refuse(`Time ${time} ms is after ${LAST_YEAR}-12-31.`);
  return Number(day);
}
