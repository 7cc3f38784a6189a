// The JSON shapes of docs/RPC.md, as the node sends them. Field names and formats are the
// contract: decimals as strings, IDs as checksummed text, binary as base64, hashes as hex.

/** `SignedHead`: a tree head as the bank signed it. `signed` is what an auditor verifies. */
export interface SignedHead {
  readonly bank: string;
  readonly size: number;
  /** lower-case hex, 32 bytes */
  readonly root: string;
  readonly timeMs: number;
  /** base64, 64 bytes */
  readonly signature: string;
  /** base64 SignedTreeHead bytes */
  readonly signed: string;
}

/** Account kinds as the RPC writes them. */
export type AccountKindText = 'member' | 'cooperative' | 'mutual-aid-fund';

/** The account kinds, in the order of the protocol. */
export const ACCOUNT_KINDS: readonly AccountKindText[] = ['member', 'cooperative', 'mutual-aid-fund'];

/** Kinds of log entries. */
export type EntryKind =
  | 'genesis'
  | 'account-opened'
  | 'rate-schedule'
  | 'agreement-adopted'
  | 'transfer'
  | 'labor'
  | 'retirement'
  | 'interbank-credit'
  | 'interbank-rejection'
  | 'interbank-refund';

/** Another bank's log entry, pinned by its RFC 9162 leaf hash (hex). */
export interface EntryRefView {
  /** `mbank1…` */
  readonly bank: string;
  readonly index: number;
  readonly leafHash: string;
}

/** Where an interbank transfer stands at the payer's bank. */
export type InterbankState = 'pending' | 'settled' | 'refunded';

/** `GET /v1/interbank/:index`: an interbank transfer the bank sent. */
export interface InterbankTransfer {
  /** index of the outgoing entry in the payer bank's log */
  readonly index: number;
  readonly state: InterbankState;
  readonly payer: string;
  readonly payeeBank: string;
  readonly payee: string;
  readonly amount: string;
  /** the payee bank's credit, once settled */
  readonly credit?: EntryRefView;
  /** the payer bank's refund entry, once refunded */
  readonly refundIndex?: number;
}

/** One category of a rate schedule. */
export interface Rate {
  readonly category: string;
  /** decimal, e.g. "1.5" */
  readonly rate: string;
}

/** Decoded view of a log entry. Only the fields of its `kind` are present; `bytes` is authoritative. */
export interface Entry {
  readonly index: number;
  readonly timeMs: number;
  readonly kind: EntryKind;
  /** base64 Entry bytes */
  readonly bytes: string;
  readonly account?: string;
  readonly payee?: string;
  readonly payeeBank?: string;
  readonly worker?: string;
  readonly amount?: string;
  readonly hours?: string;
  readonly category?: string;
  readonly day?: string;
  readonly rate?: string;
  readonly memo?: string;
  readonly sequence?: string;
  readonly kindOfAccount?: AccountKindText;
  readonly publicKey?: string;
  readonly label?: string;
  readonly name?: string;
  readonly bioregion?: string;
  readonly rates?: readonly Rate[];
  /** agreement ID (hex): the agreement adopted, or the one that set a rate schedule */
  readonly agreement?: string;
  /** interbank credit or rejection: the payer bank's outgoing entry */
  readonly source?: EntryRefView;
  /** interbank refund: the payee bank's rejection */
  readonly rejection?: EntryRefView;
  /** interbank refund: the outgoing entry refunded */
  readonly outgoingIndex?: number;
  /** interbank rejection: why */
  readonly code?: string;
}

/** `GET /v1/status`. */
export interface Status {
  readonly bank: { readonly id: string; readonly name: string; readonly bioregion: string };
  readonly version: string;
  readonly protocolVersion: number;
  readonly log: { readonly size: number };
  readonly head: SignedHead;
  readonly rates: readonly Rate[];
  readonly totals: { readonly issued: string; readonly retired: string; readonly accounts: number };
}

