import { randomBytes } from 'node:crypto';
import type { Connection, Stream } from '@libp2p/interface';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { corkWrites, isCorked } from '../src/cork.ts';
import { createHost, type MeshHost } from '../src/host.ts';

const PROTOCOL = '/mutual-test/echo/1.0.0';
const hosts: MeshHost[] = [];

afterEach(async () => {
  await Promise.allSettled(hosts.splice(0).map((h) => h.stop()));
});

async function host(): Promise<MeshHost> {
  const h = await createHost({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], headsTopic: 'cork-test', gater: {} });
  hosts.push(h);
  await h.start();
  return h;
}

/** Two hosts, the second collecting what arrives on PROTOCOL; a connection from the first. */
async function pair(): Promise<{ conn: Connection; received: () => number }> {
  const [a, b] = [await host(), await host()];
  let bytes = 0;
  await b.handle(PROTOCOL, (stream: Stream) => {
    stream.addEventListener('message', (e) => {
      bytes += e.data.byteLength;
    });
  });
  const conn = await a.dial(b.getMultiaddrs()[0]!);
  return { conn, received: () => bytes };
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('corkWrites', () => {
  it('writes each frame (length prefix and ciphertext) with one writev, at once, and they all arrive', async () => {
    const { conn, received } = await pair();
    expect(isCorked(conn)).toBe(false);
    expect(corkWrites(conn)).toBe(true);
    expect(corkWrites(conn)).toBe(false); // once per connection
    expect(isCorked(conn)).toBe(true);
    const stream = await conn.newStream(PROTOCOL);
    const socket = (conn as unknown as { maConn: { socket: { _write: unknown; _writev: unknown } } }).maConn.socket;
    await new Promise((r) => setImmediate(r));
    const write = vi.spyOn(socket as { _write: (...a: unknown[]) => void }, '_write');
    const writev = vi.spyOn(socket as { _writev: (...a: unknown[]) => void }, '_writev');
    stream.send(new Uint8Array(100).fill(1));
    // Written before anything else runs: no wait for a later turn of the event loop.
    expect(writev).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 4; i++) stream.send(new Uint8Array(100).fill(i));
    await new Promise((r) => setImmediate(r));
    // Every write took its pieces at once: none went through the one-buffer path.
    expect(write).not.toHaveBeenCalled();
    expect(writev.mock.calls.length).toBeGreaterThanOrEqual(2);
    await until(() => received() >= 500);
    expect(received()).toBe(500);
  });

  it('without it, each frame is written on its own', async () => {
    const { conn, received } = await pair();
    const stream = await conn.newStream(PROTOCOL);
    const socket = (conn as unknown as { maConn: { socket: object } }).maConn.socket;
    await new Promise((r) => setImmediate(r));
    const write = vi.spyOn(socket as { _write: (...a: unknown[]) => void }, '_write');
    for (let i = 0; i < 5; i++) stream.send(new Uint8Array(100).fill(i));
    await new Promise((r) => setImmediate(r));
    expect(write.mock.calls.length).toBeGreaterThanOrEqual(1);
    await until(() => received() >= 500);
  });
});
