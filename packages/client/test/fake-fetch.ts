// A recording stand-in for `fetch`: answers from a handler, keeps every request.
import type { FetchFn } from '../src/index.ts';

export interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

export type Handler = (req: Recorded) => Response | Promise<Response>;

export function fakeFetch(handler: Handler): { fetch: FetchFn; requests: Recorded[] } {
  const requests: Recorded[] = [];
  const fetch: FetchFn = async (url, init) => {
    const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
    const req = { method: init.method ?? 'GET', url, headers, body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined };
    requests.push(req);
    return handler(req);
  };
  return { fetch, requests };
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}
