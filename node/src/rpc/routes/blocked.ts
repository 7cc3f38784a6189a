import { formatBankId, parseBankId } from '@mutual/codec';
import { LIMITS } from '@mutual/interface';
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import { errors } from '../schemas.ts';

/** What the routes need of the mesh to cut banks off. */
export interface BlockView {
  block(bank: Uint8Array): void;
  unblock(bank: Uint8Array): void;
  blocked(): Uint8Array[];
}

const listSchema = { type: 'object', properties: { banks: { type: 'array', items: { type: 'string' } } } } as const;

/**
 * `GET /v1/peers/blocked` and `PUT /v1/peers/blocked` (admin): the banks this node refuses
 * connections with, either way. Setting the list closes the connections to newly blocked
 * banks and dials unblocked ones again. Held in memory: a restart clears it.
 */
export function blockedRoutes(app: FastifyInstance, deps: { mesh: BlockView; admin: onRequestAsyncHookHandler }): void {
  const { mesh } = deps;
  const list = () => ({ banks: mesh.blocked().map(formatBankId) });
  app.get('/v1/peers/blocked', { schema: { tags: ['mesh'], response: { 200: listSchema, ...errors(429) } } }, async () => list());
  app.put<{ Body: { banks: string[] } }>(
    '/v1/peers/blocked',
    {
      onRequest: deps.admin,
      schema: {
        tags: ['mesh'],
        security: [{ admin: [] }],
        summary: 'Set the banks this node refuses connections with (until unblocked or restarted)',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['banks'],
          properties: { banks: { type: 'array', maxItems: LIMITS.MAX_PEERS, items: { type: 'string' } } },
        },
        response: { 200: listSchema, ...errors(400, 401, 413, 415, 429) },
      },
    },
    async (request) => {
      // Both sides keyed by the canonical text: an ID may be sent in upper case, and a bank
      // already blocked must not be unblocked and blocked again (unblocking redials it).
      const wanted = new Map(request.body.banks.map((b) => parseBankId(b)).map((key) => [formatBankId(key), key]));
      const now = new Map(mesh.blocked().map((b) => [formatBankId(b), b]));
      for (const [id, key] of now) if (!wanted.has(id)) mesh.unblock(key);
      for (const [id, key] of wanted) if (!now.has(id)) mesh.block(key);
      return list();
    },
  );
}
