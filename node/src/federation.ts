import { LIMITS, MutualError } from '@mutual/interface';
import {
  agreementMessage,
  bytesEqual,
  checkSignedAgreement,
  encodeSignedAgreement,
  hasSigned,
  isMember,
  type AgreementView,
} from '@mutual/ledger';
import { pb, toU64 } from '@mutual/protocol';
import type { AgreementPool, LedgerStore, PoolOutcome } from '@mutual/store';
import type { Counterparties } from './counterparties.ts';

/** What the federation needs of the mesh: gossip, and the names of the banks it met. */
export interface AgreementMesh {
  publishAgreement(signed: Uint8Array): Promise<void>;
  bankName(bank: Uint8Array): Promise<string | undefined>;
}

export interface FederationLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface Proposal {
  /** bank keys; this bank is always a member, listed or not */
  readonly members: readonly Uint8Array[];
  /** category and rate x 1000; default: the bank's schedule in force */
  readonly rates?: ReadonlyArray<readonly [string, number]>;
  /** milli-notes */
  readonly clearingLimit: bigint;
  /** ID of the agreement it amends */
  readonly amends?: Uint8Array;
}

/** One agreement of the pool as this bank sees it. */
export interface AgreementStatus {
  readonly agreement: AgreementView;
  /** adopted by this bank, now or before (on the chain of amendments of the one in force) */
  readonly adopted: boolean;
  readonly inForce: boolean;
}

/**
 * The bank's side of federation agreements: proposes and signs them with the bank key, keeps
 * every agreement seen in the pool (merging signatures from gossip), and adopts an agreement
 * as soon as it is complete and this bank has signed it, so that every member records it
 * without another step.
 */

/** How long adoption waits to try again when the ledger's queue is full. */
export const ADOPTION_RETRY_MS = 2_000;
export class Federation {
  readonly #store: LedgerStore;
  readonly #pool: AgreementPool;
  readonly #mesh: AgreementMesh | undefined;
  readonly #sign: (message: Uint8Array) => Uint8Array;
  readonly #log: FederationLogger | undefined;
  readonly #clock: () => bigint;
  readonly #counterparties: Counterparties | undefined;
  /** Adoptions run one at a time: each reads the agreement in force the previous one left. */
  #adoption: Promise<void> = Promise.resolve();
  /** Agreements the ledger refused to adopt, each as `<in force>:<agreement>` (hex IDs). */
  readonly #refused = new Set<string>();
  #retry: NodeJS.Timeout | undefined;

  constructor(parts: {
    store: LedgerStore;
    pool: AgreementPool;
    mesh?: AgreementMesh;
    sign: (message: Uint8Array) => Uint8Array;
    logger?: FederationLogger;
    clock?: () => bigint;
    /** told of every agreement the pool takes in, before it is gossiped or adopted */
    counterparties?: Counterparties;
  }) {
    this.#store = parts.store;
    this.#pool = parts.pool;
    this.#counterparties = parts.counterparties;
    this.#mesh = parts.mesh;
    this.#sign = parts.sign;
    this.#log = parts.logger;
    this.#clock = parts.clock ?? (() => BigInt(Date.now()));
  }

