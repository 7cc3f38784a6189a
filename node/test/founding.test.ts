// Automatic founding of a federation (--found-federation): real stores, pools and
// federations, joined by an in-memory gossip that the test controls (who is connected, who
// hears the agreements topic, and whether messages are lost).
import { join } from 'node:path';
import { bytesEqual } from '@mutual/ledger';
import { AgreementPool, LedgerStore } from '@mutual/store';
import { signDetached, verify } from '@mutual/verifier';
import { afterEach, describe, expect, it } from 'vitest';
import { Federation } from '../src/federation.ts';
import { Founding } from '../src/founding.ts';
import { loadOptions } from '../src/index.ts';
import { testBank, type TestBank } from './fixture.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The in-memory mesh of a set of banks. */
class Net {
  readonly banks = new Map<string, Member>();
  readonly pending = new Set<Promise<unknown>>();
  /** While false, published agreements reach nobody. */
  delivering = true;

  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  deliver(from: Member, signed: Uint8Array): void {
    if (!this.delivering) return;
    for (const peer of from.connected) {
      const m = this.banks.get(peer)!;
      if (!m.hears) continue;
      const p = m.federation.receive(signed).finally(() => this.pending.delete(p));
      this.pending.add(p);
    }
  }
}

interface Member {
  readonly t: TestBank;
  readonly key: Uint8Array;
  federation: Federation;
  founding: Founding;
  /** banks (hex) it is connected to */
  readonly connected: Set<string>;
  hears: boolean;
}

const opened: TestBank[] = [];
afterEach(async () => {
  for (const t of opened.splice(0)) await t.close().catch(() => {});
});

function wire(net: Net, m: Omit<Member, 'federation' | 'founding'> & Partial<Member>, members: number): Member {
  const me = m as Member;
  const mesh = {
    publishAgreement: async (signed: Uint8Array) => net.deliver(me, signed),
    bankName: async (bank: Uint8Array) => (me.connected.has(hex(bank)) ? net.banks.get(hex(bank))!.t.store.bank.name : undefined),
    peers: () =>
      [...me.connected].map((k) => {
        const peer = net.banks.get(k)!;
        return { bank: peer.key, bioregion: peer.t.store.bank.bioregion, gossip: peer.hears ? ['agreements'] : [] };
      }),
  };
  const store = m.t.store;
  me.federation = new Federation({ store, pool: new AgreementPool(store.db, verify, store.bank.key), mesh, sign: (msg) => signDetached(msg, m.t.bank.secretKey) });
  me.founding = new Founding({ store, federation: me.federation, mesh, members, clearingLimit: 250_000n });
  return me;
}

/** `count` banks of one bioregion, not connected yet. */
async function bioregion(count: number, members = count): Promise<{ net: Net; banks: Member[] }> {
  const net = new Net();
  const banks: Member[] = [];
  for (let i = 0; i < count; i++) {
    const t = await testBank();
    opened.push(t);
    const m = wire(net, { t, key: t.store.bank.key, connected: new Set(), hears: true }, members);
    net.banks.set(hex(m.key), m);
    banks.push(m);
  }
  // Lowest key first, so that tests can name the proposer.
  banks.sort((x, y) => Buffer.compare(x.key, y.key));
  return { net, banks };
}

function connect(...ms: Member[]): void {
  for (const x of ms) for (const y of ms) if (x !== y) x.connected.add(hex(y.key));
}

/** One step of each bank's founding, then the gossip it caused. */
async function round(net: Net, banks: Member[]): Promise<void> {
  for (const b of banks) {
    await b.founding.step();
    await net.settle();
  }
}

const pooled = async (m: Member) => (await m.federation.list()).map((s) => s.agreement);

