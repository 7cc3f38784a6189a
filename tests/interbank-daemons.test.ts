// Interbank transfers between three real daemons that founded their federation themselves:
// settlement, refund of a rejected transfer, the clearing limit, and a payee bank that was
// down while transfers to it were made (they settle once it is back, each exactly once).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MutualClient, type InterbankTransfer } from '@mutual/client';
import { formatAccountId } from '@mutual/codec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { balanceOf, fundedMember, openHolder, type TestHolder } from './support/holders.ts';
import { bankDirs, killAll, setDaemonEnv, startBioregion, startMeshDaemon, stopMeshDaemon, waitFederated, waitFor, type MeshDaemon } from './support/mesh-daemon.ts';

let tmp: string;
const daemons: Record<'a' | 'b' | 'c', MeshDaemon> = {} as never;
let restoreEnv: (() => void) | undefined;
let payer: TestHolder;
let payee: TestHolder;

const interbank = (d: MeshDaemon, index: number): Promise<InterbankTransfer> => new MutualClient({ url: d.url }).interbank(index);
const settledOrRefunded = (d: MeshDaemon, index: number) =>
  waitFor(`transfer ${index} at ${d.bank} answered`, async () => {
    const t = await interbank(d, index);
    return t.state !== 'pending' && t;
  }, 30_000);

/** The `mutual_pushes_total` metric of a daemon, by outcome. */
async function pushCounts(d: MeshDaemon): Promise<Record<string, number>> {
  const text = await (await fetch(`${d.url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^mutual_pushes_total\{outcome="(\w+)"\} (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

async function send(from: TestHolder, to: { id: string; bank: string }, amount: string) {
  const r = await from.wallet.transfer({ to: to.id, amount, toBank: to.bank });
  return r;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'mutual-interbank-daemons-'));
  restoreEnv = setDaemonEnv({ MUTUAL_FOUND_FEDERATION: '3', MUTUAL_CLEARING_LIMIT: '50' });
  Object.assign(daemons, await startBioregion(tmp));
  await waitFederated(Object.values(daemons), 60_000);
  payer = await fundedMember(daemons.a, '20');
  payee = await openHolder(daemons.b);
}, 150_000);

afterAll(async () => {
  await killAll();
  restoreEnv?.();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('interbank transfers between daemons', () => {
  it('settle: the payer bank debits, the payee bank credits once, the payer sees it settled', async () => {
    const r = await send(payer, { id: payee.id, bank: daemons.b.bank }, '7.5');
    expect(r).toMatchObject({ code: 'APPLIED', amount: '7.5' });
    const index = (r as { entryIndex: number }).entryIndex;
    expect(await balanceOf(payer)).toBe('12.5');
    const t = await settledOrRefunded(daemons.a, index);
    expect(t).toMatchObject({ state: 'settled', amount: '7.5', payeeBank: daemons.b.bank, payee: payee.id, credit: { bank: daemons.b.bank } });
    expect(await balanceOf(payee)).toBe('7.5');
    // The credit in B's log names A's entry.
    const credit = await new MutualClient({ url: daemons.b.url }).entry(t.credit!.index);
    expect(credit.entry).toMatchObject({ kind: 'interbank-credit', amount: '7.5', payee: payee.id, source: { bank: daemons.a.bank, index } });
    // The transfer went to B, and B's credit back to A, by push (replication delivers them too).
    for (const d of [daemons.a, daemons.b]) {
      const counts = await pushCounts(d);
      expect(counts.received, d.bank).toBeGreaterThanOrEqual(1);
      expect(counts.refused, d.bank).toBe(0);
    }
  }, 60_000);

  it('refund: an unknown payee is rejected by its bank and the payer gets the notes back', async () => {
    const ghost = formatAccountId(new Uint8Array(20).fill(3));
    const r = await send(payer, { id: ghost, bank: daemons.c.bank }, '2');
    expect(r.code).toBe('APPLIED');
    const t = await settledOrRefunded(daemons.a, (r as { entryIndex: number }).entryIndex);
    expect(t.state).toBe('refunded');
    expect(await balanceOf(payer)).toBe('12.5');
    const refund = await new MutualClient({ url: daemons.a.url }).entry(t.refundIndex!);
    expect(refund.entry).toMatchObject({ kind: 'interbank-refund', amount: '2', account: payer.id, outgoingIndex: t.index });
  }, 60_000);

  it('the payer bank refuses a transfer past the clearing limit', async () => {
    const rich = await fundedMember(daemons.a, '24');
    // A is already 7.5 toward B: 7.5 + 24 > 50 is fine, then 31.5 + 24 > 50 is not.
    const ok = await send(rich, { id: payee.id, bank: daemons.b.bank }, '24');
    expect(ok.code).toBe('APPLIED');
    expect((await settledOrRefunded(daemons.a, (ok as { entryIndex: number }).entryIndex)).state).toBe('settled');
    const rich2 = await fundedMember(daemons.a, '24');
    expect(await send(rich2, { id: payee.id, bank: daemons.b.bank }, '24')).toMatchObject({ code: 'CLEARING_LIMIT' });
  }, 60_000);

  it('transfers made while the payee bank is down settle once it is back, each exactly once', async () => {
    const { a, b } = daemons;
    const before = await balanceOf(payee);
    expect(await stopMeshDaemon(b)).toBe(0);
    const sender = await fundedMember(a, '10');
    const indexes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await send(sender, { id: payee.id, bank: b.bank }, '1');
      expect(r.code).toBe('APPLIED');
      indexes.push((r as { entryIndex: number }).entryIndex);
    }
    for (const i of indexes) expect((await interbank(a, i)).state).toBe('pending');
    daemons.b = await startMeshDaemon({ ...bankDirs(tmp, 'b'), name: 'Birch', bioregion: 'test', bootstrap: [...a.listen] });
    for (const i of indexes) expect((await settledOrRefunded(a, i)).state).toBe('settled');
    // The restarted daemon has a new RPC port.
    const balance = async () => Number((await new MutualClient({ url: daemons.b.url }).account(payee.id)).balance);
    expect(await balance()).toBe(Number(before) + 5);
    // Nothing more arrives later: each transfer was credited once.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await balance()).toBe(Number(before) + 5);
    const pending = await new MutualClient({ url: a.url }).interbankTransfers({ state: 'pending' });
    expect(pending).toEqual([]);
  }, 120_000);
});
