import { describe, expect, it } from 'vitest';
import { keyPairFromSeed, signDetached, verify } from '../src/index.ts';
import { equation, hex } from './curve.ts';
import { edgeCases, rfcCases } from './edge-cases.ts';
import { RFC8032 } from './rfc8032.ts';

const EDGE = edgeCases();
const RFC = rfcCases();

describe('verify: RFC 8032 §7.1', () => {
  it.each(RFC8032)('$name verifies as published', (v) => {
    expect(verify(v.signature, v.message, v.publicKey)).toBe(true);
  });

  it.each(RFC8032)('$name: every single-bit change to signature, key or message is rejected', (v) => {
    const rows = RFC.filter((c) => c.name.startsWith(`${v.name}:`) && c.expected === false);
    // 512 signature bits + 256 key bits + the message's bits (or one appended byte when empty).
    expect(rows.length).toBe(512 + 256 + Math.max(1, v.message.length * 8));
    const accepted = rows.filter((c) => verify(c.signature, c.message, c.publicKey)).map((c) => c.name);
    expect(accepted).toEqual([]);
  });

  it.each(RFC8032)('$name: keyPairFromSeed and signDetached reproduce it', (v) => {
    const { publicKey, secretKey } = keyPairFromSeed(v.seed);
    expect(hex(publicKey)).toBe(hex(v.publicKey));
    expect(hex(secretKey)).toBe(hex(v.seed) + hex(v.publicKey));
    expect(hex(signDetached(v.message, secretKey))).toBe(hex(v.signature));
  });
});

describe('verify: edge cases', () => {
  it('names every case once', () => {
    expect(new Set(EDGE.map((c) => c.name)).size).toBe(EDGE.length);
  });

  it.each(EDGE)('$name → $expected', (c) => {
    // The construction is what the name says it is...
    if (c.equation !== undefined) expect(equation(c.signature, c.message, c.publicKey)).toBe(c.equation);
    // ...and the verifier's verdict is pinned.
    expect(verify(c.signature, c.message, c.publicKey)).toBe(c.expected);
  });

  it('covers each rule with a case whose equation holds, so the rule alone decides', () => {
    const decisive = (prefix: string) =>
      EDGE.filter((c) => c.name.startsWith(prefix) && c.equation === 'both' && c.expected === false).length;
    expect(decisive('(a)')).toBe(3);
    expect(decisive('(b) A = small-order')).toBe(8);
    expect(decisive('(c) R = small-order')).toBe(8);
    expect(decisive('(d) non-canonical A')).toBe(6);
    expect(decisive('(e) non-canonical R')).toBe(6);
  });
});

describe('signing', () => {
  it('rejects a seed or secret key of the wrong length', () => {
    expect(() => keyPairFromSeed(new Uint8Array(31))).toThrow(RangeError);
    expect(() => signDetached(new Uint8Array(1), new Uint8Array(32))).toThrow(RangeError);
  });

  it('signs what verify accepts, and only for that message and key', () => {
    const a = keyPairFromSeed(new Uint8Array(32).fill(1));
    const b = keyPairFromSeed(new Uint8Array(32).fill(2));
    const message = new Uint8Array(150).fill(9);
    const sig = signDetached(message, a.secretKey);
    expect(verify(sig, message, a.publicKey)).toBe(true);
    expect(verify(sig, message, b.publicKey)).toBe(false);
    expect(verify(sig, message.subarray(1), a.publicKey)).toBe(false);
  });
});
