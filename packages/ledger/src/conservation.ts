import type { MemoryLedgerState } from './state.ts';

/**
 * The conservation law of one bank (protocol/README.md, "Invariants"): the sum of balances
 * equals the notes issued minus the notes retired (plus the net interbank position, once
 * banks federate). Returns the problem, or undefined when it holds.
 */
export function conservationProblem(state: MemoryLedgerState): string | undefined {
  const sum = state.sumOfBalances();
  const expected = state.totals.issued - state.totals.retired;
  if (sum !== expected) return `sum of balances ${sum} != issued ${state.totals.issued} - retired ${state.totals.retired}`;
  for (const a of state.accounts.values()) if (a.balance < 0n) return 'a balance is negative';
  return undefined;
}
