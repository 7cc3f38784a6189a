import { bytesEqual, entryRefOf } from '@mutual/ledger';
import { encodePush, type IndexedEntry, type Mesh } from '@mutual/mesh';
import { LIMITS } from '@mutual/interface';
import { decodeStrict, pb } from '@mutual/protocol';
import type { CommitEvent, LedgerStore } from '@mutual/store';
import { transferOf } from './clearing.ts';

export interface PushLogger {
  debug(obj: object, msg: string): void;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * The other bank an entry of this bank's log must reach: the payee bank of an interbank
 * transfer, or the payer bank of a credit or rejection answering one of its transfers.
 */
export function destinationOf(bytes: Uint8Array, me: Uint8Array): Uint8Array | undefined {
  const e = decodeStrict(pb.Entry, bytes);
  if (!e) return undefined;
  if (e.kind === 'applied') {
    const bank = transferOf(e)?.transfer.payeeBank;
    return bank?.length === 32 && !bytesEqual(bank, me) ? bank : undefined;
  }
  if (e.kind === 'interbankCredit' || e.kind === 'interbankRejection') {
    const source = entryRefOf((e.kind === 'interbankCredit' ? e.interbankCredit : e.interbankRejection)?.source);
    return source && !bytesEqual(source.bank, me) ? source.bank : undefined;
  }
  return undefined;
}

/**
 * Pushes the interbank entries of this bank's commits to the bank each concerns, with their
 * inclusion proofs against a signed head (`Mesh.push`): the payee bank credits a transfer, and
 * the payer bank settles or refunds it, as soon as they hear of it rather than when their
 * replica of this bank's log next catches up.
 *
 * One push to a bank is in flight at a time: entries committed meanwhile wait and go together
 * in the next push, proven against the head of that moment. An idle bank's transfer leaves at
 * once; under load the pushes grow instead of multiplying. Replication still delivers every
 * entry, so entries that are not pushed (the bank not connected, more than
 * MAX_PUSH_QUEUE_ENTRIES waiting) or a push that is lost delay a transfer, nothing more.
 */
export class InterbankPusher {
  readonly #store: LedgerStore;
  readonly #mesh: Pick<Mesh, 'push'>;
  readonly #log: PushLogger | undefined;
  /** Entries waiting for each bank (hex key), and whether a push to it is in flight. */
  readonly #queues = new Map<string, { bank: Uint8Array; entries: IndexedEntry[]; sending: boolean }>();
  #unsubscribe: (() => void) | undefined;
  #stopped = false;

  constructor(parts: { store: LedgerStore; mesh: Pick<Mesh, 'push'>; logger?: PushLogger }) {
    this.#store = parts.store;
    this.#mesh = parts.mesh;
    this.#log = parts.logger;
  }

  start(): void {
    this.#unsubscribe ??= this.#store.subscribe((e) => this.#onCommit(e));
  }

  /** Stops following commits; entries still waiting are left to replication. */
  stop(): void {
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#queues.clear();
  }

  #onCommit(e: CommitEvent): void {
    if (this.#stopped) return;
    const me = this.#store.bank.key;
    e.entries.forEach((bytes, i) => {
      const bank = destinationOf(bytes, me);
      if (!bank) return;
      const key = hex(bank);
      let q = this.#queues.get(key);
      if (!q) this.#queues.set(key, (q = { bank, entries: [], sending: false }));
      q.entries.push({ index: e.firstIndex + i, bytes });
      // A bank that does not keep up: the oldest waiting entries are left to replication.
      if (q.entries.length > LIMITS.MAX_PUSH_QUEUE_ENTRIES) q.entries.splice(0, q.entries.length - LIMITS.MAX_PUSH_QUEUE_ENTRIES);
    });
    for (const [key, q] of this.#queues) if (!q.sending && q.entries.length > 0) void this.#send(key, q);
  }

  async #send(key: string, q: { bank: Uint8Array; entries: IndexedEntry[]; sending: boolean }): Promise<void> {
    q.sending = true;
    try {
      while (q.entries.length > 0 && !this.#stopped) {
        const part = q.entries.splice(0, LIMITS.MAX_PUSH_ENTRIES);
        // The latest durable head covers every entry committed so far.
        const head = this.#store.head;
        const proofs = await Promise.all(part.map((x) => this.#store.inclusionProof(x.index, head.size)));
        await this.#mesh.push(q.bank, encodePush(head, part, proofs));
      }
    } catch (err) {
      // The store closing: replication delivers the entries.
      q.entries.length = 0;
      this.#log?.debug({ err, bank: key }, 'building a push failed');
    } finally {
      // Entries committed while a push was in flight went in the loop above.
      q.sending = false;
      this.#queues.delete(key);
    }
  }
}
