// Arithmetic on leaf indexes and tree sizes. Sizes may reach Number.MAX_SAFE_INTEGER, so
// nothing here uses JavaScript's 32-bit bitwise operators: halving, parity and powers of
// two are computed with exact floating-point arithmetic instead.

/**
 * Throws a RangeError unless `value` is a safe integer >= 0 (a leaf index or tree size).
 */
export function assertIndex(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a safe integer >= 0, got ${String(value)}`);
  }
}

/** Whether `value` is a safe integer >= 0. Never throws. */
export function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * The split point of RFC 9162 §2.1.1: "k be the largest power of two smaller than n
 * (i.e., k < n <= 2k)". Requires n >= 2.
 */
export function splitPoint(n: number): number {
  let k = 2 ** Math.floor(Math.log2(n - 1));
  // Math.log2 is rounded, and can be one off just below a large power of two.
  while (k >= n) k /= 2;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Whether n (>= 1) is a power of two, that is the size of a perfect subtree. */
export function isPowerOfTwo(n: number): boolean {
  return n === 1 || (n >= 2 && splitPoint(n) * 2 === n);
}

/** The exponent of a power of two (the level of a perfect subtree of that many leaves). */
export function levelOf(powerOfTwo: number): number {
  let level = 0;
  for (let width = 1; width < powerOfTwo; width *= 2) level++;
  return level;
}

/**
 * Levels of the maximal perfect subtrees that cover [0, size), lowest level first: one
 * per set bit of `size`.
 */
export function setBitLevels(size: number): number[] {
  const levels: number[] = [];
  for (let s = size, level = 0; s > 0; s = Math.floor(s / 2), level++) {
    if (s % 2 === 1) levels.push(level);
  }
  return levels;
}
