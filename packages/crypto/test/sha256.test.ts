import { describe, expect, it } from 'vitest';
import { sha256 } from '../src/index.ts';
import { sha256 as webSha256 } from '../src/sha256-web.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const utf8 = (s: string) => new TextEncoder().encode(s);

describe('sha256', () => {
  it('matches the FIPS 180-2 vectors, in Node and portable builds', () => {
    for (const f of [sha256, webSha256]) {
      expect(hex(f(utf8('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      expect(hex(f())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
      // parts are concatenated
      expect(hex(f(utf8('a'), utf8('bc')))).toBe(hex(f(utf8('abc'))));
    }
  });

  it('gives digests that stay as they are across many calls, for inputs of every size', () => {
    // More digests than one slab holds, inputs on and off the V8 heap, below and above the
    // reused input buffer's size, and a part that is a view into a larger buffer.
    const sizes = [0, 1, 31, 32, 33, 64, 65, 100, 1023, 1024, 1025, 5000];
    const taken: { digest: Uint8Array; expected: string }[] = [];
    for (let i = 0; i < 600; i++) {
      const n = sizes[i % sizes.length]!;
      const backing = Buffer.alloc(n + 7, i & 0xff);
      const input = i % 2 === 0 ? new Uint8Array(backing.subarray(3, 3 + n)) : backing.subarray(3, 3 + n);
      const expected = webSha256(input);
      taken.push({ digest: sha256(input), expected: hex(expected) });
      taken.push({ digest: sha256(utf8('x'), input), expected: hex(webSha256(utf8('x'), input)) });
    }
    for (const t of taken) expect(hex(t.digest)).toBe(t.expected);
    for (const t of taken) expect(t.digest.length).toBe(32);
  });
});
