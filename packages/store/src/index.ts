/**
 * @mutual/store: a bank's ledger in LevelDB. Group commits, each one atomic and synced
 * before it is acknowledged; materialized balances and indexes, so opening does not replay
 * the log; and {@link verifyStore}, which does replay it and checks everything.
 */
export { FORMAT_VERSION, KEYSPACES, LOWEST_STORED_LEVEL, META, RETIRED_KEYSPACES, type Keyspace } from './keyspaces.ts';
export { LedgerStore, MAX_OUTGOING_SCAN, type CommitEvent, type CommitListener, type OutgoingState, type OutgoingStatus, type StoreOptions, type VerifyItem } from './store.ts';
export { verifyStore, type VerifyReport } from './verify.ts';
export { ReplicaStore, isEntryOf, type ChunkProblem, type ForkListener, type ReplicaListener, type ReplicaStatus } from './replica.ts';
export { checkForkProof, encodeForkProof, prefixHash, type ForkEvidence } from './fork.ts';
export { AgreementPool, type PoolOutcome } from './agreements.ts';
