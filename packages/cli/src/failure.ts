import { isMutualError, MutualError, type Code } from '@mutual/interface';
import { EXIT, type ExitCode } from './exit-codes.ts';

/** An error that ends the command with a chosen exit status. */
export class Failure extends Error {
  /** a code of the registry, or the code of a rejected instruction as the node sent it */
  readonly code: string;
  readonly exit: ExitCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, exit: ExitCode, details?: Record<string, unknown>) {
    super(message);
    this.name = 'Failure';
    this.code = code;
    this.exit = exit;
    this.details = details;
  }
}

/** A usage error (exit 2) with the given code. */
export function usageError(message: string, code: Code = 'USAGE'): Failure {
  return new Failure(code, message, EXIT.usage);
}

/** A verification failure (exit 4). */
export function verificationFailed(message: string, details?: Record<string, unknown>): Failure {
  return new Failure('VERIFICATION_FAILED', message, EXIT.verificationFailed, details);
}

/**
 * Runs a parse of command-line input; a MutualError it throws (INVALID_ID, INVALID_AMOUNT,
 * KEY_FILE_INVALID...) becomes a usage error with the same code, naming the argument.
 */
export function parsingArg<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof MutualError) throw usageError(`${what}: ${err.message}`, err.code);
    throw err;
  }
}

/** The exit status, code and message of anything a command threw. */
export function describeFailure(err: unknown): { exit: ExitCode; code: string; message: string; details?: Record<string, unknown> } {
  if (err instanceof Failure) return { exit: err.exit, code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
  if (isMutualError(err)) {
    const exit =
      err.code === 'NODE_UNREACHABLE'
        ? EXIT.unreachable
        : err.code === 'USAGE'
          ? EXIT.usage
          : err.code === 'VERIFICATION_FAILED'
            ? EXIT.verificationFailed
            : EXIT.error;
    return { exit, code: err.code, message: err.message };
  }
  return { exit: EXIT.error, code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}
