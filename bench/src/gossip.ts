// Gossip fan-out: the time from a bank's publishing a signed head until every other bank of a
// mesh of 30 has received it, p50 and p99 over many heads. The banks run in one child process
// per core (gossip-child.ts), every bank connected to every other over loopback TCP; heads go
// through gossipsub's mesh (a handful of peers each), so most take more than one hop. Compared
// with the first hop measured on the same heads: the time until the first bank has it.
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { keyPairFromSeed } from '@mutual/verifier';
import { seedOf } from './apply.ts';
import type { Benchmark, BenchContext } from './context.ts';
import type { FromChild, ToChild } from './gossip-child.ts';
import { fmtSummary, summarize } from './stats.ts';

const CHILD = resolve(import.meta.dirname, 'gossip-child.ts');
/** Time between two heads, each from the next bank in turn. */
const INTERVAL_MS = 200;
/** A head not at every bank this long after it was published counts as lost. */
const DEADLINE_MS = 10_000;

interface Child {
  readonly proc: ChildProcess;
  send(m: ToChild): void;
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const gossipBenchmark: Benchmark = {
  name: 'gossip',
  description: 'gossip fan-out: time for a signed head to reach every bank of the mesh, p50 and p99',
  async run(ctx: BenchContext) {
    const banks = ctx.quick ? 10 : 30;
    const perRound = ctx.quick ? 20 : 100;
    const warmUp = ctx.quick ? 5 : 30;
    const processes = Math.max(1, Math.min(availableParallelism(), banks));
    const bankHex = Array.from({ length: banks }, (_, i) => Buffer.from(keyPairFromSeed(seedOf('gossip', i)).publicKey).toString('hex'));
    const indexOf = new Map(bankHex.map((h, i) => [h, i]));

    const published = new Map<string, number>(); // `${index}/${size}` -> t
    const arrivals = new Map<string, number[]>(); // `${index}/${size}` -> t of each receiver
    const waiters = new Map<string, (m: FromChild) => void>();
    let failed: Error | undefined;
    const children: Child[] = [];
    for (let c = 0; c < processes; c++) {
      const proc = fork(CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      proc.on('message', (m: FromChild) => {
        if (m.type === 'published') published.set(`${m.index}/${m.size}`, m.t);
        else if (m.type === 'arrival') {
          const origin = indexOf.get(m.bank);
          if (origin === undefined) return;
          const key = `${origin}/${m.size}`;
          const list = arrivals.get(key) ?? [];
          list.push(m.t);
          arrivals.set(key, list);
        }
        const w = waiters.get(m.type === 'started' ? `started/${m.index}` : m.type);
        w?.(m);
      });
      proc.on('exit', (code) => {
        if (code !== 0 && code !== null) failed = new Error(`a gossip child process exited with ${code}`);
      });
      children.push({ proc, send: (m) => proc.send(m) });
    }
    const reply = <T extends FromChild>(key: string, act: () => void): Promise<T> =>
      new Promise((res, rej) => {
        const timer = setTimeout(() => rej(failed ?? new Error(`no ${key} from a gossip child`)), 60_000);
        waiters.set(key, (m) => {
          clearTimeout(timer);
          waiters.delete(key);
          res(m as T);
        });
        act();
      });
    const childOf = (i: number) => children[i % processes]!;

    const rounds: Array<{ all: number[]; first: number[]; lost: number }> = [];
    try {
      // Every bank dials every bank started before it: a full graph of connections.
      const addresses: string[][] = [];
      for (let i = 0; i < banks; i++) {
        const m = await reply<Extract<FromChild, { type: 'started' }>>(`started/${i}`, () => childOf(i).send({ type: 'start', index: i, bootstrap: addresses.flat() }));
        addresses.push(m.addresses);
      }
      const started = Date.now();
      for (;;) {
        let ready = true;
        for (const c of children) {
          const s = await reply<Extract<FromChild, { type: 'status' }>>('status', () => c.send({ type: 'status' }));
          if (s.peers.some((p) => p.peers < banks - 1 || p.gossip < banks - 1)) ready = false;
        }
        if (ready) break;
        if (Date.now() - started > 60_000) throw new Error('the gossip mesh did not form within 60 s');
        await sleep(250);
      }
      ctx.log(`${banks} banks in ${processes} processes, all connected after ${Date.now() - started} ms`);
      await sleep(3000); // a few gossipsub heartbeats: topic meshes formed, initial catch-ups done

      const sizes = new Map<number, number>(); // bank -> next head's size
      const heads: string[] = [];
      const total = warmUp + ctx.runs * perRound;
      for (let h = 0; h < total; h++) {
        if (failed) throw failed;
        const origin = h % banks;
        const size = (sizes.get(origin) ?? 2) + 1;
        sizes.set(origin, size);
        heads.push(`${origin}/${size}`);
        childOf(origin).send({ type: 'commit', index: origin });
        await sleep(INTERVAL_MS);
      }
      const end = Date.now() + DEADLINE_MS;
      while (Date.now() < end && heads.some((k) => (arrivals.get(k)?.length ?? 0) < banks - 1)) await sleep(100);

      for (let r = 0; r < ctx.runs; r++) {
        const round = { all: [] as number[], first: [] as number[], lost: 0 };
        for (const k of heads.slice(warmUp + r * perRound, warmUp + (r + 1) * perRound)) {
          const t0 = published.get(k);
          const got = arrivals.get(k) ?? [];
          if (t0 === undefined || got.length < banks - 1) {
            round.lost++;
            continue;
          }
          round.all.push(Math.max(...got) - t0);
          round.first.push(Math.min(...got) - t0);
        }
        round.all.sort((a, b) => a - b);
        round.first.sort((a, b) => a - b);
        if (round.all.length === 0) throw new Error('no head reached every bank');
        ctx.log(
          `run ${r + 1}: every bank p50 ${percentile(round.all, 0.5).toFixed(1)} ms, p99 ${percentile(round.all, 0.99).toFixed(1)} ms; ` +
            `first bank p50 ${percentile(round.first, 0.5).toFixed(1)} ms; ${round.lost} lost`,
        );
        rounds.push(round);
      }
    } finally {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((res) => {
              if (c.proc.exitCode !== null || !c.proc.connected) return res();
              const timer = setTimeout(() => {
                c.proc.kill();
                res();
              }, 20_000);
              c.proc.once('exit', () => {
                clearTimeout(timer);
                res();
              });
              c.send({ type: 'stop' });
            }),
        ),
      );
    }
    const p50 = summarize(rounds.map((r) => percentile(r.all, 0.5)));
    const p99 = summarize(rounds.map((r) => percentile(r.all, 0.99)));
    const first = summarize(rounds.map((r) => percentile(r.first, 0.5)));
    const lost = rounds.reduce((n, r) => n + r.lost, 0);
    const heads = ctx.runs * perRound;
    return {
      name: 'gossip',
      rows: [
        { metric: `first bank reached, p50 (${heads} heads, one every ${INTERVAL_MS} ms)`, value: fmtSummary(first, ' ms') },
        { metric: `all ${banks - 1} other banks reached, p50`, value: fmtSummary(p50, ' ms') },
        { metric: `all ${banks - 1} other banks reached, p99`, value: fmtSummary(p99, ' ms') },
        { metric: 'all banks / first bank, p50', value: (p50.median / first.median).toFixed(2) },
        { metric: `heads that did not reach every bank within ${DEADLINE_MS / 1000} s`, value: String(lost), target: '0', met: lost === 0 },
      ],
    };
  },
};
