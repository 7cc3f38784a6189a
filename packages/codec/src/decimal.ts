import { LIMITS, MutualError, type Code } from '@mutual/interface';

/**
 * Decimal text <-> integer thousandths (milli-notes, milli-hours). Exact: the text is
 * parsed digit by digit into a bigint, never through floating point.
 */

const DECIMALS = LIMITS.AMOUNT_DECIMALS;
const SCALE = 10n ** BigInt(DECIMALS);

/**
 * Longest decimal text accepted, checked before anything else. The largest amount,
 * 1000000000000.000, has 17 characters.
 */
export const MAX_DECIMAL_CHARS = 32;

const CANONICAL = new RegExp(`^(0|[1-9][0-9]*)(?:\\.([0-9]{1,${DECIMALS}}))?$`);

/** What is parsed and how it may fail. */
export interface DecimalSpec {
  /** Capitalized name in messages: "Amount", "Hours". */
  readonly noun: string;
  /** Unit of one thousandth, for the "too many decimals" message. */
  readonly milliUnit: string;
  /** Code of every failure except `tooLarge`. */
  readonly code: Code;
  /** Largest value, in thousandths. */
  readonly max: bigint;
  /** Code and explanation when the value is above `max`. */
  readonly tooLargeCode: Code;
  readonly tooLarge: string;
  readonly allowZero: boolean;
}

/** Parses decimal text with at most 3 decimals into thousandths, per `spec`. */
export function parseDecimal(text: string, spec: DecimalSpec): bigint {
  if (typeof text !== 'string') {
    throw new MutualError(spec.code, `${spec.noun} must be written as decimal text, such as "7.5".`);
  }
  if (text.length > MAX_DECIMAL_CHARS) {
    throw new MutualError(spec.code, `${spec.noun} is ${text.length} characters long; at most ${MAX_DECIMAL_CHARS} are accepted.`);
  }
  if (text.length === 0) throw new MutualError(spec.code, `${spec.noun} is empty: write a number such as "7.5".`);

  const m = CANONICAL.exec(text);
  if (m === null) refuse(spec, text, diagnose(text, spec));
  const whole = m[1] ?? '0';
  const fraction = (m[2] ?? '').padEnd(DECIMALS, '0');
  const value = BigInt(whole) * SCALE + BigInt(fraction);

  if (value === 0n && !spec.allowZero) refuse(spec, text, 'must be more than 0.');
  if (value > spec.max) {
    throw new MutualError(spec.tooLargeCode, `${spec.noun} ${JSON.stringify(text)} is too large: ${spec.tooLarge}`);
  }
  return value;
}

function refuse(spec: DecimalSpec, text: string, why: string): never {
  throw new MutualError(spec.code, `${spec.noun} ${JSON.stringify(text)} ${why}`);
}

/** Why `text`, which is not canonical, is refused: the most specific reason first. */
function diagnose(text: string, spec: DecimalSpec): string {
  if (/\s/.test(text)) return 'contains a space or invisible character: write only digits and at most one ".".';
  if (text.startsWith('-')) return 'cannot be negative.';
  if (text.startsWith('+')) return 'must be written without a "+" sign.';
  if (/[eE]/.test(text)) return 'must be written out in digits, without an exponent (1000, not 1e3).';
  if (text.includes(',')) return 'must use "." as the decimal separator and no thousands separators.';
  if (/[^\x00-\x7f]/.test(text)) return 'contains a character that is not an ASCII digit: use only 0-9 and ".".';
  if (/[^0-9.]/.test(text)) return 'may contain only the digits 0-9 and one ".".';
  const dots = text.split('.').length - 1;
  if (dots > 1) return 'has more than one ".".';
  if (text.startsWith('.')) return 'needs a digit before the "." (write 0.5, not .5).';
  if (text.endsWith('.')) return 'needs digits after the "." (write 1 or 1.5, not 1.).';
  const decimals = dots === 1 ? text.length - text.indexOf('.') - 1 : 0;
  if (decimals > DECIMALS) {
    return `has ${decimals} decimal places: at most ${DECIMALS} decimal places are allowed (the smallest unit is one ${spec.milliUnit}, 0.001).`;
  }
  if (/^0[0-9]/.test(text)) return 'must be written without leading zeros (7, not 07).';
  return 'is not a decimal number such as "7.5".';
}

/** The shortest decimal text of `milli` thousandths: 7500n -> "7.5", -1n -> "-0.001". */
export function formatDecimal(milli: bigint): string {
  if (typeof milli !== 'bigint') throw new TypeError(`Expected a bigint of thousandths, got ${typeof milli}.`);
  const negative = milli < 0n;
  const abs = negative ? -milli : milli;
  const whole = (abs / SCALE).toString();
  const fraction = (abs % SCALE).toString().padStart(DECIMALS, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`}`;
}