  get #me(): Uint8Array {
    return this.#store.bank.key;
  }

  /**
   * Makes an agreement of this bank's bioregion, signs it as this bank, keeps and gossips it.
   * Throws MutualError UNKNOWN_BANK (a member this node has not met) or AGREEMENT_INVALID.
   */
  async propose(p: Proposal): Promise<AgreementView> {
    const keys = p.members.some((k) => bytesEqual(k, this.#me)) ? [...p.members] : [this.#me, ...p.members];
    const members = [];
    for (const bank of keys) {
      const name = bytesEqual(bank, this.#me) ? this.#store.bank.name : await this.#mesh?.bankName(bank);
      if (name === undefined) throw new MutualError('UNKNOWN_BANK', `bank ${Buffer.from(bank).toString('hex')} is not known to this node: connect to it first`);
      members.push({ bank, name });
    }
    const bytes = pb.Agreement.encode({
      bioregion: this.#store.bank.bioregion,
      members,
      rates: (p.rates ?? [...this.#store.rates]).map(([category, rateMilli]) => ({ category, rateMilli })),
      clearingLimit: toU64(p.clearingLimit),
      createdMs: toU64(this.#clock()),
      previous: p.amends ?? new Uint8Array(),
    }).finish();
    const signed = encodeSignedAgreement(bytes, [{ bank: this.#me, signature: this.#sign(agreementMessage(bytes)) }]);
    const check = checkSignedAgreement(signed, () => true);
    if (!check.ok) throw new MutualError('AGREEMENT_INVALID', check.message);
    const r = await this.#receive(signed);
    if (r.ok) return r.agreement;
    if (r.full) throw new MutualError('AGREEMENT_POOL_FULL', r.message);
    throw new MutualError('INTERNAL', `the pool refused an agreement this bank made: ${r.message}`);
  }

  /**
   * Signs agreement `id` as this bank, gossips the signatures gathered and adopts it if it is
   * now complete. Throws NOT_FOUND or NOT_AGREEMENT_MEMBER.
   */
  async signAgreement(id: Uint8Array): Promise<AgreementView> {
    const known = await this.#pool.get(id);
    if (!known) throw new MutualError('NOT_FOUND', 'no such agreement in this node\'s pool');
    const a = known.agreement;
    if (!isMember(a, this.#me)) throw new MutualError('NOT_AGREEMENT_MEMBER', 'this bank is not a member of the agreement');
    // An agreement of another bioregion could never be adopted here; signing it would only make its members counterparties.
    if (a.bioregion !== this.#store.bank.bioregion) throw new MutualError('NOT_AGREEMENT_MEMBER', `the agreement is for bioregion "${a.bioregion}", not this bank's`);
    if (hasSigned(a, this.#me)) {
      if (a.complete) await this.adoptPending();
      return a;
    }
    const signed = encodeSignedAgreement(a.bytes, [...a.signatures, { bank: this.#me, signature: this.#sign(agreementMessage(a.bytes)) }]);
    return (await this.receive(signed)) ?? a;
  }

  /**
   * Takes a SignedAgreement (gossiped, proposed or signed here) into the pool; when it brought
   * new signatures, gossips the union and adopts the agreement if it is due. Returns the
   * agreement as now known, or undefined for invalid bytes (nothing changes).
   */
  async receive(signed: Uint8Array): Promise<AgreementView | undefined> {
    const r = await this.#receive(signed);
    return r.ok ? r.agreement : undefined;
  }

  async #receive(signed: Uint8Array): Promise<PoolOutcome> {
    const r = await this.#pool.offer(signed);
    if (!r.ok) {
      this.#log?.warn({ problem: r.message }, r.full ? 'an agreement was offered to a full pool: ignored' : 'an invalid agreement was offered: ignored');
      return r;
    }
    if (r.changed) {
      // Before anyone can hold the agreement complete with this bank's signature, and send under it.
      this.#counterparties?.note(r.agreement);
      await this.#mesh?.publishAgreement(r.signed);
    }
    // Also when nothing changed: an amendment that came complete before the agreement it amends
    // was adopted is adopted right after it.
    if (r.agreement.complete && isMember(r.agreement, this.#me)) await this.adoptPending();
    return r;
  }

  /**
   * Adopts, in turn, each complete agreement of the pool that lists this bank and can follow
   * the one in force: a founding agreement or, with none in force, the amendment by which this
   * bank joins; then each amendment of the one in force. Run at start (an adoption the node
   * stopped before), and whenever an agreement that names this bank is complete. When the
   * ledger's queue is full it tries again ADOPTION_RETRY_MS later.
   */
  adoptPending(): Promise<void> {
    const run = this.#adoption.then(() => this.#adoptAll());
    this.#adoption = run.catch(() => {});
    return run;
  }

  /** Stops a retry that is waiting. */
  stop(): void {
    clearTimeout(this.#retry);
    this.#retry = undefined;
  }

  async #adoptAll(): Promise<void> {
    const me = this.#me;
    const bioregion = this.#store.bank.bioregion;
    // Each round adopts one agreement or ends; one pool's worth of rounds bounds a chain of amendments.
    for (let round = 0; round < LIMITS.MAX_POOLED_AGREEMENTS; round++) {
      const current = this.#store.agreementInForce?.id;
      const at = current ? Buffer.from(current).toString('hex') : '';
      let adopted = false;
      for (const { agreement: a, signed } of await this.#pool.list()) {
        if (!a.complete || a.bioregion !== bioregion || !isMember(a, me)) continue;
        if (current && (bytesEqual(current, a.id) || !a.previous || !bytesEqual(a.previous, current))) continue;
        const key = `${at}:${Buffer.from(a.id).toString('hex')}`;
        if (this.#refused.has(key)) continue;
        let r;
        try {
          [r] = await this.#store.submit([{ type: 'adoptAgreement', signed }]);
        } catch (err) {
          // A closed store: the node is stopping, or stopped after a failed write (logged there).
          if (err instanceof MutualError && err.code === 'STORE_CLOSED') return;
          if (!(err instanceof MutualError) || err.code !== 'OVERLOADED') throw err;
          this.#log?.warn({ agreement: Buffer.from(a.id).toString('hex') }, 'adopting an agreement waits: the ledger is busy');
          this.#retry ??= setTimeout(() => {
            this.#retry = undefined;
            this.adoptPending().catch((e: unknown) => this.#log?.warn({ err: e }, 'adopting an agreement failed'));
          }, ADOPTION_RETRY_MS).unref();
          return;
        }
        if (r?.code === 'APPLIED') {
          this.#log?.info({ agreement: Buffer.from(a.id).toString('hex'), entryIndex: r.entryIndex }, 'adopted a federation agreement');
          this.#refused.clear();
          adopted = true;
          break;
        }
        this.#refused.add(key);
        this.#log?.warn({ agreement: Buffer.from(a.id).toString('hex'), code: r?.code, problem: r?.message }, 'a complete agreement was not adopted');
      }
      if (!adopted) return;
    }
  }

  /** Every agreement in the pool, with this bank's view of it. */
  async list(): Promise<AgreementStatus[]> {
    // The agreement in force is read before the pool: an agreement is adopted only after its
    // complete form is in the pool, so the pool read next holds it complete. Read after, an
    // adoption during the pool's read could show an agreement in force and not complete.
    const inForce = this.#store.agreementInForce?.id;
    const all = (await this.#pool.list()).map((x) => x.agreement);
    // Adoption moves the agreement in force along `previous` links only, so the agreements
    // this bank adopted are the chain from the one in force back to its founding, or to the
    // amendment by which it joined.
    const adopted = new Set<string>();
    const byId = new Map(all.map((a) => [Buffer.from(a.id).toString('hex'), a]));
    let at = inForce;
    while (at && !adopted.has(Buffer.from(at).toString('hex'))) {
      const k = Buffer.from(at).toString('hex');
      const a = byId.get(k);
      // A bank that joined by an amendment never adopted the agreements before it.
      if (a && !isMember(a, this.#me)) break;
      adopted.add(k);
      at = a?.previous;
    }
    return all.map((a) => ({
      agreement: a,
      adopted: adopted.has(Buffer.from(a.id).toString('hex')),
      inForce: inForce !== undefined && bytesEqual(inForce, a.id),
    }));
  }
}
