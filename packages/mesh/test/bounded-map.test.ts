import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../src/bounded-map.ts';

describe('BoundedMap', () => {
  it('keeps at most max keys, forgetting the one set longest ago; setting a key again makes it the newest', () => {
    const m = new BoundedMap<number>(3);
    for (const k of ['a', 'b', 'c']) m.set(k, 1);
    m.set('a', 2);
    m.set('d', 1);
    expect([m.has('a'), m.has('b'), m.has('c'), m.has('d')]).toEqual([true, false, true, true]);
    expect(m.size).toBe(3);
    expect(m.get('a')).toBe(2);
  });

  it('forgets stale values oldest first, up to the first that is not', () => {
    const m = new BoundedMap<number>(10);
    for (const [k, at] of [['a', 1], ['b', 2], ['c', 9], ['d', 3]] as const) m.set(k, at);
    m.forgetStale((at) => at < 5);
    // 'd' is stale too but set after a fresh one: it goes with a later call, once 'c' is stale.
    expect([m.has('a'), m.has('b'), m.has('c'), m.has('d')]).toEqual([false, false, true, true]);
    m.forgetStale((at) => at < 10);
    expect(m.size).toBe(0);
  });
});
