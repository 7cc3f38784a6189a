import { describe, expect, it } from 'vitest';
import { measureVerifyRate } from '../src/index.ts';

describe('measureVerifyRate', () => {
  it('reports a positive rate for the threads it was given', async () => {
    const rate = await measureVerifyRate({ threads: 1, durationMs: 200 });
    expect(rate.threads).toBe(1);
    // Any machine that runs the node verifies well over a thousand signatures a second.
    expect(rate.perSecond).toBeGreaterThan(1000);
  });

  it('rejects nonsense options', async () => {
    await expect(measureVerifyRate({ threads: 0 })).rejects.toThrow(RangeError);
    await expect(measureVerifyRate({ durationMs: -1 })).rejects.toThrow(RangeError);
  });
});
