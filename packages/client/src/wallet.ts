import { dayOfTimeMs } from '@mutual/codec';
import { publicKeyFromSeed } from '@mutual/crypto';
import { MutualError } from '@mutual/interface';
import type { MutualClient } from './client.ts';
import type { CallOptions } from './http.ts';
import { accountIdOf, laborRecord, retirement, sameBank, transfer } from './instructions.ts';
import type { HolderKey } from './key-file.ts';
import type { AccountInfo, Result } from './types.ts';

/** Options of {@link Wallet}. */
export interface WalletOptions {
  readonly client: MutualClient;
  /** the holder's key pair (from `parseKeyFile`) or bare 32-byte seed */
  readonly key: HolderKey | Uint8Array;
  /** the bank ID, when known; read from the node's status otherwise */
  readonly bank?: string;
  /** the clock that dates labor records by default (ms since the epoch) */
  readonly now?: () => number;
}

/**
 * One holder's account at its bank: signs instructions locally with the holder's key and
 * submits them, numbering each with the account's next sequence number as the node reports
 * it. Two wallets of one account submitting at once race for a number; the loser is told
 * `SEQUENCE_REPLAYED` and can simply retry.
 */
export class Wallet {
  readonly client: MutualClient;
  readonly key: HolderKey;
  #bank: string | undefined;
  readonly #now: () => number;

  constructor(o: WalletOptions) {
    this.client = o.client;
    this.key = o.key instanceof Uint8Array ? { seed: o.key, publicKey: publicKeyFromSeed(o.key) } : o.key;
    this.#bank = o.bank;
    this.#now = o.now ?? Date.now;
  }

  /** The bank ID (`mbank1…`), read once from the node's status. */
  async bank(o?: CallOptions): Promise<string> {
    this.#bank ??= (await this.client.status(o)).bank.id;
    return this.#bank;
  }

  /** This holder's account ID at the bank. */
  async accountId(o?: CallOptions): Promise<string> {
    return accountIdOf(await this.bank(o), this.key);
  }

  /** The account as the node reports it. */
  async info(o?: CallOptions): Promise<AccountInfo> {
    return this.client.account(await this.accountId(o), o);
  }

  /** Signs and submits a transfer of `amount` (decimal notes or bigint milli-notes) to `to`. */
  async transfer(t: { readonly to: string; readonly amount: string | bigint; readonly memo?: string; readonly toBank?: string }, o?: CallOptions): Promise<Result> {
    const { bank, sequence } = await this.#next(o);
    const signed = transfer({
      key: this.key,
      bank,
      sequence,
      payee: t.to,
      amount: t.amount,
      ...(t.memo !== undefined ? { memo: t.memo } : {}),
      ...(t.toBank !== undefined && !sameBank(t.toBank, bank) ? { payeeBank: t.toBank } : {}),
    });
    return one(await this.client.submitTransfers([signed], o));
  }

  /** Signs (as a cooperative) and submits a labor record; `day` defaults to today (UTC). */
  async recordLabor(
    l: { readonly worker: string; readonly hours: string | bigint; readonly category: string; readonly day?: string | number; readonly memo?: string },
    o?: CallOptions,
  ): Promise<Result> {
    const { bank, sequence } = await this.#next(o);
    const signed = laborRecord({
      key: this.key,
      bank,
      sequence,
      worker: l.worker,
      hours: l.hours,
      category: l.category,
      day: l.day ?? dayOfTimeMs(this.#now()),
      ...(l.memo !== undefined ? { memo: l.memo } : {}),
    });
    return one(await this.client.submitLabor([signed], o));
  }

  /** Signs and submits a retirement of `amount` notes. */
  async retire(r: { readonly amount: string | bigint; readonly memo?: string }, o?: CallOptions): Promise<Result> {
    const { bank, sequence } = await this.#next(o);
    const signed = retirement({ key: this.key, bank, sequence, amount: r.amount, ...(r.memo !== undefined ? { memo: r.memo } : {}) });
    return one(await this.client.submitTransfers([signed], o));
  }

  async #next(o: CallOptions | undefined): Promise<{ bank: string; sequence: string }> {
    const bank = await this.bank(o);
    const info = await this.client.account(accountIdOf(bank, this.key), o);
    return { bank, sequence: info.nextSequence };
  }
}

function one(results: readonly Result[]): Result {
  const [r] = results;
  if (results.length !== 1 || r === undefined) {
    throw new MutualError('UNEXPECTED_RESPONSE', `the node answered one instruction with ${results.length} results`);
  }
  return r;
}
