// A federation of five real daemons under faults. Random transfers within and between banks
// while one bank is stopped for a while and restarted, another is killed with SIGKILL in the
// middle of traffic and restarted, and the banks are then cut into two groups (connection
// gating) that keep working on their own until the cut heals. In the end, read from the logs
// themselves: every outgoing interbank entry has exactly one answer at its payee bank, every
// rejection exactly one refund, nothing acknowledged is missing, every bank's log replays with
// conservation, and the net positions of all pairs agree.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type Io } from '@mutual/cli';
import { isApplied, MutualClient, Wallet, type Result } from '@mutual/client';
import { fromBase64, parseBankId } from '@mutual/codec';
import { leafHash } from '@mutual/merkle';
import { decodeStrict, pb, u64 } from '@mutual/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fundedMember, openHolder, type TestHolder } from './support/holders.ts';
import { bankDirs, killAll, logLines, setDaemonEnv, startMeshDaemon, stopMeshDaemon, waitFederated, waitFor, type MeshDaemon } from './support/mesh-daemon.ts';

const NAMES = ['Alder', 'Birch', 'Cedar', 'Dogwood', 'Elm'] as const;
const MEMBERS_PER_BANK = 3;

let tmp: string;
const daemons: MeshDaemon[] = [];
const members: TestHolder[][] = [];
let restoreEnv: (() => void) | undefined;
/** Interbank transfers the payer bank acknowledged: bank index and outgoing entry index. */
const acknowledged: Array<{ bank: number; index: number }> = [];

/** A small deterministic generator, so that a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(20261125);
const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

async function startBank(i: number, bootstrap: readonly string[]): Promise<MeshDaemon> {
  return startMeshDaemon({ ...bankDirs(tmp, String(i)), name: NAMES[i]!, bioregion: 'system', bootstrap });
}

/** The wallet of `h` pointed at the bank's current RPC URL (a restarted daemon has a new port). */
function walletOf(h: TestHolder, bank: number): Wallet {
  return new Wallet({ client: new MutualClient({ url: daemons[bank]!.url }), key: h.wallet.key, bank: daemons[bank]!.bank });
}

/**
 * `count` random transfers among `banks` (indexes), a third of them within a bank; failures
 * to reach a bank that is down are expected and not counted. Returns the results applied.
 */
async function traffic(banks: readonly number[], count: number, payeeBanks: readonly number[] = banks): Promise<number> {
  let applied = 0;
  const jobs: Array<Promise<void>> = [];
  for (let k = 0; k < count; k++) {
    const from = pick(banks);
    const to = random() < 0.33 ? from : pick(payeeBanks);
    const payer = pick(members[from]!);
    const payee = pick(members[to]!.filter((m) => m !== payer));
    const amount = (1 + Math.floor(random() * 200) / 100).toFixed(2);
    jobs.push(
      walletOf(payer, from)
        .transfer({ to: payee.id, amount, ...(to !== from ? { toBank: daemons[to]!.bank } : {}) })
        .then((r: Result) => {
          if (!isApplied(r)) return;
          applied++;
          if (to !== from) acknowledged.push({ bank: from, index: r.entryIndex });
        })
        .catch(() => {}),
    );
    // Each payer's sequence numbers must arrive in order: one payer at a time per job batch.
    if (jobs.length >= 4) await Promise.all(jobs.splice(0));
  }
  await Promise.all(jobs);
  return applied;
}

/** Every entry of bank `i`'s log, decoded, through its RPC. */
async function logOf(i: number): Promise<Array<{ index: number; bytes: Uint8Array; e: InstanceType<typeof pb.Entry> }>> {
  const client = new MutualClient({ url: daemons[i]!.url });
  const out: Array<{ index: number; bytes: Uint8Array; e: InstanceType<typeof pb.Entry> }> = [];
  for (let from = 0; ; ) {
    const page = await client.entries(from, 1000);
    for (const b64 of page.entries) {
      const bytes = fromBase64(b64);
      out.push({ index: from++, bytes, e: decodeStrict(pb.Entry, bytes)! });
    }
    if (from >= page.size || page.entries.length === 0) return out;
  }
}

async function pendingAt(i: number): Promise<number> {
  return (await new MutualClient({ url: daemons[i]!.url }).interbankTransfers({ state: 'pending', limit: 1000 })).length;
}

