import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { CODES, isCode, MutualError, type Code } from '@mutual/interface';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { BODY_LIMIT_BYTES, drainRefusedBody } from './body.ts';

/** The body of every refused request (docs/RPC.md, "Errors"). */
export interface ErrorBody {
  error: { code: Code; message: string };
}

interface AjvError {
  readonly keyword: string;
  readonly instancePath: string;
  readonly params: Record<string, unknown>;
  readonly message?: string;
}

/** The field an ajv error is about, written as `body.instructions[3]`. */
function fieldOf(context: string, e: AjvError): string {
  let path = context;
  for (const part of e.instancePath.split('/').slice(1)) path += /^\d+$/.test(part) ? `[${part}]` : `.${part}`;
  return path;
}

/** A validation message that names the field and says what is wrong with it. */
export function validationMessage(context: string, errors: readonly AjvError[]): string {
  const e = errors[0];
  if (!e) return `${context} is not valid`;
  const field = fieldOf(context, e);
  switch (e.keyword) {
    case 'additionalProperties':
      return `${field}: unknown field "${String(e.params.additionalProperty)}"`;
    case 'required':
      return `${field}: missing field "${String(e.params.missingProperty)}"`;
    case 'enum':
      return `${field} must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${field} ${e.message ?? 'is not valid'}`;
  }
}

/** Maps any error thrown while handling a request to a stable code, status and message. */
export function classify(err: unknown): { code: Code; status: number; message: string; internal: boolean } {
  const known = (code: Code, message: string) => ({ code, status: CODES[code].status, message, internal: false });
  if (err instanceof MutualError) {
    const internal = CODES[err.code].kind === 'operational' && err.code !== 'STORE_CLOSED';
    return { code: err.code, status: err.status, message: err.message, internal };
  }
  const fe = err as Partial<FastifyError> & { validation?: AjvError[]; validationContext?: string };
  if (Array.isArray(fe.validation)) {
    const e = fe.validation[0];
    // The one array with a limit of its own code: more instructions than a request may carry.
    if (fe.validationContext === 'body' && e?.keyword === 'maxItems' && e.instancePath === '/instructions') {
      return known('TOO_MANY_INSTRUCTIONS', `body.instructions has more than ${String(e.params.limit)} items; split the batch`);
    }
    return known('VALIDATION_FAILED', validationMessage(fe.validationContext ?? 'request', fe.validation));
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return known('MALFORMED_JSON', 'the request body is not valid JSON');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return known('MALFORMED_JSON', 'the request body is empty but its content type is application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return known('BODY_TOO_LARGE', `the request body is larger than ${BODY_LIMIT_BYTES / (1024 * 1024)} MiB`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return known('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return known('VALIDATION_FAILED', 'the body size does not match Content-Length');
    case 'FST_ERR_NOT_FOUND':
      return known('NOT_FOUND', 'no such route');
  }
  // Prototype-poisoned JSON ("__proto__" keys) is refused by the JSON parser with a SyntaxError.
  if (err instanceof SyntaxError && fe.statusCode === 400) return known('MALFORMED_JSON', `the request body is refused: ${err.message}`);
  // Errors of the HTTP layer for requests that are malformed in a way not covered above.
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    if (fe.statusCode === 404) return known('NOT_FOUND', fe.message ?? 'not found');
    if (fe.statusCode === 413) return known('BODY_TOO_LARGE', fe.message ?? 'the request is too large');
    if (fe.statusCode === 415) return known('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
    return { code: 'VALIDATION_FAILED', status: fe.statusCode === 406 ? 406 : 400, message: fe.message ?? 'bad request', internal: false };
  }
  return { code: 'INTERNAL', status: 500, message: 'an unexpected internal error; it is logged', internal: true };
}

/** Fastify error handler: one answer shape for every refusal. */
export function handleError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): ErrorBody | Promise<ErrorBody> {
  const c = classify(err);
  if (c.internal) request.log.error({ err }, 'request failed');
  else {
    // Who asked for what: a refused admin token or a flood can be traced to its source. A
    // client over the rate limit is refused many times a second: not one info line each.
    const fields = { code: c.code, status: c.status, method: request.method, route: request.routeOptions?.url ?? request.url.split('?')[0], ip: request.ip };
    if (c.code === 'RATE_LIMITED') request.log.debug(fields, 'request refused');
    else request.log.info(fields, 'request refused');
  }
  reply.code(c.status);
  return answerUnread(request, reply, { error: { code: c.code, message: c.message } }, c.code !== 'NOT_READY');
}

/** Fastify not-found handler. */
export function handleNotFound(request: FastifyRequest, reply: FastifyReply): ErrorBody | Promise<ErrorBody> {
  reply.code(404);
  return answerUnread(request, reply, { error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } }, true);
}

/**
 * A refusal of a request whose body is not read (too large, a route that does not exist, the
 * wrong content type, over the rate limit, not authorized, ...): the connection is closed after
 * the answer, so that the node never reads such a body whole to reach the next request. When
 * `drain`, what is left of it is first read within bounds (body.ts), so that a client still
 * writing it finds the answer waiting rather than a connection reset under its write; a node
 * that is stopping (NOT_READY) answers at once.
 */
function answerUnread(request: FastifyRequest, reply: FastifyReply, body: ErrorBody, drain: boolean): ErrorBody | Promise<ErrorBody> {
  if (request.raw.complete) return body;
  reply.header('connection', 'close');
  return drain ? drainRefusedBody(request.raw).then(() => body) : body;
}

/**
 * Answers an error of the HTTP layer itself, before any route (`clientError`: a request that is
 * not HTTP, headers too large, a head that did not arrive in time), in the one error shape, and
 * closes the connection. Nothing is written on a socket already gone or reset.
 */
export function handleClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, message]: [Code, string] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? ['REQUEST_TIMEOUT', 'the head of the request did not arrive in time']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? ['HEADERS_TOO_LARGE', 'the request line and headers are too large']
        : ['MALFORMED_HTTP', 'the request is not valid HTTP/1.1'];
  const status = CODES[code].status;
  const body = JSON.stringify({ error: { code, message } });
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** A refusal as a MutualError, when code is one of the registry's. */
export function refusal(code: string, message: string): MutualError {
  return new MutualError(isCode(code) ? code : 'INTERNAL', message);
}
