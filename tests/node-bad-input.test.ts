// Every class of bad input, sent over real HTTP to a real node: each gets its 4xx and stable
// code, none is a 500, and none changes the ledger.
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveAccountId, formatAccountId, formatPublicKey, parseBankId } from '@mutual/codec';
import { DOMAIN, pb, signedMessage, toU64 } from '@mutual/protocol';
import { keyPairFromSeed, signDetached } from '@mutual/verifier';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMIT_BYTES, MAX_DRAINED_BODY_BYTES } from '../node/src/rpc/body.ts';
import { startDaemon, type Daemon } from './support/daemon.ts';

const dir = mkdtempSync(join(tmpdir(), 'mutual-bad-input-'));
let d: Daemon;
let goodTransfer: string;

beforeAll(async () => {
  d = await startDaemon(dir, ['--rate-limit', '100000']);
  const status = (await (await fetch(`${d.url}/v1/status`)).json()) as { bank: { id: string } };
  const bank = parseBankId(status.bank.id);
  const payer = keyPairFromSeed(new Uint8Array(32).fill(5));
  const payee = keyPairFromSeed(new Uint8Array(32).fill(6));
  for (const k of [payer, payee]) {
    const r = await fetch(`${d.url}/v1/accounts`, { method: 'POST', headers: admin(), body: JSON.stringify({ publicKey: formatPublicKey(k.publicKey), kind: 'member' }) });
    expect(r.status).toBe(201);
  }
  const body = pb.Instruction.encode({
    bank,
    account: deriveAccountId(bank, payer.publicKey),
    sequence: toU64(1n),
    transfer: { payee: deriveAccountId(bank, payee.publicKey), amount: toU64(1000n) },
  }).finish();
  goodTransfer = Buffer.from(pb.SignedInstruction.encode({ body, signature: signDetached(signedMessage(DOMAIN.instruction, body), payer.secretKey) }).finish()).toString('base64');
});
afterAll(async () => {
  await d.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function logSize(): Promise<number> {
  return ((await (await fetch(`${d.url}/v1/status`)).json()) as { log: { size: number } }).log.size;
}

async function send(method: string, path: string, body?: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await fetch(`${d.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    code = undefined;
  }
  return { status: res.status, code };
}

const admin = () => ({ 'content-type': 'application/json', authorization: `Bearer ${d.token}` });
const typo = () => {
  const id = formatAccountId(new Uint8Array(20).fill(9));
  return id.slice(0, -1) + (id.endsWith('q') ? 'p' : 'q');
};

describe('bad input over HTTP', () => {
  const cases: Array<[string, () => Promise<{ status: number; code: string | undefined }>, number, string]> = [
    ['malformed JSON', () => send('POST', '/v1/transfers', '{"instructions": ['), 400, 'MALFORMED_JSON'],
    ['wrong type', () => send('POST', '/v1/transfers', JSON.stringify({ instructions: 'x' })), 400, 'VALIDATION_FAILED'],
    ['unknown field', () => send('POST', '/v1/transfers', JSON.stringify({ instructions: [goodTransfer], extra: 1 })), 400, 'VALIDATION_FAILED'],
    ['oversized body', () => send('POST', '/v1/transfers', JSON.stringify({ instructions: [goodTransfer], pad: 'x'.repeat(3 * 1024 * 1024) })), 413, 'BODY_TOO_LARGE'],
    ['not JSON', () => send('POST', '/v1/transfers', 'hello', { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['too many instructions', () => send('POST', '/v1/transfers', JSON.stringify({ instructions: Array(1001).fill(goodTransfer) })), 413, 'TOO_MANY_INSTRUCTIONS'],
    ['bad base64', () => send('POST', '/v1/transfers', JSON.stringify({ instructions: ['!!!!'] })), 400, 'INVALID_ENCODING'],
    ['account ID with a typo', () => send('GET', `/v1/accounts/${typo()}`), 400, 'INVALID_ID'],
    ['bank ID where an account ID goes', () => send('GET', `/v1/accounts/mbank1qqqq`), 400, 'INVALID_ID'],
    ['bad public key', () => send('POST', '/v1/accounts', JSON.stringify({ publicKey: 'mpub1xyz', kind: 'member' }), admin()), 400, 'INVALID_ID'],
    ['unknown account kind', () => send('POST', '/v1/accounts', JSON.stringify({ publicKey: 'mpub1xyz', kind: 'boss' }), admin()), 400, 'VALIDATION_FAILED'],
    ['no admin token', () => send('POST', '/v1/accounts', JSON.stringify({ publicKey: 'mpub1xyz', kind: 'member' })), 401, 'UNAUTHORIZED'],
    ['wrong admin token', () => send('POST', '/v1/accounts', JSON.stringify({ publicKey: 'mpub1xyz', kind: 'member' }), { 'content-type': 'application/json', authorization: 'Bearer nope' }), 401, 'UNAUTHORIZED'],
    ['negative statement limit', () => send('GET', `/v1/accounts/${formatAccountId(new Uint8Array(20))}/entries?limit=-1`), 400, 'VALIDATION_FAILED'],
    ['limit above 200', () => send('GET', `/v1/accounts/${formatAccountId(new Uint8Array(20))}/entries?limit=201`), 400, 'VALIDATION_FAILED'],
    ['consistency outside the log', () => send('GET', '/v1/consistency?from=1&to=999999'), 400, 'INVALID_RANGE'],
    ['entry index not a number', () => send('GET', '/v1/entries/abc'), 400, 'VALIDATION_FAILED'],
    ['unknown route', () => send('GET', '/v1/nothing'), 404, 'NOT_FOUND'],
  ];

  it.each(cases)('%s is refused with its code and changes nothing', async (_name, run, status, code) => {
    const before = await logSize();
    const r = await run();
    expect(r).toEqual({ status, code });
    expect(await logSize()).toBe(before);
  });

  it('rejects an instruction with a bad signature or amount per item, changing nothing', async () => {
    const before = await logSize();
    const tampered = Buffer.from(goodTransfer, 'base64');
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 1;
    const res = await fetch(`${d.url}/v1/transfers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instructions: [tampered.toString('base64'), goodTransfer] }) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: Array<{ code: string }> };
    // the payer has no notes yet: a good signature gets as far as the balance
    expect(body.results.map((r) => r.code)).toEqual(['BAD_SIGNATURE', 'INSUFFICIENT_FUNDS']);
    expect(await logSize()).toBe(before);
  });
});

