import { isApplied, type Applied, type Result } from '@mutual/client';
import type { Context } from '../context.ts';
import { EXIT } from '../exit-codes.ts';
import { Failure } from '../failure.ts';

/**
 * Prints the result of a submitted instruction. A rejection is the bank's answer, not a
 * fault: with --json it is printed like an application; the command then exits 3 with the
 * bank's code and message.
 */
export function printResult(ctx: Context, result: Result, applied: (r: Applied) => string): void {
  if (isApplied(result)) {
    ctx.out.result(result, () => `${applied(result)}${result.duplicate ? ' (already applied: this was a retry)' : ''}`);
    return;
  }
  if (ctx.options.json) ctx.io.stdout(`${JSON.stringify(result, null, 2)}\n`);
  throw new Failure(result.code, `the bank rejected the instruction: ${result.message}`, EXIT.rejected);
}
