// Durable apply: signed transfers per second through the ledger store, every payer signature
// verified, group commits written with sync: true; compared with the machine's raw verify rate.
import { availableParallelism } from 'node:os';
import { deriveAccountId } from '@mutual/codec';
import { AccountKind, DOMAIN, pb, signedMessage, toU64 } from '@mutual/protocol';
import { LedgerStore } from '@mutual/store';
import { keyPairFromSeed, measureVerifyRate, signDetached, verify, VerifierPool, type KeyPair } from '@mutual/verifier';
import { diskCeiling } from './ceilings.ts';
import { pipelineFloor } from './pipeline-floor.ts';
import type { Benchmark, BenchContext } from './context.ts';
import { fmtSummary, summarize, type Summary } from './stats.ts';

const ACCOUNTS = 1000;
const IN_FLIGHT = 8;
const PER_SUBMISSION = 1000;
/** Each member's opening funds: 24 hours at the standard rate (1.0), in milli-notes. */
const FUNDED_MILLI = 24_000n;

export function seedOf(label: string, i: number): Uint8Array {
  const s = new Uint8Array(32);
  new DataView(s.buffer).setUint32(0, i);
  s.set(new TextEncoder().encode(label).subarray(0, 28), 4);
  return s;
}

export interface Prepared {
  /** the bank; its secret key only where the benchmark runs the store itself */
  readonly bank: { readonly publicKey: Uint8Array; readonly secretKey?: Uint8Array };
  readonly members: KeyPair[];
  readonly ids: Uint8Array[];
  readonly coop: KeyPair;
}

export function population(accounts = ACCOUNTS, bank: Prepared['bank'] = keyPairFromSeed(seedOf('bank', 0))): Prepared {
  const coop = keyPairFromSeed(seedOf('coop', 0));
  const members = Array.from({ length: accounts }, (_, i) => keyPairFromSeed(seedOf('member', i)));
  return { bank, coop, members, ids: members.map((m) => deriveAccountId(bank.publicKey, m.publicKey)) };
}

export function signedTransfer(p: Prepared, from: number, to: number, sequence: bigint): Uint8Array {
  const body = pb.Instruction.encode({
    bank: p.bank.publicKey,
    account: p.ids[from],
    sequence: toU64(sequence),
    transfer: { payee: p.ids[to], amount: toU64(1n) },
  }).finish();
  const signature = signDetached(signedMessage(DOMAIN.instruction, body), p.members[from]!.secretKey);
  return pb.SignedInstruction.encode({ body, signature }).finish();
}

/** Opens a fresh bank with the population's accounts, each funded with 24 notes. */
export async function freshBank(dir: string, p: Prepared, pool: VerifierPool): Promise<LedgerStore> {
  const store = await LedgerStore.open({
    dir,
    bankKey: p.bank.publicKey,
    sign: (m) => signDetached(m, p.bank.secretKey!),
    verify,
    verifyBatch: (items) => pool.verifyBatch(items),
    genesis: { name: 'Bench Bank', bioregion: 'Bench' },
  });
  await store.submit([
    { type: 'openAccount', holderKey: p.coop.publicKey, kind: AccountKind.cooperative, label: '' },
    ...p.members.map((m) => ({ type: 'openAccount' as const, holderKey: m.publicKey, kind: AccountKind.member, label: '' })),
  ]);
  for (const chunk of fundingLabor(p)) {
    const r = await store.submitSigned(chunk);
    if (r.some((x) => x.code !== 'APPLIED')) throw new Error('funding the bench accounts failed');
  }
  return store;
}

