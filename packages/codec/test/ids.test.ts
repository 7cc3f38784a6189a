import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bech32, bech32m } from '@scure/base';
import {
  formatAccountId,
  formatBankId,
  formatPublicKey,
  MAX_ID_CHARS,
  parseAccountId,
  parseBankId,
  parsePublicKey,
} from '../src/index.ts';
import { thrown } from './thrown.ts';

const ALPHABET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const counting = (n: number, from = 0) => new Uint8Array(n).map((_, i) => (from + i) & 0xff);

const KINDS = [
  { noun: 'bank ID', hrp: 'mbank', bytes: 32, chars: 64, format: formatBankId, parse: parseBankId },
  { noun: 'account ID', hrp: 'macct', bytes: 20, chars: 44, format: formatAccountId, parse: parseAccountId },
  { noun: 'public key', hrp: 'mpub', bytes: 32, chars: 63, format: formatPublicKey, parse: parsePublicKey },
] as const;

/** BIP-350 checksum check, written out independently of the library under test. */
function isBech32m(text: string): boolean {
  const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  const sep = text.lastIndexOf('1');
  const hrp = text.slice(0, sep);
  const values = [
    ...[...hrp].map((c) => c.charCodeAt(0) >> 5),
    0,
    ...[...hrp].map((c) => c.charCodeAt(0) & 31),
    ...[...text.slice(sep + 1)].map((c) => ALPHABET.indexOf(c)),
  ];
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i]!;
  }
  return chk === 0x2bc830a3;
}

describe('text IDs', () => {
  for (const k of KINDS) {
    describe(k.noun, () => {
      it('round trips any bytes, in lower and in upper case', () => {
        fc.assert(
          fc.property(fc.uint8Array({ minLength: k.bytes, maxLength: k.bytes }), (bytes) => {
            const text = k.format(bytes);
            expect(text).toHaveLength(k.chars);
            expect(text).toMatch(new RegExp(`^${k.hrp}1[${ALPHABET}]+$`));
            expect(isBech32m(text)).toBe(true);
            expect(hex(k.parse(text))).toBe(hex(bytes));
            expect(hex(k.parse(text.toUpperCase()))).toBe(hex(bytes));
          }),
        );
      });

      it('detects every single-character substitution', () => {
        const text = k.format(counting(k.bytes, 7));
        const candidates = [...new Set([...ALPHABET, ...ALPHABET.toUpperCase(), '1', 'b', 'i', 'o', 'B', 'I', 'O', '-', ' '])];
        let tried = 0;
        for (let i = 0; i < text.length; i++) {
          for (const c of candidates) {
            if (c === text[i]) continue;
            const typo = text.slice(0, i) + c + text.slice(i + 1);
            expect(thrown(() => k.parse(typo)).code).toBe('INVALID_ID');
            tried++;
          }
        }
        expect(tried).toBeGreaterThan(text.length * 40);
      });

      it('detects a random substitution in a random ID', () => {
        fc.assert(
          fc.property(
            fc.uint8Array({ minLength: k.bytes, maxLength: k.bytes }),
            fc.nat(),
            fc.constantFrom(...ALPHABET),
            (bytes, pos, c) => {
              const text = k.format(bytes);
              const i = k.hrp.length + 1 + (pos % (text.length - k.hrp.length - 1));
              fc.pre(text[i] !== c);
              const e = thrown(() => k.parse(text.slice(0, i) + c + text.slice(i + 1)));
              expect(e.code).toBe('INVALID_ID');
              expect(e.message).toContain('checksum does not match: a character is mistyped');
            },
          ),
        );
      });

      it('refuses a missing or extra character, mixed case, spaces, and text that is too long', () => {
        const text = k.format(counting(k.bytes));
        expect(thrown(() => k.parse(text.slice(0, -1))).message).toContain('missing or extra');
        expect(thrown(() => k.parse(text + 'q')).message).toContain('missing or extra');
        expect(thrown(() => k.parse(`M${text.slice(1)}`)).message).toContain('mixes upper- and lower-case');
        expect(thrown(() => k.parse(` ${text}`)).message).toContain('space');
        expect(thrown(() => k.parse(`${text}\n`)).message).toContain('space');
        expect(thrown(() => k.parse('')).message).toContain('missing');
        const huge = text + 'q'.repeat(1_000_000);
        const e = thrown(() => k.parse(huge));
        expect(e.code).toBe('INVALID_ID');
        expect(e.message.length).toBeLessThan(200);
        expect(thrown(() => k.parse(text + 'q'.repeat(MAX_ID_CHARS - text.length + 1))).code).toBe('INVALID_ID');
        expect(thrown(() => k.parse(`${text.slice(0, -1)}é`)).message).toContain('ASCII');
      });

      it('names the kind when given another kind of ID', () => {
        for (const other of KINDS) {
          if (other === k) continue;
          const e = thrown(() => k.parse(other.format(counting(other.bytes))));
          expect(e.code).toBe('INVALID_ID');
          expect(e.message).toContain(`That is a${other.noun === 'account ID' ? 'n' : ''} ${other.noun}`);
          expect(e.message).toContain(`not a${k.noun === 'account ID' ? 'n' : ''} ${k.noun}`);
        }
        expect(thrown(() => k.parse('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4')).message).toContain(`starts with "${k.hrp}1"`);
      });

      it('refuses the bech32 (not bech32m) checksum and non-zero padding bits', () => {
        const words = bech32m.toWords(counting(k.bytes));
        expect(thrown(() => k.parse(bech32.encode(k.hrp, words))).message).toContain('checksum does not match');
        if ((k.bytes * 8) % 5 !== 0) {
          const padded = [...words];
          padded[padded.length - 1] = (padded.at(-1) ?? 0) | 1;
          const e = thrown(() => k.parse(bech32m.encode(k.hrp, padded)));
          expect(e.code).toBe('INVALID_ID');
          expect(e.message).toContain('canonical');
        }
      });

      it('formats only byte strings of the right length', () => {
        for (const n of [0, k.bytes - 1, k.bytes + 1]) {
          expect(thrown(() => k.format(new Uint8Array(n))).code).toBe('INVALID_ENCODING');
        }
      });
    });
  }

  it('gives the same text for the same bytes however often, and new text for changed bytes', () => {
    const direct = (hrp: string, b: Uint8Array) => bech32m.encode(hrp, bech32m.toWords(b), MAX_ID_CHARS);
    // More distinct IDs than the formatter remembers, each formatted twice, interleaved.
    const ids = Array.from({ length: 5000 }, (_, i) => counting(32, i & 0xff).map((x, j) => (j === 0 ? i >> 8 : x)));
    for (const round of [0, 1]) {
      ids.forEach((id, i) => {
        expect(formatBankId(id), `round ${round}, id ${i}`).toBe(direct('mbank', id));
        expect(formatPublicKey(id)).toBe(direct('mpub', id));
        expect(formatAccountId(id.subarray(0, 20))).toBe(direct('macct', id.subarray(0, 20)));
      });
    }
    const b = counting(32);
    const before = formatBankId(b);
    b[31] = b[31]! ^ 1;
    expect(formatBankId(b)).not.toBe(before);
    expect(formatBankId(b)).toBe(direct('mbank', b));
  });

  it('has stable text forms', () => {
    expect(formatBankId(counting(32))).toBe('mbank1qqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0slqglrq');
    expect(formatPublicKey(counting(32, 0xe0).reverse())).toBe('mpub1lll0ml8mltul3alk7h608uh37rh7am0va04wn688umj7fclzu8sq2jjgx2');
  });
});
