import { formatAmount, formatBankId } from '@mutual/codec';
import { PROTOCOL_VERSION } from '@mutual/protocol';
import type { LedgerStore } from '@mutual/store';
import type { FastifyInstance } from 'fastify';
import { decimalSchema, errors, ref } from '../schemas.ts';
import { headJson } from '../views.ts';

const statusResponse = {
  type: 'object',
  properties: {
    bank: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, bioregion: { type: 'string' } } },
    version: { type: 'string' },
    protocolVersion: { type: 'integer' },
    log: { type: 'object', properties: { size: { type: 'integer' } } },
    head: ref('SignedHead'),
    rates: { type: 'array', items: { type: 'object', properties: { category: { type: 'string' }, rate: decimalSchema } } },
    totals: { type: 'object', properties: { issued: decimalSchema, retired: decimalSchema, accounts: { type: 'integer' } } },
  },
} as const;

/** `GET /v1/status`: who the bank is and where its log stands. */
export function statusRoutes(app: FastifyInstance, deps: { store: LedgerStore; version: string }): void {
  const { store } = deps;
  app.get('/v1/status', { schema: { tags: ['ledger'], response: { 200: statusResponse, ...errors(429) } } }, async () => {
    // The head, totals and rates of the last durable commit, read together.
    const head = store.head;
    const totals = store.totals;
    return {
      bank: { id: formatBankId(store.bank.key), name: store.bank.name, bioregion: store.bank.bioregion },
      version: deps.version,
      protocolVersion: PROTOCOL_VERSION,
      log: { size: head.size },
      head: headJson(head),
      rates: [...store.rates].map(([category, milli]) => ({ category, rate: formatAmount(BigInt(milli)) })),
      totals: { issued: formatAmount(totals.issued), retired: formatAmount(totals.retired), accounts: Number(totals.accounts) },
    };
  });
}