/** What came back on a raw connection, and how many body bytes the socket took. */
interface RawExchange {
  readonly status: number | undefined;
  readonly connection: string | undefined;
  readonly code: string | undefined;
  readonly written: number;
}

/**
 * A POST over a plain socket, for what fetch does not send: a head whose Content-Length the
 * body has not matched yet, or a body that goes on. Writes `body` as fast as the socket takes
 * it, stops when the server closes, and resolves once the connection is closed.
 */
async function rawPost(path: string, headers: Record<string, string>, body: Iterable<Buffer>): Promise<RawExchange> {
  const { hostname, port } = new URL(d.url);
  const socket = connect({ host: hostname, port: Number(port) });
  const received: Buffer[] = [];
  socket.on('data', (c: Buffer) => received.push(c));
  // A reset after the server stops reading is expected once a body goes past every bound.
  socket.on('error', () => undefined);
  const closed = new Promise<void>((res) => socket.once('close', () => res()));
  await once(socket, 'connect');
  const head = Object.entries({ host: hostname, ...headers }).map(([k, v]) => `${k}: ${v}\r\n`);
  socket.write(`POST ${path} HTTP/1.1\r\n${head.join('')}\r\n`);
  let written = 0;
  for (const chunk of body) {
    if (socket.destroyed || socket.writableEnded) break;
    written += chunk.length;
    if (!socket.write(chunk)) await Promise.race([new Promise((res) => socket.once('drain', res)), closed]);
  }
  await closed;
  const text = Buffer.concat(received).toString('latin1');
  const [head0 = '', ...rest] = text.split('\r\n\r\n');
  const lines = head0.split('\r\n');
  const status = /^HTTP\/1\.1 (\d{3}) /.exec(lines[0] ?? '')?.[1];
  const connection = lines.find((l) => /^connection:/i.test(l))?.replace(/^connection:\s*/i, '');
  let code: string | undefined;
  try {
    code = (JSON.parse(rest.join('\r\n\r\n')) as { error?: { code?: string } }).error?.code;
  } catch {
    code = undefined;
  }
  return { status: status === undefined ? undefined : Number(status), connection, code, written };
}

/** `total` bytes of padding in chunks of 64 KiB, framed as chunked transfer coding when `chunked`. */
function* padding(total: number, chunked = false): Generator<Buffer> {
  const piece = Buffer.alloc(64 * 1024, 'x');
  for (let sent = 0; sent < total; sent += piece.length) {
    const data = piece.subarray(0, Math.min(piece.length, total - sent));
    yield chunked ? Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]) : data;
  }
  if (chunked) yield Buffer.from('0\r\n\r\n');
}

