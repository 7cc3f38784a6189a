import { LIMITS } from '@mutual/interface';
import { decodeStrict, isSingleMessageField, pb, u64 } from '@mutual/protocol';
import type { LogSource } from './source.ts';

const MAX_INDEX = BigInt(Number.MAX_SAFE_INTEGER);

function error(code: 'VALIDATION_FAILED' | 'NOT_FOUND' | 'INVALID_RANGE' | 'UNSUPPORTED_REQUEST', message: string): Uint8Array {
  return pb.SyncResponse.encode({ error: { code, message } }).finish();
}

/** What a node serves besides logs: its agreement pool and the fork proofs it holds. */
export interface SyncPools {
  readonly agreements?: () => Promise<Uint8Array[]>;
  readonly evidence?: () => Uint8Array[];
}

/**
 * Answers one SyncRequest from what `source` holds (and `pools`). Pure apart from reading them:
 * a malformed request gets an error response (the caller then drops the stream) and nothing
 * changes. Returns [response bytes, whether the request was well-formed].
 */
export async function answerSync(bytes: Uint8Array, source: LogSource, pools: SyncPools = {}): Promise<[Uint8Array, boolean]> {
  const req = decodeStrict(pb.SyncRequest, bytes);
  if (req?.getAgreements) {
    const list = pools.agreements ? (await pools.agreements()).slice(0, LIMITS.MAX_POOLED_AGREEMENTS) : [];
    return [pb.SyncResponse.encode({ agreements: { agreements: list } }).finish(), true];
  }
  if (req?.getEvidence) {
    const proofs = pools.evidence ? pools.evidence().slice(0, LIMITS.MAX_FORK_PROOFS_PER_ANSWER) : [];
    return [pb.SyncResponse.encode({ evidence: { proofs } }).finish(), true];
  }
  if (!req && isUnknownKind(bytes)) return [error('UNSUPPORTED_REQUEST', 'a kind of sync request this node does not know'), true];
  const bank = req?.getHead?.bank ?? req?.getEntries?.bank ?? req?.getConsistency?.bank;
  if (!req || bank?.length !== 32) return [error('VALIDATION_FAILED', 'not a well-formed SyncRequest'), false];
  const head = await source.servableHead(bank);
  if (!head) return [error('NOT_FOUND', 'no log of this bank here'), true];
  if (req.getHead) return [pb.SyncResponse.encode({ head: head.bytes }).finish(), true];

  if (req.getEntries) {
    const { from: f, count, treeSize: t } = req.getEntries;
    const from = u64(f);
    const size = u64(t);
    const n = count ?? 0;
    if (n < 1 || n > LIMITS.MAX_SYNC_ENTRIES_PER_RESPONSE || from > MAX_INDEX || size > MAX_INDEX) {
      return [error('INVALID_RANGE', `count must be 1 to ${LIMITS.MAX_SYNC_ENTRIES_PER_RESPONSE}`), false];
    }
    const end = Number(from) + n;
    if (end > Number(size) || Number(size) > head.size) return [error('INVALID_RANGE', `entries must end at or before tree_size <= ${head.size}`), true];
    const entries = await source.entries(bank, Number(from), end);
    const proof = end === Number(size) ? [] : await source.consistency(bank, end, Number(size));
    return [pb.SyncResponse.encode({ entries: { entries, proof } }).finish(), true];
  }

  const c = req.getConsistency!;
  const from = u64(c.fromSize);
  const to = u64(c.toSize);
  if (from < 1n || from > to || to > BigInt(head.size)) return [error('INVALID_RANGE', `sizes must satisfy 1 <= from <= to <= ${head.size}`), true];
  const path = await source.consistency(bank, Number(from), Number(to));
  return [pb.SyncResponse.encode({ consistency: { path } }).finish(), true];
}

/**
 * Whether `bytes` are a request of a kind this node does not know, as a newer node sends: one
 * message field, which this version's SyncRequest does not read as any of its kinds.
 */
function isUnknownKind(bytes: Uint8Array): boolean {
  if (!isSingleMessageField(bytes)) return false;
  try {
    return pb.SyncRequest.decode(bytes).kind === undefined;
  } catch {
    return false;
  }
}
