import { MutualError } from '@mutual/interface';
import { Http, type CallOptions, type FetchFn } from './http.ts';
import { parseSse } from './sse.ts';
import type {
  AccountInfo,
  AgreementProposal,
  AgreementView,
  AccountKindText,
  BankView,
  ConsistencyProof,
  Entry,
  EntryKind,
  EntryPage,
  EntryWithProof,
  InterbankState,
  InterbankTransfer,
  OpenedAccount,
  Peer,
  Reconciliation,
  Result,
  SignedHead,
  Statement,
  Status,
} from './types.ts';

/** Options of {@link MutualClient}. */
export interface ClientOptions {
  /** the node's RPC, e.g. `http://127.0.0.1:8547` */
  readonly url: string;
  /** the admin token, sent only to admin routes */
  readonly token?: string;
  /** a `fetch` to use instead of the global one */
  readonly fetch?: FetchFn;
}

/** Options of {@link MutualClient.events}. */
export interface EventsOptions extends CallOptions {
  /** the first entry index wanted: the stream replays from there, then follows live */
  readonly from?: number;
  /** only entries of these kinds (the node leaves the others out); all when absent */
  readonly kinds?: readonly EntryKind[];
}

function checkIndex(name: string, n: number, min = 0): number {
  if (!Number.isSafeInteger(n) || n < min) throw new MutualError('VALIDATION_FAILED', `${name} must be an integer >= ${min}, not ${String(n)}`);
  return n;
}

const id = (s: string) => encodeURIComponent(s);

/**
 * A client of one node's RPC (docs/RPC.md), one typed method per route. Refused requests
 * reject with `MutualError` carrying the node's code; a node that cannot be reached rejects
 * with `NODE_UNREACHABLE`. Rejected instructions are not errors: they are `Result`s.
 */
export class MutualClient {
  readonly #http: Http;

  constructor(options: ClientOptions) {
    this.#http = new Http(options.url, options.token, options.fetch);
  }

  /** The node URL, without a trailing slash. */
  get url(): string {
    return this.#http.base;
  }

  /** `GET /v1/status`: the bank, its log size and latest head, rates and totals. */
  async status(o?: CallOptions): Promise<Status> {
    return this.#http.json('GET', '/v1/status', { ...o });
  }

  /** `GET /v1/head`: the latest signed tree head. */
  async head(o?: CallOptions): Promise<SignedHead> {
    return this.#http.json('GET', '/v1/head', { ...o });
  }

  /** `GET /v1/heads/:size`: the head the bank signed when its log had `size` entries. */
  async headAt(size: number, o?: CallOptions): Promise<SignedHead> {
    return this.#http.json('GET', `/v1/heads/${checkIndex('size', size, 1)}`, { ...o });
  }

  /** `GET /v1/accounts/:id`: balance and sequence numbers of an account. */
  async account(account: string, o?: CallOptions): Promise<AccountInfo> {
    return this.#http.json('GET', `/v1/accounts/${id(account)}`, { ...o });
  }

  /** `GET /v1/accounts/:id/entries`: an account's statement, newest first. */
  async statement(account: string, o: CallOptions & { readonly limit?: number; readonly before?: number } = {}): Promise<Statement> {
    const q = new URLSearchParams();
    if (o.limit !== undefined) q.set('limit', String(checkIndex('limit', o.limit, 1)));
    if (o.before !== undefined) q.set('before', String(checkIndex('before', o.before)));
    const query = q.size > 0 ? `?${q}` : '';
    return this.#http.json('GET', `/v1/accounts/${id(account)}/entries${query}`, { ...(o.signal ? { signal: o.signal } : {}) });
  }

  /** `POST /v1/accounts` (admin): opens an account for a holder key. */
  async openAccount(a: { readonly publicKey: string; readonly kind: AccountKindText; readonly label?: string }, o?: CallOptions): Promise<OpenedAccount> {
    const body: Record<string, string> = { publicKey: a.publicKey, kind: a.kind };
    if (a.label !== undefined) body.label = a.label;
    return this.#http.json('POST', '/v1/accounts', { ...o, body, admin: true });
  }

