import { LIMITS } from '@mutual/interface';
import { bytesEqual, checkSignedAgreement, isMember, mergeSignatures, type AgreementView, type VerifyFn } from '@mutual/ledger';
import type { Level } from 'level';
import { KEYSPACES } from './keyspaces.ts';
import { keys } from './keys.ts';

/** What offering a signed agreement to the pool did. */
export type PoolOutcome =
  | { readonly ok: true; readonly agreement: AgreementView; readonly signed: Uint8Array; readonly changed: boolean }
  | { readonly ok: false; readonly message: string };

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
const signersOf = (a: AgreementView) => a.signatures.map((x) => x.bank);

/**
 * The federation agreements this node has seen (proposed here, or gossiped), each as one
 * SignedAgreement holding the union of the valid signatures seen. Offers are applied one at
 * a time, so that two merges of one agreement never lose a signature. One instance per
 * database: the index of what it holds is its own.
 */
export class AgreementPool {
  readonly #db: Level<Uint8Array, Uint8Array>;
  readonly #verify: VerifyFn;
  readonly #member: Uint8Array | undefined;
  readonly #trusted: (bank: Uint8Array) => boolean;
  #tail: Promise<unknown> = Promise.resolve();
  /**
   * The signers of each agreement stored (hex ID), in the order the agreements came in (those
   * stored before the pool opened first, in ID order); read on the first offer.
   */
  #held: Map<string, readonly Uint8Array[]> | undefined;

  /**
   * @param member - when given, only agreements that name this bank are kept: a bank can
   *   neither sign nor adopt any other, and gossip relays them without the pool.
   * @param opts.trusted - banks whose signature on an agreement keeps it in the pool (the
   *   banks this bank federates with); default none.
   *
   * Anyone can make a validly signed agreement that names this bank among keys of their own,
   * so the pool holds at most MAX_POOLED_AGREEMENTS, and an agreement that neither this bank
   * nor a trusted bank signed is held only until the pool is full: the next one in takes the
   * place of the oldest such. A flood of agreements from made-up banks thus never shuts out
   * the ones that matter, and leaves the pool when it stops; an agreement this bank or a
   * trusted bank signed stays, and past MAX_POOLED_AGREEMENTS of those a new one is refused.
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
    const held = (this.#held ??= await this.#readHeld());
    const id = hex(incoming.id);
    const known = held.has(id) ? await this.get(incoming.id) : undefined;
    if (!known) {
      if (!held.has(id) && held.size >= LIMITS.MAX_POOLED_AGREEMENTS) {
        let evict: string | undefined;
        for (const [key, signers] of held) {
          if (this.#keeps(signers)) continue;
          evict = key;
          break;
        }
        if (evict === undefined) return { ok: false, message: `the pool already holds ${LIMITS.MAX_POOLED_AGREEMENTS} agreements signed by this bank or the banks it federates with` };
        await this.#db.del(keys.agreement(Buffer.from(evict, 'hex')));
        held.delete(evict);
      }
      await this.#db.put(keys.agreement(incoming.id), signed);
      held.set(id, signersOf(incoming));
      return { ok: true, agreement: incoming, signed, changed: true };
    }
    const merged = mergeSignatures(known.agreement, incoming);
    if (merged.length === known.signed.length) return { ok: true, ...known, changed: false };
    const view = checkSignedAgreement(merged, this.#verify);
    // Merging valid signatures of one agreement can only grow past the size bound; keep the old one then.
    if (!view.ok) return { ok: true, ...known, changed: false };
    await this.#db.put(keys.agreement(incoming.id), merged);
    held.set(id, signersOf(view.agreement));
    return { ok: true, agreement: view.agreement, signed: merged, changed: true };
  }

  /** Whether an agreement with these signers stays in the pool however full it is. */
  #keeps(signers: readonly Uint8Array[]): boolean {
    return signers.some((s) => (this.#member !== undefined && bytesEqual(s, this.#member)) || this.#trusted(s));
  }

  async #readHeld(): Promise<Map<string, readonly Uint8Array[]>> {
    const good: Array<[string, readonly Uint8Array[]]> = [];
    const bad: Array<[string, readonly Uint8Array[]]> = [];
    for await (const [k, v] of this.#db.iterator(keys.range(KEYSPACES.agreements))) {
      const check = checkSignedAgreement(v, this.#verify);
      if (check.ok) good.push([hex(k.subarray(1)), signersOf(check.agreement)]);
      else bad.push([hex(k.subarray(1)), []]);
    }
    // What does not verify is not served (see get): it counts, and is the first to go.
    return new Map([...bad, ...good]);
  }

  /** The agreement with this ID, with every signature gathered. */
  async get(id: Uint8Array): Promise<{ agreement: AgreementView; signed: Uint8Array } | undefined> {
    if (id.length !== 32) return undefined;
    const signed = await this.#db.get(keys.agreement(id));
    if (!signed) return undefined;
    const check = checkSignedAgreement(signed, this.#verify);
    if (!check.ok || !bytesEqual(check.agreement.id, id)) return undefined;
    return { agreement: check.agreement, signed };
  }

  /** Every agreement in the pool, oldest proposal first. */
  async list(): Promise<Array<{ agreement: AgreementView; signed: Uint8Array }>> {
    const out: Array<{ agreement: AgreementView; signed: Uint8Array }> = [];
    for await (const [k, v] of this.#db.iterator(keys.range(KEYSPACES.agreements))) {
      const check = checkSignedAgreement(v, this.#verify);
      if (check.ok && bytesEqual(check.agreement.id, k.subarray(1))) out.push({ agreement: check.agreement, signed: v });
    }
    return out.sort((a, b) => (a.agreement.createdMs < b.agreement.createdMs ? -1 : a.agreement.createdMs > b.agreement.createdMs ? 1 : 0));
  }
}
