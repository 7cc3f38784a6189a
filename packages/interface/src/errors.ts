import { CODES, type Code } from './codes.ts';

/**
 * An operating or request error with a stable `code` (the one discriminator: match on
 * `err.code`, never on the message) and the underlying `cause`.
 */
export class MutualError extends Error {
  readonly code: Code;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: Code, message?: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message ?? CODES[code].description, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MutualError';
    this.code = code;
    this.details = options?.details;
  }

  /** The HTTP status this error maps to. */
  get status(): number {
    return CODES[this.code].status;
  }
}

export function isMutualError(e: unknown, code?: Code): e is MutualError {
  return e instanceof MutualError && (code === undefined || e.code === code);
}