  /** `POST /v1/transfers`: signed transfers and retirements (base64), one result each, in order. */
  async submitTransfers(signed: readonly string[], o?: CallOptions): Promise<Result[]> {
    return (await this.#http.json<{ results: Result[] }>('POST', '/v1/transfers', { ...o, body: { instructions: signed } })).results;
  }

  /** `POST /v1/labor`: signed labor records (base64), one result each, in order. */
  async submitLabor(signed: readonly string[], o?: CallOptions): Promise<Result[]> {
    return (await this.#http.json<{ results: Result[] }>('POST', '/v1/labor', { ...o, body: { instructions: signed } })).results;
  }

  /** `GET /v1/entries/:index`: an entry with its inclusion proof against the latest head. */
  async entry(index: number, o?: CallOptions): Promise<EntryWithProof> {
    return this.#http.json('GET', `/v1/entries/${checkIndex('index', index)}`, { ...o });
  }

  /** `GET /v1/entries?from=&limit=`: raw entry bytes for auditors (at most 1000 a page). */
  async entries(from: number, limit?: number, o?: CallOptions): Promise<EntryPage> {
    const q = new URLSearchParams({ from: String(checkIndex('from', from)) });
    if (limit !== undefined) q.set('limit', String(checkIndex('limit', limit, 1)));
    return this.#http.json('GET', `/v1/entries?${q}`, { ...o });
  }

  /** `GET /v1/consistency?from=&to=`: an RFC 9162 consistency proof between two tree sizes. */
  async consistency(from: number, to: number, o?: CallOptions): Promise<ConsistencyProof> {
    const q = new URLSearchParams({ from: String(checkIndex('from', from, 1)), to: String(checkIndex('to', to, 1)) });
    return this.#http.json('GET', `/v1/consistency?${q}`, { ...o });
  }

  /** `GET /v1/peers`: the node's mesh connections (bank, name and bioregion once the hello verified). */
  async peers(o?: CallOptions): Promise<Peer[]> {
    return (await this.#http.json<{ peers: Peer[] }>('GET', '/v1/peers', { ...o })).peers;
  }

  /** `GET /v1/banks`: this bank and every bank the node knows, with how much of each it replicates. */
  async banks(o?: CallOptions): Promise<BankView[]> {
    return (await this.#http.json<{ banks: BankView[] }>('GET', '/v1/banks', { ...o })).banks;
  }

  /** `GET /v1/interbank/:index`: an interbank transfer this bank sent (by its outgoing entry) and where it stands. */
  async interbank(index: number, o?: CallOptions): Promise<InterbankTransfer> {
    return this.#http.json('GET', `/v1/interbank/${checkIndex('index', index, 0)}`, { ...o });
  }

  /** `GET /v1/interbank`: interbank transfers this bank sent, newest first. */
  async interbankTransfers(q: CallOptions & { readonly state?: InterbankState; readonly limit?: number; readonly before?: number } = {}): Promise<InterbankTransfer[]> {
    const params = new URLSearchParams();
    if (q.state !== undefined) params.set('state', q.state);
    if (q.limit !== undefined) params.set('limit', String(checkIndex('limit', q.limit, 1)));
    if (q.before !== undefined) params.set('before', String(checkIndex('before', q.before, 0)));
    const qs = params.size > 0 ? `?${params}` : '';
    return (await this.#http.json<{ transfers: InterbankTransfer[] }>('GET', `/v1/interbank${qs}`, { ...q })).transfers;
  }

  /** `GET /v1/reconciliation`: interbank transfers and positions of every pair of banks, across the logs the node holds. */
  async reconciliation(o?: CallOptions): Promise<Reconciliation> {
    return this.#http.json('GET', '/v1/reconciliation', { ...o });
  }

  /** `POST /v1/agreements` (admin): proposes a federation agreement, signed by this bank, and gossips it. */
  async proposeAgreement(p: AgreementProposal, o?: CallOptions): Promise<{ id: string; agreement: AgreementView }> {
    const body: Record<string, unknown> = { members: [...p.members], clearingLimit: p.clearingLimit };
    if (p.rates !== undefined) body.rates = p.rates.map((r) => ({ category: r.category, rate: r.rate }));
    if (p.amends !== undefined) body.amends = p.amends;
    return this.#http.json('POST', '/v1/agreements', { ...o, body, admin: true });
  }

  /** `POST /v1/agreements/:id/sign` (admin): this bank signs the agreement; it adopts it once complete. */
  async signAgreement(agreementId: string, o?: CallOptions): Promise<{ id: string; agreement: AgreementView }> {
    if (!/^[0-9a-f]{64}$/.test(agreementId)) throw new MutualError('INVALID_ENCODING', 'an agreement ID is 64 lower-case hex digits');
    return this.#http.json('POST', `/v1/agreements/${agreementId}/sign`, { ...o, admin: true });
  }

  /** `GET /v1/agreements`: every federation agreement the node has seen, with who signed. */
  async agreements(o?: CallOptions): Promise<AgreementView[]> {
    return (await this.#http.json<{ agreements: AgreementView[] }>('GET', '/v1/agreements', { ...o })).agreements;
  }

  /**
   * `GET /v1/events`: every committed entry, in order, as the node commits it (with `kinds`,
   * those of these kinds only). With `from`, the node first replays the entries from that index. Ends when the node closes the stream;
   * to resume, call again with `from` = the last index + 1. Abort `signal` or `break` to stop.
   */
  async *events(o: EventsOptions = {}): AsyncGenerator<Entry> {
    const params: string[] = [];
    if (o.from !== undefined) params.push(`from=${checkIndex('from', o.from)}`);
    if (o.kinds !== undefined) {
      if (o.kinds.length === 0) throw new MutualError('VALIDATION_FAILED', 'kinds must name at least one entry kind');
      params.push(`kinds=${o.kinds.map(encodeURIComponent).join(',')}`);
    }
    const query = params.length > 0 ? `?${params.join('&')}` : '';
    const res = await this.#http.send('GET', `/v1/events${query}`, {
      headers: { accept: 'text/event-stream' },
      ...(o.signal ? { signal: o.signal } : {}),
    });
    if (!res.body) throw new MutualError('UNEXPECTED_RESPONSE', 'the node answered /v1/events with no body');
    try {
      for await (const m of parseSse(res.body)) {
        if (m.event !== 'entry') continue;
        let entry: Entry;
        try {
          entry = JSON.parse(m.data) as Entry;
        } catch {
          throw new MutualError('UNEXPECTED_RESPONSE', `event ${m.id ?? '?'} of /v1/events is not JSON`);
        }
        yield entry;
      }
    } catch (err) {
      if (o.signal?.aborted) throw o.signal.reason;
      if (err instanceof MutualError) throw err;
      if (err instanceof RangeError) throw new MutualError('UNEXPECTED_RESPONSE', err.message);
      throw new MutualError('NODE_UNREACHABLE', `the event stream from ${this.url} broke: ${(err as Error).message}`, { cause: err });
    }
  }
}
