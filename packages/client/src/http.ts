import { isCode, MutualError } from '@mutual/interface';

/** The subset of the platform `fetch` the client uses; inject one for tests or custom transports. */
export type FetchFn = (url: string, init: RequestInit) => Promise<Response>;

/** What every call accepts. */
export interface CallOptions {
  /** Aborting cancels the request; the call then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

interface RequestOptions extends CallOptions {
  readonly body?: unknown;
  readonly admin?: boolean;
  readonly headers?: Record<string, string>;
}

/**
 * Longest error body read from a refused request. A node's errors are a few hundred bytes;
 * anything longer is not the RPC contract and is cut rather than buffered whole.
 */
const MAX_ERROR_TEXT_CHARS = 4096;

/** Sends requests to one node and turns its answers into values or `MutualError`s. */
export class Http {
  readonly base: string;
  readonly #token: string | undefined;
  readonly #fetch: FetchFn;

  constructor(url: string, token: string | undefined, fetchFn: FetchFn | undefined) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new MutualError('VALIDATION_FAILED', `the node URL "${url.slice(0, 200)}" is not a URL (for example http://127.0.0.1:8547)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new MutualError('VALIDATION_FAILED', `the node URL must start with http:// or https://, not ${parsed.protocol}`);
    }
    // Concatenated rather than resolved with `new URL(path, base)`, so that a node served under
    // a path prefix (behind a proxy) keeps its prefix.
    this.base = url.replace(/\/+$/, '');
    this.#token = token;
    this.#fetch = fetchFn ?? ((u, init) => globalThis.fetch(u, init));
  }

  /** A JSON request; resolves with the parsed body of a 2xx answer. */
  async json<T>(method: 'GET' | 'POST', path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, opts);
    const text = await this.#read(res, opts.signal);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new MutualError('UNEXPECTED_RESPONSE', `the node answered ${method} ${path} with ${res.status} and a body that is not JSON`);
    }
  }

  /** Sends a request and returns the response of a 2xx answer, its body unread. */
  async send(method: 'GET' | 'POST', path: string, opts: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    // The admin token goes only to admin routes: nothing else needs to see it.
    if (opts.admin && this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    const init: RequestInit = { method, headers };
    if (opts.body !== undefined) init.body = JSON.stringify(opts.body);
    if (opts.signal) init.signal = opts.signal;
    let res: Response;
    try {
      res = await this.#fetch(this.base + path, init);
    } catch (err) {
      throw this.#networkError(err, opts.signal);
    }
    if (!res.ok) throw await this.#refusal(res, method, path, opts.signal);
    return res;
  }

  async #read(res: Response, signal: AbortSignal | undefined): Promise<string> {
    try {
      return await res.text();
    } catch (err) {
      throw this.#networkError(err, signal);
    }
  }

  #networkError(err: unknown, signal: AbortSignal | undefined): unknown {
    // A cancelled call is the caller's decision, not a fault of the node.
    if (signal?.aborted) return signal.reason;
    return new MutualError('NODE_UNREACHABLE', `cannot reach the node at ${this.base}: ${describe(err)}`, { cause: err });
  }

  /** The `{ error: { code, message } }` of a refused request as a MutualError. */
  async #refusal(res: Response, method: string, path: string, signal: AbortSignal | undefined): Promise<unknown> {
    let text: string;
    try {
      text = (await this.#read(res, signal)).slice(0, MAX_ERROR_TEXT_CHARS);
    } catch (err) {
      return err;
    }
    let code: unknown;
    let message: unknown;
    try {
      const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
      code = body.error?.code;
      message = body.error?.message;
    } catch {
      // not JSON: reported below
    }
    const details = { status: res.status, method, path };
    if (typeof code === 'string' && isCode(code)) {
      return new MutualError(code, typeof message === 'string' ? message : undefined, { details });
    }
    const what = typeof code === 'string' ? `the unknown code ${code.slice(0, 64)}` : 'no error code';
    return new MutualError('UNEXPECTED_RESPONSE', `the node refused ${method} ${path} with ${res.status} and ${what}`, { details });
  }
}

function describe(err: unknown): string {
  // Node's fetch reports "fetch failed" and puts the reason (ECONNREFUSED, ENOTFOUND...) in `cause`.
  const cause = (err as { cause?: unknown } | null)?.cause;
  if (cause instanceof Error && cause.message) return cause.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
