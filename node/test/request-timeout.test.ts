// Clients that stall are let go: a request head must arrive in time, a connection must not stay
// idle; answers (event streams) are not bounded.
import { once } from 'node:events';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { testBank, type TestBank } from './fixture.ts';

const banks: TestBank[] = [];
afterEach(async () => {
  await Promise.all(banks.splice(0).map((b) => b.close()));
});

/** Opens a socket to `port`, writes `text`, and resolves with what came back once the server closed it, and when. */
async function stall(port: number, text: string): Promise<{ reply: string; afterMs: number }> {
  const socket = connect({ host: '127.0.0.1', port });
  const received: Buffer[] = [];
  socket.on('data', (c: Buffer) => received.push(c));
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  const started = Date.now();
  socket.write(text);
  await once(socket, 'close');
  return { reply: Buffer.concat(received).toString('latin1'), afterMs: Date.now() - started };
}

describe('request and idle timeouts', () => {
  it('answers 408 to a request whose head does not arrive in time, and closes a connection whose body stalls', async () => {
    // The idle timeout well after the head's (and its check interval), so that the head's 408
    // comes first even on a loaded machine.
    const t = await testBank({ requestTimeoutMs: 1_000, idleTimeoutMs: 5_000 });
    banks.push(t);
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (t.app.server.address() as { port: number }).port;
    const [head, body] = await Promise.all([
      stall(port, 'GET /v1/status HTTP/1.1\r\nhost: 127.0.0.1\r\n'),
      stall(port, 'POST /v1/transfers HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"instr'),
    ]);
    expect(head.reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(head.reply.split('\r\n\r\n')[1]!)).toEqual({ error: { code: 'REQUEST_TIMEOUT', message: 'the head of the request did not arrive in time' } });
    // The timeout, and at most about one check interval more.
    expect(head.afterMs).toBeGreaterThanOrEqual(900);
    expect(head.afterMs).toBeLessThan(5_000);
    expect(body.afterMs).toBeGreaterThanOrEqual(4_900);
    expect(body.afterMs).toBeLessThan(10_000);
    // The node still answers.
    expect((await fetch(`http://127.0.0.1:${port}/v1/status`)).status).toBe(200);
  });

  it('answers what is not HTTP, or has headers too large, in the one error shape, and closes the connection', async () => {
    const t = await testBank();
    banks.push(t);
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (t.app.server.address() as { port: number }).port;
    const cases: Array<[string, number, string]> = [
      ['NOT HTTP AT ALL\r\n\r\n', 400, 'MALFORMED_HTTP'],
      [`GET /v1/status HTTP/1.1\r\nhost: 127.0.0.1\r\nx-pad: ${'x'.repeat(20_000)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
    ];
    for (const [text, status, code] of cases) {
      const r = await stall(port, text);
      expect(r.reply.split('\r\n')[0]).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(r.reply).toMatch(/\r\nConnection: close\r\n/);
      expect((JSON.parse(r.reply.split('\r\n\r\n')[1]!) as { error: { code: string } }).error.code).toBe(code);
    }
    expect((await fetch(`http://127.0.0.1:${port}/v1/status`)).status).toBe(200);
  });

  it('does not cut an event stream that stays open longer than either timeout', async () => {
    const t = await testBank({ requestTimeoutMs: 1_000, idleTimeoutMs: 1_000, heartbeatMs: 200 });
    banks.push(t);
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (t.app.server.address() as { port: number }).port;
    const controller = new AbortController();
    const res = await fetch(`http://127.0.0.1:${port}/v1/events`, { signal: controller.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const until = Date.now() + 3_000;
    let bytes = 0;
    while (Date.now() < until) {
      const { value, done } = await reader.read();
      expect(done).toBe(false);
      bytes += value?.length ?? 0;
    }
    expect(bytes).toBeGreaterThan(0);
    controller.abort();
  });
});
