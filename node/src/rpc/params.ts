import { MutualError } from '@mutual/interface';

/**
 * Query and path integers travel as text and are validated as text (the validator does not
 * coerce types, so that a JSON body with `"limit": "5"` or `5` for a string is refused rather
 * than silently converted). This is the one place that turns them into numbers.
 */
export const uintText = { type: 'string', pattern: '^(0|[1-9][0-9]{0,14})$', description: 'a non-negative integer' } as const;

/** The integer of a query or path field, or `dflt` when absent; VALIDATION_FAILED outside [min, max]. */
export function intParam(text: string | undefined, field: string, min: number, max: number, dflt?: number): number {
  if (text === undefined) {
    if (dflt === undefined) throw new MutualError('VALIDATION_FAILED', `${field} is required`);
    return dflt;
  }
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new MutualError('VALIDATION_FAILED', `${field} must be an integer from ${min} to ${max}`);
  }
  return n;
}
