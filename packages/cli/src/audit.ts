import type { MutualClient } from '@mutual/client';
import { formatAmount, fromBase64, toHex } from '@mutual/codec';
import { bytesEqual, conservationProblem, decodeEntry, MemoryLedgerState, openTreeHead, preverifyEntries, replayEntries, wholeCommands, type SignedHead } from '@mutual/ledger';
import { Frontier, leafHash, verifyForkPath } from '@mutual/merkle';
import { decodeStrict, pb } from '@mutual/protocol';
import { LIMITS } from '@mutual/interface';
import { verify, type VerifyItem } from '@mutual/verifier';

/** Entries asked for in one request: the most `/v1/entries` gives (docs/RPC.md). */
export const AUDIT_PAGE_ENTRIES = 1000;

/** Problems reported before the audit stops listing them. */
const MAX_PROBLEMS = 20;

/** The verdict of an audit. */
export interface AuditReport {
  readonly ok: boolean;
  readonly bank: string;
  /** entries downloaded and hashed */
  readonly entries: number;
  /** entries replayed by the ledger rules */
  readonly replayed: number;
  readonly head: { readonly size: number; readonly root: string; readonly timeMs: number };
  /** the root of the downloaded entries */
  readonly root: string;
  readonly totals: { readonly issued: string; readonly retired: string; readonly accounts: number };
  readonly problems: string[];
  /** the audited bank is proven forked: by the node's fork proof, or by an earlier head that the entries contradict */
  readonly forked: boolean;
}

export interface AuditOptions {
  readonly client: MutualClient;
  readonly bankId: string;
  readonly bankKey: Uint8Array;
  /** the signed head to audit up to, already verified */
  readonly head: SignedHead;
  readonly verifyBatch: (items: readonly VerifyItem[]) => Promise<Uint8Array>;
  readonly onProgress?: (done: number, total: number) => void;
  /** earlier signed heads of the bank (remembered, already verified): each must be the root of its first entries */
  readonly earlier?: readonly SignedHead[];
  /** a ForkProof against the bank that the node holds (GET /v1/banks), checked here */
  readonly forkProof?: Uint8Array;
}

/**
 * Whether `bytes` are a valid ForkProof against `bank` (protocol/README.md, "Fork proofs"):
 * two heads signed by the bank, 1 <= first size <= second size, and a path proving their roots
 * inconsistent.
 */
export function isForkProofOf(bytes: Uint8Array, bank: Uint8Array, maxBytes: number): boolean {
  if (bytes.length > maxBytes) return false;
  const p = decodeStrict(pb.ForkProof, bytes);
  if (!p?.first?.length || !p.second?.length) return false;
  const first = openTreeHead(p.first, verify, bank);
  const second = openTreeHead(p.second, verify, bank);
  return first !== undefined && second !== undefined && first.size <= second.size && verifyForkPath(first.size, second.size, first.root, second.root, p.path ?? []);
}

/**
 * Audits a bank's log from the outside: downloads entries [0, head.size), checks that they
 * hash to the root the bank signed, replays every one with the ledger rules (every holder
 * signature checked, every amount re-derived), and checks conservation. Trusts nothing the
 * node says beyond the bytes, and those only once they match the signed root.
 */
