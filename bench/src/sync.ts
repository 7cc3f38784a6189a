// Catch-up sync: a bank that missed a peer's whole log replicates it through the mesh (two Mesh
// instances over loopback TCP, real LevelDB stores), every chunk verified against the peer's
// signed head; compared with hypercore replicating the same number of same-size blocks
// between two instances over a loopback TCP socket, in the same run.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { LedgerStore, ReplicaStore } from '@mutual/store';
import { Mesh } from '@mutual/mesh';
import { keyPairFromSeed, signDetached, verify } from '@mutual/verifier';
import Hypercore from 'hypercore';
import { seedOf } from './apply.ts';
import type { Benchmark, BenchContext } from './context.ts';
import { benchBankSeed, cachedLog, logPopulation, openLogStore } from './log-cache.ts';
import { fmtSummary, summarize } from './stats.ts';

const LISTEN = ['/ip4/127.0.0.1/tcp/0'];

export function syncSize(quick: boolean): number {
  return quick ? 20_000 : 1_000_000;
}

/** Mean size of the entries [from, to) of a store. */
async function meanEntryBytes(store: LedgerStore, from: number, to: number): Promise<number> {
  const entries = await store.getEntries(from, to);
  return Math.round(entries.reduce((n, e) => n + e.length, 0) / entries.length);
}

/**
 * One catch-up of the whole log by a new bank: entries per second, and the share of the time
 * the receiver spent checking and storing chunks (ReplicaStore.append); the rest is spent
 * waiting for the next chunk, which catch-up asks for only once the last one is stored.
 */
async function meshCatchUp(ctx: BenchContext, server: Mesh, bank: Uint8Array, size: number, run: number): Promise<{ rate: number; appendShare: number }> {
  const dir = ctx.tempDir('sync-receiver');
  const seed = seedOf('receiver', run);
  const keys = keyPairFromSeed(seed);
  const store = await LedgerStore.open({
    dir: join(dir, 'ledger'),
    bankKey: keys.publicKey,
    sign: (m) => signDetached(m, keys.secretKey),
    verify,
    genesis: { name: `Receiver ${run}`, bioregion: 'Bench' },
  });
  const replicas = await ReplicaStore.open(store.db, verify);
  let appendMs = 0;
  const append = replicas.append.bind(replicas);
  replicas.append = async (...args) => {
    const t = performance.now();
    try {
      return await append(...args);
    } finally {
      appendMs += performance.now() - t;
    }
  };
  let mesh: Mesh | undefined;
  try {
    const done = new Promise<void>((resolve) => {
      replicas.subscribe((b, from, entries) => {
        if (from + entries.length === size && Buffer.from(b).equals(Buffer.from(bank))) resolve();
      });
    });
    const started = performance.now();
    mesh = await Mesh.start({ ledger: store, replicas, verify, seed, listen: LISTEN, bootstrap: server.addresses() });
    await done;
    const ms = performance.now() - started;
    if (replicas.status(bank)?.size !== size) throw new Error('the replica is not complete');
    return { rate: size / (ms / 1000), appendShare: appendMs / ms };
  } finally {
    await mesh?.stop();
    await store.close();
  }
}

/** A hypercore of `size` blocks of `blockBytes`, appended in batches. */
export async function hypercoreWriter(ctx: BenchContext, size: number, blockBytes: number): Promise<Hypercore> {
  const core = new Hypercore(ctx.tempDir('hypercore-writer'));
  await core.ready();
  const started = performance.now();
  const block = new Uint8Array(blockBytes);
  for (let i = 0; i < size; i += 1000) {
    const batch: Uint8Array[] = [];
    for (let k = i; k < Math.min(size, i + 1000); k++) {
      const b = block.slice();
      new DataView(b.buffer).setUint32(0, k); // distinct blocks
      batch.push(b);
    }
    await core.append(batch);
  }
  ctx.log(`hypercore: ${size} blocks of ${blockBytes} B appended in ${Math.round(performance.now() - started)} ms`);
  return core;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

/** One replication of the writer's whole core by a new reader over loopback TCP; entries per second. */
export async function hypercoreCatchUp(ctx: BenchContext, writer: Hypercore, size: number): Promise<number> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    const stream = writer.replicate(false);
    socket.pipe(stream).pipe(socket);
    socket.on('error', () => {});
    stream.on('error', () => {});
  });
  const port = await listen(server);
  const reader = new Hypercore(ctx.tempDir('hypercore-reader'), writer.key);
  await reader.ready();
  try {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    const stream = reader.replicate(true);
    socket.pipe(stream).pipe(socket);
    socket.on('error', () => {});
    stream.on('error', () => {});
    await reader.update({ wait: true });
    await reader.download({ start: 0, end: size }).done();
    const seconds = (performance.now() - started) / 1000;
    if (reader.contiguousLength !== size) throw new Error(`hypercore replicated ${reader.contiguousLength} of ${size} blocks`);
    return size / seconds;
  } finally {
    for (const s of sockets) s.destroy();
    await reader.close();
    await new Promise((r) => server.close(r));
  }
}

export const syncBenchmark: Benchmark = {
  name: 'sync',
  description: 'catch-up sync of a long log through the mesh, verified against signed heads, against hypercore',
  async run(ctx: BenchContext) {
    const size = syncSize(ctx.quick);
    const cached = await cachedLog(ctx, size);
    const p = logPopulation();
    // The serving bank only reads its ledger: it is opened in place.
    const store = await openLogStore(join(cached, 'ledger'), p);
    const replicas = await ReplicaStore.open(store.db, verify);
    const blockBytes = await meanEntryBytes(store, size - 1000, size);
    const server = await Mesh.start({ ledger: store, replicas, verify, seed: benchBankSeed(), listen: LISTEN, bootstrap: [] });
    const writer = await hypercoreWriter(ctx, size, blockBytes);
    const mesh: number[] = [];
    const shares: number[] = [];
    const hyper: number[] = [];
    try {
      // Alternated, so that the noise of a shared machine falls on both alike.
      for (let run = 0; run <= ctx.runs; run++) {
        const label = run === 0 ? 'warm-up' : `run ${run}`;
        const { rate: a, appendShare } = await meshCatchUp(ctx, server, p.bank.publicKey, size, run);
        ctx.log(`mesh ${label}: ${Math.round(a)} entries/s, ${Math.round(appendShare * 100)} % of it checking and storing chunks`);
        const b = await hypercoreCatchUp(ctx, writer, size);
        ctx.log(`hypercore ${label}: ${Math.round(b)} entries/s`);
        if (run > 0) {
          mesh.push(a);
          shares.push(appendShare * 100);
          hyper.push(b);
        }
      }
    } finally {
      await writer.close();
      await server.stop();
      await store.close();
    }
    const m = summarize(mesh);
    const h = summarize(hyper);
    const ratio = m.median / h.median;
    return {
      name: 'sync',
      rows: [
        { metric: `hypercore replication (${size} blocks of ${blockBytes} B, loopback TCP)`, value: fmtSummary(h, ' entries/s') },
        { metric: `mesh catch-up (${size} entries, verified against signed heads)`, value: fmtSummary(m, ' entries/s') },
        { metric: 'mesh catch-up: share of its time checking and storing chunks', value: fmtSummary(summarize(shares), ' %') },
        { metric: 'mesh / hypercore', value: ratio.toFixed(2), target: '>= 5.00', met: ratio >= 5 },
      ],
    };
  },
};
