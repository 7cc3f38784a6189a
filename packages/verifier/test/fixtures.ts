import { keyPairFromSeed, signDetached } from '../src/index.ts';
import type { VerifyItem } from '../src/index.ts';

/** An item and the verdict it must get. */
export interface LabelledItem extends VerifyItem {
  readonly expected: 0 | 1;
}

const KEYS = Array.from({ length: 8 }, (_, i) => keyPairFromSeed(new Uint8Array(32).fill(i + 1)));

/**
 * `n` items, a third of them invalid in rotating ways (bad signature bit, wrong message, wrong
 * key, wrong length), with messages of varying length, for checking order and content.
 */
export function mixedItems(n: number, salt = 0): LabelledItem[] {
  const items: LabelledItem[] = [];
  for (let i = 0; i < n; i++) {
    const key = KEYS[(i + salt) % KEYS.length]!;
    const message = new Uint8Array(100 + ((i * 7 + salt) % 120)).map((_, j) => (i + j * 13 + salt) & 0xff);
    const signature = signDetached(message, key.secretKey);
    const other = KEYS[(i + salt + 1) % KEYS.length]!;
    switch ((i + salt) % 12) {
      case 1:
        signature[(i * 5) % 64]! ^= 1 << (i % 8);
        items.push({ signature, message, publicKey: key.publicKey, expected: 0 });
        break;
      case 4:
        items.push({ signature, message: message.subarray(1), publicKey: key.publicKey, expected: 0 });
        break;
      case 7:
        items.push({ signature, message, publicKey: other.publicKey, expected: 0 });
        break;
      case 10:
        items.push({ signature: signature.subarray(0, 63), message, publicKey: key.publicKey, expected: 0 });
        break;
      default:
        items.push({ signature, message, publicKey: key.publicKey, expected: 1 });
    }
  }
  return items;
}

export const expectedOf = (items: readonly LabelledItem[]): number[] => items.map((x) => x.expected);
