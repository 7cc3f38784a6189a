import { sha256 } from '@mutual/crypto';
import { describe, expect, it } from 'vitest';
import { EMPTY_ROOT, HASH_BYTES, leafHash, nodeHash } from '../src/index.ts';
import { hex, unhex } from './reference.ts';

describe('hashing (RFC 9162 §2.1.1)', () => {
  it('EMPTY_ROOT is SHA-256 of the empty string', () => {
    expect(hex(EMPTY_ROOT)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('leafHash("") is SHA-256(0x00)', () => {
    expect(hex(leafHash(new Uint8Array()))).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  });

  it('prefixes leaves with 0x00 and interior nodes with 0x01', () => {
    const a = unhex('11'.repeat(32));
    const b = unhex('22'.repeat(32));
    expect(hex(leafHash(a))).toBe(hex(sha256(Uint8Array.of(0), a)));
    expect(hex(nodeHash(a, b))).toBe(hex(sha256(Uint8Array.of(1), a, b)));
    // Order matters, and a node is never the leaf of the same bytes.
    expect(hex(nodeHash(a, b))).not.toBe(hex(nodeHash(b, a)));
    const concatenated = new Uint8Array([...a, ...b]);
    expect(hex(nodeHash(a, b))).not.toBe(hex(leafHash(concatenated)));
  });

  it('hashes are HASH_BYTES long', () => {
    expect(HASH_BYTES).toBe(32);
    expect(EMPTY_ROOT.length).toBe(HASH_BYTES);
    expect(leafHash(new Uint8Array(1000)).length).toBe(HASH_BYTES);
    expect(nodeHash(EMPTY_ROOT, EMPTY_ROOT).length).toBe(HASH_BYTES);
  });
});
