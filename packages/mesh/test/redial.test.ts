// The bootstrap redial: an address that cannot be reached is warned of (not at every attempt),
// a peer of another bioregion is warned of once and not dialed again, and a peer that hangs up
// soon after it was reached is dialed again with a growing wait.
import { randomBytes } from 'node:crypto';
import type { Libp2p, Stream } from '@libp2p/interface';
import { LIMITS } from '@mutual/interface';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts } from '../../../tests/support/ports.ts';
import { readFrame, writeFrame } from '../src/frames.ts';
import { encodeHello } from '../src/hello.ts';
import { createHost, type MeshHost } from '../src/host.ts';
import type { MeshLogger } from '../src/index.ts';
import { Redialer, type RedialTiming } from '../src/redial.ts';
import { PROTOCOLS } from '../src/topics.ts';
import { startBank, stopAll, waitFor } from './fixture.ts';
import { helloPeer, rawPeer, stopRawPeers } from './raw-peer.ts';

const hosts: MeshHost[] = [];
const aborts: AbortController[] = [];
afterEach(async () => {
  for (const a of aborts.splice(0)) a.abort();
  await Promise.allSettled(hosts.splice(0).map((h) => h.stop()));
  await stopRawPeers();
  await stopAll();
});

interface Line {
  level: 'info' | 'warn' | 'debug';
  msg: string;
  o: Record<string, unknown>;
}