/** `GET /v1/accounts/:id`. */
export interface AccountInfo {
  readonly account: string;
  readonly kind: AccountKindText;
  readonly label: string;
  readonly publicKey: string;
  readonly balance: string;
  /** last applied sequence number (decimal string) */
  readonly sequence: string;
  /** the sequence number to sign next (decimal string) */
  readonly nextSequence: string;
  readonly openedIndex: number;
}

/** `GET /v1/accounts/:id/entries`: newest first; pass `next` as `before` for the next page. */
export interface Statement {
  readonly entries: readonly Entry[];
  readonly next: number | null;
}

/** `POST /v1/accounts`. */
export interface OpenedAccount {
  readonly account: string;
  readonly kind: AccountKindText;
  readonly entryIndex: number;
}

/** The result of one applied instruction (or of a retry of one already applied: `duplicate`). */
export interface Applied {
  readonly code: 'APPLIED';
  readonly entryIndex: number;
  readonly duplicate: boolean;
  /** notes moved, issued or retired */
  readonly amount: string;
}

/** The result of one rejected instruction: a stable code (docs/errors.md) and what to fix. */
export interface Rejected {
  readonly code: string;
  readonly message: string;
}

/** One result per submitted instruction, in order. Rejections are data, not errors. */
export type Result = Applied | Rejected;

/** Whether a result is an application (first or duplicate). */
export function isApplied(r: Result): r is Applied {
  return r.code === 'APPLIED';
}

/** `GET /v1/entries/:index`: the entry and its inclusion proof against the latest head. */
export interface EntryWithProof {
  readonly entry: Entry;
  readonly proof: { readonly treeSize: number; readonly path: readonly string[] };
  readonly head: SignedHead;
}

/** `GET /v1/entries?from=&limit=`: raw entries for auditors. */
export interface EntryPage {
  readonly from: number;
  /** base64 Entry bytes, from `from` on */
  readonly entries: readonly string[];
  /** the log size when the page was read */
  readonly size: number;
}

/** `GET /v1/consistency?from=&to=`. */
export interface ConsistencyProof {
  readonly from: number;
  readonly to: number;
  /** base64 hashes */
  readonly path: readonly string[];
}

/** One connection of the node's mesh, as `GET /v1/peers` shows it. */
export interface Peer {
  /** libp2p peer ID (the bank key as a peer key) */
  readonly peerId: string;
  /** the peer's bank, `mbank1…`; absent until its hello has verified */
  readonly bank?: string;
  readonly name?: string;
  readonly bioregion?: string;
  /** remote multiaddrs of its connections */
  readonly addresses: readonly string[];
  /** round-trip time, when measured */
  readonly latencyMs?: number;
  /** this node's gossip topics the peer subscribes to: `heads`, `agreements`, `evidence` */
  readonly gossip: ReadonlyArray<'heads' | 'agreements' | 'evidence'>;
}

/** A bank the node knows, as `GET /v1/banks` shows it. */
export interface BankView {
  /** `mbank1…` */
  readonly id: string;
  readonly name: string;
  readonly bioregion: string;
  /** the node's own bank */
  readonly self: boolean;
  /** its latest head known here; null if none yet */
  readonly head: SignedHead | null;
  /** entries of its log verified and held here (the whole log for this bank) */
  readonly replicated: number;
  /** entries of `head` not yet replicated (0 for this bank) */
  readonly behind: number;
  /** the node keeps a replica of this bank's log (a bank it federates with; true for this bank) */
  readonly replicating: boolean;
  /** the node holds a verified proof that this bank signed two inconsistent heads */
  readonly forked: boolean;
  /** when forked: the ForkProof bytes, base64 (protocol/README.md, "Fork proofs") */
  readonly forkProof?: string;
}

/** A member bank of an agreement, as `GET /v1/agreements` shows it. */
export interface AgreementMemberView {
  /** `mbank1…` */
  readonly bank: string;
  readonly name: string;
  /** this member's signature is among those gathered */
  readonly signed: boolean;
}

