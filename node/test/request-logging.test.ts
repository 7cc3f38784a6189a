// Requests are logged at debug, one line each; fastify's own lines at info are off.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { testBank, type TestBank } from './fixture.ts';

const banks: TestBank[] = [];
afterEach(async () => {
  await Promise.all(banks.splice(0).map((b) => b.close()));
});

/** A pino logger at `level` whose lines are kept, parsed. */
function capture(level: 'debug' | 'info') {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, sink), lines };
}

describe('request logging', () => {
  it('logs each request once, at debug, with its method, URL, status and time; nothing at info', async () => {
    const { logger, lines } = capture('debug');
    const t = await testBank({ logger });
    banks.push(t);
    expect((await t.app.inject({ method: 'GET', url: '/v1/status' })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/v1/no-such-route' })).statusCode).toBe(404);
    await new Promise((r) => setImmediate(r));
    const requests = lines.filter((l) => typeof l.msg === 'string' && /request|route/i.test(l.msg));
    expect(requests.filter((l) => (l.level as number) >= 30)).toEqual([]);
    const completed = requests.filter((l) => l.msg === 'request completed');
    expect(completed.map((l) => [l.level, (l.req as { url: string }).url, (l.res as { statusCode: number }).statusCode])).toEqual([
      [20, '/v1/status', 200],
      [20, '/v1/no-such-route', 404],
    ]);
    expect(typeof completed[0]!.responseTime).toBe('number');
  });

  it('writes no request lines at info', async () => {
    const { logger, lines } = capture('info');
    const t = await testBank({ logger });
    banks.push(t);
    for (let i = 0; i < 3; i++) await t.app.inject({ method: 'GET', url: '/v1/status' });
    await t.app.inject({ method: 'GET', url: '/v1/no-such-route' });
    expect(lines.filter((l) => typeof l.msg === 'string' && /request|route/i.test(l.msg))).toEqual([]);
  });

  it('a refused request is logged at info with its method, route and client; one over the rate limit only at debug', async () => {
    const { logger, lines } = capture('info');
    const t = await testBank({ logger, rateLimit: { max: 2 } });
    banks.push(t);
    expect((await t.app.inject({ method: 'POST', url: '/v1/accounts', payload: { publicKey: 'x', kind: 'member' } })).statusCode).toBe(401);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await t.app.inject({ method: 'GET', url: '/v1/status' })).statusCode);
    expect(statuses.at(-1)).toBe(429);
    const refused = lines.filter((l) => l.msg === 'request refused');
    expect(refused).toEqual([expect.objectContaining({ level: 30, code: 'UNAUTHORIZED', status: 401, method: 'POST', route: '/v1/accounts', ip: '127.0.0.1' })]);
  });
});