// A client that writes its whole body before it reads the answer must still get the 413, not
// a connection closed under its write (EPIPE, ECONNRESET). That failure depends on timing, so
// requests are sent several times over.
describe('oversized bodies over real HTTP', () => {
  const oversized = BODY_LIMIT_BYTES + 1024 * 1024;
  const json = { 'content-type': 'application/json' };

  it('each of several oversized bodies with a Content-Length gets its 413 (fetch)', async () => {
    const before = await logSize();
    const body = JSON.stringify({ instructions: [goodTransfer], pad: 'x'.repeat(oversized) });
    for (let i = 0; i < 20; i++) expect(await send('POST', '/v1/transfers', body)).toEqual({ status: 413, code: 'BODY_TOO_LARGE' });
    expect(await logSize()).toBe(before);
  });

  it('each of several oversized bodies streamed without a length gets its 413 (fetch)', async () => {
    const before = await logSize();
    for (let i = 0; i < 5; i++) {
      const chunks = padding(oversized);
      const stream = new ReadableStream<Uint8Array>({
        pull(c) {
          const next = chunks.next();
          if (next.done) c.close();
          else c.enqueue(next.value);
        },
      });
      const res = await fetch(`${d.url}/v1/transfers`, { method: 'POST', headers: json, body: stream, duplex: 'half' });
      expect(res.status).toBe(413);
      expect(res.headers.get('connection')).toBe('close');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('BODY_TOO_LARGE');
    }
    expect(await logSize()).toBe(before);
  });

  it('a Content-Length announced too large is answered 413 once the body is sent, and the connection closed', async () => {
    const before = await logSize();
    for (let i = 0; i < 5; i++) {
      const r = await rawPost('/v1/transfers', { ...json, 'content-length': String(oversized) }, padding(oversized));
      expect(r).toEqual({ status: 413, connection: 'close', code: 'BODY_TOO_LARGE', written: oversized });
    }
    expect(await logSize()).toBe(before);
  });

  it('a Content-Length beyond what the node drains is answered at once, without waiting for the body', async () => {
    const before = await logSize();
    const r = await rawPost('/v1/transfers', { ...json, 'content-length': String(MAX_DRAINED_BODY_BYTES + 1) }, []);
    expect(r).toEqual({ status: 413, connection: 'close', code: 'BODY_TOO_LARGE', written: 0 });
    expect(await logSize()).toBe(before);
  });

  it('a body refused unread (no such route, wrong content type, not authorized) is answered, the connection closed, and never read whole', async () => {
    const before = await logSize();
    const cap = 128 * 1024 * 1024;
    const cases: Array<[string, Record<string, string>, number, string]> = [
      ['/v1/no-such-route', { 'content-type': 'application/octet-stream' }, 404, 'NOT_FOUND'],
      ['/v1/transfers', { 'content-type': 'text/csv' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['/v1/accounts', json, 401, 'UNAUTHORIZED'],
    ];
    for (const [path, headers, status, code] of cases) {
      const small = await rawPost(path, { ...headers, 'content-length': String(1024 * 1024) }, padding(1024 * 1024));
      expect(small).toEqual({ status, connection: 'close', code, written: 1024 * 1024 });
      // The answer may be lost to the reset when the client writes on after it: only how much
      // the node took matters here (as for an oversized body, below).
      const endless = await rawPost(path, { ...headers, 'transfer-encoding': 'chunked' }, padding(cap, true));
      expect(endless.written).toBeLessThan(64 * 1024 * 1024);
    }
    expect(await logSize()).toBe(before);
  });

  it('a body that goes on past what the node drains is cut off', async () => {
    const before = await logSize();
    const cap = 128 * 1024 * 1024;
    const r = await rawPost('/v1/transfers', { ...json, 'transfer-encoding': 'chunked' }, padding(cap, true));
    // The node reads at most BODY_LIMIT_BYTES + MAX_DRAINED_BODY_BYTES; the socket buffers of
    // both ends (loopback: up to some tens of MiB) take some more before the connection ends.
    expect(BODY_LIMIT_BYTES + MAX_DRAINED_BODY_BYTES).toBeLessThan(16 * 1024 * 1024);
    expect(r.written).toBeLessThan(64 * 1024 * 1024);
    expect(await logSize()).toBe(before);
  });
});
