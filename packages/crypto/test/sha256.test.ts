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
});
