import { formatAccountId, parseAccountId, parsePublicKey } from '@mutual/codec';
import { LIMITS, MutualError } from '@mutual/interface';
import type { LedgerStore } from '@mutual/store';
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import { accountKindNumber, type AccountKindText } from '../account-kind.ts';
import { entryJson } from '../entry-json.ts';
import { refusal } from '../errors.ts';
import { intParam, uintText } from '../params.ts';
import { accountIdSchema, accountKindSchema, decimalSchema, errors, publicKeySchema, ref } from '../schemas.ts';
import { accountJson } from '../views.ts';

/** Statement page sizes: `limit` of `GET /v1/accounts/:id/entries`. */
export const STATEMENT_LIMIT = { default: 50, max: 200 } as const;

interface OpenBody {
  publicKey: string;
  kind: AccountKindText;
  label?: string;
}

const idParams = { type: 'object', required: ['id'], properties: { id: accountIdSchema } } as const;

const accountResponse = {
  type: 'object',
  properties: {
    account: accountIdSchema,
    kind: accountKindSchema,
    label: { type: 'string' },
    publicKey: publicKeySchema,
    balance: decimalSchema,
    sequence: { type: 'string', description: 'last applied sequence number' },
    nextSequence: { type: 'string', description: 'the sequence number to sign next' },
    openedIndex: { type: 'integer' },
  },
} as const;

/** Opening accounts (admin), reading them and their statements. */
export function accountRoutes(app: FastifyInstance, deps: { store: LedgerStore; admin: onRequestAsyncHookHandler }): void {
  const { store } = deps;

  app.post<{ Body: OpenBody }>(
    '/v1/accounts',
    {
      // Before the body is even read: a stranger learns nothing from how a body is judged.
      onRequest: deps.admin,
      schema: {
        tags: ['accounts'],
        security: [{ admin: [] }],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['publicKey', 'kind'],
          properties: { publicKey: publicKeySchema, kind: accountKindSchema, label: { type: 'string', maxLength: LIMITS.MAX_LABEL_BYTES } },
        },
        response: {
          201: { type: 'object', properties: { account: accountIdSchema, kind: accountKindSchema, entryIndex: { type: 'integer' } } },
          ...errors(400, 401, 409, 413, 415, 429),
        },
      },
    },
    async (request, reply) => {
      const { publicKey, kind, label = '' } = request.body;
      const holderKey = parsePublicKey(publicKey);
      const [r] = await store.submit([{ type: 'openAccount', holderKey, kind: accountKindNumber(kind), label }]);
      if (!r) throw new MutualError('INTERNAL', 'the store gave no result');
      if (r.code !== 'APPLIED') throw refusal(r.code, r.message);
      if (!r.account) throw new MutualError('INTERNAL', 'the store did not name the account it opened');
      reply.code(201);
      return { account: formatAccountId(r.account), kind, entryIndex: r.entryIndex };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/accounts/:id',
    { schema: { tags: ['accounts'], params: idParams, response: { 200: accountResponse, ...errors(400, 404, 429) } } },
    async (request) => {
      const id = parseAccountId(request.params.id);
      const a = await store.getAccount(id);
      if (!a) throw new MutualError('NOT_FOUND', `no account ${request.params.id} at this bank`);
      return accountJson(a);
    },
  );

  app.get<{ Params: { id: string }; Querystring: { limit?: string; before?: string } }>(
    '/v1/accounts/:id/entries',
    {
      schema: {
        tags: ['accounts'],
        params: idParams,
        querystring: { type: 'object', additionalProperties: false, properties: { limit: uintText, before: uintText } },
        response: {
          200: {
            type: 'object',
            properties: { entries: { type: 'array', items: ref('Entry') }, next: { type: ['integer', 'null'] } },
          },
          ...errors(400, 404, 429),
        },
      },
    },
    async (request) => {
      const id = parseAccountId(request.params.id);
      const limit = intParam(request.query.limit, 'querystring.limit', 1, STATEMENT_LIMIT.max, STATEMENT_LIMIT.default);
      const before = request.query.before === undefined ? undefined : intParam(request.query.before, 'querystring.before', 0, Number.MAX_SAFE_INTEGER);
      if (!(await store.getAccount(id))) throw new MutualError('NOT_FOUND', `no account ${request.params.id} at this bank`);
      // One more than asked tells whether there is a next page.
      const indexes = await store.history(id, { ...(before === undefined ? {} : { before }), limit: limit + 1 });
      const page = indexes.slice(0, limit);
      const entries = [];
      for (const i of page) {
        const bytes = await store.getEntry(i);
        if (!bytes) throw new MutualError('DB_CORRUPT', `database is damaged: entry ${i} of an account history is missing`);
        entries.push(entryJson(bytes));
      }
      return { entries, next: indexes.length > limit ? page[page.length - 1]! : null };
    },
  );
}
