import { bytesEqual, type SignedHead } from '@mutual/ledger';
import type { LedgerStore, ReplicaStore } from '@mutual/store';

/**
 * The logs this node can serve: its own (from the ledger) and the verified replicas it holds.
 * Any node holding a replica serves it, so a bank's log stays available while the bank is down.
 */
export interface LogSource {
  /** The latest head of `bank` this node can prove entries against, if any. */
  servableHead(bank: Uint8Array): Promise<SignedHead | undefined>;
  /** Entries [from, to) of `bank`; `to` at most the size of the servable head. */
  entries(bank: Uint8Array, from: number, to: number): Promise<Uint8Array[]>;
  /** RFC 9162 consistency proof from the tree of `from` entries to that of `to`. */
  consistency(bank: Uint8Array, from: number, to: number): Promise<Uint8Array[]>;
}

export function logSource(ledger: LedgerStore, replicas: ReplicaStore): LogSource {
  const own = (bank: Uint8Array) => bytesEqual(bank, ledger.bank.key);
  return {
    servableHead: async (bank) => (own(bank) ? ledger.head : replicas.servableHead(bank)),
    entries: (bank, from, to) => (own(bank) ? ledger.getEntries(from, to) : replicas.getEntries(bank, from, to)),
    consistency: (bank, from, to) => (own(bank) ? ledger.consistencyProof(from, to) : replicas.consistencyProof(bank, from, to)),
  };
}
