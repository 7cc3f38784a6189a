import { LIMITS } from '@mutual/interface';
import { bytesEqual, checkSignedAgreement, isMember, mergeSignatures, type AgreementView, type VerifyFn } from '@mutual/ledger';
import type { Level } from 'level';
import { KEYSPACES } from './keyspaces.ts';
import { keys } from './keys.ts';

/** What offering a signed agreement to the pool did. */
export type PoolOutcome =
  | { readonly ok: true; readonly agreement: AgreementView; readonly signed: Uint8Array; readonly changed: boolean }
  | { readonly ok: false; readonly message: string; /** the pool is full of agreements it keeps */ readonly full?: true };

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

/** One stored agreement; `agreement` is absent when its bytes do not verify (never served). */
interface Held {
  readonly agreement: AgreementView | undefined;
  readonly signed: Uint8Array;
}

/**
 * The federation agreements this node has seen (proposed here, or gossiped), each as one
 * SignedAgreement holding the union of the valid signatures seen. Offers are applied one at
 * a time, so that two merges of one agreement never lose a signature. One instance per
 * database: what it holds is read once and kept, verified, in memory (at most
 * MAX_POOLED_AGREEMENTS of at most MAX_AGREEMENT_BYTES each), so that listing the pool, which
 * any peer may ask for, verifies no signature again.
 */
export class AgreementPool {
  readonly #db: Level<Uint8Array, Uint8Array>;
  readonly #verify: VerifyFn;
  readonly #member: Uint8Array | undefined;
  readonly #trusted: (bank: Uint8Array) => boolean;
  #tail: Promise<unknown> = Promise.resolve();
  /**
   * Every agreement stored (hex ID), in the order they came in (those stored before the pool
   * opened first, in ID order, after those that do not verify).
   */
  #held: Promise<Map<string, Held>> | undefined;

  /**
   * @param member - when given, only agreements that name this bank are kept: a bank can
   *   neither sign nor adopt any other, and gossip relays them without the pool.
   * @param opts.trusted - banks whose signature on an agreement keeps it in the pool (the
   *   banks this bank federates with); default none.
   *
   * Anyone can make a validly signed agreement that names this bank among keys of their own,
   * so the pool holds at most MAX_POOLED_AGREEMENTS. When it is full, a new agreement takes
   * the place of, in this order:
   * - the oldest that neither this bank nor a trusted bank signed: a flood of agreements from
   *   made-up banks thus never shuts out the ones that matter, and leaves the pool when it
   *   stops;
   * - if the newcomer was signed by this bank or a trusted bank, the oldest agreement this bank
   *   has not signed of the trusted bank that signed the most such: a bank this bank federates
   *   with that floods the pool displaces its own proposals, not the others' (a newcomer from
   *   a made-up bank is refused instead).
   * An agreement this bank signed stays; past MAX_POOLED_AGREEMENTS of those a new one is
   * refused.
   */
  constructor(db: Level<Uint8Array, Uint8Array>, verify: VerifyFn, member?: Uint8Array, opts: { trusted?: (bank: Uint8Array) => boolean } = {}) {
    this.#db = db;
    this.#verify = verify;
    this.#member = member;
    this.#trusted = opts.trusted ?? (() => false);
  }

  /** Merges a SignedAgreement into the pool. Invalid bytes change nothing. */
  offer(signed: Uint8Array): Promise<PoolOutcome> {
    const run = this.#tail.then(() => this.#offer(signed));
    this.#tail = run.catch(() => {});
    return run;
  }