async function setBlocked(i: number, banks: readonly number[]): Promise<void> {
  const r = await fetch(`${daemons[i]!.url}/v1/peers/blocked`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${daemons[i]!.token}` },
    body: JSON.stringify({ banks: banks.map((b) => daemons[b]!.bank) }),
  });
  expect(r.status).toBe(200);
}

async function audit(i: number): Promise<{ code: number; out: string }> {
  let out = '';
  const io: Io = {
    stdout: (t) => void (out += t),
    stderr: (t) => void (out += t),
    env: { MUTUAL_HOME: join(tmp, 'cli-home'), MUTUAL_RPC: daemons[i]!.url },
    cwd: tmp,
    home: join(tmp, 'cli-home'),
    stderrIsTTY: false,
    now: Date.now,
    loadNode: () => Promise.reject(new Error('not in this test')),
  };
  const code = await run(['audit', '--no-remember', '--threads', '1'], io);
  return { code, out };
}

/** What each bank sees of the others, and its pending transfers: for a failure message. */
async function diagnose(): Promise<string> {
  const lines: string[] = [];
  for (let i = 0; i < NAMES.length; i++) {
    const c = new MutualClient({ url: daemons[i]!.url });
    const banks = await c.banks().catch(() => []);
    const peers = await c.peers().catch(() => []);
    const pending = await c.interbankTransfers({ state: 'pending', limit: 20 }).catch(() => []);
    lines.push(`${NAMES[i]} size ${banks.find((b) => b.self)?.replicated} peers ${peers.map((p) => NAMES[daemons.findIndex((d) => d.bank === p.bank)] ?? '?').join(',')}`);
    lines.push(`  replicas: ${banks.filter((b) => !b.self).map((b) => `${NAMES[daemons.findIndex((d) => d.bank === b.id)]}=${b.replicated}/${b.head?.size}`).join(' ')}`);
    lines.push(`  pending: ${pending.map((t) => `${t.index}->${NAMES[daemons.findIndex((d) => d.bank === t.payeeBank)]}`).join(' ')}`);
    const warnings = logLines(daemons[i]!.output()).filter((l) => (l.level as number) >= 40);
    for (const w of warnings.slice(-8)) lines.push(`  ! ${JSON.stringify(w).slice(0, 400)}`);
  }
  return lines.join('\n');
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'mutual-federation-system-'));
  restoreEnv = setDaemonEnv({ MUTUAL_FOUND_FEDERATION: String(NAMES.length), MUTUAL_CLEARING_LIMIT: '100000' });
  for (let i = 0; i < NAMES.length; i++) daemons.push(await startBank(i, daemons.flatMap((d) => d.listen)));
  await waitFederated(daemons, 90_000);
  for (let i = 0; i < NAMES.length; i++) {
    const list: TestHolder[] = [];
    for (let m = 0; m < MEMBERS_PER_BANK; m++) list.push(await fundedMember(daemons[i]!, '24'));
    list.push(await openHolder(daemons[i]!));
    members.push(list);
  }
}, 240_000);

afterAll(async () => {
  await killAll();
  restoreEnv?.();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('five banks under faults', () => {
  it('carry random traffic within and between banks', async () => {
    expect(await traffic([0, 1, 2, 3, 4], 60)).toBeGreaterThan(40);
  }, 120_000);

  it('keep working while one bank is stopped and another is killed mid-traffic, and both catch up', async () => {
    // Dogwood stops cleanly; traffic to it stays pending.
    expect(await stopMeshDaemon(daemons[3]!)).toBe(0);
    const killer = (async () => {
      await new Promise((r) => setTimeout(r, 300));
      daemons[4]!.proc.kill('SIGKILL');
    })();
    await Promise.all([traffic([0, 1, 2, 4], 40, [0, 1, 2, 3, 4]), killer]);
    await traffic([0, 1, 2], 20, [0, 1, 2, 3, 4]);
    const boot = daemons[0]!.listen;
    daemons[3] = await startBank(3, boot);
    daemons[4] = await startBank(4, boot);
    await traffic([0, 1, 2, 3, 4], 20);
  }, 180_000);

  it('keep working on both sides of a partition, and converge once it heals', async () => {
    const left = [0, 1];
    const right = [2, 3, 4];
    for (const i of left) await setBlocked(i, right);
    for (const i of right) await setBlocked(i, left);
    await waitFor('the two sides are cut apart', async () => {
      const peers = await new MutualClient({ url: daemons[0]!.url }).peers();
      return peers.every((p) => !right.some((r) => daemons[r]!.bank === p.bank));
    });
    // Each side works locally; transfers across the cut stay pending.
    expect(await traffic(left, 15, [0, 1, 2, 3, 4])).toBeGreaterThan(5);
    expect(await traffic(right, 15, [0, 1, 2, 3, 4])).toBeGreaterThan(5);
    for (const i of [...left, ...right]) await setBlocked(i, []);
  }, 120_000);

  it('settle every interbank transfer exactly once, lose nothing acknowledged, and reconcile', async () => {
    try {
      for (let i = 0; i < NAMES.length; i++) await waitFor(`no transfer pending at ${NAMES[i]}`, async () => (await pendingAt(i)) === 0, 90_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await diagnose()}`);
    }
    const logs = await Promise.all(daemons.map((_, i) => logOf(i)));
    const bankIndex = new Map(daemons.map((d, i) => [Buffer.from(parseBankId(d.bank)).toString('hex'), i]));
    const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');

    // Answers per outgoing entry, and refunds per rejection, from the logs.
    const answers = new Map<string, Array<{ kind: string; amount: bigint }>>();
    const refunds = new Map<string, number>();
    const outgoing: Array<{ bank: number; index: number; payeeBank: number; amount: bigint; leaf: string }> = [];
    const net = NAMES.map(() => NAMES.map(() => 0n)); // net[x][y]: x's net position toward y, as x records it
    logs.forEach((log, x) => {
      for (const { index, bytes, e } of log) {
        if (e.applied) {
          const t = decodeStrict(pb.Instruction, e.applied.body!)!.transfer;
          if (t?.payeeBank?.length === 32 && hexOf(t.payeeBank) !== hexOf(parseBankId(daemons[x]!.bank))) {
            const y = bankIndex.get(hexOf(t.payeeBank))!;
            const amount = u64(e.applied.amount);
            outgoing.push({ bank: x, index, payeeBank: y, amount, leaf: hexOf(leafHash(bytes)) });
            net[x]![y]! -= amount;
          }
        }
        const answer = e.interbankCredit ?? e.interbankRejection;
        if (answer) {
          const src = answer.source!;
          const key = `${bankIndex.get(hexOf(src.bank!))}:${u64(src.index)}:${hexOf(src.leafHash!)}`;
          const list = answers.get(key) ?? [];
          list.push({ kind: e.interbankCredit ? 'credit' : 'rejection', amount: u64(answer.amount) });
          answers.set(key, list);
          if (e.interbankCredit) net[x]![bankIndex.get(hexOf(src.bank!))!]! += u64(answer.amount);
        }
        if (e.interbankRefund) {
          const key = `${x}:${u64(e.interbankRefund.outgoingIndex)}`;
          refunds.set(key, (refunds.get(key) ?? 0) + 1);
          net[x]![bankIndex.get(hexOf(e.interbankRefund.rejection!.bank!))!]! += u64(e.interbankRefund.amount);
        }
      }
    });
    expect(outgoing.length).toBeGreaterThan(30);
    let settled = 0;
    for (const o of outgoing) {
      const got = answers.get(`${o.bank}:${o.index}:${o.leaf}`) ?? [];
      expect(got.length, `answers to entry ${o.index} of ${NAMES[o.bank]}`).toBe(1);
      expect(got[0]!.amount).toBe(o.amount);
      const refunded = refunds.get(`${o.bank}:${o.index}`) ?? 0;
      expect(refunded, `refunds of entry ${o.index} of ${NAMES[o.bank]}`).toBe(got[0]!.kind === 'rejection' ? 1 : 0);
      if (got[0]!.kind === 'credit') settled++;
    }
    // Nothing else answered: every answer belongs to an outgoing entry.
    expect([...answers.values()].reduce((n, l) => n + l.length, 0)).toBe(outgoing.length);
    expect(settled).toBeGreaterThan(outgoing.length * 0.9);
    // Every transfer acknowledged to a payer is in its bank's log, as an outgoing entry.
    for (const a of acknowledged) expect(outgoing.some((o) => o.bank === a.bank && o.index === a.index)).toBe(true);
    // Each pair agrees: what x counts toward y is the opposite of what y counts toward x.
    for (let x = 0; x < NAMES.length; x++) for (let y = 0; y < NAMES.length; y++) if (x !== y) expect(net[x]![y]! + net[y]![x]!).toBe(0n);
    // Every bank's log replays under the ledger rules, signatures and conservation included.
    for (let i = 0; i < NAMES.length; i++) {
      const a = await audit(i);
      expect(a.code, a.out).toBe(0);
    }
    // And every node's own reconciliation, from its replicas, agrees.
    for (let i = 0; i < NAMES.length; i++) {
      const report = await waitFor(`${NAMES[i]} reconciles`, async () => {
        const r = (await (await fetch(`${daemons[i]!.url}/v1/reconciliation`)).json()) as { ok: boolean; pairs: Array<{ state: string }> };
        return r.ok && r;
      }, 30_000);
      expect(report.pairs.length).toBe((NAMES.length * (NAMES.length - 1)) / 2);
      expect(report.pairs.every((p) => p.state === 'matched')).toBe(true);
    }
  }, 240_000);
});
