import { describe, expect, it } from 'vitest';
import { RecentNodes, RecentRing } from '../src/recent-ring.ts';

describe('RecentRing', () => {
  it('holds the newest items of a contiguous range, forgetting the oldest', () => {
    const ring = new RecentRing<number>(4);
    for (let i = 10; i < 16; i++) ring.set(i, i * 2);
    expect([9, 10, 11, 12, 13, 14, 15, 16].map((i) => ring.get(i))).toEqual([undefined, undefined, undefined, 24, 26, 28, 30, undefined]);
    expect(ring.has(12)).toBe(true);
    expect(ring.has(11)).toBe(false);
  });

  it('starts again at an index that does not follow the newest', () => {
    const ring = new RecentRing<string>(8);
    ring.set(0, 'a');
    ring.set(1, 'b');
    ring.set(5, 'f');
    expect([ring.get(0), ring.get(1), ring.get(5)]).toEqual([undefined, undefined, 'f']);
  });

  it('keeps nothing with capacity 0, and refuses a bad capacity', () => {
    const ring = new RecentRing<number>(0);
    ring.set(0, 1);
    expect(ring.get(0)).toBeUndefined();
    expect(() => new RecentRing(-1)).toThrow(RangeError);
  });
});

describe('RecentNodes', () => {
  it('keeps every level of the latest entries, at least one node per level', () => {
    const nodes = new RecentNodes(8);
    const h = (level: number, index: number) => Uint8Array.of(level, index);
    for (let i = 0; i < 64; i++) nodes.set(0, i, h(0, i));
    for (let i = 0; i < 32; i++) nodes.set(1, i, h(1, i));
    nodes.set(5, 1, h(5, 1));
    expect(nodes.get(0, 56)).toEqual(h(0, 56));
    expect(nodes.get(0, 55)).toBeUndefined();
    expect(nodes.get(1, 28)).toEqual(h(1, 28));
    expect(nodes.get(1, 27)).toBeUndefined();
    expect(nodes.get(5, 1)).toEqual(h(5, 1));
    expect(nodes.get(3, 0)).toBeUndefined();
  });
});
