import type { Stream } from '@libp2p/interface';
import { describe, expect, it } from 'vitest';
import { FrameError, readFrames, writeFrame } from '../src/frames.ts';

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

/** A stream whose `send` takes frames while `full` is false, and whose drain is waited on. */
function sendingStream(full: boolean) {
  const sent: number[][] = [];
  const waits: Array<AbortSignal | undefined> = [];
  const stream = {
    send: (b: Uint8Array) => (sent.push([...b]), !full),
    onDrain: (o?: { signal?: AbortSignal }) =>
      new Promise<void>((resolve, reject) => {
        waits.push(o?.signal);
        o?.signal?.addEventListener('abort', () => reject(o.signal!.reason as Error), { once: true });
      }),
  } as unknown as Stream;
  return { stream, sent, waits };
}

describe('writeFrame', () => {
  it('prefixes the length, and makes no signal for a frame the stream takes at once', async () => {
    const { stream, sent, waits } = sendingStream(false);
    let made = 0;
    await writeFrame(stream, Uint8Array.of(7, 8), () => (made++, AbortSignal.timeout(1000)));
    await writeFrame(stream, new Uint8Array(300).fill(1), () => (made++, AbortSignal.timeout(1000)));
    expect(sent[0]).toEqual([2, 7, 8]);
    expect(sent[1]!.slice(0, 3)).toEqual([0xac, 0x02, 1]);
    expect(sent[1]).toHaveLength(302);
    expect(made).toBe(0);
    expect(waits).toEqual([]);
  });

  it('waits for a full stream to drain, bounded by the signal made then', async () => {
    const { stream, sent, waits } = sendingStream(true);
    let made = 0;
    const writing = writeFrame(stream, Uint8Array.of(1), () => (made++, AbortSignal.timeout(20)));
    expect(sent).toEqual([[1, 1]]);
    expect(made).toBe(1);
    expect(waits).toHaveLength(1);
    await expect(writing).rejects.toMatchObject({ name: 'TimeoutError' });
    // A signal given as it is bounds the wait alike.
    const controller = new AbortController();
    const second = writeFrame(stream, Uint8Array.of(2), controller.signal);
    controller.abort(new Error('stopping'));
    await expect(second).rejects.toThrow('stopping');
    expect(waits[1]).toBe(controller.signal);
  });
});
