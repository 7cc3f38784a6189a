// Banks of the gossip benchmark, run in a child process (gossip.ts spreads the banks over one
// process per core). Each bank: a real LevelDB ledger in a temporary directory, a ReplicaStore
// and a Mesh on 127.0.0.1, its commits' heads gossiped as the node does. Reports to the parent
// when each bank publishes a head and when each bank first receives another bank's head.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccountKind } from '@mutual/protocol';
import { Mesh } from '@mutual/mesh';
import { LedgerStore, ReplicaStore } from '@mutual/store';
import { keyPairFromSeed, signDetached, verify } from '@mutual/verifier';
import { seedOf } from './apply.ts';

export type ToChild =
  | { type: 'start'; index: number; bootstrap: string[] }
  | { type: 'commit'; index: number }
  | { type: 'status' }
  | { type: 'stop' };

export type FromChild =
  | { type: 'started'; index: number; addresses: string[] }
  | { type: 'published'; index: number; size: number; t: number }
  | { type: 'arrival'; index: number; bank: string; size: number; t: number }
  | { type: 'status'; peers: Array<{ index: number; peers: number; gossip: number }> }
  | { type: 'stopped' };

export const GOSSIP_BIOREGION = 'Gossip';

/** A clock shared by the processes of one machine, in milliseconds with sub-millisecond precision. */
export const now = () => performance.timeOrigin + performance.now();

interface Bank {
  readonly index: number;
  readonly dir: string;
  readonly store: LedgerStore;
  readonly mesh: Mesh;
}

const banks = new Map<number, Bank>();
const send = (m: FromChild) => process.send!(m);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function start(index: number, bootstrap: string[]): Promise<Bank> {
  const dir = mkdtempSync(join(tmpdir(), 'mutual-bench-gossip-'));
  const seed = seedOf('gossip', index);
  const keys = keyPairFromSeed(seed);
  const store = await LedgerStore.open({
    dir,
    bankKey: keys.publicKey,
    sign: (m) => signDetached(m, keys.secretKey),
    verify,
    genesis: { name: `Bank ${index}`, bioregion: GOSSIP_BIOREGION },
  });
  const replicas = await ReplicaStore.open(store.db, verify);
  // Every head the mesh takes in (gossip, hello or sync) is recorded here first.
  const seen = new Set<string>();
  const recordHead = replicas.recordHead.bind(replicas);
  replicas.recordHead = (head) => {
    const key = `${hex(head.bank)}/${head.size}`;
    if (!seen.has(key)) {
      seen.add(key);
      send({ type: 'arrival', index, bank: hex(head.bank), size: head.size, t: now() });
    }
    return recordHead(head);
  };
  const mesh = await Mesh.start({ ledger: store, replicas, verify, seed, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap });
  store.subscribe((e) => {
    send({ type: 'published', index, size: e.head.size, t: now() });
    void mesh.publishHead(e.head);
  });
  return { index, dir, store, mesh };
}

process.on('message', (m: ToChild) => {
  void (async () => {
    if (m.type === 'start') {
      const b = await start(m.index, m.bootstrap);
      banks.set(m.index, b);
      send({ type: 'started', index: m.index, addresses: b.mesh.addresses() });
    } else if (m.type === 'commit') {
      const b = banks.get(m.index)!;
      const holder = keyPairFromSeed(seedOf(`holder-${m.index}`, b.store.size));
      const [r] = await b.store.submit([{ type: 'openAccount', holderKey: holder.publicKey, kind: AccountKind.member, label: '' }]);
      if (r?.code !== 'APPLIED') throw new Error(`commit failed: ${r?.code}`);
    } else if (m.type === 'status') {
      send({
        type: 'status',
        peers: [...banks.values()].map((b) => {
          const peers = b.mesh.peers();
          return { index: b.index, peers: peers.filter((p) => p.bank !== undefined).length, gossip: peers.filter((p) => p.gossip.includes('heads')).length };
        }),
      });
    } else if (m.type === 'stop') {
      for (const b of banks.values()) {
        await b.mesh.stop();
        await b.store.close();
        rmSync(b.dir, { recursive: true, force: true });
      }
      send({ type: 'stopped' });
      process.disconnect();
    }
  })().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
});
