/**
 * Every limit on input from outside, in one place. Units are in the names.
 * docs/LIMITS.md lists them; a test checks that the two agree.
 */
export const LIMITS = {
  /** Bytes of one SignedInstruction (body + signature + framing). */
  MAX_INSTRUCTION_BYTES: 1024,
  /** Instructions applied in one group commit (one atomic, synced write). */
  MAX_ENTRIES_PER_COMMIT: 4096,
  /** Instructions accepted and waiting to be committed; past this, new ones are refused (OVERLOADED). */
  MAX_QUEUED_INSTRUCTIONS: 65_536,
  /** Instructions in one request (RPC batch). */
  MAX_INSTRUCTIONS_PER_REQUEST: 1000,
  /** UTF-8 bytes of a transfer, labor or retirement memo. */
  MAX_MEMO_BYTES: 140,
  /** UTF-8 bytes of an account label. */
  MAX_LABEL_BYTES: 64,
  /** UTF-8 bytes of a bank name or bioregion name. */
  MAX_NAME_BYTES: 64,
  /** UTF-8 bytes of a rate-schedule category name. */
  MAX_CATEGORY_BYTES: 32,
  /** Categories in one rate schedule. */
  MAX_RATE_CATEGORIES: 64,
  /** Highest rate of a category, x 1000 (10 notes per hour). */
  MAX_RATE_MILLI: 10_000,
  /** Hours credited to one worker account for one day, across all labor records, x 1000. */
  MAX_MILLI_HOURS_PER_DAY: 24_000,
  /** Days a labor record may be dated after the bank's commit time (time zones). */
  MAX_LABOR_DAYS_AHEAD: 1,
  /** Days a labor record may be dated before the bank's commit day (records are made soon after the work). */
  MAX_LABOR_DAYS_BACK: 92,
  /** Largest amount in one instruction, in milli-notes (10^12 notes). */
  MAX_AMOUNT_MILLI: 10n ** 15n,
  /** Largest balance of one account, in milli-notes (2^63 - 1). */
  MAX_BALANCE_MILLI: (1n << 63n) - 1n,
  /** Hashes in one inclusion or consistency proof: no valid proof of a log of up to 2^53 entries is longer. */
  MAX_PROOF_HASHES: 64,
  /** Bytes of one stored log entry. */
  MAX_ENTRY_BYTES: 2048,
  /** Agreements a node keeps in its pool (proposed, being signed, or adopted). */
  MAX_POOLED_AGREEMENTS: 256,
  /** Member banks of one federation agreement. */
  MAX_AGREEMENT_MEMBERS: 64,
  /** Bytes of one SignedAgreement: its adoption entry carries the same bytes and must fit in MAX_ENTRY_BYTES. */
  MAX_AGREEMENT_BYTES: 1984,
  /** Decimal places of an amount written as text: milli-notes. */
  AMOUNT_DECIMALS: 3,
  /** Log entries in one sync response of the mesh. */
  MAX_SYNC_ENTRIES_PER_RESPONSE: 1000,
  /** Bytes of one mesh message on a stream (hello, sync request or response), after its length prefix. */
  MAX_SYNC_MESSAGE_BYTES: 4 * 1024 * 1024,
  /** Entries in one push of the mesh (a bank's interbank entries of one commit for one other bank). */
  MAX_PUSH_ENTRIES: 1024,
  /** Entries waiting to be pushed to one bank (one push to it is in flight at a time); past this, the oldest are left to replication. */
  MAX_PUSH_QUEUE_ENTRIES: 8192,
  /**
   * Milliseconds between two gossiped heads of this bank: under load, one head per interval (the
   * latest) rather than one per commit. Every head gossiped is relayed to every bank of the
   * bioregion (about 30 sends for 10 banks), while the banks this one pays get its head with
   * every push; below HEAD_REFRESH_MS, so that a busy bank is never asked for its head.
   */
  HEAD_GOSSIP_INTERVAL_MS: 4000,
  /**
   * Milliseconds between two pings of one connection to a peer (libp2p's connection monitor; a
   * connection whose ping fails is closed and its bank redialed). Each ping is a new stream with
   * its protocol negotiation: at libp2p's default of 10 s, pings were half of all the frames
   * between ten banks trading 20 transfers a second.
   */
  PEER_PING_INTERVAL_MS: 60_000,
  /**
   * Milliseconds after a connection opens before the node closes the spare connections to that
   * peer (two banks that list each other as bootstrap peers dial each other), and between two
   * looks at a spare still busy; as long after a connection closes, the node checks that
   * gossipsub still has a stream to that peer (packages/mesh/src/duplicates.ts).
   */
  DUPLICATE_CONNECTION_CHECK_MS: 2000,
  /** Bytes of one gossip message (a signed tree head is about 150). */
  MAX_GOSSIP_BYTES: 4096,
  /** Bytes of one ForkProof: two signed tree heads (about 160 bytes each) and a path of at most MAX_PROOF_HASHES hashes. */
  MAX_FORK_PROOF_BYTES: 3072,
  /** ForkProofs in one sync answer to GetEvidence (one per bank held forked). */
  MAX_FORK_PROOFS_PER_ANSWER: 256,
  /** Verified ForkProofs a node keeps in memory against banks it has not met yet, recorded when it meets them. */
  MAX_PENDING_FORK_PROOFS: 256,
  /** Milliseconds one mesh exchange (hello, one sync request and its response) may take. */
  SYNC_TIMEOUT_MS: 10_000,
  /** Milliseconds an inbound mesh connection may stay open before its dialer's hello has verified. */
  HELLO_TIMEOUT_MS: 10_000,
  /** Open connections to other nodes of the mesh. */
  MAX_PEERS: 64,
  /** Banks met (in a verified hello) that a node remembers; past it, those neither connected, replicated nor blocked are forgotten. */
  MAX_KNOWN_BANKS: 1024,
} as const;

export type LimitName = keyof typeof LIMITS;
