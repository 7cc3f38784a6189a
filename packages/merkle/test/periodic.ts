// A tree of any size up to 2^53 - 1 whose entries repeat every 16: entry i is
// "entry <i mod 16>". Every stored node is cheap to compute, yet all nodes agree with
// each other, so proofs over it can be verified at sizes far beyond any real test log.
import { nodeHash, type NodeReader } from '../src/index.ts';
import { entries, refMth } from './reference.ts';

export const PERIOD = 16;
const pattern = entries(PERIOD);

/** perfect[L] = hash of 2^L consecutive entries from a multiple of 16, for L >= 4. */
const perfect: Uint8Array[] = [];
perfect[4] = refMth(pattern);
for (let level = 5; level <= 53; level++) perfect[level] = nodeHash(perfect[level - 1]!, perfect[level - 1]!);

const small = new Map<string, Uint8Array>();

/** The entry at `index`. */
export const periodicEntry = (index: number): Uint8Array => pattern[index % PERIOD]!;

/** Node (level, index) of the periodic tree. */
export function periodicNode(level: number, index: number): Uint8Array {
  if (level >= 4) return perfect[level]!;
  const width = 2 ** level;
  const start = (index * width) % PERIOD;
  const key = `${level}/${start}`;
  let hash = small.get(key);
  if (hash === undefined) {
    hash = refMth(pattern.slice(start, start + width));
    small.set(key, hash);
  }
  return hash;
}

/** A reader over the periodic tree of `size` entries that counts its reads. */
export function periodicReader(size: number): NodeReader & { reads: number } {
  const reader = Object.assign(
    (level: number, index: number) => {
      reader.reads++;
      if ((index + 1) * 2 ** level > size) throw new Error(`node (${level}, ${index}) reaches past size ${size}`);
      return periodicNode(level, index);
    },
    { reads: 0 },
  );
  return reader;
}
