import { fromBase64 } from '@mutual/codec';
import { MutualError } from '@mutual/interface';
import { prepareInstruction, type Action, type Command, type Prepared } from '@mutual/ledger';
import type { LedgerStore } from '@mutual/store';
import type { FastifyInstance } from 'fastify';
import type { NodeMetrics } from '../metrics.ts';
import { errors, instructionsBodySchema, ref } from '../schemas.ts';
import { resultJson } from '../views.ts';

interface InstructionsBody {
  instructions: string[];
}

/**
 * Decodes a request's instructions. One that is not base64 refuses the whole request
 * (INVALID_ENCODING): it is a client bug, not an instruction the bank could judge.
 */
export function decodeInstructions(texts: readonly string[]): Uint8Array[] {
  return texts.map((t, i) => {
    try {
      return fromBase64(t);
    } catch {
      throw new MutualError('INVALID_ENCODING', `body.instructions[${i}] is not standard padded base64`);
    }
  });
}

/**
 * Prepares each instruction and refuses, as its own result, one whose action the route does
 * not take: a labor record sent to /v1/transfers would otherwise be applied by the wrong door.
 */
export function prepareFor(route: string, accepts: ReadonlySet<Action['type']>, signed: readonly Uint8Array[]): Command[] {
  return signed.map((bytes): Command => {
    let prepared: Prepared = prepareInstruction(bytes);
    if (prepared.ok && !accepts.has(prepared.action.type)) {
      prepared = {
        ok: false,
        code: 'MALFORMED_INSTRUCTION',
        message: `${route} takes ${[...accepts].join(' and ')} instructions, not ${prepared.action.type}`,
      };
    }
    return { type: 'instruction', prepared };
  });
}

const response = {
  200: { type: 'object', properties: { results: { type: 'array', items: ref('Result') } } },
  ...errors(400, 413, 415, 429, 503),
};

/** `POST /v1/transfers` and `POST /v1/labor`: batches of holder-signed instructions. */
export function instructionRoutes(app: FastifyInstance, deps: { store: LedgerStore; metrics: NodeMetrics }): void {
  const route = (path: string, accepts: ReadonlySet<Action['type']>, summary: string) =>
    app.post<{ Body: InstructionsBody }>(path, { schema: { tags: ['instructions'], summary, body: instructionsBodySchema, response } }, async (request) => {
      const signed = decodeInstructions(request.body.instructions);
      const results = await deps.store.submit(prepareFor(path, accepts, signed));
      deps.metrics.countResults(results);
      return { results: results.map(resultJson) };
    });
  route('/v1/transfers', new Set(['transfer', 'retirement']), 'Submit signed transfers and retirements; one result per instruction, in order');
  route('/v1/labor', new Set(['labor']), 'Submit signed labor records; one result per instruction, in order');
}
