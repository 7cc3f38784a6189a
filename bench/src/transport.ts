// Transport: CPU per message between two libp2p hosts as the mesh builds them (TCP, noise,
// yamux, each connection's socket corked while it sends) on 127.0.0.1, one long-lived stream, messages of a push's size; compared with the
// same messages over a plain TCP socket (the ceiling: what the kernel and Node's sockets cost).
import { createConnection, createServer, type Socket } from 'node:net';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { tcp } from '@libp2p/tcp';
import { corkWrites, sodiumNoiseCrypto, writeFrame } from '@mutual/mesh';
import { createLibp2p } from 'libp2p';
import type { Benchmark, BenchContext } from './context.ts';
import { fmtSummary, summarize } from './stats.ts';

const MESSAGE_BYTES = 300;
const PROTOCOL = '/mutual-bench/transport/1';

/** CPU (user + system, this process: both ends) per message, in µs. */
async function overLibp2p(count: number): Promise<number> {
  const host = () => createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise({ crypto: sodiumNoiseCrypto })], streamMuxers: [yamux()] });
  const a = await host();
  const b = await host();
  for (const h of [a, b]) h.addEventListener('connection:open', (e) => corkWrites(e.detail));
  try {
    let bytes = 0;
    const want = count * (MESSAGE_BYTES + 2);
    let done!: () => void;
    const received = new Promise<void>((res) => (done = res));
    await b.handle(PROTOCOL, (stream) => {
      stream.addEventListener('message', (e) => {
        bytes += e.data.byteLength;
        if (bytes >= want) done();
      });
    });
    const stream = await a.dialProtocol(b.getMultiaddrs()[0]!, PROTOCOL);
    const message = new Uint8Array(MESSAGE_BYTES).fill(7);
    const signal = new AbortController().signal;
    const started = process.cpuUsage();
    for (let i = 0; i < count; i++) {
      await writeFrame(stream, message, signal);
      // One message per turn of the event loop, as pushes and sync answers go out.
      await new Promise((res) => setImmediate(res));
    }
    await received;
    const used = process.cpuUsage(started);
    return (used.user + used.system) / count;
  } finally {
    await a.stop();
    await b.stop();
  }
}

async function overTcp(count: number): Promise<number> {
  let bytes = 0;
  const want = count * (MESSAGE_BYTES + 2);
  let done!: () => void;
  const received = new Promise<void>((res) => (done = res));
  const server = createServer((s) => {
    s.on('data', (d: Buffer) => {
      bytes += d.byteLength;
      if (bytes >= want) done();
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as { port: number }).port;
  const socket: Socket = await new Promise((res) => {
    const s = createConnection(port, '127.0.0.1', () => res(s));
  });
  socket.setNoDelay(true);
  try {
    const frame = new Uint8Array(MESSAGE_BYTES + 2).fill(7);
    const started = process.cpuUsage();
    for (let i = 0; i < count; i++) {
      if (!socket.write(frame)) await new Promise((res) => socket.once('drain', res));
      await new Promise((res) => setImmediate(res));
    }
    await received;
    const used = process.cpuUsage(started);
    return (used.user + used.system) / count;
  } finally {
    socket.destroy();
    await new Promise((res) => server.close(res));
  }
}

export const transportBenchmark: Benchmark = {
  name: 'transport',
  description: 'transport: CPU per message over libp2p (TCP, noise, yamux) against plain TCP, both ends in one process',
  async run(ctx: BenchContext) {
    const count = ctx.quick ? 2000 : 20_000;
    await overLibp2p(Math.min(count, 2000)); // warm-up
    await overTcp(Math.min(count, 2000));
    const p2p: number[] = [];
    const raw: number[] = [];
    for (let i = 0; i < ctx.runs; i++) {
      p2p.push(await overLibp2p(count));
      raw.push(await overTcp(count));
      ctx.log(`run ${i + 1}: libp2p ${p2p.at(-1)!.toFixed(1)} µs, TCP ${raw.at(-1)!.toFixed(1)} µs of CPU per message`);
    }
    const p = summarize(p2p);
    const r = summarize(raw);
    return {
      name: 'transport',
      rows: [
        { metric: `CPU per message over libp2p (${count} messages of ${MESSAGE_BYTES} B, one stream, both ends)`, value: fmtSummary(p, ' µs') },
        { metric: 'CPU per message over plain TCP, same messages', value: fmtSummary(r, ' µs') },
        { metric: 'libp2p / plain TCP', value: (p.median / r.median).toFixed(2) },
      ],
    };
  },
};
