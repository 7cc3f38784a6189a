import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fromBase64, fromHex, toBase64, toHex } from '../src/index.ts';
import { thrown } from './thrown.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('hex', () => {
  it('round trips and matches Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = toHex(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('hex'));
        expect(hex(fromHex(text))).toBe(text);
        expect(hex(fromHex(text.toUpperCase(), bytes.length))).toBe(text);
      }),
    );
  });

  it('refuses bad characters, odd lengths and wrong lengths with INVALID_ENCODING', () => {
    const cases: [string, number | undefined, string][] = [
      ['abc', undefined, 'odd number'],
      ['zz', undefined, 'only 0-9 and a-f'],
      ['0x00', undefined, 'only 0-9 and a-f'],
      [' ab', undefined, 'only 0-9 and a-f'],
      ['ab\n', undefined, 'only 0-9 and a-f'],
      ['abcd', 1, 'Expected 1 bytes'],
      ['ab', 2, 'Expected 2 bytes'],
      ['a'.repeat(1_000_000), 32, 'got 1000000 characters'],
    ];
    for (const [text, n, why] of cases) {
      const e = thrown(() => fromHex(text, n));
      expect(e.code, text).toBe('INVALID_ENCODING');
      expect(e.message, text).toContain(why);
    }
    expect(fromHex('')).toHaveLength(0);
  });
});

describe('base64', () => {
  it('round trips and matches Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = toBase64(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64'));
        expect(hex(fromBase64(text))).toBe(hex(bytes));
        expect(hex(fromBase64(text, bytes.length))).toBe(hex(bytes));
      }),
    );
  });

  it('refuses non-canonical text, bad characters, padding and lengths with INVALID_ENCODING', () => {
    const cases: [string, number | undefined, string][] = [
      ['AB==', undefined, 'canonical'],
      ['AAB=', undefined, 'canonical'],
      ['AA=', undefined, 'multiple of 4'],
      ['AA', undefined, 'multiple of 4'],
      ['AAAAA', undefined, 'multiple of 4'],
      ['A===', undefined, 'wrong place'],
      ['AA==AA==', undefined, 'wrong place'],
      ['A=A=', undefined, 'wrong place'],
      ['-_8=', undefined, 'base64url'],
      [' AA=', undefined, 'not " "'],
      ['AA==\n', undefined, 'not "\\n"'],
      ['AAAA', 2, 'Expected 2 bytes'],
      ['AAA=', 3, 'Expected 3 bytes'],
      [toBase64(new Uint8Array(31)), 32, 'Expected 32 bytes, got 31'],
      ['A'.repeat(1_000_000), 32, 'got 1000000'],
    ];
    for (const [text, n, why] of cases) {
      const e = thrown(() => fromBase64(text, n));
      expect(e.code, text).toBe('INVALID_ENCODING');
      expect(e.message, text).toContain(why);
    }
    expect(fromBase64('')).toHaveLength(0);
    expect(hex(fromBase64('/+8='))).toBe('ffef');
  });
});

describe('the Node.js path and the portable path', () => {
  /** The module as a browser loads it: no global Buffer when it is evaluated. */
  async function portable(): Promise<typeof import('../src/binary.ts')> {
    const saved = globalThis.Buffer;
    try {
      (globalThis as { Buffer?: unknown }).Buffer = undefined;
      // A query makes a second instance of the module, evaluated now.
      const path = '../src/binary.ts?portable';
      return (await import(/* @vite-ignore */ path)) as typeof import('../src/binary.ts');
    } finally {
      globalThis.Buffer = saved;
    }
  }
  const outcome = (f: () => Uint8Array): string => {
    try {
      return `ok ${hex(f())}`;
    } catch (err) {
      const e = err as { code?: string; message: string };
      return `${e.code} ${e.message}`;
    }
  };

  it('encode alike', async () => {
    const p = await portable();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(8), (all, cut) => {
        // A view that does not start at its buffer's start.
        const bytes = all.subarray(Math.min(cut, all.length));
        expect(toBase64(bytes)).toBe(p.toBase64(bytes));
        expect(toHex(bytes)).toBe(p.toHex(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('accept and refuse the same texts, and decode them alike into plain arrays', async () => {
    const p = await portable();
    const b64Char = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=', '-', '_', ' ', '\n', 'é');
    const hexChar = fc.constantFrom(...'0123456789abcdefABCDEF', 'g', 'x', ' ');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), fc.nat(40), fc.nat(70), b64Char, fc.option(fc.nat(60)), (bytes, at, at2, ch, n) => {
        // Valid text, then the same with one character changed (a bit flip in the last
        // character makes it non-canonical, a '=' breaks the padding, and so on).
        const good = toBase64(bytes);
        const changed = good.slice(0, at % (good.length + 1)) + ch + good.slice((at % (good.length + 1)) + 1);
        for (const text of [good, changed, changed.slice(0, at2)]) {
          expect(outcome(() => fromBase64(text, n ?? undefined))).toBe(outcome(() => p.fromBase64(text, n ?? undefined)));
        }
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.array(hexChar, { maxLength: 70 }), fc.option(fc.nat(40)), (chars, n) => {
        const text = chars.join('');
        expect(outcome(() => fromHex(text, n ?? undefined))).toBe(outcome(() => p.fromHex(text, n ?? undefined)));
      }),
      { numRuns: 3000 },
    );
    // Decoded bytes are a plain Uint8Array (not a Buffer), and no two share bytes.
    const decoded = [fromBase64('AQID'), fromHex('010203'), fromBase64('AQID'), fromHex('010203')];
    for (const b of decoded) expect(b.constructor).toBe(Uint8Array);
    decoded[0]!.fill(9);
    decoded[1]!.fill(8);
    expect(decoded.map(hex)).toEqual(['090909', '080808', '010203', '010203']);
  });

  it('is the portable code when there is no Buffer', async () => {
    const p = await portable();
    // Decoding without Buffer still refuses a non-canonical last character.
    expect(outcome(() => p.fromBase64('AB=='))).toContain('canonical');
    expect(p.toBase64(Uint8Array.of(0xff, 0xef))).toBe('/+8=');
  });
});
