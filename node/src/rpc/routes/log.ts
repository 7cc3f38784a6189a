import { toBase64 } from '@mutual/codec';
import { MutualError } from '@mutual/interface';
import type { LedgerStore } from '@mutual/store';
import type { FastifyInstance } from 'fastify';
import { entryJson } from '../entry-json.ts';
import { intParam, uintText } from '../params.ts';
import { base64Schema, errors, hexSchema, ref } from '../schemas.ts';
import { headJson } from '../views.ts';

/** Entries per page of the raw log download (`limit` of `GET /v1/entries`). */
export const RAW_ENTRIES_LIMIT = { default: 1000, max: 1000 } as const;

const hashList = { type: 'array', items: base64Schema } as const;
const MAX_INDEX = Number.MAX_SAFE_INTEGER;

/** The log as auditors read it: heads, entries with inclusion proofs, raw pages, consistency proofs. */
export function logRoutes(app: FastifyInstance, deps: { store: LedgerStore }): void {
  const { store } = deps;

  app.get('/v1/head', { schema: { tags: ['log'], response: { 200: ref('SignedHead'), ...errors(429) } } }, async () => headJson(store.head));

  app.get<{ Params: { size: string } }>(
    '/v1/heads/:size',
    {
      schema: {
        tags: ['log'],
        params: { type: 'object', required: ['size'], properties: { size: uintText } },
        response: { 200: ref('SignedHead'), ...errors(400, 404, 429) },
      },
    },
    async (request) => {
      const size = intParam(request.params.size, 'params.size', 0, MAX_INDEX);
      const head = size <= store.size ? await store.getHead(size) : undefined;
      if (!head) throw new MutualError('NOT_FOUND', `no commit of this bank ended at size ${size}`);
      return headJson(head);
    },
  );

  app.get<{ Params: { index: string } }>(
    '/v1/entries/:index',
    {
      schema: {
        tags: ['log'],
        params: { type: 'object', required: ['index'], properties: { index: uintText } },
        response: {
          200: {
            type: 'object',
            properties: {
              entry: ref('Entry'),
              proof: { type: 'object', properties: { treeSize: { type: 'integer' }, path: hashList } },
              head: ref('SignedHead'),
            },
          },
          ...errors(400, 404, 429),
        },
      },
    },
    async (request) => {
      const index = intParam(request.params.index, 'params.index', 0, MAX_INDEX);
      // One head for both the proof and the answer, whatever commits meanwhile.
      const head = store.head;
      if (index >= head.size) throw new MutualError('NOT_FOUND', `no entry ${index}: the log has ${head.size} entries`);
      const [bytes, path] = await Promise.all([store.getEntry(index), store.inclusionProof(index, head.size)]);
      if (!bytes) throw new MutualError('NOT_FOUND', `no entry ${index}`);
      return { entry: entryJson(bytes), proof: { treeSize: head.size, path: path.map(toBase64) }, head: headJson(head) };
    },
  );

  app.get<{ Querystring: { from?: string; limit?: string } }>(
    '/v1/entries',
    {
      schema: {
        tags: ['log'],
        querystring: { type: 'object', additionalProperties: false, properties: { from: uintText, limit: uintText } },
        response: {
          200: { type: 'object', properties: { from: { type: 'integer' }, entries: hashList, size: { type: 'integer' } } },
          ...errors(400, 429),
        },
      },
    },
    async (request) => {
      const from = intParam(request.query.from, 'querystring.from', 0, MAX_INDEX, 0);
      const limit = intParam(request.query.limit, 'querystring.limit', 1, RAW_ENTRIES_LIMIT.max, RAW_ENTRIES_LIMIT.default);
      const size = store.size;
      if (from > size) throw new MutualError('INVALID_RANGE', `from (${from}) is past the end of the log (${size} entries)`);
      const entries = await store.getEntries(from, Math.min(size, from + limit));
      return { from, entries: entries.map(toBase64), size };
    },
  );

  app.get<{ Querystring: { from?: string; to?: string } }>(
    '/v1/consistency',
    {
      schema: {
        tags: ['log'],
        querystring: { type: 'object', additionalProperties: false, required: ['from', 'to'], properties: { from: uintText, to: uintText } },
        response: {
          200: { type: 'object', properties: { from: { type: 'integer' }, to: { type: 'integer' }, path: hashList } },
          ...errors(400, 429),
        },
      },
    },
    async (request) => {
      const from = intParam(request.query.from, 'querystring.from', 0, MAX_INDEX);
      const to = intParam(request.query.to, 'querystring.to', 0, MAX_INDEX);
      const path = await store.consistencyProof(from, to);
      return { from, to, path: path.map(toBase64) };
    },
  );
}