/** Labor records that credit each member 24 hours, in chunks of 1000. */
export function fundingLabor(p: Prepared): Uint8Array[][] {
  const coopId = deriveAccountId(p.bank.publicKey, p.coop.publicKey);
  const day = Math.floor(Date.now() / 86_400_000);
  const labor = p.ids.map((worker, i) => {
    const body = pb.Instruction.encode({
      bank: p.bank.publicKey,
      account: coopId,
      sequence: toU64(BigInt(i + 1)),
      labor: { worker, day, milliHours: toU64(24_000n), category: 'standard' },
    }).finish();
    return pb.SignedInstruction.encode({ body, signature: signDetached(signedMessage(DOMAIN.instruction, body), p.coop.secretKey) }).finish();
  });
  const chunks: Uint8Array[][] = [];
  for (let i = 0; i < labor.length; i += 1000) chunks.push(labor.slice(i, i + 1000));
  return chunks;
}

/**
 * Copies `items` into one buffer and returns views of it, in order. Encoded messages are slices
 * of Node's 8 KiB allocation pools, and a slice keeps its whole pool alive: 100,000 signed
 * transfers kept as encoded held about 77 MB of pools for 17 MB of bytes. Packed, a benchmark's
 * input costs the process about what its bytes weigh, so that the RSS measured is the node's.
 */
export function packed(items: readonly Uint8Array[]): Uint8Array[] {
  let total = 0;
  for (const b of items) total += b.length;
  const all = new Uint8Array(total);
  const out: Uint8Array[] = new Array(items.length);
  let at = 0;
  for (let i = 0; i < items.length; i++) {
    all.set(items[i]!, at);
    out[i] = all.subarray(at, at + items[i]!.length);
    at += items[i]!.length;
  }
  return out;
}

/** Signed in chunks of this many, each chunk packed before the next is signed. */
const SIGN_CHUNK = 1000;

/** `count` transfers among the population, each account's in sequence order from `firstSeq`. */
export function transfers(p: Prepared, count: number, firstSeq = 1n): Uint8Array[] {
  const next = p.ids.map(() => firstSeq);
  const out: Uint8Array[] = [];
  let chunk: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const from = i % p.ids.length;
    const to = (from + 1 + ((i * 7) % (p.ids.length - 1))) % p.ids.length;
    chunk.push(signedTransfer(p, from, to, next[from]!++));
    if (chunk.length === SIGN_CHUNK || i === count - 1) {
      out.push(...packed(chunk));
      chunk = [];
    }
  }
  return out;
}

