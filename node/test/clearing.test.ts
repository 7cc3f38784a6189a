// The clearing acts only on the entries of banks this bank signed an agreement with: real
// stores and replicas in temporary LevelDB directories, entries handed over as the mesh hands
// pushes over, and replicas grown from the payer bank's own store.
import { checkSignedAgreement, type AgreementView } from '@mutual/ledger';
import { AccountKind, decodeStrict, pb } from '@mutual/protocol';
import { AgreementPool, LedgerStore, ReplicaStore } from '@mutual/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agreementBytes, signAgreement } from '../../packages/ledger/test/agreement-fixture.ts';
import { signBytes } from '../../packages/ledger/test/fixture.ts';
import { DAY, newHolder, openAccount, signed, storeOptions, tempDir, verify, type Acct, type Holder } from '../../packages/store/test/fixture.ts';
import { Clearing } from '../src/clearing.ts';
import { Counterparties } from '../src/counterparties.ts';
import { Federation } from '../src/federation.ts';

let dirs: Array<{ cleanup: () => void }>;
let keyA: Holder;
let keyB: Holder;
/** the payer bank: it adopted the agreement and sends under it */
let a: LedgerStore;
/** the payee bank: it has not adopted the agreement */
let b: LedgerStore;
let replicas: ReplicaStore;
let clearing: Clearing | undefined;
/** A and B, signed by both */
let agreement: Uint8Array;
let payer: Acct;
let payee: Acct;

beforeEach(async () => {
  const da = tempDir();
  const db = tempDir();
  dirs = [da, db];
  keyA = newHolder();
  keyB = newHolder();
  a = await LedgerStore.open(storeOptions(da.dir, keyA));
  b = await LedgerStore.open(storeOptions(db.dir, keyB));
  replicas = await ReplicaStore.open(b.db, verify);
  agreement = signAgreement(agreementBytes({ members: [{ key: keyA.publicKey }, { key: keyB.publicKey }] }), [keyA, keyB]);
  expect((await a.submit([{ type: 'adoptAgreement', signed: agreement }]))[0]?.code).toBe('APPLIED');
  const coop = await openAccount(a, AccountKind.cooperative);
  payer = await openAccount(a);
  expect((await a.submitSigned([signed(a, coop, 1n, { labor: { worker: payer.id, day: DAY, milliHours: 20_000n, category: 'standard' } })]))[0]?.code).toBe('APPLIED');
  payee = await openAccount(b);
});
afterEach(async () => {
  await clearing?.stop();
  clearing = undefined;
  await a.close();
  await b.close();
  for (const d of dirs) d.cleanup();
});

function view(signedAgreement: Uint8Array): AgreementView {
  const check = checkSignedAgreement(signedAgreement, verify);
  if (!check.ok) throw new Error(check.message);
  return check.agreement;
}

/** A sends `amount` to the payee at B; the index of its outgoing entry. */
async function send(seq: bigint, amount = 1_000n): Promise<number> {
  const [r] = await a.submitSigned([signed(a, payer, seq, { transfer: { payee: payee.id, amount, payeeBank: b.bank.key } })]);
  expect(r?.code).toBe('APPLIED');
  return (r as { entryIndex: number }).entryIndex;
}

/** Grows B's replica of A to A's size, as the mesh does after a head. */
async function replicate(): Promise<void> {
  const head = a.head;
  await replicas.recordHead(head);
  const from = replicas.status(head.bank)?.size ?? 0;
  if (from < head.size) expect(await replicas.append(head.bank, head.size, from, await a.getEntries(from, head.size), [])).toBe(head.size);
}