function recorder(): MeshLogger & { lines: Line[]; of(level: Line['level'], msg: string, addr?: string): Line[] } {
  const lines: Line[] = [];
  const push = (level: Line['level']) => (o: object, msg: string) => void lines.push({ level, msg, o: o as Record<string, unknown> });
  return {
    lines,
    info: push('info'),
    warn: push('warn'),
    debug: push('debug'),
    of: (level, msg, addr) => lines.filter((l) => l.level === level && l.msg.startsWith(msg) && (addr === undefined || l.o.addr === addr)),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const UNREACHABLE = 'cannot connect to a bootstrap peer';
const OTHER = 'a bootstrap peer is of another bioregion';
const REDIALING = 'bootstrap peer disconnected; redialing';
const errText = (l: Line) => String((l.o.err as Error | undefined)?.message ?? l.o.err);

describe('a bootstrap peer that cannot be reached', () => {
  it('is warned of once it has failed for a while, with the address and the error, not at every attempt, and is said when reached again', async () => {
    const [port] = await freePorts(1);
    const closed = `/ip4/127.0.0.1/tcp/${port}`;
    const typo = '/dns4/bank-b.invalid/tcp/4001';
    const log = recorder();
    const b = await startBank({ bootstrap: [closed, typo], logger: log, redialTiming: { warnAfterMs: 0 } });
    await waitFor('a warning for each address', () => log.of('warn', UNREACHABLE).length === 2, 5000);
    const [w] = log.of('warn', UNREACHABLE, closed);
    expect(w!.o.attempts).toBe(1);
    expect(errText(w!)).toMatch(/ECONNREFUSED/);
    expect(errText(log.of('warn', UNREACHABLE, typo)[0]!)).toMatch(/bank-b\.invalid/);
    // More attempts (0.5, 1 and 2 s apart), each at debug only.
    await waitFor('a third attempt', () => log.of('debug', 'dialing a bootstrap peer failed', closed).some((l) => l.o.attempts === 3), 10_000);
    expect(log.of('warn', UNREACHABLE, closed)).toHaveLength(1);
    expect(log.of('warn', UNREACHABLE, typo)).toHaveLength(1);

    const a = await startBank({ listen: [closed] });
    await waitFor('b to reach a', () => b.mesh.peers().some((p) => p.peerId === a.mesh.peerId && p.bank !== undefined), 15_000);
    await waitFor('the line saying so', () => log.of('info', 'reached a bootstrap peer again', closed).length === 1, 2000);
    expect(log.of('info', 'reached a bootstrap peer again', closed)[0]!.o.failedAttempts).toBeGreaterThanOrEqual(3);
    expect(log.of('warn', UNREACHABLE, closed)).toHaveLength(1);
  }, 30_000);

  it('while it keeps failing, is warned of again at most once per warning interval, with the count of attempts', async () => {
    const [port] = await freePorts(1);
    const closed = `/ip4/127.0.0.1/tcp/${port}`;
    const log = recorder();
    const timing: RedialTiming = { minMs: 50, maxMs: 100, stableMs: 1000, warnMs: 1000, warnAfterMs: 0, otherBioregionMs: 60_000 };
    const host = await createHost({ seed: randomBytes(32), listen: [], headsTopic: 'test', gater: {} });
    hosts.push(host);
    const abort = new AbortController();
    aborts.push(abort);
    new Redialer(host, [closed], { hello: () => undefined, refused: () => undefined }, abort.signal, log, timing).start();
    await sleep(2700);
    abort.abort();
    const warnings = log.of('warn', UNREACHABLE, closed);
    const attempts = warnings.length + log.of('debug', 'dialing a bootstrap peer failed', closed).length;
    // About 25 attempts in 2.7 s; warnings at the first, and then after 1 s and 2 s.
    expect(attempts).toBeGreaterThan(10);
    expect(warnings.length).toBe(3);
    expect(warnings.map((w) => w.o.attempts)).toEqual([1, expect.any(Number), expect.any(Number)]);
    expect((warnings[1]!.o.attempts as number) > 1 && (warnings[2]!.o.attempts as number) > (warnings[1]!.o.attempts as number)).toBe(true);
  }, 30_000);
});

describe('a bootstrap peer that comes up soon', () => {
  it('is not warned of: banks started together reach each other within the first attempts', async () => {
    const [port] = await freePorts(1);
    const later = `/ip4/127.0.0.1/tcp/${port}`;
    const log = recorder();
    const b = await startBank({ bootstrap: [later], logger: log, redialTiming: { warnAfterMs: 3000 } });
    await waitFor('a failed attempt', () => log.of('debug', 'dialing a bootstrap peer failed', later).length >= 1, 5000);
    const a = await startBank({ listen: [later] });
    await waitFor('b to reach a', () => b.mesh.peers().some((p) => p.peerId === a.mesh.peerId && p.bank !== undefined), 15_000);
    expect(log.of('warn', UNREACHABLE)).toHaveLength(0);
    expect(log.of('info', 'reached a bootstrap peer again')).toHaveLength(0);
  }, 30_000);
});

describe("a bootstrap address of this node's own", () => {
  it('is not dialed, and not warned of', async () => {
    const [port] = await freePorts(1);
    const own = `/ip4/127.0.0.1/tcp/${port}`;
    const log = recorder();
    await startBank({ listen: [own], bootstrap: [own], logger: log });
    await waitFor('the line saying so', () => log.of('info', "a bootstrap address is this node's own", own).length === 1, 5000);
    await sleep(1500);
    expect(log.of('warn', UNREACHABLE)).toHaveLength(0);
    expect(log.of('debug', 'dialing a bootstrap peer failed')).toHaveLength(0);
  }, 30_000);
});

describe('a bootstrap peer of another bioregion', () => {
  it('is warned of once, with its bioregion, and its address (with the peer ID) is not dialed again, even after a restart', async () => {
    const logA = recorder();
    const logS = recorder();
    const a = await startBank({ logger: logA });
    const addr = a.mesh.addresses()[0]!;
    const s = await startBank({ bioregion: 'Sonoran', bootstrap: [addr], logger: logS });
    const refusals = () => logA.lines.filter((l) => l.msg.startsWith('a peer of another bioregion') && l.o.peer === s.mesh.peerId).length;
    await waitFor("s's warning", () => logS.of('warn', OTHER, addr).length === 1, 10_000);
    expect(logS.of('warn', OTHER, addr)[0]!.o).toMatchObject({ addr, bioregion: 'Cascadia', peer: a.mesh.peerId });
    expect(logS.of('warn', OTHER)[0]!.msg).toMatch(/not dialing it again/);

    // Restarted, s has forgotten that a is of another bioregion; a still refuses s, and still
    // answers its hello, so that s learns why.
    await s.stop();
    logS.lines.length = 0;
    await s.restart([addr]);
    await waitFor("s's warning after the restart", () => logS.of('warn', OTHER, addr).length === 1, 10_000);
    expect(logS.of('warn', OTHER, addr)[0]!.o).toMatchObject({ bioregion: 'Cascadia' });
    await sleep(4000);
    // One hello from s per run, nothing more.
    expect(refusals()).toBe(2);
    expect(logS.of('warn', OTHER)).toHaveLength(1);
    expect(logS.of('info', REDIALING)).toHaveLength(0);
    expect(s.mesh.peers()).toEqual([]);
  }, 30_000);

  it('by an address without a peer ID: is warned of once, and the address dialed again only after a long wait', async () => {
    const logA = recorder();
    const logS = recorder();
    const a = await startBank({ logger: logA });
    const addr = a.mesh.addresses()[0]!.replace(/\/p2p\/.*$/, '');
    const s = await startBank({ bioregion: 'Sonoran', bootstrap: [addr], logger: logS });
    await waitFor("s's warning", () => logS.of('warn', OTHER, addr).length === 1, 10_000);
    expect(logS.of('warn', OTHER)[0]!.o).toMatchObject({ addr, bioregion: 'Cascadia' });
    expect(logS.of('warn', OTHER)[0]!.msg).toMatch(/again only every 10 minutes/);
    await sleep(4000);
    expect(logA.lines.filter((l) => l.msg.startsWith('a peer of another bioregion') && l.o.peer === s.mesh.peerId)).toHaveLength(1);
    expect(logS.of('info', REDIALING)).toHaveLength(0);
    expect(logS.of('warn', UNREACHABLE)).toHaveLength(0);
  }, 30_000);
});

/** The connections a listener has seen open, by ID. */
function connections(node: Libp2p): Map<string, number> {
  const seen = new Map<string, number>();
  node.addEventListener('connection:open', (e) => seen.set(e.detail.id, Date.now()));
  return seen;
}

/** A peer of this bioregion that answers each hello with a valid one and hangs up `afterMs` after the connection opened. */
async function answersThenHangsUp(afterMs: number) {
  const p = await helloPeer();
  const own = encodeHello({ bank: p.key, name: 'Hangs up', bioregion: 'Cascadia', head: p.head(1) });
  await p.node.handle(PROTOCOLS.hello, async (stream: Stream) => {
    try {
      await readFrame(stream, LIMITS.MAX_SYNC_MESSAGE_BYTES, AbortSignal.timeout(5000));
      await writeFrame(stream, own, AbortSignal.timeout(5000));
      await stream.close();
    } catch {
      // The dialer went away first.
    }
  });
  p.node.addEventListener('connection:open', (e) => {
    const conn = e.detail;
    setTimeout(() => void conn.close().catch(() => {}), afterMs);
  });
  return p;
}

describe('a bootstrap peer that hangs up soon after it was reached', () => {
  it('after its hello verified: is dialed again with a growing wait, not every half second', async () => {
    const p = await answersThenHangsUp(100);
    const seen = connections(p.node);
    const log = recorder();
    const addr = p.node.getMultiaddrs()[0]!.toString();
    await startBank({ bootstrap: [addr], logger: log });
    await sleep(7000);
    // Its hello verified each time: the connection was made, and then dropped.
    expect(log.lines.filter((l) => l.msg === 'peer joined').length).toBeGreaterThanOrEqual(3);
    // Waits of about 0.5, 1, 2 and 4 s (each ±25 %) after connections of 0.1 s: 4 or 5
    // connections in 7 s; one every half second would be about 12.
    expect(seen.size).toBeGreaterThanOrEqual(3);
    expect(seen.size).toBeLessThanOrEqual(6);
    const redials = log.of('info', REDIALING, addr).map((l) => l.o.redialInMs as number);
    expect(redials.slice(0, 3)).toEqual([500, 1000, 2000]);
  }, 30_000);

  it('before any hello: is dialed again with a growing wait, and warned of', async () => {
    const node = await rawPeer();
    node.addEventListener('connection:open', (e) => void e.detail.close().catch(() => {}));
    const seen = connections(node);
    const log = recorder();
    const addr = node.getMultiaddrs()[0]!.toString();
    await startBank({ bootstrap: [addr], logger: log, redialTiming: { warnAfterMs: 0 } });
    await sleep(7000);
    expect(seen.size).toBeGreaterThanOrEqual(3);
    expect(seen.size).toBeLessThanOrEqual(6);
    expect(log.of('warn', UNREACHABLE, addr)).toHaveLength(1);
  }, 30_000);

  it('is dialed again at the shortest wait after a connection that stayed up long enough', async () => {
    const p = await answersThenHangsUp(400);
    const seen = connections(p.node);
    const log = recorder();
    const timing: RedialTiming = { minMs: 100, maxMs: 5000, stableMs: 300, warnMs: 60_000, warnAfterMs: 0, otherBioregionMs: 60_000 };
    const host = await createHost({ seed: randomBytes(32), listen: [], headsTopic: 'test', gater: {} });
    hosts.push(host);
    host.addEventListener('peer:disconnect', (e) => redialer.disconnected(e.detail.toString()));
    const abort = new AbortController();
    aborts.push(abort);
    const redialer = new Redialer(host, [p.node.getMultiaddrs()[0]!.toString()], { hello: () => Promise.resolve({ kind: 'joined' }), refused: () => undefined }, abort.signal, log, timing);
    redialer.start();
    await waitFor('six connections', () => seen.size >= 6, 10_000);
    // Each stayed up 0.4 s, past stableMs: every redial waits about minMs, never 0.2, 0.4, 0.8 s…
    expect(log.of('info', REDIALING).map((l) => l.o.redialInMs)).toEqual(Array(log.of('info', REDIALING).length).fill(100));
  }, 30_000);
});
