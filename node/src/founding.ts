import { bytesEqual, encodeSignedAgreement, hasSigned, isMember, type AgreementInForce, type AgreementView } from '@mutual/ledger';
import type { AgreementStatus, Proposal } from './federation.ts';

/** What founding needs of the mesh: the peers it is connected to, and gossip. */
export interface FoundingMesh {
  peers(): ReadonlyArray<{ readonly bank?: Uint8Array; readonly bioregion?: string; readonly gossip: readonly string[] }>;
  publishAgreement(signed: Uint8Array): Promise<void>;
}

/** What founding needs of the federation (node/src/federation.ts). */
export interface FoundingFederation {
  propose(p: Proposal): Promise<AgreementView>;
  signAgreement(id: Uint8Array): Promise<AgreementView>;
  list(): Promise<AgreementStatus[]>;
}

/** What founding needs of the bank's store. */
export interface FoundingStore {
  readonly bank: { readonly key: Uint8Array; readonly bioregion: string };
  readonly agreementInForce: AgreementInForce | undefined;
}

export interface FoundingLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface FoundingOptions {
  readonly store: FoundingStore;
  readonly federation: FoundingFederation;
  readonly mesh: FoundingMesh;
  /** How many banks found the federation, this one included. */
  readonly members: number;
  /** Clearing limit of the agreement this bank proposes, in milli-notes. */
  readonly clearingLimit: bigint;
  readonly logger?: FoundingLogger;
  /** Milliseconds between two looks at the mesh and the pool; default 1000. */
  readonly intervalMs?: number;
}

/** What one look did. */
export interface FoundingStep {
  /** an agreement is in force: founding is over */
  readonly inForce: boolean;
  readonly proposed?: AgreementView;
  readonly signed: readonly AgreementView[];
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const byKey = (x: Uint8Array, y: Uint8Array) => Buffer.compare(x, y);

/**
 * Automatic founding of a federation, a demonstration setting (`--found-federation N`): banks
 * that start together form their founding agreement without an operator.
 *
 * While this bank has no agreement in force, it looks at the mesh every `intervalMs`:
 * - once it is connected to N−1 other banks of its bioregion that hear the agreements topic,
 *   the N lowest keys among them and itself are the founders; if this bank has the lowest, it
 *   proposes a founding agreement naming exactly those N banks (once: not if the pool already
 *   holds one of them that it signed);
 * - it signs every founding agreement (no `previous`) of its bioregion in the pool whose
 *   members are exactly N banks, itself and N−1 it is connected to;
 * - it gossips again the founding agreements it signed that are not complete yet, for peers
 *   that subscribed late (gossip drops a repeat of the same bytes for a while, so this costs
 *   nothing when all went well).
 * Adoption follows by itself (Federation adopts a complete agreement it signed). An agreement
 * in force ends it, so a restarted bank does nothing more.
 */
export class Founding {
  readonly #o: FoundingOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;

  constructor(options: FoundingOptions) {
    if (!Number.isSafeInteger(options.members) || options.members < 2) throw new RangeError('a federation is founded by at least 2 banks');
    this.#o = options;
  }

  /** Starts looking, at once and then every interval, until an agreement is in force or {@link stop}. */
  start(): void {
    if (this.#stopped || this.#timer) return;
    const again = () => {
      if (this.#stopped) return;
      this.#running = this.step()
        .then((s) => s.inForce)
        .catch((err: unknown) => {
          this.#o.logger?.warn({ err }, 'founding the federation: a step failed');
          return false;
        })
        .then((done) => {
          this.#running = undefined;
          if (done) this.#o.logger?.info({}, 'an agreement is in force: founding is over');
          else if (!this.#stopped) this.#timer = setTimeout(again, this.#o.intervalMs ?? 1000);
        });
    };
    this.#timer = setTimeout(again, 0);
  }

  /** Stops looking and waits for a step in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** One look at the mesh and the pool (see the class). */
  async step(): Promise<FoundingStep> {
    const { store, federation, mesh, members: n } = this.#o;
    if (store.agreementInForce) return { inForce: true, signed: [] };
    const me = store.bank.key;
    const bioregion = store.bank.bioregion;

    // Banks of this bioregion connected now (verified hello), and those that hear agreements.
    const met = new Map<string, Uint8Array>();
    const hearing = new Map<string, Uint8Array>();
    for (const p of mesh.peers()) {
      if (!p.bank || p.bioregion !== bioregion || bytesEqual(p.bank, me)) continue;
      met.set(hex(p.bank), p.bank);
      if (p.gossip.includes('agreements')) hearing.set(hex(p.bank), p.bank);
    }

    const founding = (await federation.list())
      .map((s) => s.agreement)
      .filter((a) => a.previous === undefined && a.bioregion === bioregion && a.members.length === n && isMember(a, me));

    const signed: AgreementView[] = [];
    for (const [i, a] of founding.entries()) {
      if (hasSigned(a, me)) continue;
      if (!a.members.every((m) => bytesEqual(m.bank, me) || met.has(hex(m.bank)))) continue;
      const after = await federation.signAgreement(a.id);
      this.#o.logger?.info({ agreement: hex(a.id), members: a.members.map((m) => m.name) }, 'signed a founding agreement');
      founding[i] = after;
      signed.push(after);
      if (store.agreementInForce) return { inForce: true, signed };
    }

    let proposed: AgreementView | undefined;
    const founders = [me, ...hearing.values()].sort(byKey).slice(0, n);
    if (founders.length === n && bytesEqual(founders[0]!, me)) {
      const wanted = new Set(founders.map(hex));
      const already = founding.some((a) => hasSigned(a, me) && a.members.every((m) => wanted.has(hex(m.bank))));
      if (!already) {
        proposed = await federation.propose({ members: founders, clearingLimit: this.#o.clearingLimit });
        this.#o.logger?.info({ agreement: hex(proposed.id), members: proposed.members.map((m) => m.name) }, 'proposed a founding agreement');
      }
    }

    // Late subscribers: gossip again what this bank signed and is not complete yet.
    for (const a of founding) {
      if (a.complete || !hasSigned(a, me) || signed.includes(a)) continue;
      await mesh.publishAgreement(encodeSignedAgreement(a.bytes, a.signatures));
    }
    return { inForce: store.agreementInForce !== undefined, ...(proposed ? { proposed } : {}), signed };
  }
}
