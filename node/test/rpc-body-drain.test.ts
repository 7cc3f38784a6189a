// The rest of a refused oversized body is read before its 413, within both bounds; the same
// over real HTTP is in tests/node-bad-input.test.ts.
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { drainRefusedBody } from '../src/rpc/body.ts';

/** A request body as the RPC sees it: a stream with the request's headers. */
function requestBody(headers: Record<string, string> = {}): PassThrough & { headers: Record<string, string>; complete: boolean } {
  const raw = Object.assign(new PassThrough(), { headers, complete: false });
  raw.on('end', () => (raw.complete = true));
  return raw;
}
const asRequest = (raw: PassThrough) => raw as unknown as IncomingMessage;
const limits = { maxBytes: 1000, timeoutMs: 60_000 };
const settled = async (p: Promise<void>) => Promise.race([p.then(() => true), new Promise<boolean>((res) => setTimeout(() => res(false), 20))]);

describe('drainRefusedBody', () => {
  it('reads what is left of the body to its end, then resolves', async () => {
    const raw = requestBody({ 'content-length': '900' });
    const done = drainRefusedBody(asRequest(raw), limits);
    raw.write(Buffer.alloc(400));
    expect(await settled(done)).toBe(false);
    raw.end(Buffer.alloc(500));
    await done;
    expect(raw.readableLength).toBe(0);
  });

  it('resolves at once when the body has arrived, or is announced as larger than it reads', async () => {
    const complete = requestBody();
    complete.complete = true;
    expect(await settled(drainRefusedBody(asRequest(complete), limits))).toBe(true);
    const announced = requestBody({ 'content-length': '1001' });
    expect(await settled(drainRefusedBody(asRequest(announced), limits))).toBe(true);
    expect(announced.readableFlowing).toBe(null);
  });

  it('stops reading past maxBytes', async () => {
    const raw = requestBody();
    const done = drainRefusedBody(asRequest(raw), limits);
    raw.write(Buffer.alloc(1000));
    expect(await settled(done)).toBe(false);
    raw.write(Buffer.alloc(1));
    await done;
    expect(raw.readableFlowing).toBe(false);
    raw.write(Buffer.alloc(500));
    expect(raw.readableLength).toBe(500);
  });

  it('stops waiting for a body that stalls after timeoutMs', async () => {
    const raw = requestBody();
    const started = Date.now();
    const done = drainRefusedBody(asRequest(raw), { maxBytes: 1000, timeoutMs: 50 });
    raw.write(Buffer.alloc(10));
    await done;
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(raw.readableFlowing).toBe(false);
  });

  it('resolves when the request is closed under it', async () => {
    const raw = requestBody();
    const done = drainRefusedBody(asRequest(raw), limits);
    raw.destroy();
    await done;
  });
});
