import { describe, expect, it } from 'vitest';
import { EMPTY_ROOT, Frontier, leafHash, nodeHash, type MerkleNode } from '../src/index.ts';
import { entries, hex, refMth } from './reference.ts';
import { MemoryStore, referenceStore } from './store.ts';

const N = 300;
const d = entries(N);
const leaves = d.map(leafHash);
const key = (node: MerkleNode) => `${node.level}/${node.index}`;

describe('Frontier', () => {
  it('has the reference root after every append', () => {
    const frontier = new Frontier();
    expect(frontier.size).toBe(0);
    expect(hex(frontier.root())).toBe(hex(EMPTY_ROOT));
    for (let n = 1; n <= N; n++) {
      frontier.append(leaves[n - 1]!);
      expect(frontier.size).toBe(n);
      expect(hex(frontier.root()), `size ${n}`).toBe(hex(refMth(d.slice(0, n))));
      expect(frontier.hashes().length, `size ${n}`).toBe(n.toString(2).split('1').length - 1);
    }
  });

  it('returns exactly every complete aligned subtree, once, lowest first per append', () => {
    const frontier = new Frontier();
    const seen = new Map<string, Uint8Array>();
    for (let n = 1; n <= N; n++) {
      const nodes = frontier.append(leaves[n - 1]!);
      expect(nodes[0], `append ${n}`).toEqual({ level: 0, index: n - 1, hash: leaves[n - 1] });
      nodes.forEach((node, i) => {
        expect(node.level).toBe(i);
        expect(seen.has(key(node)), `${key(node)} twice`).toBe(false);
        seen.set(key(node), node.hash);
      });
      // Everything returned so far is exactly the set of complete aligned subtrees of size n.
      const want = referenceStore(d.slice(0, n)).nodes;
      expect(seen.size, `size ${n}`).toBe(want.size);
      for (const [k, hash] of want) expect(hex(seen.get(k) ?? new Uint8Array()), `${k} at size ${n}`).toBe(hex(hash));
    }
  });

  it('restores from hashes() or from stored nodes and then continues identically', async () => {
    const original = new Frontier();
    const store = new MemoryStore();
    for (let n = 0; n <= 130; n++) {
      const fromHashes = new Frontier(original.size, original.hashes());
      const mode = n % 2 === 0 ? 'sync' : 'async';
      const fromNodes = await Frontier.fromNodes(original.size, store.reader(original.size, mode));
      for (const copy of [fromHashes, fromNodes]) {
        expect(copy.size).toBe(n);
        expect(hex(copy.root())).toBe(hex(original.root()));
        expect(copy.hashes().map(hex)).toEqual(original.hashes().map(hex));
        const ahead = new Frontier(original.size, original.hashes());
        for (let j = n; j < Math.min(n + 40, N); j++) {
          expect(copy.append(leaves[j]!)).toEqual(ahead.append(leaves[j]!));
          expect(hex(copy.root()), `restored at ${n}, size ${j + 1}`).toBe(hex(refMth(d.slice(0, j + 1))));
        }
      }
      for (const node of original.append(leaves[n]!)) store.put(node.level, node.index, node.hash);
    }
  });

  it('restoring does not share its caller’s array', () => {
    const original = new Frontier();
    for (let i = 0; i < 7; i++) original.append(leaves[i]!);
    const hashes = original.hashes();
    const copy = new Frontier(7, hashes);
    hashes.reverse();
    expect(hex(copy.root())).toBe(hex(original.root()));
  });

  it('caches the root until the next append', () => {
    const frontier = new Frontier();
    frontier.append(leaves[0]!);
    frontier.append(leaves[1]!);
    frontier.append(leaves[2]!);
    const root = frontier.root();
    expect(frontier.root()).toBe(root);
    frontier.append(leaves[3]!);
    expect(frontier.root()).not.toBe(root);
    expect(hex(frontier.root())).toBe(hex(refMth(d.slice(0, 4))));
  });

  it('handles sizes beyond 2^32 up to 2^53 - 1', () => {
    // All-equal leaves make every complete subtree of level L the same hash.
    const perfect = [leaves[0]!];
    for (let level = 1; level <= 53; level++) perfect.push(nodeHash(perfect[level - 1]!, perfect[level - 1]!));
    const frontierOf = (size: number) => {
      const levels: number[] = [];
      for (let level = 52; level >= 0; level--) if (Math.floor(size / 2 ** level) % 2 === 1) levels.push(level);
      return new Frontier(size, levels.map((level) => perfect[level]!));
    };

    const full = frontierOf(2 ** 52 - 1);
    const nodes = full.append(leaves[0]!);
    const completed = Array.from({ length: 53 }, (_, level) => [level, 2 ** (52 - level) - 1]);
    expect(nodes.map((n) => [n.level, n.index])).toEqual(completed);
    expect(full.size).toBe(2 ** 52);
    expect(hex(full.root())).toBe(hex(perfect[52]!));

    const last = frontierOf(Number.MAX_SAFE_INTEGER - 1);
    expect(last.hashes().length).toBe(52);
    expect(last.append(leaves[0]!).map((n) => [n.level, n.index])).toEqual([[0, Number.MAX_SAFE_INTEGER - 1]]);
    expect(last.size).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => last.append(leaves[0]!)).toThrow(RangeError);

    const odd = frontierOf(2 ** 33 + 2 ** 32 + 1);
    expect(odd.append(leaves[0]!).map((n) => [n.level, n.index])).toEqual([
      [0, 2 ** 33 + 2 ** 32 + 1],
      [1, 2 ** 32 + 2 ** 31],
    ]);
  });

  it('rejects bad sizes, hash counts and hash lengths', async () => {
    const h = leaves[0]!;
    expect(() => new Frontier(-1, [])).toThrow(RangeError);
    expect(() => new Frontier(1.5, [h])).toThrow(RangeError);
    expect(() => new Frontier(Number.MAX_SAFE_INTEGER + 1, [])).toThrow(RangeError);
    expect(() => new Frontier(3, [h])).toThrow(RangeError);
    expect(() => new Frontier(1, [h, h])).toThrow(RangeError);
    expect(() => new Frontier(0, [h])).toThrow(RangeError);
    expect(() => new Frontier(3, [h, h.subarray(1)])).toThrow(TypeError);
    expect(() => new Frontier().append(new Uint8Array(33))).toThrow(TypeError);
    await expect(Frontier.fromNodes(3, () => new Uint8Array(5))).rejects.toThrow(TypeError);
    await expect(Frontier.fromNodes(-3, () => h)).rejects.toThrow(RangeError);
  });
});
