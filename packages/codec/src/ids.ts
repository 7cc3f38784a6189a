import { bech32m } from '@scure/base';
import { MutualError } from '@mutual/interface';

/**
 * Text IDs: bech32m (BIP-350) with a per-kind prefix. The checksum detects any mistyped
 * character (and up to 4 of them), so a typo is refused instead of paying a stranger; the
 * prefix tells a bank ID from an account ID from a holder key at a glance.
 */

/** Bytes of an account ID. */
export const ACCOUNT_ID_BYTES = 20;
/** Bytes of an Ed25519 public key (a bank ID or a holder key). */
export const KEY_BYTES = 32;

/**
 * Longest text accepted as an ID, checked before any decoding. The longest ID (a bank ID)
 * has 64 characters; BIP-173's limit of 90 leaves room for a clear "wrong length" message.
 */
export const MAX_ID_CHARS = 90;

interface IdKind {
  readonly hrp: string;
  readonly bytes: number;
  /** How people call it, used in messages. */
  readonly noun: string;
}

const BANK: IdKind = { hrp: 'mbank', bytes: KEY_BYTES, noun: 'bank ID' };
const ACCOUNT: IdKind = { hrp: 'macct', bytes: ACCOUNT_ID_BYTES, noun: 'account ID' };
const PUBLIC_KEY: IdKind = { hrp: 'mpub', bytes: KEY_BYTES, noun: 'public key' };
const KINDS: readonly IdKind[] = [BANK, ACCOUNT, PUBLIC_KEY];

const ALPHABET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const CHECKSUM_CHARS = 6;

/** Characters of the text form of `kind`: prefix, '1', 5 bits per character, checksum. */
function textLength(kind: IdKind): number {
  return kind.hrp.length + 1 + Math.ceil((kind.bytes * 8) / 5) + CHECKSUM_CHARS;
}

function article(noun: string): string {
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}

function fail(message: string): never {
  throw new MutualError('INVALID_ID', message);
}

/**
 * Text forms already computed, by prefix and bytes: a node formats the same few bank and
 * account IDs for every entry it shows (event streams, statements, results), and the bech32m
 * encoding costs a few microseconds each time. Emptied when full.
 */
const formatted = new Map<string, string>();
/** Node's native bytes-to-latin1 (one character per byte), for the key; absent in a browser. */
const latin1 = (globalThis as { Buffer?: { prototype: { latin1Slice?: (this: Uint8Array, start: number, end: number) => string } } }).Buffer?.prototype.latin1Slice;
const MAX_FORMATTED = 4096;

function formatId(kind: IdKind, bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array)) {
    throw new MutualError('INVALID_ENCODING', `${capitalize(article(kind.noun))} is made from a Uint8Array of ${kind.bytes} bytes.`);
  }
  if (bytes.length !== kind.bytes) {
    throw new MutualError('INVALID_ENCODING', `${capitalize(article(kind.noun))} is made from ${kind.bytes} bytes, got ${bytes.length}.`);
  }
  const key = kind.hrp + (latin1 ? latin1.call(bytes, 0, bytes.length) : String.fromCharCode(...bytes));
  let text = formatted.get(key);
  if (text === undefined) {
    text = bech32m.encode(kind.hrp, bech32m.toWords(bytes), MAX_ID_CHARS);
    if (formatted.size >= MAX_FORMATTED) formatted.clear();
    formatted.set(key, text);
  }
  return text;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function parseId(kind: IdKind, text: string): Uint8Array {
  const what = capitalize(article(kind.noun));
  const expected = textLength(kind);
  const example = `${kind.hrp}1...`;
  if (typeof text !== 'string') fail(`${what} must be text like ${example}.`);
  // Length first: nothing below runs on arbitrarily long input.
  if (text.length > MAX_ID_CHARS) {
    fail(`${what} has ${expected} characters; this text has ${text.length}. Copy the ID again.`);
  }
  if (text.length === 0) fail(`${what} is missing: expected text like ${example}.`);

  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) {
      fail(`${what} contains a space or invisible character at position ${i + 1}: remove it (IDs are written without spaces).`);
    }
    if (c > 0x7e) {
      fail(`${what} contains the character ${JSON.stringify(text[i])} at position ${i + 1}: IDs use only ASCII letters and digits.`);
    }
  }

  const lower = text.toLowerCase();
  // Bech32 allows all-upper-case (for QR codes) but never a mix: a mix is a sign of a typo.
  if (text !== lower && text !== text.toUpperCase()) {
    fail(`${what} mixes upper- and lower-case letters: write it all in lower case.`);
  }

  const sep = lower.lastIndexOf('1');
  if (sep < 1) fail(`${what} starts with "${kind.hrp}1"; this text has no such prefix.`);
  const hrp = lower.slice(0, sep);
  if (hrp !== kind.hrp) {
    const other = KINDS.find((k) => k.hrp === hrp);
    if (other !== undefined) fail(`That is ${article(other.noun)} (${other.hrp}1...), not ${article(kind.noun)} (${kind.hrp}1...).`);
    fail(`${what} starts with "${kind.hrp}1", not "${hrp}1".`);
  }

  const data = lower.slice(sep + 1);
  for (let i = 0; i < data.length; i++) {
    const ch = data.charAt(i);
    if (!ALPHABET.includes(ch)) {
      fail(`${what} cannot contain "${ch}" (position ${sep + 2 + i}): IDs never use 1, b, i or o after the prefix, so a character is mistyped.`);
    }
  }

  if (text.length !== expected) {
    fail(`${what} has ${expected} characters; this one has ${text.length}: a character is missing or extra.`);
  }

  let words: number[];
  try {
    words = bech32m.decode(lower as `${string}1${string}`, MAX_ID_CHARS).words;
  } catch {
    fail(`${capitalize(kind.noun)} checksum does not match: a character is mistyped.`);
  }

  let bytes: Uint8Array;
  try {
    bytes = bech32m.fromWords(words);
  } catch {
    // The unused low bits of the last character must be zero; otherwise two texts would
    // name the same ID.
    fail(`${what} is not in canonical form: a character is mistyped.`);
  }
  if (bytes.length !== kind.bytes) fail(`${what} must hold ${kind.bytes} bytes, got ${bytes.length}.`);
  return bytes;
}

/** The text form `mbank1...` of a bank's 32-byte Ed25519 public key. Throws `INVALID_ENCODING` on a wrong length. */
export function formatBankId(bytes: Uint8Array): string {
  return formatId(BANK, bytes);
}

/** The 32-byte key named by a bank ID `mbank1...` (lower or all upper case). Throws `INVALID_ID`. */
export function parseBankId(text: string): Uint8Array {
  return parseId(BANK, text);
}

/** The text form `macct1...` of a 20-byte account ID. Throws `INVALID_ENCODING` on a wrong length. */
export function formatAccountId(bytes: Uint8Array): string {
  return formatId(ACCOUNT, bytes);
}

/** The 20 bytes named by an account ID `macct1...` (lower or all upper case). Throws `INVALID_ID`. */
export function parseAccountId(text: string): Uint8Array {
  return parseId(ACCOUNT, text);
}

/** The text form `mpub1...` of a holder's 32-byte Ed25519 public key. Throws `INVALID_ENCODING` on a wrong length. */
export function formatPublicKey(bytes: Uint8Array): string {
  return formatId(PUBLIC_KEY, bytes);
}

/** The 32-byte key named by a public key text `mpub1...` (lower or all upper case). Throws `INVALID_ID`. */
export function parsePublicKey(text: string): Uint8Array {
  return parseId(PUBLIC_KEY, text);
}
