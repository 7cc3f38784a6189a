import { createServer } from 'node:net';
import { isMutualError, MutualError } from '@mutual/interface';
import { describe, expect, it } from 'vitest';
import { MutualClient } from '../src/index.ts';
import { fakeFetch, json } from './fake-fetch.ts';

const URL = 'http://node.test:8547';

describe('MutualClient requests', () => {
  it('sends each route as the contract describes', async () => {
    const { fetch, requests } = fakeFetch(() => json({ results: [] }));
    const c = new MutualClient({ url: `${URL}/`, token: 'secret', fetch });
    await c.status();
    await c.head();
    await c.headAt(5);
    await c.account('macct1xyz');
    await c.statement('macct1xyz', { limit: 10, before: 40 });
    await c.entry(7);
    await c.entries(1000, 500);
    await c.consistency(3, 9);
    await c.submitTransfers(['AAAA']);
    await c.submitLabor(['BBBB']);
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      `GET ${URL}/v1/status`,
      `GET ${URL}/v1/head`,
      `GET ${URL}/v1/heads/5`,
      `GET ${URL}/v1/accounts/macct1xyz`,
      `GET ${URL}/v1/accounts/macct1xyz/entries?limit=10&before=40`,
      `GET ${URL}/v1/entries/7`,
      `GET ${URL}/v1/entries?from=1000&limit=500`,
      `GET ${URL}/v1/consistency?from=3&to=9`,
      `POST ${URL}/v1/transfers`,
      `POST ${URL}/v1/labor`,
    ]);
    expect(requests[8]!.body).toEqual({ instructions: ['AAAA'] });
    expect(requests[9]!.body).toEqual({ instructions: ['BBBB'] });
    expect(requests[8]!.headers['content-type']).toBe('application/json');
    // The admin token is for admin routes only.
    expect(requests.every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it('sends the admin token to POST /v1/accounts', async () => {
    const { fetch, requests } = fakeFetch(() => json({ account: 'macct1a', kind: 'member', entryIndex: 3 }, 201));
    const c = new MutualClient({ url: URL, token: 'secret', fetch });
    const opened = await c.openAccount({ publicKey: 'mpub1k', kind: 'member', label: 'Ana' });
    expect(opened.entryIndex).toBe(3);
    expect(requests[0]).toMatchObject({ method: 'POST', url: `${URL}/v1/accounts`, body: { publicKey: 'mpub1k', kind: 'member', label: 'Ana' } });
    expect(requests[0]!.headers.authorization).toBe('Bearer secret');
  });

  it('returns the results of submitted instructions as data, rejections included', async () => {
    const results = [{ code: 'APPLIED', entryIndex: 4, duplicate: false, amount: '1' }, { code: 'INSUFFICIENT_FUNDS', message: 'too little' }];
    const { fetch } = fakeFetch(() => json({ results }));
    expect(await new MutualClient({ url: URL, fetch }).submitTransfers(['a', 'b'])).toEqual(results);
  });

  it('refuses arguments that cannot be a route before sending', async () => {
    const { fetch, requests } = fakeFetch(() => json({}));
    const c = new MutualClient({ url: URL, fetch });
    await expect(c.entry(-1)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(c.headAt(0)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(requests).toHaveLength(0);
    expect(() => new MutualClient({ url: 'ftp://x', fetch })).toThrow(MutualError);
    expect(() => new MutualClient({ url: 'not a url', fetch })).toThrow(/not a URL/);
  });
});

describe('MutualClient errors', () => {
  it("turns the node's { error: { code, message } } into a MutualError with that code", async () => {
    const { fetch } = fakeFetch(() => json({ error: { code: 'NOT_FOUND', message: 'no account macct1xyz' } }, 404));
    const err = await new MutualClient({ url: URL, fetch }).account('macct1xyz').catch((e: unknown) => e);
    expect(isMutualError(err, 'NOT_FOUND')).toBe(true);
    expect((err as MutualError).message).toBe('no account macct1xyz');
    expect((err as MutualError).details).toMatchObject({ status: 404 });
  });

  it('reports unknown codes and non-JSON bodies as UNEXPECTED_RESPONSE', async () => {
    const unknown = fakeFetch(() => json({ error: { code: 'FROM_THE_FUTURE', message: '?' } }, 400));
    await expect(new MutualClient({ url: URL, fetch: unknown.fetch }).status()).rejects.toMatchObject({
      code: 'UNEXPECTED_RESPONSE',
      message: expect.stringContaining('FROM_THE_FUTURE'),
    });
    const html = fakeFetch(() => new Response('<html>bad gateway</html>', { status: 502 }));
    await expect(new MutualClient({ url: URL, fetch: html.fetch }).status()).rejects.toMatchObject({ code: 'UNEXPECTED_RESPONSE' });
    const okHtml = fakeFetch(() => new Response('<html>', { status: 200 }));
    await expect(new MutualClient({ url: URL, fetch: okHtml.fetch }).status()).rejects.toMatchObject({ code: 'UNEXPECTED_RESPONSE' });
  });

  it('reports a failed connection as NODE_UNREACHABLE naming the URL and the reason', async () => {
    const fetch = () => Promise.reject(new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 10.0.0.1:8547') }));
    const err = await new MutualClient({ url: URL, fetch }).status().catch((e: unknown) => e);
    expect(isMutualError(err, 'NODE_UNREACHABLE')).toBe(true);
    expect((err as Error).message).toBe(`cannot reach the node at ${URL}: connect ECONNREFUSED 10.0.0.1:8547`);
  });

  it('reports a real closed port as NODE_UNREACHABLE with the global fetch', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await expect(new MutualClient({ url: `http://127.0.0.1:${port}` }).status()).rejects.toMatchObject({
      code: 'NODE_UNREACHABLE',
      message: expect.stringContaining(`127.0.0.1:${port}`),
    });
  });

  it('rejects a cancelled call with the abort reason, not as a network failure', async () => {
    const ac = new AbortController();
    const reason = new Error('user gave up');
    const fetch = (_url: string, init: RequestInit) =>
      new Promise<Response>((_, reject) => init.signal!.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
    const pending = new MutualClient({ url: URL, fetch }).status({ signal: ac.signal });
    ac.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});