describe('founding a federation', () => {
  it('three banks that meet found one agreement of exactly the three, proposed by the lowest key, and all adopt it', async () => {
    const { net, banks } = await bioregion(3);
    const [a, b, c] = banks as [Member, Member, Member];
    connect(a, b, c);
    // The highest keys step first: they have nothing to sign yet and do not propose.
    expect(await c.founding.step()).toEqual({ inForce: false, signed: [] });
    expect(await b.founding.step()).toEqual({ inForce: false, signed: [] });
    const first = await a.founding.step();
    expect(first.proposed?.members.map((m) => hex(m.bank))).toEqual([a, b, c].map((x) => hex(x.key)));
    await net.settle();
    await round(net, [c, b, a]);
    for (const x of banks) {
      const inForce = x.t.store.agreementInForce;
      expect(inForce && hex(inForce.id)).toBe(hex(first.proposed!.id));
      expect(inForce!.clearingLimit).toBe(250_000n);
      expect((await pooled(x)).length).toBe(1);
      expect(await x.founding.step()).toEqual({ inForce: true, signed: [] });
    }
  });

  it('waits for N−1 other banks that hear the agreements topic', async () => {
    const { net, banks } = await bioregion(3);
    const [a, b, c] = banks as [Member, Member, Member];
    connect(a, b);
    await round(net, banks);
    expect(await pooled(a)).toEqual([]);
    connect(a, b, c);
    c.hears = false;
    await round(net, banks);
    expect(await pooled(a)).toEqual([]);
    c.hears = true;
    await round(net, banks);
    await round(net, banks);
    for (const x of banks) expect(x.t.store.agreementInForce).toBeDefined();
  });

  it('with more banks met than N, the N lowest keys found it; the others are not in it', async () => {
    const { net, banks } = await bioregion(4, 3);
    connect(...banks);
    await round(net, banks);
    await round(net, banks);
    for (const x of banks.slice(0, 3)) expect(x.t.store.agreementInForce?.members.map((m) => hex(m.bank))).toEqual(banks.slice(0, 3).map((y) => hex(y.key)));
    expect(banks[3]!.t.store.agreementInForce).toBeUndefined();
    expect(await pooled(banks[3]!)).toEqual([]);
  });

  it('signs only a founding agreement of exactly N banks it is connected to', async () => {
    const { net, banks } = await bioregion(4, 3);
    const [a, b, c, d] = banks as [Member, Member, Member, Member];
    connect(a, b, c, d);
    // A proposes by hand: of two members (wrong size), and of three with D, which B has not met.
    const two = await a.federation.propose({ members: [b.key], clearingLimit: 1n });
    b.connected.delete(hex(d.key));
    const withD = await a.federation.propose({ members: [b.key, d.key], clearingLimit: 1n });
    await net.settle();
    const step = await b.founding.step();
    expect(step.signed).toEqual([]);
    const pool = await pooled(b);
    for (const id of [two.id, withD.id]) expect(pool.find((x) => bytesEqual(x.id, id))?.signatures.length).toBe(1);
    // Once B meets D again, it signs the one of three.
    b.connected.add(hex(d.key));
    expect((await b.founding.step()).signed.map((x) => hex(x.id))).toEqual([hex(withD.id)]);
    await net.settle();
    void c;
  });

  it('gossips again a proposal that reached nobody', async () => {
    const { net, banks } = await bioregion(3);
    connect(...banks);
    net.delivering = false;
    await round(net, banks);
    expect((await pooled(banks[1]!)).length).toBe(0);
    net.delivering = true;
    await round(net, banks);
    await round(net, banks);
    for (const x of banks) expect(x.t.store.agreementInForce).toBeDefined();
    expect((await pooled(banks[0]!)).length).toBe(1);
  });

  it('does nothing more after a restart once an agreement is in force', async () => {
    const { net, banks } = await bioregion(3);
    connect(...banks);
    await round(net, banks);
    await round(net, banks);
    const a = banks[0]!;
    const id = hex(a.t.store.agreementInForce!.id);
    // Reopen A's ledger, as a restarted node does.
    await a.t.store.close();
    const store = await LedgerStore.open({
      dir: join(a.t.dir, 'ledger'),
      bankKey: a.key,
      sign: (m) => signDetached(m, a.t.bank.secretKey),
      verify,
      genesis: { name: 'Test Bank', bioregion: 'Cascadia' },
    });
    try {
      const restarted = wire(net, { t: { ...a.t, store }, key: a.key, connected: a.connected, hears: true }, 3);
      const size = store.size;
      expect(await restarted.founding.step()).toEqual({ inForce: true, signed: [] });
      expect(hex(store.agreementInForce!.id)).toBe(id);
      expect(store.size).toBe(size);
      expect((await pooled(restarted)).length).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('start() runs steps until an agreement is in force; stop() ends it', async () => {
    const { net, banks } = await bioregion(2);
    connect(...banks);
    const foundings = banks.map((b) => new Founding({ store: b.t.store, federation: b.federation, mesh: { peers: () => [...b.connected].map((k) => ({ bank: net.banks.get(k)!.key, bioregion: 'Cascadia', gossip: ['agreements'] })), publishAgreement: async (s) => net.deliver(b, s) }, members: 2, clearingLimit: 0n, intervalMs: 20 }));
    for (const f of foundings) f.start();
    const end = Date.now() + 5000;
    while (!banks.every((b) => b.t.store.agreementInForce) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    for (const f of foundings) await f.stop();
    await net.settle();
    for (const b of banks) expect(b.t.store.agreementInForce?.clearingLimit).toBe(0n);
  });
});

describe('options', () => {
  it('--found-federation and --clearing-limit, by flag and environment', () => {
    expect(loadOptions([], {}).founding).toBeUndefined();
    expect(loadOptions(['--found-federation', '3'], {}).founding).toEqual({ members: 3, clearingLimit: 1_000_000n });
    expect(loadOptions([], { MUTUAL_FOUND_FEDERATION: '3', MUTUAL_CLEARING_LIMIT: '12.5' }).founding).toEqual({ members: 3, clearingLimit: 12_500n });
    for (const bad of ['1', '65', 'x', '2.5']) expect(() => loadOptions(['--found-federation', bad], {})).toThrow(/--found-federation/);
    expect(() => loadOptions([], { MUTUAL_FOUND_FEDERATION: '3', MUTUAL_CLEARING_LIMIT: '-1' })).toThrow(/MUTUAL_CLEARING_LIMIT/);
  });
});
