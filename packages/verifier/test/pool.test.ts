import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_BATCH_ITEMS, VerifierPool } from '../src/index.ts';
import { terminateWorkerForTest } from '../src/pool.ts';
import { expectedOf, mixedItems } from './fixtures.ts';

const pool = new VerifierPool({ threads: 2 });
afterAll(() => pool.close());

const codeOf = (e: unknown) => (e as { code?: unknown }).code;

describe('VerifierPool', () => {
  it.each([0, 1, 63, 64, 65, 1000, 10_000])('answers a mixed batch of %i items in order', async (n) => {
    const items = mixedItems(n, n);
    const results = await pool.verifyBatch(items);
    expect(results).toBeInstanceOf(Uint8Array);
    expect([...results]).toEqual(expectedOf(items));
  });

  it('answers concurrent batches each in its own order', async () => {
    const batches = [mixedItems(500, 1), mixedItems(70, 2), mixedItems(10, 3), mixedItems(3000, 4)];
    const results = await Promise.all(batches.map((b) => pool.verifyBatch(b)));
    results.forEach((r, i) => expect([...r]).toEqual(expectedOf(batches[i]!)));
  });

  it('answers 0 for missing or malformed items instead of failing the batch', async () => {
    for (const n of [10, 200]) {
      const items = mixedItems(n, 10);
      const broken = [...items, null, undefined, 42, {}] as unknown as typeof items;
      const results = await pool.verifyBatch(broken);
      expect([...results]).toEqual([...expectedOf(items), 0, 0, 0, 0]);
    }
  });

  it('verifies the bytes as they were at the call, not as later changed', async () => {
    const items = mixedItems(200, 5);
    const expected = expectedOf(items);
    const pending = pool.verifyBatch(items);
    for (const item of items) item.signature.fill(0);
    expect([...(await pending)]).toEqual(expected);
  });

  it('accepts exactly 65,536 items and rejects one more with a RangeError', async () => {
    const zero = { signature: new Uint8Array(64), message: new Uint8Array(0), publicKey: new Uint8Array(32) };
    const max = new Array(MAX_BATCH_ITEMS).fill(zero);
    const results = await pool.verifyBatch(max);
    expect(results.length).toBe(65_536);
    expect(results.every((x) => x === 0)).toBe(true);
    await expect(pool.verifyBatch([...max, zero])).rejects.toBeInstanceOf(RangeError);
  });

  it('rejects with the abort reason, whether aborted before or during the batch', async () => {
    const items = mixedItems(5000, 6);
    const before = new AbortController();
    before.abort(new Error('stop early'));
    await expect(pool.verifyBatch(items.slice(0, 10), before.signal)).rejects.toThrow('stop early');
    await expect(pool.verifyBatch(items, before.signal)).rejects.toThrow('stop early');

    const during = new AbortController();
    const pending = pool.verifyBatch(items, during.signal);
    during.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    // The pool carries on.
    expect([...(await pool.verifyBatch(items.slice(0, 100)))]).toEqual(expectedOf(items.slice(0, 100)));
  });

  it('rejects the batches of a crashed worker with code INTERNAL and replaces the worker', async () => {
    const local = new VerifierPool({ threads: 2 });
    try {
      const items = mixedItems(4000, 7);
      const pending = local.verifyBatch(items);
      await terminateWorkerForTest(local, 0);
      await expect(pending).rejects.toMatchObject({ code: 'INTERNAL' });
      for (let round = 0; round < 3; round++) {
        expect([...(await local.verifyBatch(items))]).toEqual(expectedOf(items));
      }
    } finally {
      await local.close();
    }
  });

  it('spreads one batch over all workers (losing any one of them fails the batch)', async () => {
    for (const victim of [0, 1]) {
      const local = new VerifierPool({ threads: 2 });
      try {
        const items = mixedItems(2000, 9);
        const pending = local.verifyBatch(items);
        await terminateWorkerForTest(local, victim);
        await expect(pending).rejects.toMatchObject({ code: 'INTERNAL' });
      } finally {
        await local.close();
      }
    }
  });

  it('close() rejects pending batches with code CLOSED, refuses new ones, and is idempotent', async () => {
    const local = new VerifierPool({ threads: 1 });
    const pending = local.verifyBatch(mixedItems(2000, 8));
    const closing = local.close();
    await expect(pending).rejects.toSatisfy((e) => codeOf(e) === 'CLOSED');
    await closing;
    await local.close();
    await expect(local.verifyBatch(mixedItems(1))).rejects.toSatisfy((e) => codeOf(e) === 'CLOSED');
  });

  it('rejects a thread count that is not a positive integer', () => {
    expect(() => new VerifierPool({ threads: 0 })).toThrow(RangeError);
    expect(() => new VerifierPool({ threads: 1.5 })).toThrow(RangeError);
  });

  it('does not keep an idle process alive, but does keep it alive for a pending batch', () => {
    const index = fileURLToPath(new URL('../src/index.ts', import.meta.url));
    const script = `
      import { VerifierPool, keyPairFromSeed, signDetached } from ${JSON.stringify(index)};
      const idle = new VerifierPool({ threads: 2 });
      const pool = new VerifierPool({ threads: 2 });
      const { publicKey, secretKey } = keyPairFromSeed(new Uint8Array(32));
      const message = new Uint8Array(150);
      const signature = signDetached(message, secretKey);
      const results = await pool.verifyBatch(new Array(2000).fill({ signature, message, publicKey }));
      console.log(results.reduce((a, b) => a + b, 0));
    `;
    // A file rather than --eval: workers inherit the parent's flags, and --input-type is not valid for them.
    const dir = mkdtempSync(join(tmpdir(), 'verifier-'));
    const file = join(dir, 'idle.mjs');
    writeFileSync(file, script);
    const child = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 20_000 });
    rmSync(dir, { recursive: true });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('2000');
    expect(child.status).toBe(0);
  });
});
