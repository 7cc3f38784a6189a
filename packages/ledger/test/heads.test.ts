import { describe, expect, it } from 'vitest';
import { openTreeHead, signTreeHead, wasOpened, type VerifyFn } from '../src/index.ts';
import { newHolder, signBytes, verify } from './fixture.ts';

function counting(): { verify: VerifyFn; calls: () => number } {
  let n = 0;
  return {
    verify: (s, m, k) => {
      n++;
      return verify(s, m, k);
    },
    calls: () => n,
  };
}

function aHead(size = 5) {
  const bank = newHolder();
  const head = signTreeHead(bank.publicKey, size, new Uint8Array(32).fill(size), 1_700_000_000_000n, (m) => signBytes(m, bank.seed));
  return { bank, head };
}

describe('openTreeHead', () => {
  it('checks the signature of the same bytes once per verifier', () => {
    const { bank, head } = aHead();
    const a = counting();
    const first = openTreeHead(head.bytes, a.verify);
    expect(first?.size).toBe(5);
    expect([...first!.bank]).toEqual([...bank.publicKey]);
    expect(wasOpened(first!)).toBe(true);
    // The same bytes in another buffer: no second verification.
    expect(openTreeHead(Uint8Array.from(head.bytes), a.verify)).toBe(first);
    expect(openTreeHead(head.bytes, a.verify, bank.publicKey)).toBe(first);
    expect(a.calls()).toBe(1);
    // Another verifier decides for itself.
    const b = counting();
    expect(openTreeHead(head.bytes, b.verify)?.size).toBe(5);
    expect(b.calls()).toBe(1);
  });

  it('forgets the oldest heads first when full (VERIFIED_HEADS, 4096), and keeps the newer ones', () => {
    const bank = newHolder();
    const heads = Array.from({ length: 4097 }, (_, i) => signTreeHead(bank.publicKey, i + 1, new Uint8Array(32), 1_700_000_000_000n, (m) => signBytes(m, bank.seed)));
    const c = counting();
    // With a verifier that accepts anything: only the count of calls matters here.
    const any: VerifyFn = (s, m, k) => (c.verify(s, m, k), true);
    for (const h of heads) openTreeHead(h.bytes, any);
    expect(c.calls()).toBe(4097);
    openTreeHead(heads[4096]!.bytes, any);
    openTreeHead(heads[1000]!.bytes, any);
    expect(c.calls()).toBe(4097);
    openTreeHead(heads[0]!.bytes, any);
    expect(c.calls()).toBe(4098);
  });

  it('still refuses a remembered head of another bank than expected', () => {
    const { head } = aHead();
    const v = counting();
    expect(openTreeHead(head.bytes, v.verify)).toBeDefined();
    expect(openTreeHead(head.bytes, v.verify, newHolder().publicKey)).toBeUndefined();
  });

  it('does not remember a head that failed, nor share memory with the bytes it was given', () => {
    const { head } = aHead();
    const forged = Uint8Array.from(head.bytes);
    forged[forged.length - 1]! ^= 1;
    const v = counting();
    expect(openTreeHead(forged, v.verify)).toBeUndefined();
    expect(openTreeHead(forged, v.verify)).toBeUndefined();
    expect(v.calls()).toBe(2);

    const buf = Uint8Array.from(head.bytes);
    const opened = openTreeHead(buf, v.verify)!;
    const root = [...opened.root];
    buf.fill(0); // the caller reuses its buffer
    expect([...opened.root]).toEqual(root);
    expect(openTreeHead(head.bytes, v.verify)).toBe(opened);
  });
});
