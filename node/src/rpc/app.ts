import { createRequire } from 'node:module';
import rateLimit from '@fastify/rate-limit';
import { fastifySSE } from '@fastify/sse';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { MutualError } from '@mutual/interface';
import type { LedgerStore } from '@mutual/store';
import fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { requireAdmin } from './auth.ts';
import { BODY_LIMIT_BYTES, CONNECTION_IDLE_TIMEOUT_MS, REQUEST_TIMEOUT_CHECK_MS, REQUEST_TIMEOUT_MS } from './body.ts';
import { handleClientError, handleError, handleNotFound } from './errors.ts';
import { EVENT_STREAM_DEFAULTS, type EventStreamOptions } from './event-stream.ts';
import { createMetrics } from './metrics.ts';
import type { Clearing } from '../clearing.ts';
import type { Federation } from '../federation.ts';
import { accountRoutes } from './routes/accounts.ts';
import { blockedRoutes, type BlockView } from './routes/blocked.ts';
import { agreementRoutes } from './routes/agreements.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { instructionRoutes } from './routes/instructions.ts';
import { interbankRoutes } from './routes/interbank.ts';
import { logRoutes } from './routes/log.ts';
import { meshRoutes, type MeshView } from './routes/mesh.ts';
import { reconciliationRoutes, type ReconciliationView } from './routes/reconciliation.ts';
import { statusRoutes } from './routes/status.ts';
import { SHARED_SCHEMAS } from './schemas.ts';

const { version: NODE_VERSION } = createRequire(import.meta.url)('../../package.json') as { version: string };

export { BODY_LIMIT_BYTES };

/** What the RPC needs, handed in by whoever wires the node. */
export interface AppDeps {
  readonly store: LedgerStore;
  /** The node's root logger; the app logs through `logger.child({ module: 'rpc' })`. */
  readonly logger: Logger;
  /** Bearer token of the admin routes. */
  readonly adminToken: string;
  /** Whether the node accepts work (`/readyz`); default: always. */
  readonly isReady?: () => boolean;
  /** Requests per `timeWindowMs` (default one minute) from one client address. */
  readonly rateLimit?: { readonly max: number; readonly timeWindowMs?: number };
  readonly events?: Partial<EventStreamOptions>;
  /** Interval of SSE comment lines that keep idle streams open through proxies. */
  readonly heartbeatMs?: number;
  /** The peer mesh, for `/v1/peers` and `/v1/banks`; without it they show this bank alone. */
  readonly mesh?: MeshView;
  /** Federation agreements (`/v1/agreements`); without it those routes are absent. */
  readonly federation?: Federation;
  /** Interbank clearing, for `/v1/interbank/events`; without it that stream stays silent. */
  readonly clearing?: Clearing;
  /** Reconciliation of interbank transfers (`/v1/reconciliation`); without it the route is absent. */
  readonly reconciler?: ReconciliationView;
  /** Milliseconds a client has to send a request's head (default REQUEST_TIMEOUT_MS). */
  readonly requestTimeoutMs?: number;
  /** Milliseconds a connection may stay idle (default CONNECTION_IDLE_TIMEOUT_MS); more than `heartbeatMs`. */
  readonly idleTimeoutMs?: number;
}

/**
 * Builds the RPC of docs/RPC.md on `deps.store` without listening, so that tests can use
 * `app.inject()` and the daemon can `listen` on the address it was given.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = fastify({
    // Typed as fastify's base logger so routes and plugins share one instance type.
    loggerInstance: deps.logger.child({ module: 'rpc' }) as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    // Clients that stall are let go (body.ts): a request head must arrive within
    // requestTimeoutMs (408 otherwise; Node checks every REQUEST_TIMEOUT_CHECK_MS rather than
    // its default 30 s), and a connection idle for idleTimeoutMs is closed.
    requestTimeout: deps.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
    connectionTimeout: deps.idleTimeoutMs ?? CONNECTION_IDLE_TIMEOUT_MS,
    http: { connectionsCheckingInterval: REQUEST_TIMEOUT_CHECK_MS },
    // Errors of the HTTP layer (not HTTP, headers too large, head too slow) in the one shape.
    clientErrorHandler: handleClientError,
    // Types are never coerced: `5` is not the string "5", a string is not a one-item array,
    // and unknown fields are refused rather than stripped (docs/RPC.md, "Errors").
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false } },
    // Streams are ended in preClose; connections idle between requests are cut at close.
    forceCloseConnections: 'idle',
    // Requests that arrive while closing get NOT_READY from the hook below, in the one error shape.
    return503OnClosing: false,
    // Each request is logged at debug (the hook below), not at info: a busy node answers
    // hundreds a second, and two synchronous log lines each would cost more than the request.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.addHook('onResponse', (request, reply, done) => {
    request.log.debug({ req: { method: request.method, url: request.url, remoteAddress: request.ip }, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime }, 'request completed');
    done();
  });
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async () => {
    if (closing) throw new MutualError('NOT_READY', 'the node is stopping');
  });
  // Bodies are JSON only: text/plain would otherwise reach the routes as a string.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(handleError);
  for (const s of SHARED_SCHEMAS) app.addSchema(s);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Mutual node RPC', version: NODE_VERSION, description: 'The RPC of a Mutual bank node (docs/RPC.md).' },
      components: { securitySchemes: { admin: { type: 'http', scheme: 'bearer', description: 'the token in <data>/admin.token' } } },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(rateLimit, {
    max: deps.rateLimit?.max ?? 600,
    timeWindow: deps.rateLimit?.timeWindowMs ?? 60_000,
    errorResponseBuilder: (_request, context) =>
      new MutualError('RATE_LIMITED', `too many requests from this address: at most ${context.max}; retry in ${context.after}`),
  });
  await app.register(fastifySSE, { heartbeatInterval: deps.heartbeatMs ?? 15_000 });
  // Registered after the rate limiter so that probing for routes counts against the limit too.
  app.setNotFoundHandler({ preHandler: app.rateLimit() }, handleNotFound);

  const metrics = createMetrics({ store: deps.store, mesh: deps.mesh, version: NODE_VERSION });
  app.addHook('onClose', async () => metrics.close());

  const { store } = deps;
  healthRoutes(app, { isReady: deps.isReady ?? (() => true), failed: () => store.failed, metrics });
  statusRoutes(app, { store, version: NODE_VERSION });
  accountRoutes(app, { store, admin: requireAdmin(deps.adminToken) });
  instructionRoutes(app, { store, metrics });
  logRoutes(app, { store });
  meshRoutes(app, { store, mesh: deps.mesh });
  if (deps.mesh && 'block' in deps.mesh) blockedRoutes(app, { mesh: deps.mesh as unknown as BlockView, admin: requireAdmin(deps.adminToken) });
  if (deps.federation) agreementRoutes(app, { federation: deps.federation, admin: requireAdmin(deps.adminToken) });
  const events = { ...EVENT_STREAM_DEFAULTS, ...deps.events };
  interbankRoutes(app, { store, clearing: deps.clearing, maxBufferedEvents: events.maxBufferedEntries });
  eventRoutes(app, { store, options: events });
  if (deps.reconciler) reconciliationRoutes(app, { reconciler: deps.reconciler });

  await app.ready();
  return app;
}
