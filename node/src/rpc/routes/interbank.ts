import { formatAccountId, formatAmount, formatBankId } from '@mutual/codec';
import { MutualError } from '@mutual/interface';
import type { LedgerStore, OutgoingState, OutgoingStatus } from '@mutual/store';
import type { FastifyInstance } from 'fastify';
import type { Clearing } from '../../clearing.ts';
import { LiveStream, serveStream, type BoundedStream } from '../event-stream.ts';
import { intParam, uintText } from '../params.ts';
import { errors, ref } from '../schemas.ts';

/** `InterbankTransfer` of docs/RPC.md. */
export interface InterbankJson {
  index: number;
  state: OutgoingState;
  payer: string;
  payeeBank: string;
  payee: string;
  amount: string;
  /** the payee bank's credit (settled) */
  credit?: { bank: string; index: number; leafHash: string };
  /** this bank's refund entry (refunded) */
  refundIndex?: number;
}

export function interbankJson(o: OutgoingStatus): InterbankJson {
  return {
    index: o.index,
    state: o.state,
    payer: formatAccountId(o.payer),
    payeeBank: formatBankId(o.bank),
    payee: formatAccountId(o.payee),
    amount: formatAmount(o.amount),
    ...(o.credit ? { credit: { bank: formatBankId(o.credit.bank), index: o.credit.index, leafHash: Buffer.from(o.credit.leafHash).toString('hex') } } : {}),
    ...(o.refundIndex !== undefined ? { refundIndex: o.refundIndex } : {}),
  };
}

const STATES = ['pending', 'settled', 'refunded'] as const;

const transferSchema = {
  $id: 'InterbankTransfer',
  type: 'object',
  required: ['index', 'state', 'payer', 'payeeBank', 'payee', 'amount'],
  properties: {
    index: { type: 'integer', description: "the outgoing entry's index in this bank's log" },
    state: { type: 'string', enum: STATES },
    payer: { type: 'string' },
    payeeBank: { type: 'string' },
    payee: { type: 'string' },
    amount: { type: 'string' },
    credit: ref('EntryRef'),
    refundIndex: { type: 'integer' },
  },
} as const;

/**
 * `GET /v1/interbank`, `GET /v1/interbank/:index` and `GET /v1/interbank/events`: the
 * interbank transfers this bank sent and where each stands (pending: the payer is debited
 * here; settled: the payee's bank credited it; refunded: it rejected it and the payer got the
 * amount back).
 */
export function interbankRoutes(app: FastifyInstance, deps: { store: LedgerStore; clearing: Clearing | undefined; maxBufferedEvents: number }): void {
  const { store, clearing } = deps;
  app.addSchema(transferSchema);

  app.get<{ Querystring: { state?: OutgoingState; before?: string; limit?: string } }>(
    '/v1/interbank',
    {
      schema: {
        tags: ['interbank'],
        summary: 'Interbank transfers this bank sent, newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { state: { type: 'string', enum: STATES }, before: uintText, limit: uintText },
        },
        response: { 200: { type: 'object', properties: { transfers: { type: 'array', items: ref('InterbankTransfer') }, next: { type: 'integer', minimum: 0 } } }, ...errors(400, 429) },
      },
    },
    async (request) => {
      const limit = intParam(request.query.limit, 'querystring.limit', 1, 1000, 100);
      const before = request.query.before === undefined ? undefined : intParam(request.query.before, 'querystring.before', 0, Number.MAX_SAFE_INTEGER);
      const list = await store.listOutgoing({ limit, ...(before !== undefined ? { before } : {}), ...(request.query.state ? { state: request.query.state } : {}) });
      return { transfers: list.transfers.map(interbankJson), ...(list.next !== undefined ? { next: list.next } : {}) };
    },
  );

  app.get<{ Params: { index: string } }>(
    '/v1/interbank/:index',
    {
      schema: {
        tags: ['interbank'],
        summary: 'One interbank transfer this bank sent, by the index of its outgoing entry',
        params: { type: 'object', properties: { index: uintText }, required: ['index'] },
        response: { 200: ref('InterbankTransfer'), ...errors(400, 404, 429) },
      },
    },
    async (request) => {
      const index = intParam(request.params.index, 'params.index', 0, Number.MAX_SAFE_INTEGER);
      const o = await store.getOutgoing(index);
      if (!o) throw new MutualError('NOT_FOUND', `entry ${index} is not an interbank transfer of this bank`);
      return interbankJson(o);
    },
  );

  const open = new Set<BoundedStream>();
  app.addHook('preClose', async () => {
    for (const s of open) s.stop();
  });
  app.get(
    '/v1/interbank/events',
    {
      sse: { kind: 'manual' },
      schema: {
        tags: ['interbank', 'events'],
        summary: 'Server-Sent Events: every change of an interbank transfer this bank sent (event "interbank", data = InterbankTransfer), live only',
        produces: ['text/event-stream'],
        response: errors(429),
      },
    },
    async (request, reply) => {
      const sse = reply.sse;
      const stream = new LiveStream<OutgoingStatus>(
        (publish) => clearing?.subscribe((e) => publish(e.transfer)) ?? (() => {}),
        (transfer) => sse.send({ event: 'interbank', data: interbankJson(transfer) }),
        deps.maxBufferedEvents,
      );
      serveStream(reply, stream, open, () => request.log.warn({ module: 'interbank' }, 'interbank event stream client fell too far behind; disconnected'));
    },
  );
}