/** A federation agreement the node has seen (docs/RPC.md, `GET /v1/agreements`). */
export interface AgreementView {
  /** SHA-256 of the Agreement bytes, hex */
  readonly id: string;
  readonly bioregion: string;
  readonly members: readonly AgreementMemberView[];
  readonly rates: ReadonlyArray<{ readonly category: string; readonly rate: string }>;
  /** notes, decimal */
  readonly clearingLimit: string;
  /** ID of the agreement it amends; null for a founding agreement */
  readonly previous: string | null;
  readonly createdMs: number;
  /** every member signed */
  readonly complete: boolean;
  /** recorded in this bank's log, now or earlier */
  readonly adopted: boolean;
  /** the agreement this bank adopted last */
  readonly inForce: boolean;
}

/** What `POST /v1/agreements` takes. */
export interface AgreementProposal {
  /** `mbank1…`; this bank is a member, listed or not */
  readonly members: readonly string[];
  /** notes, decimal, e.g. "1000" */
  readonly clearingLimit: string;
  /** default: the bank's schedule in force */
  readonly rates?: ReadonlyArray<{ readonly category: string; readonly rate: string }>;
  /** ID (hex) of the agreement it amends */
  readonly amends?: string;
}

/** An entry of a bank's log, as reconciliation names it. */
export interface LogEntryRef {
  /** `mbank1…` */
  readonly bank: string;
  readonly index: number;
}

/** One bank in `GET /v1/reconciliation`. */
export interface ReconciliationBank {
  /** `mbank1…` */
  readonly bank: string;
  /** from its genesis entry; null when none of its log is held by the node */
  readonly name: string | null;
  readonly self: boolean;
  /** entries of its log held by the node and reconciled */
  readonly replicated: number;
  /** its net position toward all other banks as its log records it (decimal, may be negative) */
  readonly net: string;
  readonly positions: ReadonlyArray<{ readonly bank: string; readonly sent: string; readonly refunded: string; readonly received: string; readonly net: string }>;
  /** its log replayed by the ledger rules: balances = issued − retired + net; null when none of it is held */
  readonly conservation: {
    readonly ok: boolean;
    readonly replayed: number;
    readonly balances: string;
    readonly issued: string;
    readonly retired: string;
    readonly sent: string;
    readonly refunded: string;
    readonly received: string;
    readonly net: string;
    readonly problem: string | null;
  } | null;
  /** entries of its log that do not decode */
  readonly problems: readonly string[];
}

export type PairState = 'matched' | 'in-flight' | 'mismatched';

/** One pair of banks in `GET /v1/reconciliation`. */
export interface ReconciliationPair {
  readonly banks: readonly [string, string];
  readonly state: PairState;
  /** net of banks[0] toward banks[1] as banks[0]'s log records it, and the reverse */
  readonly net: readonly [string, string];
  readonly inFlight: ReadonlyArray<{
    readonly kind: 'unanswered' | 'unrefunded' | 'source-not-replicated' | 'rejection-not-replicated';
    readonly entry: LogEntryRef;
    readonly amount: string;
    /** what it leaves out of the sum of net positions */
    readonly pending: string;
  }>;
  readonly inFlightCount: number;
  readonly problems: ReadonlyArray<{ readonly kind: string; readonly message: string; readonly entries: readonly LogEntryRef[] }>;
  readonly problemCount: number;
}

/** `GET /v1/reconciliation`: interbank transfers and positions across every log the node holds. */
export interface Reconciliation {
  /** every pair matched, every log replays and conserves notes, and the federation check holds */
  readonly ok: boolean;
  /** the node's own bank */
  readonly self: string;
  readonly banks: readonly ReconciliationBank[];
  readonly pairs: readonly ReconciliationPair[];
  readonly federation: {
    readonly ok: boolean;
    readonly positionsSum: string;
    readonly inFlight: string;
    readonly inFlightCount: number;
    readonly problems: readonly string[];
  };
}
