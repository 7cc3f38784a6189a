import { formatAmount, formatBankId } from '@mutual/codec';
import type { FastifyInstance } from 'fastify';
import type { Ref, ReconciliationReport } from '../../reconcile.ts';
import { decimalSchema, errors } from '../schemas.ts';

/** What the route reads: the node's Reconciler (node/src/reconcile.ts). */
export interface ReconciliationView {
  report(): Promise<ReconciliationReport>;
  /** called when the RPC closes */
  stop?(): Promise<void>;
}

const str = { type: 'string' } as const;
const bankId = { type: 'string', description: 'bank ID, mbank1…' } as const;
const refSchema = {
  type: 'object',
  required: ['bank', 'index'],
  properties: { bank: bankId, index: { type: 'integer' } },
} as const;

const bankSchema = {
  type: 'object',
  required: ['bank', 'name', 'self', 'replicated', 'net', 'positions', 'conservation', 'problems'],
  properties: {
    bank: bankId,
    name: { type: ['string', 'null'], description: 'from its genesis entry; null when none of its log is held here' },
    self: { type: 'boolean' },
    replicated: { type: 'integer', description: 'entries of its log held here and reconciled' },
    net: { ...decimalSchema, description: 'its net position toward all other banks, as its log records it' },
    positions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['bank', 'sent', 'refunded', 'received', 'net'],
        properties: { bank: bankId, sent: decimalSchema, refunded: decimalSchema, received: decimalSchema, net: decimalSchema },
      },
    },
    conservation: {
      anyOf: [
        {
          type: 'object',
          required: ['ok', 'replayed', 'balances', 'issued', 'retired', 'sent', 'refunded', 'received', 'net', 'problem'],
          properties: {
            ok: { type: 'boolean' },
            replayed: { type: 'integer' },
            balances: decimalSchema,
            issued: decimalSchema,
            retired: decimalSchema,
            sent: decimalSchema,
            refunded: decimalSchema,
            received: decimalSchema,
            net: decimalSchema,
            problem: { type: ['string', 'null'] },
          },
        },
        { type: 'null' },
      ],
    },
    problems: { type: 'array', items: str },
  },
} as const;

const pairSchema = {
  type: 'object',
  required: ['banks', 'state', 'net', 'inFlight', 'inFlightCount', 'problems', 'problemCount'],
  properties: {
    banks: { type: 'array', items: bankId, minItems: 2, maxItems: 2 },
    state: { type: 'string', enum: ['matched', 'in-flight', 'mismatched'] },
    net: { type: 'array', items: decimalSchema, minItems: 2, maxItems: 2 },
    inFlight: {
      type: 'array',
      items: {
        type: 'object',
        required: ['kind', 'entry', 'amount', 'pending'],
        properties: {
          kind: { type: 'string', enum: ['unanswered', 'unrefunded', 'source-not-replicated', 'rejection-not-replicated'] },
          entry: refSchema,
          amount: decimalSchema,
          pending: decimalSchema,
        },
      },
    },
    inFlightCount: { type: 'integer' },
    problems: {
      type: 'array',
      items: {
        type: 'object',
        required: ['kind', 'message', 'entries'],
        properties: { kind: str, message: str, entries: { type: 'array', items: refSchema } },
      },
    },
    problemCount: { type: 'integer' },
  },
} as const;

const reconciliationResponse = {
  type: 'object',
  required: ['ok', 'self', 'banks', 'pairs', 'federation'],
  properties: {
    ok: { type: 'boolean' },
    self: bankId,
    banks: { type: 'array', items: bankSchema },
    pairs: { type: 'array', items: pairSchema },
    federation: {
      type: 'object',
      required: ['ok', 'positionsSum', 'inFlight', 'inFlightCount', 'problems'],
      properties: {
        ok: { type: 'boolean' },
        positionsSum: decimalSchema,
        inFlight: decimalSchema,
        inFlightCount: { type: 'integer' },
        problems: { type: 'array', items: str },
      },
    },
  },
} as const;

const refJson = (r: Ref) => ({ bank: formatBankId(r.bank), index: r.index });

/** The report as docs/RPC.md writes it: IDs as text, amounts as decimals. */
export function reconciliationJson(r: ReconciliationReport) {
  return {
    ok: r.ok,
    self: formatBankId(r.self),
    banks: r.banks.map((b) => ({
      bank: formatBankId(b.bank),
      name: b.name ?? null,
      self: b.self,
      replicated: b.replicated,
      net: formatAmount(b.net),
      positions: b.positions.map((p) => ({
        bank: formatBankId(p.bank),
        sent: formatAmount(p.position.sent),
        refunded: formatAmount(p.position.refunded),
        received: formatAmount(p.position.received),
        net: formatAmount(p.net),
      })),
      conservation: b.conservation
        ? {
            ok: b.conservation.ok,
            replayed: b.conservation.replayed,
            balances: formatAmount(b.conservation.balances),
            issued: formatAmount(b.conservation.issued),
            retired: formatAmount(b.conservation.retired),
            sent: formatAmount(b.conservation.sent),
            refunded: formatAmount(b.conservation.refunded),
            received: formatAmount(b.conservation.received),
            net: formatAmount(b.conservation.net),
            problem: b.conservation.problem ?? null,
          }
        : null,
      problems: [...b.problems],
    })),
    pairs: r.pairs.map((p) => ({
      banks: [formatBankId(p.banks[0]), formatBankId(p.banks[1])],
      state: p.state,
      net: [formatAmount(p.net[0]), formatAmount(p.net[1])],
      inFlight: p.inFlight.map((i) => ({ kind: i.kind, entry: refJson(i.entry), amount: formatAmount(i.amount), pending: formatAmount(i.pending) })),
      inFlightCount: p.inFlightCount,
      problems: p.problems.map((x) => ({ kind: x.kind, message: x.message, entries: x.entries.map(refJson) })),
      problemCount: p.problemCount,
    })),
    federation: {
      ok: r.federation.ok,
      positionsSum: formatAmount(r.federation.positionsSum),
      inFlight: formatAmount(r.federation.inFlight),
      inFlightCount: r.federation.inFlightCount,
      problems: [...r.federation.problems],
    },
  };
}

/** `GET /v1/reconciliation`: interbank transfers and positions across every log held here. */
export function reconciliationRoutes(app: FastifyInstance, deps: { reconciler: ReconciliationView }): void {
  const { reconciler } = deps;
  if (reconciler.stop) app.addHook('onClose', async () => reconciler.stop!());
  app.get('/v1/reconciliation', { schema: { tags: ['federation'], response: { 200: reconciliationResponse, ...errors(429) } } }, async () =>
    reconciliationJson(await reconciler.report()),
  );
}
