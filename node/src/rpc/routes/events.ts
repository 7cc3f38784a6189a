import { MutualError } from '@mutual/interface';
import type { LedgerStore } from '@mutual/store';
import type { FastifyInstance } from 'fastify';
import { ENTRY_KINDS, entryJson, entryKindOf, type EntryKind } from '../entry-json.ts';
import { EventStream, serveStream, type BoundedStream, type EventStreamOptions } from '../event-stream.ts';
import { intParam, uintText } from '../params.ts';
import { errors } from '../schemas.ts';

const DIGITS = /^(0|[1-9][0-9]{0,14})$/;

/** `?kinds=a,b`: the entry kinds a client asks for (all when absent). */
function parseKinds(text: string | undefined): ReadonlySet<EntryKind> | undefined {
  if (text === undefined) return undefined;
  const kinds = new Set<EntryKind>();
  for (const k of text.split(',')) {
    if (!(ENTRY_KINDS as readonly string[]).includes(k)) {
      throw new MutualError('VALIDATION_FAILED', `querystring.kinds: ${JSON.stringify(k)} is not an entry kind (${ENTRY_KINDS.join(', ')})`);
    }
    kinds.add(k as EntryKind);
  }
  return kinds;
}

/**
 * `GET /v1/events`: Server-Sent Events, one `entry` event per committed entry, `id` = its
 * index. Resumes after `Last-Event-ID: N` (or from `?from=N+1`); with neither, starts at the
 * end of the log and follows live. `?kinds=a,b` sends only entries of those kinds (the ids of
 * those sent are still their indexes, so resuming works alike). Open streams are ended when
 * the app closes.
 */
export function eventRoutes(app: FastifyInstance, deps: { store: LedgerStore; options: EventStreamOptions }): void {
  const { store } = deps;
  const open = new Set<BoundedStream>();
  app.addHook('preClose', async () => {
    for (const s of open) s.stop();
  });

  app.get<{ Querystring: { from?: string; kinds?: string } }>(
    '/v1/events',
    {
      sse: { kind: 'manual' },
      schema: {
        tags: ['events'],
        summary: 'Server-Sent Events: every committed entry (event "entry", id = index, data = Entry)',
        produces: ['text/event-stream'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: uintText,
            kinds: {
              type: 'string',
              maxLength: 256,
              description: `only entries of these kinds, comma-separated: ${ENTRY_KINDS.join(', ')} (default: all)`,
            },
          },
        },
        headers: { type: 'object', properties: { 'last-event-id': { type: 'string', description: 'index of the last entry received' } } },
        response: errors(400, 429),
      },
    },
    async (request, reply) => {
      const size = store.size;
      const lastId = request.headers['last-event-id'];
      let from: number;
      if (typeof lastId === 'string' && lastId !== '') {
        if (!DIGITS.test(lastId)) throw new MutualError('VALIDATION_FAILED', 'headers.last-event-id must be an entry index');
        from = Number(lastId) + 1;
      } else {
        from = intParam(request.query.from, 'querystring.from', 0, Number.MAX_SAFE_INTEGER, size);
      }
      if (from > size) throw new MutualError('INVALID_RANGE', `the log has ${size} entries; cannot resume from ${from}`);
      const kinds = parseKinds(request.query.kinds);

      const sse = reply.sse;
      const log = request.log.child({ module: 'events' });
      const stream = new EventStream(
        store,
        from,
        (index, bytes) => {
          // An entry of a kind not asked for is skipped before its JSON is built (one that
          // does not decode goes on to entryJson, which reports the damage).
          const kind = kinds && entryKindOf(bytes);
          if (kind && !kinds.has(kind)) return Promise.resolve();
          return sse.send({ id: String(index), event: 'entry', data: entryJson(bytes) });
        },
        deps.options,
      );
      serveStream(reply, stream, open, () => log.warn({ next: stream.next }, 'event stream client fell too far behind; disconnected'));
      log.debug({ from }, 'event stream opened');
    },
  );
}
