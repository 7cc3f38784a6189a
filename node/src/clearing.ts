import { bytesEqual, entryRefOf, type Command, type EntryRef } from '@mutual/ledger';
import { leafHash } from '@mutual/merkle';
import { decodeStrict, pb, u64, type mutual } from '@mutual/protocol';
import type { IndexedEntry } from '@mutual/mesh';
import type { CommitEvent, LedgerStore, OutgoingStatus, ReplicaStore } from '@mutual/store';

/** The instruction of an applied entry and the transfer it makes, when it is a transfer. */
export function transferOf(e: mutual.v1.Entry | undefined): { instruction: mutual.v1.Instruction; transfer: mutual.v1.ITransfer } | undefined {
  const instruction = e?.applied?.body ? decodeStrict(pb.Instruction, e.applied.body) : undefined;
  return instruction?.action === 'transfer' && instruction.transfer ? { instruction, transfer: instruction.transfer } : undefined;
}

/** A change of state of an interbank transfer this bank sent. */
export interface InterbankEvent {
  readonly transfer: OutgoingStatus;
}

export type InterbankListener = (e: InterbankEvent) => void;

export interface ClearingLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/** Entries of a replica handled per round: one store submission at most. */
const CHUNK = 1000;
/** Wait before retrying a bank whose round failed (the store was busy, or closing). */
const RETRY_MS = 1000;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * The bank's side of interbank transfers that needs other banks' logs. It reads every entry
 * of every replica once, in order (and, sooner, the entries other banks push to it), and:
 * - for another bank's outgoing entry naming this bank, submits an `interbankCredit` (the
 *   ledger rules credit the payee or record a rejection, exactly once per entry);
 * - for a rejection of one of this bank's outgoing entries, submits an `interbankRefund`
 *   (exactly once per outgoing entry);
 * - for a credit of one of this bank's outgoing entries, marks the transfer settled.
 * Answers are checked against this bank's own entry (leaf hash and amount) before they count.
 * How far each replica has been read is kept in the `clearing` keyspace; a restart re-reads
 * from there, and whatever was handled twice is a duplicate the rules answer without effect.
 * Only the entries of a counterparty (a bank this bank signed an agreement with) are acted on:
 * no other bank can have sent or answered a transfer legitimately, so the others' replicas
 * and pushes are passed over without a submission (see Counterparties).
 */
export class Clearing {
  readonly #store: LedgerStore;
  readonly #replicas: ReplicaStore;
  readonly #log: ClearingLogger | undefined;
  readonly #counterparty: (bank: Uint8Array) => boolean;
  readonly #listeners = new Set<InterbankListener>();
  readonly #running = new Map<string, Promise<void>>();
  readonly #again = new Set<string>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #unsubscribe: Array<() => void> = [];
  /** Outgoing entries being marked settled now. */
  readonly #settling = new Set<number>();
  /**
   * Chunks just appended to each replica (hex key), handed over by the replica store, so that
   * a round reads what it was given instead of reading it back from the database; at most
   * CHUNK entries are kept per bank, past that a round reads them from the replica.
   */
  readonly #fresh = new Map<string, { from: number; entries: Uint8Array[] }>();
  #stopped = false;

  /**
   * @param parts.counterparty - whether this bank signed an agreement with `bank`; the clearing
   *   acts on no other bank's entries. It must answer true before any entry sent under such an
   *   agreement can reach the clearing, and never change to false.
   */
  constructor(parts: { store: LedgerStore; replicas: ReplicaStore; counterparty: (bank: Uint8Array) => boolean; logger?: ClearingLogger }) {
    this.#store = parts.store;
    this.#replicas = parts.replicas;
    this.#counterparty = parts.counterparty;
    this.#log = parts.logger;
  }