export async function auditLog(o: AuditOptions): Promise<AuditReport> {
  const { head } = o;
  const problems: string[] = [];
  const problem = (p: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  const frontier = new Frontier();
  const state = new MemoryLedgerState();
  let replaying = true;
  let forked = false;
  if (o.forkProof) {
    if (isForkProofOf(o.forkProof, o.bankKey, LIMITS.MAX_FORK_PROOF_BYTES)) {
      forked = true;
      problem('the node holds a valid proof that this bank signed two inconsistent tree heads: it forked its log');
    } else problem('the node says this bank is forked, but its fork proof does not verify');
  }
  const earlier = new Map((o.earlier ?? []).filter((h) => h.size >= 1 && h.size <= head.size).map((h) => [h.size, h]));
  /** Checks the heads of the size the tree has just reached, `last` being its last entry. */
  const checkHeads = (last: Uint8Array) => {
    const h = earlier.get(frontier.size);
    if (h && !bytesEqual(h.root, frontier.root())) {
      forked = true;
      problem(`the bank signed a head of size ${h.size} whose root is not that of its first ${h.size} entries here: it forked its log`);
    }
    // A head is dated with its commit: the time of its last entry (protocol/README.md, "Signed tree heads").
    const dated = new Set([h, frontier.size === head.size ? head : undefined]);
    dated.delete(undefined);
    if (dated.size === 0) return;
    const d = decodeEntry(last);
    if (typeof d === 'string') return; // the replay reports it
    for (const x of dated) if (x!.timeMs !== d.timeMs) problem(`the signed head of size ${x!.size} is dated ${x!.timeMs}, its last entry ${d.timeMs}`);
  };
  // A pipeline of three stages, so that the node, the verifier threads and this thread work at
  // once: page N+2 is being downloaded while the signatures of page N+1 are checked on the
  // pool and page N is replayed here. (Signers opened in page N are not known yet when page
  // N+1 is pre-verified: the replay checks those itself.)
  const fetchPage = (at: number) => {
    const want = Math.min(AUDIT_PAGE_ENTRIES, head.size - at);
    const page = o.client.entries(at, want);
    page.catch(() => {}); // awaited below; a page fetched ahead of a failure is never read
    return { at, want, page };
  };
  interface Prepared {
    readonly at: number;
    readonly chunk: Uint8Array[];
    readonly pre: Promise<Awaited<ReturnType<typeof preverifyEntries>>>;
  }
  let fetching: ReturnType<typeof fetchPage> | undefined = head.size > 0 ? fetchPage(0) : undefined;
  /** Downloads the next page, checks it against the tree and starts pre-verifying it. */
  const prepareNext = async (): Promise<Prepared | undefined> => {
    if (!fetching) return undefined;
    const { at, want } = fetching;
    const page = await fetching.page;
    if (page.from !== at || !Array.isArray(page.entries) || page.entries.length === 0 || page.entries.length > want) {
      problem(`asked for ${want} entries from ${at}; the node answered ${Array.isArray(page.entries) ? page.entries.length : 'no list'} from ${page.from}`);
      fetching = undefined;
      return undefined;
    }
    const end = at + page.entries.length;
    fetching = end < head.size ? fetchPage(end) : undefined;
    const chunk: Uint8Array[] = [];
    for (const [i, text] of page.entries.entries()) {
      let bytes: Uint8Array;
      try {
        bytes = fromBase64(text);
      } catch {
        problem(`entry ${at + i} is not base64`);
        bytes = new Uint8Array();
      }
      frontier.append(leafHash(bytes));
      checkHeads(bytes);
      chunk.push(bytes);
    }
    const pre = replaying ? preverifyEntries(state, chunk, o.verifyBatch) : Promise.resolve(undefined);
    pre.catch(() => {});
    return { at, chunk, pre };
  };
  let current = await prepareNext();
  // Entries of a command a page ends inside of, replayed with the next page.
  let carried: Uint8Array[] = [];
  while (current) {
    const pre = await current.pre;
    const next = await prepareNext();
    if (replaying) {
      const all = carried.length > 0 ? [...carried, ...current.chunk] : current.chunk;
      const n = next ? wholeCommands(all) : all.length;
      carried = all.slice(n);
      const p = replayEntries(state, n === all.length ? all : all.slice(0, n), verify, pre);
      if (p) {
        problem(`entry ${p.index}: ${p.problem}`);
        replaying = false;
      }
    }
    o.onProgress?.(current.at + current.chunk.length, head.size);
    current = next;
  }

  const root = frontier.root();
  if (frontier.size === head.size && !bytesEqual(root, head.root)) problem(`the entries do not hash to the root the bank signed at size ${head.size}`);
  if (frontier.size !== head.size) problem(`the log should hold ${head.size} entries; ${frontier.size} were downloaded`);
  if (state.bank && !bytesEqual(state.bank.key, o.bankKey)) problem('the genesis entry names another bank');
  if (replaying) {
    const c = conservationProblem(state);
    if (c) problem(`conservation: ${c}`);
  }
  const t = state.totals;
  return {
    ok: problems.length === 0,
    bank: o.bankId,
    entries: frontier.size,
    replayed: state.size,
    head: { size: head.size, root: toHex(head.root), timeMs: Number(head.timeMs) },
    root: toHex(root),
    totals: { issued: formatAmount(t.issued), retired: formatAmount(t.retired), accounts: Number(t.accounts) },
    problems,
    forked,
  };
}

