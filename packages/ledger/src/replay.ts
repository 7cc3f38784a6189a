import { AccountKind, DOMAIN, decodeStrict, pb, signedMessage, u64, type AccountKindNumber, type mutual } from '@mutual/protocol';
import { applyBatch, type VerifyFn } from './apply.ts';
import { bytesEqual } from './keys.ts';
import { prepareInstruction } from './prepare.ts';
import type { MemoryLedgerState } from './state.ts';
import type { Command, EntryRef, PreparedOk } from './types.ts';

/** A decoded log entry with the command that must have produced it. */
export interface DecodedEntry {
  readonly index: number;
  readonly timeMs: bigint;
  readonly entry: mutual.v1.Entry;
  readonly command: Command;
  /**
   * true for the RateScheduleAdopted entry that an agreement adoption appends after its
   * AgreementAdopted entry: the command of the entry before produced it, not `command`.
   */
  readonly follows: boolean;
}

/**
 * Decodes one stored entry and reconstructs the command it records. Returns a description of
 * the problem when the bytes are not a well-formed entry.
 */
export function decodeEntry(bytes: Uint8Array): DecodedEntry | string {
  const e = decodeStrict(pb.Entry, bytes);
  if (!e) return 'not a well-formed Entry';
  const index = u64(e.index);
  if (index > BigInt(Number.MAX_SAFE_INTEGER)) return 'entry index out of range';
  const base = { index: Number(index), timeMs: u64(e.timeMs), entry: e, follows: false };
  switch (e.kind) {
    case 'genesis':
      return { ...base, command: { type: 'genesis', name: e.genesis!.name ?? '', bioregion: e.genesis!.bioregion ?? '' } };
    case 'accountOpened': {
      const a = e.accountOpened!;
      const kind = (a.kind ?? 0) as AccountKindNumber;
      if (!Object.values(AccountKind).includes(kind)) return 'unknown account kind';
      return { ...base, command: { type: 'openAccount', holderKey: a.holderKey ?? new Uint8Array(), kind, label: a.label ?? '' } };
    }
    case 'rateSchedule':
      return {
        ...base,
        follows: (e.rateSchedule!.agreement?.length ?? 0) > 0,
        command: { type: 'adoptRates', rates: (e.rateSchedule!.rates ?? []).map((r) => [r.category ?? '', r.rateMilli ?? 0] as const) },
      };
    case 'applied': {
      const ap = e.applied!;
      const signed = pb.SignedInstruction.encode({ body: ap.body ?? new Uint8Array(), signature: ap.signature ?? new Uint8Array() }).finish();
      return { ...base, command: { type: 'instruction', prepared: prepareInstruction(signed) } };
    }
    case 'agreementAdopted': {
      const ad = e.agreementAdopted!;
      // The Agreement bytes are carried as they were signed; only the framing is rebuilt.
      const signed = pb.SignedAgreement.encode({ agreement: ad.agreement ?? new Uint8Array(), signatures: ad.signatures ?? [] }).finish();
      return { ...base, command: { type: 'adoptAgreement', signed } };
    }
    case 'interbankCredit': {
      const x = e.interbankCredit!;
      const source = entryRefOf(x.source);
      if (!source) return 'an interbank credit without a well-formed source';
      return { ...base, command: { type: 'interbankCredit', source, payee: x.payee ?? new Uint8Array(), amount: u64(x.amount) } };
    }
    case 'interbankRejection': {
      const x = e.interbankRejection!;
      const source = entryRefOf(x.source);
      if (!source) return 'an interbank rejection without a well-formed source';
      return { ...base, command: { type: 'interbankReject', source, amount: u64(x.amount), code: x.code ?? '' } };
    }
    case 'interbankRefund': {
      const x = e.interbankRefund!;
      const rejection = entryRefOf(x.rejection);
      const outgoingIndex = u64(x.outgoingIndex);
      if (!rejection || outgoingIndex > BigInt(Number.MAX_SAFE_INTEGER)) return 'an interbank refund without a well-formed reference';
      return { ...base, command: { type: 'interbankRefund', rejection, outgoingIndex: Number(outgoingIndex) } };
    }
    default:
      return 'entry of unknown kind';
  }
}

