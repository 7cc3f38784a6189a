import type { IncomingMessage } from 'node:http';

/**
 * Largest request body: 2 MiB (docs/RPC.md), room for a full batch of
 * MAX_INSTRUCTIONS_PER_REQUEST instructions of MAX_INSTRUCTION_BYTES each in base64 JSON.
 */
export const BODY_LIMIT_BYTES = 2 * 1024 * 1024;

/**
 * Bytes of a refused oversized body that are still read, and thrown away, before its 413 is
 * sent. A client that writes its whole body before reading the answer would otherwise find
 * the connection closed under it while it writes (EPIPE, ECONNRESET: the closing side resets
 * a connection with unread data) and never see the 413. A body announced (Content-Length) as
 * larger than this is not read at all, and one that goes on past it is cut: the 413 is sent
 * and the connection closed. So one request makes the node read at most
 * BODY_LIMIT_BYTES + MAX_DRAINED_BODY_BYTES bytes of body.
 */
export const MAX_DRAINED_BODY_BYTES = 8 * 1024 * 1024;

/**
 * Milliseconds the rest of a refused body may take to arrive before the answer is sent anyway:
 * a client that stalls in the middle of a body the node refused is let go sooner than
 * REQUEST_TIMEOUT_MS.
 */
export const BODY_DRAIN_TIMEOUT_MS = 10_000;

/**
 * Clients that stall cannot hold the node's connections. A request whose head has not arrived
 * whole within REQUEST_TIMEOUT_MS is answered 408 and its connection closed (checked every
 * REQUEST_TIMEOUT_CHECK_MS); a connection on which nothing moves either way for
 * CONNECTION_IDLE_TIMEOUT_MS during a request is closed (a body that stalls). Between requests
 * a keep-alive connection is closed after fastify's keepAliveTimeout (72 s), which it
 * announces. Answers are not bounded: an event stream writes a heartbeat every 15 s (less
 * than CONNECTION_IDLE_TIMEOUT_MS) and stays open.
 */
export const REQUEST_TIMEOUT_MS = 30_000;
export const REQUEST_TIMEOUT_CHECK_MS = 1_000;
export const CONNECTION_IDLE_TIMEOUT_MS = 60_000;

export interface DrainLimits {
  readonly maxBytes: number;
  readonly timeoutMs: number;
}

const DRAIN_LIMITS: DrainLimits = { maxBytes: MAX_DRAINED_BODY_BYTES, timeoutMs: BODY_DRAIN_TIMEOUT_MS };

/**
 * Reads and discards what is left of the body of a refused request, up to `limits`; resolves
 * once the body has ended (the answer can then be sent and the connection closed without
 * resetting it), or at once when the body is complete or announced as too large to wait for,
 * or when a limit is reached (the caller answers anyway; the connection is then cut).
 */
export function drainRefusedBody(raw: IncomingMessage, limits: DrainLimits = DRAIN_LIMITS): Promise<void> {
  if (raw.complete || raw.destroyed || raw.readableEnded) return Promise.resolve();
  const announced = Number(raw.headers['content-length']);
  if (announced > limits.maxBytes) return Promise.resolve();
  return new Promise((resolve) => {
    let drained = 0;
    const finish = () => {
      clearTimeout(timer);
      raw.off('data', onData);
      raw.off('end', finish);
      raw.off('close', finish);
      raw.off('error', finish);
      resolve();
    };
    const stop = () => {
      // Nothing more is read: what the client still sends waits in the socket until it closes.
      raw.pause();
      finish();
    };
    const onData = (chunk: Buffer | string) => {
      drained += chunk.length;
      if (drained > limits.maxBytes) stop();
    };
    const timer = setTimeout(stop, limits.timeoutMs);
    raw.on('data', onData);
    raw.once('end', finish);
    raw.once('close', finish);
    raw.once('error', finish);
    raw.resume();
  });
}
