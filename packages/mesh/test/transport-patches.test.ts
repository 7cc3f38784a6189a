// The fixes of patches/ to the libp2p transport are in effect (patches/README.md).
import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream';
import { logger } from '@libp2p/logger';
import { LengthPrefixedDecoder } from '@libp2p/utils';
import { Uint8ArrayList } from 'uint8arraylist';
import { describe, expect, it } from 'vitest';

interface SentFrame {
  header?: { type: number; length: number };
  type?: number;
  length?: number;
}

/** An established yamux stream whose frames sent are recorded. */
function stream(): { s: YamuxStream; sent: SentFrame[] } {
  const sent: SentFrame[] = [];
  const s = new YamuxStream({
    id: '1',
    streamId: 1,
    state: StreamState.Established,
    direction: 'inbound',
    log: logger('mutual:test:yamux'),
    getRTT: () => 10_000,
    sendFrame: (frame: SentFrame) => {
      sent.push(frame);
      return true;
    },
  } as unknown as ConstructorParameters<typeof YamuxStream>[0]);
  return { s, sent };
}

function dataFrame(bytes: number): Parameters<YamuxStream['handleData']>[0] {
  return { header: { type: 0, flag: 0, streamID: 1, length: bytes }, data: new Uint8ArrayList(new Uint8Array(bytes)) } as unknown as Parameters<
    YamuxStream['handleData']
  >[0];
}

describe('yamux window updates', () => {
  it('are not sent for each small data frame received', () => {
    const { s, sent } = stream();
    for (let i = 0; i < 400; i++) s.handleData(dataFrame(300));
    // A few updates as the receive window grows (it doubles up to its maximum on a busy stream), not 400.
    expect(sent.length).toBeLessThanOrEqual(8);
  });

  it('are sent once half of the receive window is used, so a sender is never stalled', () => {
    const { s, sent } = stream();
    // 2 MB in frames of 1,000 bytes: never more than the window in flight, updates now and then.
    for (let i = 0; i < 2000; i++) s.handleData(dataFrame(1000));
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.length).toBeLessThan(20);
    const granted = sent.reduce((n, f) => n + (f.length ?? f.header?.length ?? 0), 0);
    // The sender may send the initial window plus what was granted: at least what was received.
    expect(256 * 1024 + granted).toBeGreaterThanOrEqual(2000 * 1000);
  });
});

describe('the length-prefixed decoder under noise', () => {
  it('does not ask for the length of an empty buffer (no RangeError thrown per read)', () => {
    let calls = 0;
    const d = new LengthPrefixedDecoder({
      lengthDecoder: ((buf: Uint8ArrayList) => {
        calls++;
        if (buf.byteLength < 2) throw new RangeError('short');
        return buf.get(0) * 256 + buf.get(1);
      }) as never,
      encodingLength: () => 2,
    });
    const frame = Uint8Array.of(0, 3, 7, 8, 9);
    expect([...d.decode(frame)].map((b) => [...b.subarray()])).toEqual([[7, 8, 9]]);
    expect(calls).toBe(1);
    // A frame split across reads still decodes.
    expect([...d.decode(frame.subarray(0, 1))]).toEqual([]);
    expect([...d.decode(frame.subarray(1))].map((b) => [...b.subarray()])).toEqual([[7, 8, 9]]);
  });
});
