import { randomBytes } from 'node:crypto';
import type { Connection, Stream } from '@libp2p/interface';
import { afterEach, describe, expect, it } from 'vitest';
import { readFrames, writeFrame } from '../src/frames.ts';
import { createHost, type MeshHost } from '../src/host.ts';
import { SyncChannel } from '../src/sync-channel.ts';

const PROTOCOL = '/mutual-test/sync/1.0.0';
const hosts: MeshHost[] = [];
const stop = new AbortController();

afterEach(async () => {
  await Promise.allSettled(hosts.splice(0).map((h) => h.stop()));
});

async function host(): Promise<MeshHost> {
  const h = await createHost({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], headsTopic: 'sync-channel-test', gater: {} });
  hosts.push(h);
  await h.start();
  return h;
}

/**
 * A server on PROTOCOL that answers each request with `answer(request)` (undefined: no
 * answer), and a channel to it; counts the streams the server saw.
 */
async function setup(answer: (request: Uint8Array, i: number) => Uint8Array[] | undefined | Promise<Uint8Array[]>, o: { timeoutMs?: number; idleMs?: number; onTimeout?: () => void } = {}) {
  const [client, server] = [await host(), await host()];
  let streams = 0;
  await server.handle(PROTOCOL, async (stream: Stream) => {
    streams++;
    let i = 0;
    try {
      for await (const request of readFrames(stream, 1 << 20)) {
        for (const a of (await answer(request, i++)) ?? []) await writeFrame(stream, a, AbortSignal.timeout(5000));
      }
      await stream.close();
    } catch {
      stream.abort(new Error('test server'));
    }
  });
  const conn: Connection = await client.dial(server.getMultiaddrs()[0]!);
  const channel = new SyncChannel((signal) => conn.newStream(PROTOCOL, { signal }), {
    maxBytes: 1 << 20,
    timeoutMs: o.timeoutMs ?? 2000,
    idleMs: o.idleMs ?? 10_000,
    signal: stop.signal,
    ...(o.onTimeout ? { onTimeout: o.onTimeout } : {}),
  });
  return { channel, streams: () => streams, conn };
}

const text = (b: Uint8Array | string) => (typeof b === 'string' ? b : Buffer.from(b).toString());
const bytes = (s: string) => new TextEncoder().encode(s);

describe('SyncChannel', () => {
  it('carries many requests, also sent before the answers, on one stream, each answered in order', async () => {
    const { channel, streams } = await setup((r) => [bytes(`re:${text(r)}`)]);
    const answers = await Promise.all(['a', 'b', 'c'].map((x) => channel.request(bytes(x))));
    expect(answers.map(text)).toEqual(['re:a', 're:b', 're:c']);
    expect(text(await channel.request(bytes('d')))).toBe('re:d');
    expect(streams()).toBe(1);
  });

  it('a request without an answer in time ends the stream, reported once; the next request opens another', async () => {
    // The server answers in order: 'slow' after a second, and what follows after it.
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    let timeouts = 0;
    const { channel, streams } = await setup(async (r) => {
      if (text(r) === 'slow') await sleep(1000);
      return [bytes(`re:${text(r)}`)];
    }, { timeoutMs: 300, onTimeout: () => timeouts++ });
    const [slow, behind] = await Promise.all([channel.request(bytes('slow')), channel.request(bytes('x'))]);
    // The answer to the second waits behind the first: both end with the stream, which is
    // reported as one timeout (the peer left one stream unanswered).
    expect(slow).toBe('timeout');
    expect(behind).toBe('timeout');
    expect(timeouts).toBe(1);
    expect(text(await channel.request(bytes('y')))).toBe('re:y');
    expect(streams()).toBe(2);
    expect(timeouts).toBe(1);
  });

  it('time a request waits behind answers that keep coming is not a timeout', async () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    let timeouts = 0;
    // Each answer takes 200 ms; the last of eight requests sent at once is answered after 1.6 s.
    const { channel, streams } = await setup(async (r) => {
      await sleep(200);
      return [bytes(`re:${text(r)}`)];
    }, { timeoutMs: 500, onTimeout: () => timeouts++ });
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const answers = await Promise.all(names.map((x) => channel.request(bytes(x))));
    expect(answers.map(text)).toEqual(names.map((x) => `re:${x}`));
    expect(timeouts).toBe(0);
    expect(streams()).toBe(1);
  });

  it('a timer that fires late because this process was not running is not a timeout', async () => {
    let timeouts = 0;
    const { channel } = await setup((r) => [bytes(`re:${text(r)}`)], { timeoutMs: 300, onTimeout: () => timeouts++ });
    expect(text(await channel.request(bytes('warm')))).toBe('re:warm');
    const answer = channel.request(bytes('x'));
    // Past the channel's own awaits (the request is sent and waited for), not the socket's.
    for (let i = 0; i < 10; i++) await Promise.resolve();
    // This process blocked for well past the timeout and its grace: the answer is read next.
    const until = performance.now() + 1500;
    while (performance.now() < until) {
      // busy
    }
    expect(text(await answer)).toBe('re:x');
    expect(timeouts).toBe(0);
  });

  it('an answer to no request is invalid; a stream the server closes is opened again', async () => {
    const extra = await setup((r) => [bytes(`re:${text(r)}`), bytes('more')]);
    expect(text(await extra.channel.request(bytes('a')))).toBe('re:a');
    // 'more' arrived with no request waiting: the stream is dropped.
    await new Promise((r) => setTimeout(r, 100));
    expect(text(await extra.channel.request(bytes('b')))).toBe('re:b');
    expect(extra.streams()).toBe(2);

    const closing = await setup((_r, i) => (i === 0 ? [bytes('first')] : undefined));
    expect(text(await closing.channel.request(bytes('a')))).toBe('first');
    closing.channel.close();
    expect(text(await closing.channel.request(bytes('b')))).toBe('first');
    expect(closing.streams()).toBe(2);
  });

  it('closes a stream idle for idleMs and opens one when asked again', async () => {
    const { channel, streams, conn } = await setup((r) => [bytes(`re:${text(r)}`)], { idleMs: 200 });
    expect(text(await channel.request(bytes('a')))).toBe('re:a');
    const open = () => conn.streams.filter((s) => s.protocol === PROTOCOL && s.status === 'open').length;
    expect(open()).toBe(1);
    const end = Date.now() + 3000;
    while (open() > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(open()).toBe(0);
    expect(text(await channel.request(bytes('b')))).toBe('re:b');
    expect(streams()).toBe(2);
  });

  it('once its signal is aborted, answers closed', async () => {
    const c = new AbortController();
    const channel = new SyncChannel(() => Promise.reject(new Error('unused')), { maxBytes: 10, timeoutMs: 100, idleMs: 100, signal: c.signal });
    expect(await channel.request(bytes('a'))).toBe('closed'); // the stream cannot open
    c.abort();
    expect(await channel.request(bytes('a'))).toBe('closed');
  });
});
