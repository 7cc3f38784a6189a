import { encodeU64, offHeap } from './keys.ts';
import { KEYSPACES } from './keyspaces.ts';

/** Keys of the replica keyspaces: every key is <prefix><bank 32>…, big-endian integers. */
function withBank(space: number, bank: Uint8Array, tail: Uint8Array): Uint8Array {
  const k = offHeap(33 + tail.length);
  k[0] = space;
  k.set(bank, 1);
  k.set(tail, 33);
  return k;
}

export const replicaKeys = {
  entry: (bank: Uint8Array, index: number) => withBank(KEYSPACES.replicaEntries, bank, encodeU64(index)),
  node(bank: Uint8Array, level: number, index: number): Uint8Array {
    const tail = offHeap(9);
    tail[0] = level;
    tail.set(encodeU64(index), 1);
    return withBank(KEYSPACES.replicaNodes, bank, tail);
  },
  head: (bank: Uint8Array, size: number) => withBank(KEYSPACES.replicaHeads, bank, encodeU64(size)),
  /** [gte, lt) of every head of one bank */
  heads: (bank: Uint8Array) => ({
    gte: withBank(KEYSPACES.replicaHeads, bank, new Uint8Array(0)),
    lt: withBank(KEYSPACES.replicaHeads, bank, new Uint8Array(8).fill(0xff)),
  }),
  meta: (bank: Uint8Array) => withBank(KEYSPACES.replicaMeta, bank, new Uint8Array(0)),
  /** forks/<bank 32>: the ForkProof held against a bank */
  fork: (bank: Uint8Array) => withBank(KEYSPACES.forks, bank, new Uint8Array(0)),
};
