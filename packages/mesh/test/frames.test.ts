import type { Stream } from '@libp2p/interface';
import { describe, expect, it } from 'vitest';
import { FrameError, readFrames } from '../src/frames.ts';

/** A stream that yields `chunks` as they are: readFrames only iterates it. */
const streamOf = (chunks: Uint8Array[]) =>
  ({
    async *[Symbol.asyncIterator]() {
      yield* chunks;
    },
  }) as unknown as Stream;

async function all(stream: Stream, max = 1 << 20): Promise<number[][]> {
  const out: number[][] = [];
  for await (const m of readFrames(stream, max)) out.push([...m]);
  return out;
}

describe('readFrames', () => {
  const big = Array.from({ length: 300 }, (_, i) => i % 251);
  // Three messages: 2 bytes, 300 bytes (a two-byte length prefix), empty.
  const wire = Uint8Array.from([2, 7, 8, 0xac, 0x02, ...big, 0]);

  it('reads every message however the bytes are cut into chunks', async () => {
    const expected = [[7, 8], big, []];
    expect(await all(streamOf([wire]))).toEqual(expected);
    expect(await all(streamOf([...wire].map((b) => Uint8Array.of(b))))).toEqual(expected);
    for (const cut of [1, 3, 4, 5, 100, 304]) {
      expect(await all(streamOf([wire.subarray(0, cut), wire.subarray(cut)])), `cut at ${cut}`).toEqual(expected);
    }
  });

  it('refuses a message over the limit and a stream that ends inside a message', async () => {
    await expect(all(streamOf([wire]), 100)).rejects.toBeInstanceOf(FrameError);
    await expect(all(streamOf([wire.subarray(0, 50)]))).rejects.toBeInstanceOf(FrameError);
    await expect(all(streamOf([Uint8Array.of(0x80)]))).rejects.toBeInstanceOf(FrameError);
  });
});
