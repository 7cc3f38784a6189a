import { formatPublicKey, fromBase64, parsePublicKey, toBase64 } from '@mutual/codec';
import { generateSeed, publicKeyFromSeed } from '@mutual/crypto';
import { MutualError } from '@mutual/interface';

/** A holder's key pair. The seed is the secret; the node never sees it. */
export interface HolderKey {
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** The `kind` of a key file, so that another JSON file is never taken for a key. */
export const KEY_FILE_KIND = 'mutual-key';

/** Longest key file accepted; a real one is about 150 characters. */
export const MAX_KEY_FILE_CHARS = 4096;

/** A new key pair from the platform's cryptographic random generator. */
export function newKey(): HolderKey {
  const seed = generateSeed();
  return { seed, publicKey: publicKeyFromSeed(seed) };
}

/** The key file text of a seed: `{"kind":"mutual-key","publicKey":"mpub1…","seed":"<base64>"}` and a newline. */
export function serializeKey(seed: Uint8Array): string {
  const publicKey = publicKeyFromSeed(seed);
  return `${JSON.stringify({ kind: KEY_FILE_KIND, publicKey: formatPublicKey(publicKey), seed: toBase64(seed) })}\n`;
}

function invalid(why: string): MutualError {
  return new MutualError('KEY_FILE_INVALID', `not a Mutual key file: ${why}`);
}

/**
 * Reads key file text strictly: exactly the three fields, the seed as 32 bytes of padded
 * base64 (`INVALID_ENCODING` otherwise), and a public key that is the seed's own, so that a
 * hand-edited file cannot sign as someone other than it claims. Throws `KEY_FILE_INVALID`.
 */
export function parseKeyFile(text: string): HolderKey {
  if (text.length > MAX_KEY_FILE_CHARS) throw invalid(`longer than ${MAX_KEY_FILE_CHARS} characters`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw invalid('not JSON');
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw invalid('not a JSON object');
  const fields = Object.keys(doc).sort();
  if (fields.join(',') !== 'kind,publicKey,seed') throw invalid(`fields must be kind, publicKey and seed; found ${fields.join(', ').slice(0, 100) || 'none'}`);
  const { kind, publicKey, seed } = doc as Record<string, unknown>;
  if (kind !== KEY_FILE_KIND) throw invalid(`kind must be "${KEY_FILE_KIND}"`);
  if (typeof seed !== 'string' || typeof publicKey !== 'string') throw invalid('publicKey and seed must be strings');
  const seedBytes = fromBase64(seed, 32);
  let claimed: Uint8Array;
  try {
    claimed = parsePublicKey(publicKey);
  } catch (err) {
    throw invalid(`publicKey: ${(err as Error).message}`);
  }
  const actual = publicKeyFromSeed(seedBytes);
  if (!claimed.every((b, i) => b === actual[i])) throw invalid('publicKey is not the public key of seed');
  return { seed: seedBytes, publicKey: actual };
}
