/**
 * The one table of the database's keyspaces. Every key starts with one of these bytes.
 * A prefix is never reused: a retired keyspace moves to RETIRED_KEYSPACES.
 * Integers in keys are big-endian so that LevelDB's byte order is numeric order.
 */
export const KEYSPACES = {
  /** meta/<name>: format version, bank identity, log size, totals, rate schedule, latest head, agreement in force */
  meta: 0x01,
  /** entries/<index u64>: Entry bytes, the leaves of the Merkle tree */
  entries: 0x02,
  /**
   * nodes/<level u8><index u64>: hash of the complete subtree [index*2^level, (index+1)*2^level),
   * for levels >= LOWEST_STORED_LEVEL only (the lower ones are derived from the entries)
   */
  nodes: 0x03,
  /** heads/<size u64>: the SignedTreeHead of every commit */
  heads: 0x04,
  /** accounts/<account 20>: AccountRecord */
  accounts: 0x05,
  /**
   * applied/<account 20><sequence u64>: AppliedRecord, the entry of the account's instruction of
   * that sequence: for retries of the same instruction, and the account's statement
   */
  applied: 0x06,
  /** labor-days/<worker 20><day u32>: milli-hours credited for that day, u64 */
  laborDays: 0x07,
  /**
   * history/<account 20><index u64>: empty; the other entries that touch an account (its
   * opening, credits, refunds), not those of its own instructions, which `applied` lists
   */
  history: 0x08,
  /** replica-entries/<bank 32><index u64>: Entry bytes of another bank's log, verified */
  replicaEntries: 0x09,
  /** replica-nodes/<bank 32><level u8><index u64>: Merkle nodes of a replica, as `nodes` (levels >= LOWEST_STORED_LEVEL) */
  replicaNodes: 0x0a,
  /** replica-heads/<bank 32><size u64>: SignedTreeHead of another bank, signature verified */
  replicaHeads: 0x0b,
  /** replica-meta/<bank 32>: verified size of the replica, u64 */
  replicaMeta: 0x0c,
  /** agreements/<agreement ID 32>: SignedAgreement with the union of the valid signatures seen */
  agreements: 0x0d,
  /** forks/<bank 32>: ForkProof of a bank that signed two inconsistent heads */
  forks: 0x0e,
  /** outgoing/<index u64>: OutgoingRecord, an interbank transfer this bank sent */
  outgoing: 0x0f,
  /** inbound/<bank 32><index u64>: u64 index of this bank's credit or rejection of that bank's outgoing entry */
  inbound: 0x10,
  /** positions/<bank 32>: PositionRecord, interbank totals with that bank */
  positions: 0x11,
  /** clearing/<bank 32>: u64, entries of that bank's replica already scanned for interbank work */
  clearing: 0x12,
  /** settled/<index u64>: EntryRef bytes of the credit that settled this bank's outgoing entry */
  settled: 0x13,
} as const;

export type Keyspace = keyof typeof KEYSPACES;

/** Prefixes used by earlier formats; never to be used again. */
export const RETIRED_KEYSPACES: readonly number[] = [];

/** Names of the values in the meta keyspace. */
export const META = {
  format: 'format',
  bank: 'bank',
  size: 'size',
  totals: 'totals',
  rates: 'rates',
  head: 'head',
  /** AgreementAdopted of the federation agreement in force; absent before the first adoption */
  agreement: 'agreement',
} as const;

/**
 * The database format this version reads and writes. Format 1 also stored the Merkle nodes of
 * levels 0 to 3; format 2 also stored a history record for the entry of each of an account's
 * own instructions, and the body's hash in each applied record. Opening an older database
 * brings it to this format (see migrate.ts).
 */
export const FORMAT_VERSION = 3;

/**
 * The lowest level of the Merkle nodes stored (`nodes`, `replicaNodes`): a node of a lower
 * level covers at most 8 entries and is derived from them when a proof needs it. One node
 * is written per 16 entries instead of two per entry.
 */
export const LOWEST_STORED_LEVEL = 4;
