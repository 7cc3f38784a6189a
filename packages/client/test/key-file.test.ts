import { formatPublicKey, toBase64 } from '@mutual/codec';
import { generateSeed, publicKeyFromSeed } from '@mutual/crypto';
import { describe, expect, it } from 'vitest';
import { newKey, parseKeyFile, serializeKey } from '../src/index.ts';

describe('key files', () => {
  it('round-trip a seed', () => {
    const k = newKey();
    const text = serializeKey(k.seed);
    expect(JSON.parse(text)).toEqual({ kind: 'mutual-key', publicKey: formatPublicKey(k.publicKey), seed: toBase64(k.seed) });
    const back = parseKeyFile(text);
    expect(back.seed).toEqual(k.seed);
    expect(back.publicKey).toEqual(k.publicKey);
  });

  it('refuse anything but exactly the format', () => {
    const seed = generateSeed();
    const good = { kind: 'mutual-key', publicKey: formatPublicKey(publicKeyFromSeed(seed)), seed: toBase64(seed) };
    const other = formatPublicKey(publicKeyFromSeed(generateSeed()));
    const cases: Array<[string, string]> = [
      ['not json', 'KEY_FILE_INVALID'],
      ['[]', 'KEY_FILE_INVALID'],
      ['null', 'KEY_FILE_INVALID'],
      [JSON.stringify({ ...good, extra: 1 }), 'KEY_FILE_INVALID'],
      [JSON.stringify({ ...good, kind: 'ssh-key' }), 'KEY_FILE_INVALID'],
      [JSON.stringify({ kind: good.kind, seed: good.seed }), 'KEY_FILE_INVALID'],
      [JSON.stringify({ ...good, publicKey: other }), 'KEY_FILE_INVALID'],
      [JSON.stringify({ ...good, publicKey: 'mpub1broken' }), 'KEY_FILE_INVALID'],
      [JSON.stringify({ ...good, seed: 42 }), 'KEY_FILE_INVALID'],
      [JSON.stringify({ ...good, seed: toBase64(seed.subarray(0, 31)) }), 'INVALID_ENCODING'],
      [JSON.stringify({ ...good, seed: good.seed.replace(/=*$/, '') }), 'INVALID_ENCODING'],
      [' '.repeat(5000) + JSON.stringify(good), 'KEY_FILE_INVALID'],
    ];
    for (const [text, code] of cases) expect(() => parseKeyFile(text), text.slice(0, 60)).toThrow(expect.objectContaining({ code }));
    expect(() => parseKeyFile(JSON.stringify(good))).not.toThrow();
  });
});
