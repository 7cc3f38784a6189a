import { parentPort } from 'node:worker_threads';
import { checkPacked } from './batch-format.ts';
import { verify } from './verify.ts';

/** A run of packed items sent by the pool. */
export interface ChunkRequest {
  readonly id: number;
  readonly buffer: ArrayBuffer;
  readonly count: number;
}

/** The answer to a ChunkRequest: 1/0 per item, in order. */
export interface ChunkResponse {
  readonly id: number;
  readonly results: Uint8Array;
}

if (parentPort === null) throw new Error('worker.ts runs only as a worker thread');
const port = parentPort;

port.on('message', (request: ChunkRequest) => {
  // The same `verify` as the calling thread: a pool answer can never differ from an inline one.
  const results = checkPacked(request.buffer, request.count, verify);
  const response: ChunkResponse = { id: request.id, results };
  port.postMessage(response, [results.buffer as ArrayBuffer]);
});