/** Waits (bounded) until `done` holds. */
async function until(done: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function startClearing(counterparties: Counterparties): Clearing {
  clearing = new Clearing({ store: b, replicas, counterparty: (bank) => counterparties.has(bank) });
  clearing.start();
  return clearing;
}

describe('Clearing and counterparties', () => {
  it('writes nothing for a bank this bank signed no agreement with, pushed or replicated', async () => {
    const c = startClearing(new Counterparties(b.bank.key));
    const size = b.size;
    const i1 = await send(1n);
    await c.receive(a.bank.key, [{ index: i1, bytes: (await a.getEntry(i1))! }]);
    await send(2n);
    await replicate();
    await until(async () => (await b.clearingCursor(a.bank.key)) === a.size, 'the clearing to read past the replica');
    await c.stop();
    expect(b.size).toBe(size);
    for (let i = 0; i < a.size; i++) expect(await b.getInbound(a.bank.key, i)).toBeUndefined();
  });

  it('answers a bank whose agreement this bank signed but has not adopted: a rejection that refunds its payer', async () => {
    const counterparties = new Counterparties(b.bank.key);
    counterparties.note(view(agreement));
    expect(counterparties.has(a.bank.key)).toBe(true);
    const c = startClearing(counterparties);
    const i1 = await send(1n);
    await c.receive(a.bank.key, [{ index: i1, bytes: (await a.getEntry(i1))! }]);
    const i2 = await send(2n);
    await replicate();
    await until(async () => (await b.getInbound(a.bank.key, i2)) !== undefined, 'the answer to the replicated entry');
    for (const i of [i1, i2]) {
      const at = await b.getInbound(a.bank.key, i);
      expect(at).toBeDefined();
      const e = decodeStrict(pb.Entry, (await b.getEntry(at!))!)!;
      expect(e.kind).toBe('interbankRejection');
    }
    expect((await b.getAccount(payee.id))!.balance).toBe(0n);
  });

  it('credits under an agreement in force at both banks', async () => {
    expect((await b.submit([{ type: 'adoptAgreement', signed: agreement }]))[0]?.code).toBe('APPLIED');
    const counterparties = new Counterparties(b.bank.key);
    await counterparties.load(new AgreementPool(b.db, verify, b.bank.key), b.agreementInForce);
    expect(counterparties.has(a.bank.key)).toBe(true);
    const c = startClearing(counterparties);
    const i1 = await send(1n, 2_500n);
    await c.receive(a.bank.key, [{ index: i1, bytes: (await a.getEntry(i1))! }]);
    expect(await b.getInbound(a.bank.key, i1)).toBeDefined();
    expect((await b.getAccount(payee.id))!.balance).toBe(2_500n);
  });
});

describe('Counterparties', () => {
  it('are the members of the pooled agreements this bank signed, never this bank itself', async () => {
    const pool = new AgreementPool(b.db, verify, b.bank.key);
    const keyC = newHolder();
    // Signed by A and C only: B never signed it, whatever it names.
    const unsigned = signAgreement(agreementBytes({ members: [{ key: keyA.publicKey }, { key: keyB.publicKey }, { key: keyC.publicKey }] }), [keyA, keyC]);
    expect((await pool.offer(unsigned)).ok).toBe(true);
    let c = new Counterparties(b.bank.key);
    await c.load(pool);
    expect([c.has(a.bank.key), c.has(keyC.publicKey), c.has(b.bank.key), c.size]).toEqual([false, false, false, 0]);

    expect((await pool.offer(agreement)).ok).toBe(true);
    c = new Counterparties(b.bank.key);
    await c.load(pool);
    expect([c.has(a.bank.key), c.has(keyC.publicKey), c.has(b.bank.key), c.size]).toEqual([true, false, false, 1]);
  });

  it('include the members of the agreement in force', async () => {
    const keyC = newHolder();
    const inForce = signAgreement(agreementBytes({ members: [{ key: keyB.publicKey }, { key: keyC.publicKey }] }), [keyB, keyC]);
    expect((await b.submit([{ type: 'adoptAgreement', signed: inForce }]))[0]?.code).toBe('APPLIED');
    const c = new Counterparties(b.bank.key);
    await c.load(new AgreementPool(b.db, verify, b.bank.key), b.agreementInForce);
    expect([c.has(keyC.publicKey), c.has(a.bank.key)]).toEqual([true, false]);
  });

  it('grow when this bank signs, before its signature is gossiped', async () => {
    const keyC = newHolder();
    const counterparties = new Counterparties(b.bank.key);
    const seen: boolean[] = [];
    const pool = new AgreementPool(b.db, verify, b.bank.key);
    const federation = new Federation({
      store: b,
      pool,
      mesh: {
        publishAgreement: async () => void seen.push(counterparties.has(keyC.publicKey)),
        bankName: async () => 'C',
      },
      sign: (m) => signBytes(m, keyB.seed),
      counterparties,
    });
    // C proposes; B only holds it: not a counterparty yet.
    const proposal = signAgreement(agreementBytes({ members: [{ key: keyB.publicKey }, { key: keyC.publicKey }] }), [keyC]);
    const a1 = await federation.receive(proposal);
    expect(seen).toEqual([false]);
    expect(counterparties.has(keyC.publicKey)).toBe(false);
    await federation.signAgreement(a1!.id);
    expect(seen).toEqual([false, true]);
    expect(counterparties.has(keyC.publicKey)).toBe(true);
  });
});
