import { MutualError } from '@mutual/interface';
import type { FastifyInstance } from 'fastify';
import type { NodeMetrics } from '../metrics.ts';
import { errors } from '../schemas.ts';

const statusSchema = (value: string) => ({ type: 'object', properties: { status: { type: 'string', enum: [value] } } }) as const;

/** Liveness, readiness and Prometheus metrics: never rate limited, monitors poll them. */
export function healthRoutes(app: FastifyInstance, deps: { isReady: () => boolean; failed: () => boolean; metrics: NodeMetrics }): void {
  const noLimit = { rateLimit: false } as const;
  app.get('/healthz', { config: noLimit, schema: { tags: ['health'], response: { 200: statusSchema('ok') } } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: noLimit, schema: { tags: ['health'], response: { 200: statusSchema('ready'), ...errors(503) } } }, async () => {
    if (deps.failed()) throw new MutualError('STORE_CLOSED', 'the ledger stopped after a failed write: restart the node');
    if (!deps.isReady()) throw new MutualError('NOT_READY', 'the node is starting or stopping');
    return { status: 'ready' };
  });

  app.get('/metrics', { config: noLimit, schema: { tags: ['health'], produces: ['text/plain'] } }, async (_request, reply) => {
    reply.type(deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
}
