import { hasSigned, type AgreementMember, type AgreementView } from '@mutual/ledger';
import type { AgreementPool } from '@mutual/store';

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

/**
 * The banks this bank has signed a federation agreement with: the members of every agreement
 * of its pool that carries its signature, and of the agreement in force. The node replicates
 * their logs, keeps the agreements they sign in its pool, and answers their transfers.
 *
 * Only such a bank can have sent this bank a transfer, or answered one of its transfers,
 * legitimately: a payer bank's rules require an agreement in force that covers both banks,
 * which is valid only with this bank's signature, and this bank sends only under an agreement
 * it adopted. The set only grows: a bank whose agreement this bank has not adopted yet, or
 * that an amended agreement left out, still gets its answers (a rejection refunds its payer).
 * Any other bank's entries are not acted on, so a bank outside every agreement cannot make
 * this bank write to its log.
 */
export class Counterparties {
  readonly #me: Uint8Array;
  readonly #banks = new Set<string>();
  readonly #listeners = new Set<(bank: Uint8Array) => void>();

  constructor(me: Uint8Array) {
    this.#me = me;
  }

  /** Takes in the counterparties recorded in `pool`, and the members of `inForce` (this bank's agreement in force). */
  async load(pool: AgreementPool, inForce?: { readonly members: readonly AgreementMember[] }): Promise<void> {
    for (const { agreement } of await pool.list()) this.note(agreement);
    for (const m of inForce?.members ?? []) this.#add(m.bank);
  }

  /** Takes in an agreement of the pool: its members count when this bank signed it. */
  note(a: AgreementView): void {
    if (!hasSigned(a, this.#me)) return;
    for (const m of a.members) this.#add(m.bank);
  }

  /** Whether this bank signed an agreement with `bank` (never true of this bank itself). */
  has(bank: Uint8Array): boolean {
    return this.#banks.has(hex(bank));
  }

  /** Calls `listener` with each bank that becomes a counterparty from now on. */
  onAdd(listener: (bank: Uint8Array) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** How many banks. */
  get size(): number {
    return this.#banks.size;
  }

  #add(bank: Uint8Array): void {
    const k = hex(bank);
    if (k === hex(this.#me) || this.#banks.has(k)) return;
    this.#banks.add(k);
    for (const l of this.#listeners) {
      try {
        l(bank);
      } catch {
        // A listener's failure is its own.
      }
    }
  }
}
