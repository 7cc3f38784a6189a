import type { SignedHead } from '@mutual/ledger';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HeadGossip } from '../src/head-gossip.ts';

const head = (size: number) => ({ size }) as SignedHead;

describe('HeadGossip', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('gossips at once when idle, then the latest head once per interval under load', () => {
    const sent: number[] = [];
    const g = new HeadGossip((h) => sent.push(h.size), 500, () => Date.now());
    g.offer(head(1));
    expect(sent).toEqual([1]);
    for (let size = 2; size <= 20; size++) {
      g.offer(head(size));
      vi.advanceTimersByTime(20);
    }
    // 19 commits in 380 ms: nothing before the interval ends, then only the latest.
    expect(sent).toEqual([1]);
    vi.advanceTimersByTime(120);
    expect(sent).toEqual([1, 20]);
    g.offer(head(21));
    g.offer(head(22));
    vi.advanceTimersByTime(499);
    expect(sent).toEqual([1, 20]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([1, 20, 22]);
    // Idle for longer than the interval: the next head goes at once.
    vi.advanceTimersByTime(2000);
    g.offer(head(23));
    expect(sent).toEqual([1, 20, 22, 23]);
  });

  it('never gossips an older head after a newer one, and nothing after stop', () => {
    const sent: number[] = [];
    const g = new HeadGossip((h) => sent.push(h.size), 500, () => Date.now());
    g.offer(head(5));
    g.offer(head(7));
    g.offer(head(6));
    vi.advanceTimersByTime(500);
    expect(sent).toEqual([5, 7]);
    g.offer(head(8));
    g.stop();
    vi.advanceTimersByTime(1000);
    g.offer(head(9));
    expect(sent).toEqual([5, 7]);
  });
});
