import { base64, hex } from '@scure/base';
import { MutualError } from '@mutual/interface';

/**
 * Bytes as hex or base64 text (RFC 4648, standard alphabet, padded). Decoding is strict:
 * one text for each byte string, so that two texts never stand for the same bytes.
 */

function refuse(message: string): never {
  throw new MutualError('INVALID_ENCODING', message);
}

function assertBytes(bytes: unknown): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`Expected a Uint8Array, got ${typeof bytes}.`);
}

function assertExpectedLength(expectedLength: number | undefined): void {
  if (expectedLength !== undefined && !(Number.isSafeInteger(expectedLength) && expectedLength >= 0)) {
    throw new TypeError(`expectedLength must be a non-negative integer, got ${String(expectedLength)}.`);
  }
}

function firstOutside(text: string, allowed: RegExp): string {
  for (const ch of text) if (!allowed.test(ch)) return ch;
  return '';
}

/**
 * Node's Buffer, when there is one: its hex and base64 are native, 20 to 60 times faster than
 * the portable code for the sizes an entry or an instruction has (an event stream sends every
 * entry as base64, and an audit reads every entry so). Elsewhere (browsers) `@scure/base`.
 * Both give the same text, and decoding checks the text the same way before either decodes.
 */
const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;

const asBuffer = (bytes: Uint8Array): Buffer => NodeBuffer!.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
/**
 * Decoded bytes as a plain Uint8Array over the same memory: small Buffers are carved from
 * Node's shared pool, and copying them out would cost an allocation of their own (about 2 µs
 * for 180 bytes, more than the decoding).
 */
const plain = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const HEX_TEXT = /^[0-9a-fA-F]*$/;
const BASE64_TEXT = /^[A-Za-z0-9+/=]*$/;

/** Lower-case hex text of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  assertBytes(bytes);
  return NodeBuffer ? asBuffer(bytes).toString('hex') : hex.encode(bytes);
}

/**
 * The bytes of hex text (upper or lower case, no "0x", no spaces). With `expectedLength`,
 * the text must hold exactly that many bytes; the length is checked before decoding.
 * Throws `INVALID_ENCODING`.
 */
export function fromHex(text: string, expectedLength?: number): Uint8Array {
  assertExpectedLength(expectedLength);
  if (typeof text !== 'string') refuse('Hex data must be text.');
  if (expectedLength !== undefined && text.length !== expectedLength * 2) {
    refuse(`Expected ${expectedLength} bytes as ${expectedLength * 2} hex digits, got ${text.length} characters.`);
  }
  if (!HEX_TEXT.test(text)) refuse(`Hex data may contain only 0-9 and a-f, not ${JSON.stringify(firstOutside(text, /[0-9a-fA-F]/))}.`);
  if (text.length % 2 !== 0) refuse(`Hex data has an odd number of digits (${text.length}): each byte is two digits.`);
  return NodeBuffer ? plain(NodeBuffer.from(text, 'hex')) : hex.decode(text.toLowerCase());
}

/** Standard, padded base64 text of `bytes`. */
export function toBase64(bytes: Uint8Array): string {
  assertBytes(bytes);
  return NodeBuffer ? asBuffer(bytes).toString('base64') : base64.encode(bytes);
}

/** Characters of the padded base64 text of `n` bytes. */
function base64Length(n: number): number {
  return Math.ceil(n / 3) * 4;
}

/**
 * The bytes of standard, padded base64 text (alphabet A-Z a-z 0-9 + /, "=" padding, no
 * spaces or line breaks; unused bits must be zero). With `expectedLength`, the text must
 * hold exactly that many bytes; the length is checked before decoding. Throws
 * `INVALID_ENCODING`.
 */
export function fromBase64(text: string, expectedLength?: number): Uint8Array {
  assertExpectedLength(expectedLength);
  if (typeof text !== 'string') refuse('Base64 data must be text.');
  if (expectedLength !== undefined && text.length !== base64Length(expectedLength)) {
    refuse(`Expected ${expectedLength} bytes as ${base64Length(expectedLength)} base64 characters, got ${text.length}.`);
  }
  const bad = BASE64_TEXT.test(text) ? '' : firstOutside(text, /[A-Za-z0-9+/=]/);
  if (bad !== '') {
    const hint = bad === '-' || bad === '_' ? ' (this looks like base64url: use + and / instead of - and _)' : '';
    refuse(`Base64 data may contain only A-Z, a-z, 0-9, +, / and = padding, not ${JSON.stringify(bad)}${hint}.`);
  }
  if (text.length % 4 !== 0) refuse(`Base64 data has ${text.length} characters, not a multiple of 4: is "=" padding missing?`);
  const pad = text.indexOf('=');
  if (pad !== -1 && (pad < text.length - 2 || !/^=+$/.test(text.slice(pad)))) {
    refuse('Base64 data has "=" padding in the wrong place: at most two, only at the end.');
  }
  let bytes: Uint8Array;
  const notCanonical = 'Base64 data is not canonical: the bits left over in its last character must be zero.';
  if (NodeBuffer) {
    // The text is well formed here; Node drops leftover bits that are not zero, so the
    // bytes must give back the very same text.
    const decoded = NodeBuffer.from(text, 'base64');
    if (decoded.toString('base64') !== text) refuse(notCanonical);
    bytes = plain(decoded);
  } else {
    try {
      bytes = base64.decode(text);
    } catch {
      refuse(notCanonical);
    }
  }
  if (expectedLength !== undefined && bytes.length !== expectedLength) {
    refuse(`Expected ${expectedLength} bytes, got ${bytes.length}.`);
  }
  return bytes;
}
