import { describe, expect, it } from 'vitest';
import { keepNewest } from '../src/index.ts';

describe('keepNewest', () => {
  it('deletes the oldest keys, in insertion order, down to the newest `max`', () => {
    const m = new Map<number, string>();
    for (const k of [5, 1, 9, 3, 7]) m.set(k, String(k));
    m.delete(1);
    m.set(1, 'again'); // re-inserted: now the newest
    keepNewest(m, 3);
    expect([...m.keys()]).toEqual([3, 7, 1]);
    expect(m.get(1)).toBe('again');
  });

  it('leaves a map at or under `max` as it is, and empties it at 0', () => {
    const m = new Map([['a', 1], ['b', 2]]);
    keepNewest(m, 2);
    keepNewest(m, 5);
    expect([...m.keys()]).toEqual(['a', 'b']);
    keepNewest(m, 0);
    expect(m.size).toBe(0);
  });

  it('keeps exactly the newest keys of a large map', () => {
    const m = new Map<number, number>();
    for (let i = 0; i < 100_000; i++) m.set(i, i);
    keepNewest(m, 10);
    expect([...m.keys()]).toEqual([99_990, 99_991, 99_992, 99_993, 99_994, 99_995, 99_996, 99_997, 99_998, 99_999]);
  });
});
