// Free TCP ports on 127.0.0.1, for processes and hosts that must know their addresses before
// they start (banks listed as each other's bootstrap peers).
import { createServer } from 'node:net';

/** `n` distinct ports free on 127.0.0.1 a moment ago: each was bound, read and released. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((res, rej) => {
          const s = createServer();
          s.once('error', rej);
          s.listen(0, '127.0.0.1', () => res(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
