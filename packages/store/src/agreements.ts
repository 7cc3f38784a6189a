import { LIMITS } from '@mutual/interface';
import { bytesEqual, checkSignedAgreement, isMember, mergeSignatures, type AgreementView, type VerifyFn } from '@mutual/ledger';
import type { Level } from 'level';
import { KEYSPACES } from './keyspaces.ts';
import { keys } from './keys.ts';

/** What offering a signed agreement to the pool did. */
export type PoolOutcome =
  | { readonly ok: true; readonly agreement: AgreementView; readonly signed: Uint8Array; readonly changed: boolean }
  | { readonly ok: false; readonly message: string };

const agreementKey = (id: Uint8Array) => {
  const k = new Uint8Array(33);
  k[0] = KEYSPACES.agreements;
  k.set(id, 1);
  return k;
};

/**
 * The federation agreements this node has seen (proposed here, or gossiped), each as one
 * SignedAgreement holding the union of the valid signatures seen. Offers are applied one at
 * a time, so that two merges of one agreement never lose a signature.
 */
export class AgreementPool {
  readonly #db: Level<Uint8Array, Uint8Array>;
  readonly #verify: VerifyFn;
  readonly #member: Uint8Array | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  /** agreements stored, counted on the first offer */
  #count: number | undefined;

  /**
   * @param member - when given, only agreements that name this bank are kept: a bank can
   *   neither sign nor adopt any other, and gossip relays them without the pool. Anyone can
   *   make a validly signed agreement among keys of their own, so the pool also holds at most
   *   MAX_POOLED_AGREEMENTS.
   */
  constructor(db: Level<Uint8Array, Uint8Array>, verify: VerifyFn, member?: Uint8Array) {
    this.#db = db;
    this.#verify = verify;
    this.#member = member;
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
    const known = await this.get(incoming.id);
    if (!known) {
      this.#count ??= await this.#countStored();
      if (this.#count >= LIMITS.MAX_POOLED_AGREEMENTS) return { ok: false, message: `the pool already holds ${LIMITS.MAX_POOLED_AGREEMENTS} agreements` };
      await this.#db.put(agreementKey(incoming.id), signed);
      this.#count++;
      return { ok: true, agreement: incoming, signed, changed: true };
    }
    const merged = mergeSignatures(known.agreement, incoming);
    if (merged.length === known.signed.length) return { ok: true, ...known, changed: false };
    const view = checkSignedAgreement(merged, this.#verify);
    // Merging valid signatures of one agreement can only grow past the size bound; keep the old one then.
    if (!view.ok) return { ok: true, ...known, changed: false };
    await this.#db.put(agreementKey(incoming.id), merged);
    return { ok: true, agreement: view.agreement, signed: merged, changed: true };
  }

  async #countStored(): Promise<number> {
    let n = 0;
    for await (const _ of this.#db.keys(keys.range(KEYSPACES.agreements))) n++;
    return n;
  }

  /** The agreement with this ID, with every signature gathered. */
  async get(id: Uint8Array): Promise<{ agreement: AgreementView; signed: Uint8Array } | undefined> {
    if (id.length !== 32) return undefined;
    const signed = await this.#db.get(agreementKey(id));
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
