// An inbound connection whose dialer never says hello is closed after the hello deadline;
// connections whose hello verified stay open past it.
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import type { Libp2p } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { afterEach, describe, expect, it } from 'vitest';
import type { MeshLogger } from '../src/index.ts';
import { startBank, stopAll, waitFor } from './fixture.ts';

const raws: Libp2p[] = [];
afterEach(async () => {
  await Promise.allSettled(raws.splice(0).map((r) => r.stop()));
  await stopAll();
});

/** A logger keeping the messages of the info lines with their peer. */
function recorder(): MeshLogger & { lines: Array<{ msg: string; peer?: unknown }> } {
  const lines: Array<{ msg: string; peer?: unknown }> = [];
  return { lines, info: (o, msg) => lines.push({ msg, peer: (o as { peer?: unknown }).peer }), warn() {}, debug() {} };
}

const HELLO_MS = 1500;

describe('the hello deadline', () => {
  it('closes an inbound connection with no hello, and keeps those whose hello verified', async () => {
    const log = recorder();
    const a = await startBank({ helloTimeoutMs: HELLO_MS, logger: log });
    const b = await startBank({ bootstrap: a.mesh.addresses() });
    await waitFor('the hello of b', () => a.mesh.peers().some((p) => p.peerId === b.mesh.peerId && p.bank !== undefined));

    // A peer that connects (noise handshake done) but never opens a hello stream.
    const silent = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] });
    raws.push(silent);
    const connectedAt = Date.now();
    await silent.dial(multiaddr(a.mesh.addresses()[0]!));
    const silentId = silent.peerId.toString();
    await waitFor('a to see the silent peer', () => a.mesh.peers().some((p) => p.peerId === silentId && p.bank === undefined));

    await waitFor('the silent connection to close', () => silent.getConnections().length === 0 && a.mesh.peers().every((p) => p.peerId !== silentId), 10_000);
    expect(Date.now() - connectedAt).toBeGreaterThanOrEqual(HELLO_MS - 100);
    expect(log.lines.filter((l) => l.msg === 'no hello in time: closing the connection').map((l) => l.peer)).toEqual([silentId]);
    // b's connection is older than the deadline and still there: its hello cleared it.
    expect(a.mesh.peers().some((p) => p.peerId === b.mesh.peerId && p.bank !== undefined)).toBe(true);
  }, 30_000);
});
