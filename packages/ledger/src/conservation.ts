import type { MemoryLedgerState } from './state.ts';

/**
 * The conservation law of one bank (protocol/README.md, "Invariants"): the sum of balances
 * equals the notes issued minus the notes retired plus the net interbank position (received
 * from other banks, minus sent to them, plus refunded). Returns the problem, or undefined when it holds.
 */
export function conservationProblem(state: MemoryLedgerState): string | undefined {
  const sum = state.sumOfBalances();
  const t = state.totals;
  const expected = t.issued - t.retired - t.sent + t.refunded + t.received;
  if (sum !== expected) {
    return `sum of balances ${sum} != issued ${t.issued} - retired ${t.retired} - sent ${t.sent} + refunded ${t.refunded} + received ${t.received}`;
  }
  let sent = 0n;
  let refunded = 0n;
  let received = 0n;
  for (const { position } of state.positions.values()) {
    sent += position.sent;
    refunded += position.refunded;
    received += position.received;
  }
  if (sent !== t.sent || refunded !== t.refunded || received !== t.received) return 'the interbank positions do not add up to the totals';
  for (const a of state.accounts.values()) if (a.balance < 0n) return 'a balance is negative';
  return undefined;
}