  /** Starts following replicas and this bank's commits, and reads what replicas hold already. */
  start(): void {
    this.#unsubscribe.push(
      this.#replicas.subscribe((bank, from, entries) => {
        this.#keepFresh(hex(bank), from, entries);
        this.schedule(bank);
      }),
    );
    this.#unsubscribe.push(this.#store.subscribe((e) => this.#onCommit(e)));
    for (const r of this.#replicas.list()) this.schedule(r.bank);
  }

  /** Calls `listener` for every interbank transfer of this bank sent, settled or refunded. */
  subscribe(listener: InterbankListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Reads the replica of `bank` up to its verified size (again after the round in progress, if one is). */
  schedule(bank: Uint8Array): void {
    if (this.#stopped) return;
    const key = hex(bank);
    if (this.#running.has(key)) {
      this.#again.add(key);
      return;
    }
    const run = (async () => {
      do {
        this.#again.delete(key);
        try {
          await this.#drain(bank);
        } catch (err) {
          if (this.#stopped) return;
          this.#log?.warn({ err, bank: key }, 'interbank clearing of a replica failed; retrying');
          const t = setTimeout(() => {
            this.#timers.delete(t);
            this.schedule(bank);
          }, RETRY_MS);
          t.unref();
          this.#timers.add(t);
          return;
        }
      } while (this.#again.has(key) && !this.#stopped);
    })().finally(() => this.#running.delete(key));
    this.#running.set(key, run);
  }

  /** Stops scheduling and waits for the rounds in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const u of this.#unsubscribe) u();
    for (const t of this.#timers) clearTimeout(t);
    await Promise.allSettled([...this.#running.values()]);
  }

  #keepFresh(key: string, from: number, entries: readonly Uint8Array[]): void {
    const held = this.#fresh.get(key);
    if (held && held.from + held.entries.length === from && held.entries.length + entries.length <= CHUNK) held.entries.push(...entries);
    else if (entries.length <= CHUNK) this.#fresh.set(key, { from, entries: [...entries] });
    else this.#fresh.delete(key);
  }

  /** Entries from `cursor` on that the replica store handed over, if it did; at most `count`. */
  #takeFresh(key: string, cursor: number, count: number): Uint8Array[] | undefined {
    const held = this.#fresh.get(key);
    if (!held || cursor < held.from || cursor >= held.from + held.entries.length) return undefined;
    const out = held.entries.slice(cursor - held.from, cursor - held.from + count);
    if (cursor + out.length >= held.from + held.entries.length) this.#fresh.delete(key);
    return out;
  }

  async #drain(bank: Uint8Array): Promise<void> {
    const key = hex(bank);
    let cursor = await this.#store.clearingCursor(bank);
    for (;;) {
      const size = this.#replicas.status(bank)?.size ?? 0;
      if (cursor >= size || this.#stopped) return;
      if (!this.#counterparty(bank)) {
        // Nothing of this log so far can concern this bank (see Counterparties): read past it.
        this.#fresh.delete(key);
        await this.#store.setClearingCursor(bank, size);
        return;
      }
      const end = Math.min(size, cursor + CHUNK);
      const entries = this.#takeFresh(key, cursor, end - cursor) ?? (await this.#replicas.getEntries(bank, cursor, end));
      await this.#handle(
        bank,
        entries.map((bytes, i) => ({ index: cursor + i, bytes })),
      );
      if (this.#stopped) return;
      cursor += entries.length;
      await this.#store.setClearingCursor(bank, cursor);
    }
  }

  /**
   * Entries of `bank`'s log pushed by the bank right after its commit (verified by the mesh:
   * each proven included in a head the bank signed). Handled at once, as the same entries are
   * when the replica reaches them; whichever comes second is a duplicate without effect.
   */
  async receive(bank: Uint8Array, entries: readonly IndexedEntry[]): Promise<void> {
    if (this.#stopped || !this.#counterparty(bank)) return;
    try {
      await this.#handle(bank, entries, false);
    } catch (err) {
      if (!this.#stopped) this.#log?.debug({ err, bank: hex(bank) }, 'handling pushed entries failed: the replica will deliver them');
    }
  }

  /**
   * Handles `entries` of `bank`'s log (in increasing index order). `skipAnswered`: leave out
   * transfers already credited or rejected (a replica reaching entries that were pushed)
   * rather than submit them for the rules to answer as duplicates.
   */
  async #handle(bank: Uint8Array, entries: readonly IndexedEntry[], skipAnswered = true): Promise<void> {
    const me = this.#store.bank.key;
    const meBuf = Buffer.from(me.buffer, me.byteOffset, me.length);
    const credits: Command[] = [];
    const refunds: Command[] = [];
    /** this bank's outgoing transfers the chunk settles, marked together after the loop */
    const settles: Array<{ out: OutgoingStatus; ref: EntryRef }> = [];
    /** this bank's outgoing entries answered in this chunk: a second answer is not acted on */
    const answered = new Set<number>();
    try {
      for (const { index, bytes } of entries) {
        // An entry that concerns this bank names its key (the payee bank of a transfer, the
        // source bank of an answer), as 32 bytes as they are: one that does not is not decoded.
        if (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).indexOf(meBuf) < 0) continue;
        const e = decodeStrict(pb.Entry, bytes);
        if (!e) continue; // replicas and pushes hold verified, well-formed entries only
        if (e.kind === 'applied') {
          const t = transferOf(e)?.transfer;
          if (!t?.payeeBank || !bytesEqual(t.payeeBank, me) || !t.payee) continue;
          // Already answered (pushed, then read again from the replica): nothing to submit.
          if (skipAnswered && (await this.#store.getInbound(bank, index)) !== undefined) continue;
          credits.push({ type: 'interbankCredit', source: { bank, index, leafHash: leafHash(bytes) }, payee: t.payee, amount: u64(e.applied!.amount) });
        } else if (e.kind === 'interbankCredit' || e.kind === 'interbankRejection') {
          const x = e.kind === 'interbankCredit' ? e.interbankCredit! : e.interbankRejection!;
          const source = entryRefOf(x.source);
          if (!source || !bytesEqual(source.bank, me)) continue;
          const out = await this.#ownOutgoing(bank, source, u64(x.amount));
          if (!out || answered.has(out.index)) continue;
          answered.add(out.index);
          const ref: EntryRef = { bank, index, leafHash: leafHash(bytes) };
          if (e.kind === 'interbankCredit') {
            if (out.state !== 'pending') {
              if (out.state === 'refunded') this.#log?.warn({ bank: hex(bank), index, outgoing: out.index }, 'a bank credited a transfer it had rejected (refunded here): see the reconciliation');
              continue;
            }
            // The same credit may be pushed and read from the replica at once: settled once.
            if (this.#settling.has(out.index)) continue;
            this.#settling.add(out.index);
            settles.push({ out, ref });
          } else if (out.state === 'pending') {
            refunds.push({ type: 'interbankRefund', rejection: ref, outgoingIndex: out.index });
          } else if (out.state === 'settled') {
            this.#log?.warn({ bank: hex(bank), index, outgoing: out.index }, 'a bank rejected a transfer it had credited: no refund; see the reconciliation');
          }
        }
      }
      if (settles.length > 0) {
        const changed = await this.#store.markSettledMany(settles.map(({ out, ref }) => ({ index: out.index, credit: ref })));
        settles.forEach(({ out, ref }, i) => {
          if (changed[i]) this.#emit({ ...out, state: 'settled', credit: ref });
        });
      }
    } finally {
      for (const { out } of settles) this.#settling.delete(out.index);
    }
    const commands = [...credits, ...refunds];
    if (commands.length === 0) return;
    const results = await this.#store.submit(commands);
    results.forEach((r, i) => {
      const c = commands[i]!;
      if (r.code !== 'APPLIED') {
        this.#log?.warn({ bank: hex(bank), code: r.code, message: r.message, command: c.type }, 'an interbank answer was refused');
        return;
      }
      if (r.duplicate) return;
      if (c.type === 'interbankCredit') {
        this.#log?.debug({ bank: hex(bank), index: c.source.index, entryIndex: r.entryIndex, rejected: r.rejected }, r.rejected ? 'rejected an interbank transfer' : 'credited an interbank transfer');
      } else if (c.type === 'interbankRefund') {
        void this.#store.getOutgoing(c.outgoingIndex).then((o) => o && this.#emit(o)).catch(() => {});
      }
    });
  }

  /**
   * This bank's outgoing entry that `answer` (from `bank`) refers to, if it is one to `bank`
   * with that leaf hash and amount; anything else is logged and ignored (the reconciliation
   * shows it as a mismatch).
   */
  async #ownOutgoing(bank: Uint8Array, source: EntryRef, amount: bigint): Promise<OutgoingStatus | undefined> {
    const out = await this.#store.getOutgoing(source.index);
    const own = out && (await this.#store.leafHash(source.index));
    if (!out || !own || !bytesEqual(out.bank, bank) || !bytesEqual(own, source.leafHash) || out.amount !== amount) {
      this.#log?.warn({ bank: hex(bank), index: source.index }, 'an interbank answer does not match an outgoing transfer of this bank: ignored');
      return undefined;
    }
    return out;
  }

  /** New outgoing transfers of a commit: 'pending' events (decoded only while someone listens). */
  #onCommit(e: CommitEvent): void {
    if (this.#listeners.size === 0) return;
    const me = this.#store.bank.key;
    e.entries.forEach((bytes, i) => {
      const entry = decodeStrict(pb.Entry, bytes);
      const x = transferOf(entry);
      const t = x?.transfer;
      if (!t?.payeeBank || t.payeeBank.length !== 32 || bytesEqual(t.payeeBank, me)) return;
      this.#emit({
        index: e.firstIndex + i,
        payer: x!.instruction.account!,
        bank: t.payeeBank,
        payee: t.payee!,
        amount: u64(entry!.applied!.amount),
        refundIndex: undefined,
        state: 'pending',
      });
    });
  }

  #emit(transfer: OutgoingStatus): void {
    for (const l of this.#listeners) {
      try {
        l({ transfer });
      } catch {
        // A listener's failure is its own.
      }
    }
  }
}
