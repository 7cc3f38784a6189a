import { formatAmount, formatBankId, fromHex, parseAmount, parseBankId, toHex } from '@mutual/codec';
import { LIMITS } from '@mutual/interface';
import { hasSigned, type AgreementView } from '@mutual/ledger';
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import type { AgreementStatus, Federation } from '../../federation.ts';
import { decimalSchema, errors } from '../schemas.ts';

interface ProposeBody {
  members: string[];
  rates?: Array<{ category: string; rate: string }>;
  clearingLimit: string;
  amends?: string;
}

const idHex = { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'agreement ID: SHA-256 of the Agreement bytes, hex' } as const;
const str = { type: 'string' } as const;
const ratesSchema = {
  type: 'array',
  items: { type: 'object', additionalProperties: false, required: ['category', 'rate'], properties: { category: str, rate: decimalSchema } },
} as const;

const agreementSchema = {
  type: 'object',
  properties: {
    id: idHex,
    bioregion: str,
    members: { type: 'array', items: { type: 'object', properties: { bank: str, name: str, signed: { type: 'boolean' } } } },
    rates: ratesSchema,
    clearingLimit: decimalSchema,
    previous: { anyOf: [idHex, { type: 'null' }] },
    createdMs: { type: 'integer' },
    complete: { type: 'boolean' },
    adopted: { type: 'boolean' },
    inForce: { type: 'boolean' },
  },
} as const;

/** The JSON of one agreement (docs/RPC.md, "Federation agreements"). */
export function agreementJson(s: AgreementStatus): object {
  const a: AgreementView = s.agreement;
  return {
    id: toHex(a.id),
    bioregion: a.bioregion,
    members: a.members.map((m) => ({ bank: formatBankId(m.bank), name: m.name, signed: hasSigned(a, m.bank) })),
    rates: a.rates.map(([category, rateMilli]) => ({ category, rate: formatAmount(BigInt(rateMilli)) })),
    clearingLimit: formatAmount(a.clearingLimit),
    previous: a.previous ? toHex(a.previous) : null,
    createdMs: Number(a.createdMs),
    complete: a.complete,
    adopted: s.adopted,
    inForce: s.inForce,
  };
}

/** Proposing and signing federation agreements (admin), and listing those this node has seen. */
export function agreementRoutes(app: FastifyInstance, deps: { federation: Federation; admin: onRequestAsyncHookHandler }): void {
  const { federation } = deps;
  const statusOf = async (id: Uint8Array) => {
    const row = (await federation.list()).find((s) => toHex(s.agreement.id) === toHex(id));
    return row ? agreementJson(row) : undefined;
  };

  app.post<{ Body: ProposeBody }>(
    '/v1/agreements',
    {
      onRequest: deps.admin,
      schema: {
        tags: ['agreements'],
        security: [{ admin: [] }],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['members', 'clearingLimit'],
          properties: {
            members: { type: 'array', minItems: 1, maxItems: LIMITS.MAX_AGREEMENT_MEMBERS, items: str },
            rates: { ...ratesSchema, maxItems: LIMITS.MAX_RATE_CATEGORIES },
            clearingLimit: decimalSchema,
            amends: idHex,
          },
        },
        response: { 201: { type: 'object', properties: { id: idHex, agreement: agreementSchema } }, ...errors(400, 401, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const view = await federation.propose({
        members: b.members.map((m) => parseBankId(m)),
        ...(b.rates ? { rates: b.rates.map((r) => [r.category, Number(parseAmount(r.rate))] as const) } : {}),
        clearingLimit: parseAmount(b.clearingLimit, { allowZero: true }),
        ...(b.amends ? { amends: fromHex(b.amends, 32) } : {}),
      });
      reply.code(201);
      return { id: toHex(view.id), agreement: await statusOf(view.id) };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/agreements/:id/sign',
    {
      onRequest: deps.admin,
      schema: {
        tags: ['agreements'],
        security: [{ admin: [] }],
        params: { type: 'object', required: ['id'], properties: { id: idHex } },
        response: { 200: { type: 'object', properties: { id: idHex, agreement: agreementSchema } }, ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const view = await federation.signAgreement(fromHex(request.params.id, 32));
      return { id: toHex(view.id), agreement: await statusOf(view.id) };
    },
  );

  app.get(
    '/v1/agreements',
    { schema: { tags: ['agreements'], response: { 200: { type: 'object', properties: { agreements: { type: 'array', items: agreementSchema } } }, ...errors(429) } } },
    async () => ({ agreements: (await federation.list()).map(agreementJson) }),
  );
}
