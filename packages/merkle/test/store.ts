// In-memory node stores for tests.
import type { NodeReader } from '../src/index.ts';
import { refMth } from './reference.ts';

const key = (level: number, index: number) => `${level}/${index}`;

/** A node store: the hash of each complete, aligned subtree, keyed by level and index. */
export class MemoryStore {
  readonly nodes = new Map<string, Uint8Array>();
  reads = 0;

  put(level: number, index: number, hash: Uint8Array): void {
    this.nodes.set(key(level, index), hash);
  }

  /**
   * A reader for the tree of `size` entries: it throws on a node that is missing or that
   * reaches past `size`, so that a proof cannot silently use nodes of a later tree.
   */
  reader(size: number, mode: 'sync' | 'async' = 'sync'): NodeReader {
    return (level, index) => {
      this.reads++;
      if ((index + 1) * 2 ** level > size) throw new Error(`node (${level}, ${index}) reaches past size ${size}`);
      const hash = this.nodes.get(key(level, index));
      if (hash === undefined) throw new Error(`node (${level}, ${index}) is not stored`);
      return mode === 'sync' ? hash : Promise.resolve(hash);
    };
  }
}

/** Every complete, aligned subtree of `d`, each computed by the reference MTH. */
export function referenceStore(d: readonly Uint8Array[]): MemoryStore {
  const store = new MemoryStore();
  for (let level = 0; 2 ** level <= d.length; level++) {
    const width = 2 ** level;
    for (let index = 0; (index + 1) * width <= d.length; index++) {
      store.put(level, index, refMth(d.slice(index * width, (index + 1) * width)));
    }
  }
  return store;
}
