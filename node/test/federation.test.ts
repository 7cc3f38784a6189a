// Adoption of federation agreements by the node: in chain order, at start, and again when the
// ledger was too busy to take it.
import { join } from 'node:path';
import { LIMITS, MutualError } from '@mutual/interface';
import { agreementId, agreementMessage, encodeSignedAgreement } from '@mutual/ledger';
import { pb } from '@mutual/protocol';
import { AgreementPool, LedgerStore } from '@mutual/store';
import { signDetached, verify, type KeyPair } from '@mutual/verifier';
import { afterEach, describe, expect, it } from 'vitest';
import { ADOPTION_RETRY_MS, Federation } from '../src/federation.ts';
import { newHolder, tempDir } from './fixture.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function bank() {
  const { dir, cleanup } = tempDir();
  const keys = newHolder();
  const sign = (m: Uint8Array) => signDetached(m, keys.secretKey);
  const store = await LedgerStore.open({ dir: join(dir, 'ledger'), bankKey: keys.publicKey, sign, verify, genesis: { name: 'Alder', bioregion: 'Cascadia' } });
  cleanups.push(async () => {
    await store.close();
    cleanup();
  });
  const pool = new AgreementPool(store.db, verify, keys.publicKey);
  return { store, keys, sign, pool };
}

/** A SignedAgreement of `members`, signed by all of them. */
function agreement(members: readonly KeyPair[], clearingLimit: number, previous?: Uint8Array, bioregion = 'Cascadia'): Uint8Array {
  const bytes = pb.Agreement.encode({
    bioregion,
    members: members.map((m, i) => ({ bank: m.publicKey, name: `Bank ${i}` })),
    rates: [{ category: 'standard', rateMilli: 1000 }],
    clearingLimit,
    createdMs: 1_700_000_000_000 + clearingLimit,
    previous: previous ?? new Uint8Array(),
  }).finish();
  return encodeSignedAgreement(bytes, members.map((m) => ({ bank: m.publicKey, signature: signDetached(agreementMessage(bytes), m.secretKey) })));
}

const sigs = (s: ReturnType<typeof pb.SignedAgreement.decode>) => s.signatures.map((x) => ({ bank: x.bank!, signature: x.signature! }));
const idOf = (signed: Uint8Array) => agreementId(pb.SignedAgreement.decode(signed).agreement);
const inForce = (store: LedgerStore) => (store.agreementInForce ? Buffer.from(store.agreementInForce.id).toString('hex') : undefined);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('adoption of agreements by the node', () => {
  it('an amendment that came complete before the one it amends is adopted right after it', async () => {
    const { store, keys, sign, pool } = await bank();
    const other = newHolder();
    const federation = new Federation({ store, pool, sign });
    const v1 = agreement([keys, other], 1);
    const v2 = agreement([keys, other], 2, idOf(v1));
    const v3 = agreement([keys, other], 3, idOf(v2));
    await federation.receive(v1);
    expect(inForce(store)).toBe(hex(idOf(v1)));
    // v3 amends v2, which this node has not seen: it waits in the pool.
    await federation.receive(v3);
    expect(inForce(store)).toBe(hex(idOf(v1)));
    await federation.receive(v2);
    expect(inForce(store)).toBe(hex(idOf(v3)));
    const kinds = [];
    for (let i = 0; i < store.size; i++) kinds.push(pb.Entry.decode((await store.getEntry(i))!).kind);
    expect(kinds.filter((k) => k === 'agreementAdopted')).toHaveLength(3);
  });

  it('adopts at start a complete agreement the pool holds and the ledger does not', async () => {
    const { store, keys, sign, pool } = await bank();
    const v1 = agreement([keys, newHolder()], 1);
    // As after a crash between keeping the complete agreement and committing its adoption.
    expect((await pool.offer(v1)).ok).toBe(true);
    expect(store.agreementInForce).toBeUndefined();
    await new Federation({ store, pool, sign }).adoptPending();
    expect(inForce(store)).toBe(hex(idOf(v1)));
  });

  it('tries again when the ledger is too busy to take the adoption', async () => {
    const { store, keys, sign, pool } = await bank();
    let refusals = 1;
    const busy = {
      get bank() {
        return store.bank;
      },
      get agreementInForce() {
        return store.agreementInForce;
      },
      get rates() {
        return store.rates;
      },
      submit: (...args: Parameters<LedgerStore['submit']>) => {
        if (refusals-- > 0) return Promise.reject(new MutualError('OVERLOADED', 'too many instructions are waiting'));
        return store.submit(...args);
      },
    } as unknown as LedgerStore;
    const federation = new Federation({ store: busy, pool, sign });
    cleanups.push(async () => federation.stop());
    const v1 = agreement([keys, newHolder()], 1);
    await federation.receive(v1);
    expect(store.agreementInForce).toBeUndefined();
    const end = Date.now() + ADOPTION_RETRY_MS + 5_000;
    while (store.agreementInForce === undefined && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(inForce(store)).toBe(hex(idOf(v1)));
  });

  it('refuses to sign an agreement of another bioregion', async () => {
    const { store, keys, sign, pool } = await bank();
    const other = newHolder();
    const federation = new Federation({ store, pool, sign });
    // Signed by the other bank only: this bank is asked to sign it.
    const full = pb.SignedAgreement.decode(agreement([keys, other], 1, undefined, 'Salish'));
    const partial = encodeSignedAgreement(full.agreement, sigs(full).filter((s) => Buffer.from(s.bank).equals(Buffer.from(other.publicKey))));
    const view = (await federation.receive(partial))!;
    await expect(federation.signAgreement(view.id)).rejects.toMatchObject({ code: 'NOT_AGREEMENT_MEMBER', message: expect.stringMatching(/bioregion "Salish"/) });
    expect((await pool.get(view.id))!.agreement.signatures).toHaveLength(1);
  });

  it('a proposal that the pool has no room for is AGREEMENT_POOL_FULL', async () => {
    const { store, keys, sign, pool } = await bank();
    const other = newHolder();
    const mesh = { publishAgreement: async () => {}, bankName: async () => 'Birch' };
    const federation = new Federation({ store, pool, sign, mesh });
    // Agreements this bank signed, not complete (the other bank has not signed them): kept however full the pool is.
    for (let i = 0; i < LIMITS.MAX_POOLED_AGREEMENTS; i++) {
      const full = pb.SignedAgreement.decode(agreement([keys, other], i + 1));
      expect((await pool.offer(encodeSignedAgreement(full.agreement, sigs(full).slice(0, 1)))).ok).toBe(true);
    }
    await expect(federation.propose({ members: [other.publicKey], clearingLimit: 999_999n })).rejects.toMatchObject({ code: 'AGREEMENT_POOL_FULL' });
  });

  it('does not adopt what the ledger refuses again and again, and goes on to the next', async () => {
    const { store, keys, sign, pool } = await bank();
    const other = newHolder();
    const third = newHolder();
    const federation = new Federation({ store, pool, sign });
    const v1 = agreement([keys, other, third], 1);
    await federation.receive(v1);
    // An amendment that leaves out a member is refused; a proper one is adopted after it.
    const bad = agreement([keys, other], 2, idOf(v1));
    await federation.receive(bad);
    expect(inForce(store)).toBe(hex(idOf(v1)));
    const size = store.size;
    await federation.adoptPending();
    expect(store.size).toBe(size);
    const good = agreement([keys, other, third], 3, idOf(v1));
    await federation.receive(good);
    expect(inForce(store)).toBe(hex(idOf(good)));
  });
});