/** An EntryRef message as the rules take it; undefined when absent or its index is out of range. */
export function entryRefOf(r: mutual.v1.IEntryRef | null | undefined): EntryRef | undefined {
  if (!r) return undefined;
  const index = u64(r.index);
  if (index > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return { bank: r.bank ?? new Uint8Array(), index: Number(index), leafHash: r.leafHash ?? new Uint8Array() };
}

export interface ReplayProblem {
  readonly index: number;
  readonly problem: string;
}

/**
 * Replays `entries` (the next ones of the log) onto `state`, checking that each one is exactly
 * what the ledger rules produce from the command it records: same index, same result, same
 * bytes. Entries committed together (same time) are replayed as one batch, as they were made.
 * Signatures are verified with `verify` unless `preverified` already holds a verdict for an
 * entry (keyed by entry index, for the holder key it was checked against).
 * Stops at the first problem and returns it; `state` then holds every entry before it.
 */
export function replayEntries(
  state: MemoryLedgerState,
  entries: readonly Uint8Array[],
  verify: VerifyFn,
  preverified?: ReadonlyMap<number, { key: Uint8Array; valid: boolean }>,
): ReplayProblem | undefined {
  let i = 0;
  while (i < entries.length) {
    // One batch: consecutive entries with the same commit time.
    const batch: DecodedEntry[] = [];
    for (; i < entries.length; i++) {
      const d = decodeEntry(entries[i]!);
      if (typeof d === 'string') return { index: state.size + batch.length, problem: d };
      if (batch.length > 0 && d.timeMs !== batch[0]!.timeMs) break;
      batch.push(d);
    }
    const first = batch[0]!;
    const bankKey = state.bank?.key ?? first.entry.genesis?.bank;
    if (!bankKey || bankKey.length !== 32) return { index: first.index, problem: 'the log does not start with a genesis entry' };
    if (state.size === 0 && first.command.type !== 'genesis') return { index: 0, problem: 'the log does not start with a genesis entry' };
    for (const d of batch) {
      const c = d.command;
      if (c.type === 'instruction' && c.prepared.ok && preverified?.has(d.index)) {
        (c.prepared as PreparedOk).verified = preverified.get(d.index)!;
      }
    }
    const startSize = state.size;
    if (first.timeMs < state.lastTimeMs) return { index: startSize, problem: 'entry time goes backwards' };
    if (batch.some((d) => d.command.type === 'genesis') && state.size + batch.findIndex((d) => d.command.type === 'genesis') !== 0) {
      return { index: startSize, problem: 'a second genesis entry' };
    }
    // An entry that `follows` was produced by the command before it: it has no command of its own.
    const commands = batch.filter((d) => !d.follows);
    let out;
    try {
      out = applyBatch(state, commands.map((d) => d.command), { bankKey, timeMs: first.timeMs, verify });
    } catch (err) {
      return { index: startSize, problem: `the entries break an invariant of the ledger: ${(err as Error).message}` };
    }
    for (let k = 0; k < batch.length; k++) {
      if (batch[k]!.index !== startSize + k) return { index: startSize + k, problem: `entry records index ${batch[k]!.index}` };
    }
    for (let k = 0; k < commands.length; k++) {
      const d = commands[k]!;
      const r = out.results[k]!;
      if (r.code !== 'APPLIED' || r.duplicate) {
        return { index: d.index, problem: `the recorded ${d.command.type} is not valid: ${r.code}${'message' in r ? `: ${r.message}` : ''}` };
      }
    }
    if (out.entries.length !== batch.length) return { index: startSize, problem: 'batch produced a different number of entries' };
    for (let k = 0; k < batch.length; k++) {
      if (!bytesEqual(out.entries[k]!, entries[i - batch.length + k]!)) {
        return { index: startSize + k, problem: 'the entry differs from what the ledger rules produce for it (amount, rate or fields)' };
      }
    }
    state.commit(out.changes);
    state.lastTimeMs = first.timeMs;
  }
  return undefined;
}

/**
 * How many of `entries` (the next ones of a log, in order) end on a whole command: all of them,
 * unless the last is an AgreementAdopted, whose RateScheduleAdopted comes next in the same
 * commit. A caller that replays a log in chunks replays that many and carries the rest over
 * to the next chunk; the log's last chunk is replayed whole (a log that ends between the two
 * is refused by the replay).
 */
export function wholeCommands(entries: readonly Uint8Array[]): number {
  if (entries.length === 0) return 0;
  let last;
  try {
    last = pb.Entry.decode(entries[entries.length - 1]!);
  } catch {
    return entries.length; // the replay reports it
  }
  return last.kind === 'agreementAdopted' ? entries.length - 1 : entries.length;
}

/** The message a holder signed for an entry's instruction, and the signer's account. */
export function instructionOfEntry(e: mutual.v1.Entry): { message: Uint8Array; signature: Uint8Array; account: Uint8Array } | undefined {
  if (e.kind !== 'applied' || !e.applied?.body || !e.applied.signature) return undefined;
  const ins = decodeStrict(pb.Instruction, e.applied.body);
  if (!ins?.account) return undefined;
  return { message: signedMessage(DOMAIN.instruction, e.applied.body), signature: e.applied.signature, account: ins.account };
}

/** One signature to check, for a verifier that takes many at once (a worker pool). */
export interface SignatureItem {
  readonly signature: Uint8Array;
  readonly message: Uint8Array;
  readonly publicKey: Uint8Array;
}

/**
 * Verdicts, keyed by entry index, for the instruction signatures of `chunk` (the next entries
 * after `state`) whose signers were opened before it, checked in one call of `verifyBatch`.
 * `replayEntries` takes them as `preverified` and checks the rest itself.
 */
export async function preverifyEntries(
  state: MemoryLedgerState,
  chunk: readonly Uint8Array[],
  verifyBatch: (items: readonly SignatureItem[]) => Promise<Uint8Array>,
): Promise<Map<number, { key: Uint8Array; valid: boolean }> | undefined> {
  const items: SignatureItem[] = [];
  const indexes: number[] = [];
  for (const bytes of chunk) {
    const d = decodeEntry(bytes);
    if (typeof d === 'string' || d.command.type !== 'instruction' || !d.command.prepared.ok) continue;
    const p = d.command.prepared;
    const signer = state.getAccount(p.account);
    if (!signer) continue;
    items.push({ signature: p.signature, message: signedMessage(DOMAIN.instruction, p.body), publicKey: signer.holderKey });
    indexes.push(d.index);
  }
  if (items.length === 0) return undefined;
  const verdicts = await verifyBatch(items);
  return new Map(indexes.map((index, i) => [index, { key: items[i]!.publicKey, valid: verdicts[i] === 1 }]));
}