  async #offer(signed: Uint8Array): Promise<PoolOutcome> {
    const check = checkSignedAgreement(signed, this.#verify);
    if (!check.ok) return { ok: false, message: check.message };
    const incoming = check.agreement;
    if (this.#member && !isMember(incoming, this.#member)) return { ok: false, message: 'the agreement does not name this bank' };
    const held = await this.#read();
    const id = hex(incoming.id);
    const known = held.get(id)?.agreement;
    if (!known) {
      if (!held.has(id) && held.size >= LIMITS.MAX_POOLED_AGREEMENTS) {
        const evict = this.#toEvict(held, incoming);
        if (evict === undefined) return { ok: false, full: true, message: `the pool already holds ${LIMITS.MAX_POOLED_AGREEMENTS} agreements signed by this bank or the banks it federates with` };
        await this.#db.del(keys.agreement(Buffer.from(evict, 'hex')));
        held.delete(evict);
      }
      await this.#db.put(keys.agreement(incoming.id), signed);
      held.set(id, { agreement: incoming, signed });
      return { ok: true, agreement: incoming, signed, changed: true };
    }
    const current = held.get(id)!.signed;
    const merged = mergeSignatures(known, incoming);
    if (merged.length === current.length) return { ok: true, agreement: known, signed: current, changed: false };
    const view = checkSignedAgreement(merged, this.#verify);
    // Merging valid signatures of one agreement can only grow past the size bound; keep the old one then.
    if (!view.ok) return { ok: true, agreement: known, signed: current, changed: false };
    await this.#db.put(keys.agreement(incoming.id), merged);
    held.set(id, { agreement: view.agreement, signed: merged });
    return { ok: true, agreement: view.agreement, signed: merged, changed: true };
  }

  /** The ID of the agreement a newcomer takes the place of in a full pool, if any (see the constructor). */
  #toEvict(held: Map<string, Held>, newcomer: AgreementView): string | undefined {
    for (const [key, h] of held) if (!h.agreement || !this.#keeps(h.agreement)) return key;
    if (!this.#keeps(newcomer)) return undefined;
    const mine = (a: AgreementView) => this.#member !== undefined && a.signatures.some((s) => bytesEqual(s.bank, this.#member!));
    const counts = new Map<string, number>();
    for (const h of held.values()) {
      if (mine(h.agreement!)) continue;
      for (const s of h.agreement!.signatures) if (this.#trusted(s.bank)) counts.set(hex(s.bank), (counts.get(hex(s.bank)) ?? 0) + 1);
    }
    let heaviest: string | undefined;
    for (const [bank, n] of counts) if (heaviest === undefined || n > counts.get(heaviest)!) heaviest = bank;
    if (heaviest === undefined) return undefined;
    for (const [key, h] of held) {
      if (!mine(h.agreement!) && h.agreement!.signatures.some((s) => hex(s.bank) === heaviest)) return key;
    }
    return undefined;
  }

  /** Whether an agreement stays in the pool ahead of those from made-up banks. */
  #keeps(a: AgreementView): boolean {
    return a.signatures.some((s) => (this.#member !== undefined && bytesEqual(s.bank, this.#member)) || this.#trusted(s.bank));
  }

  #read(): Promise<Map<string, Held>> {
    this.#held ??= this.#load().catch((err: unknown) => {
      this.#held = undefined;
      throw err;
    });
    return this.#held;
  }

  async #load(): Promise<Map<string, Held>> {
    const good: Array<[string, Held]> = [];
    const bad: Array<[string, Held]> = [];
    for await (const [k, v] of this.#db.iterator(keys.range(KEYSPACES.agreements))) {
      const check = checkSignedAgreement(v, this.#verify);
      const key = hex(k.subarray(1));
      if (check.ok && hex(check.agreement.id) === key) good.push([key, { agreement: check.agreement, signed: v }]);
      else bad.push([key, { agreement: undefined, signed: v }]);
    }
    // What does not verify is not served (see get): it counts, and is the first to go.
    return new Map([...bad, ...good]);
  }

  /** The agreement with this ID, with every signature gathered. */
  async get(id: Uint8Array): Promise<{ agreement: AgreementView; signed: Uint8Array } | undefined> {
    if (id.length !== 32) return undefined;
    const h = (await this.#read()).get(hex(id));
    return h?.agreement ? { agreement: h.agreement, signed: h.signed } : undefined;
  }

  /** Every agreement in the pool, oldest proposal first. */
  async list(): Promise<Array<{ agreement: AgreementView; signed: Uint8Array }>> {
    const out: Array<{ agreement: AgreementView; signed: Uint8Array }> = [];
    for (const h of (await this.#read()).values()) if (h.agreement) out.push({ agreement: h.agreement, signed: h.signed });
    return out.sort((a, b) => (a.agreement.createdMs < b.agreement.createdMs ? -1 : a.agreement.createdMs > b.agreement.createdMs ? 1 : 0));
  }
}