/** Submits everything with IN_FLIGHT submissions outstanding; returns transfers per second. */
export async function drive(store: LedgerStore, signed: readonly Uint8Array[]): Promise<number> {
  let nextChunk = 0;
  const started = performance.now();
  const lane = async () => {
    for (;;) {
      const i = nextChunk;
      nextChunk += PER_SUBMISSION;
      if (i >= signed.length) return;
      const results = await store.submitSigned(signed.slice(i, i + PER_SUBMISSION));
      const bad = results.find((r) => r.code !== 'APPLIED');
      if (bad) throw new Error(`transfer rejected: ${bad.code}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return signed.length / ((performance.now() - started) / 1000);
}

/** What {@link measureApply} measured. */
export interface ApplyMeasurement {
  /** the ledger's durable apply rate, transfers/s */
  readonly summary: Summary;
  /** the pipeline floor's rate on the same transfers (see pipeline-floor.ts), transfers/s */
  readonly floor: Summary;
  /** the verify ceiling, measured before the first run and after each */
  readonly ceiling: Summary;
  /** per run: apply, and the floor, over the mean of the ceilings measured either side of it */
  readonly applyRatio: Summary;
  readonly floorRatio: Summary;
  /** per run: apply over the floor */
  readonly applyOverFloor: Summary;
  readonly count: number;
  readonly accounts: number;
}

/**
 * Durable apply rate (transfers/s) of `count` transfers and the pipeline floor's rate on the
 * same transfers, run by turns, with the verify ceiling measured between runs: each run's rates
 * are compared with the ceilings measured just before and just after it, so that a change in
 * the machine's speed during the benchmark (other tenants) moves both sides of each ratio
 * alike. Measured once per suite run.
 */
export async function measureApply(ctx: BenchContext): Promise<ApplyMeasurement> {
  const cached = ctx.memo.get('apply') as ApplyMeasurement | undefined;
  if (cached) return cached;
  const count = ctx.quick ? 5_000 : 100_000;
  const p = population(ctx.quick ? 100 : ACCOUNTS);
  ctx.log(`signing ${count} transfers`);
  const signed = transfers(p, count);
  const threads = availableParallelism();
  const ceilingOnce = async () => (await measureVerifyRate({ threads, durationMs: ctx.quick ? 300 : 2000 })).perSecond;
  const pool = new VerifierPool({ threads });
  const rates: number[] = [];
  const floors: number[] = [];
  const ceilings: number[] = [];
  const applyRatios: number[] = [];
  const floorRatios: number[] = [];
  const overFloor: number[] = [];
  const floorAccounts = { ids: p.ids, holderKeys: p.members.map((m) => m.publicKey), balance: FUNDED_MILLI };
  try {
    for (let run = 0; run <= ctx.runs; run++) {
      const floor = await pipelineFloor(ctx.tempDir('floor'), floorAccounts, p.bank.secretKey!, signed, pool, IN_FLIGHT, PER_SUBMISSION);
      const store = await freshBank(ctx.tempDir('apply'), p, pool);
      let rate: number;
      try {
        rate = await drive(store, signed);
      } finally {
        await store.close();
      }
      if (run === 0) {
        // The first run warms up; the ceiling before run 1 is measured after it.
        ctx.log(`warm-up: ${Math.round(rate)} transfers/s (pipeline floor ${Math.round(floor)}/s)`);
        ceilings.push(await ceilingOnce());
        continue;
      }
      ceilings.push(await ceilingOnce());
      const ceiling = (ceilings.at(-2)! + ceilings.at(-1)!) / 2;
      rates.push(rate);
      floors.push(floor);
      applyRatios.push(rate / ceiling);
      floorRatios.push(floor / ceiling);
      overFloor.push(rate / floor);
      ctx.log(`run ${run}: ${Math.round(rate)} transfers/s, pipeline floor ${Math.round(floor)}/s, verify ceiling ${Math.round(ceiling)}/s: apply / ceiling ${(rate / ceiling).toFixed(2)}`);
    }
  } finally {
    await pool.close();
  }
  const result: ApplyMeasurement = {
    summary: summarize(rates),
    floor: summarize(floors),
    ceiling: summarize(ceilings),
    applyRatio: summarize(applyRatios),
    floorRatio: summarize(floorRatios),
    applyOverFloor: summarize(overFloor),
    count,
    accounts: p.ids.length,
  };
  ctx.memo.set('apply', result);
  return result;
}

export const applyBenchmark: Benchmark = {
  name: 'apply',
  description: 'durable apply: signed transfers/s, every signature verified, group commit with sync: true',
  async run(ctx: BenchContext) {
    const disk = await diskCeiling(ctx);
    ctx.log(`disk ceiling: ${fmtSummary(disk, ' records/s')}`);
    const m = await measureApply(ctx);
    const ratio = m.applyRatio.median;
    const threads = availableParallelism();
    return {
      name: 'apply',
      rows: [
        { metric: `verify ceiling (${threads} threads, between the runs)`, value: fmtSummary(m.ceiling, '/s') },
        { metric: 'LevelDB synced batches (4096 x 200 B)', value: fmtSummary(disk, ' records/s') },
        { metric: `pipeline floor (${m.count} transfers, ${m.accounts} accounts)`, value: fmtSummary(m.floor, '/s') },
        { metric: `durable apply (${m.count} transfers, ${m.accounts} accounts)`, value: fmtSummary(m.summary, '/s') },
        { metric: 'pipeline floor / verify ceiling, per run', value: fmtSummary(m.floorRatio) },
        { metric: 'apply / pipeline floor, per run', value: fmtSummary(m.applyOverFloor) },
        { metric: 'apply / verify ceiling, per run', value: fmtSummary(m.applyRatio), target: '>= 0.80', met: ratio >= 0.8 },
      ],
    };
  },
};
