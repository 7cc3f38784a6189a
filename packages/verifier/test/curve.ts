import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import type { EdwardsPoint } from '@noble/curves/abstract/edwards.js';
import { createHash } from 'node:crypto';

/**
 * Ed25519 arithmetic for constructing test vectors, on @noble/curves, so that every edge case
 * is built from first principles rather than from the implementation under test.
 */

export type Point = EdwardsPoint;
export const Point = ed25519.Point;
export const B: Point = Point.BASE;
export const O: Point = Point.ZERO;
/** Field prime p = 2^255 - 19. */
export const p: bigint = Point.CURVE().p;
/** Prime subgroup order L = 2^252 + 27742317777372353535851937790883648493. */
export const L: bigint = Point.CURVE().n;

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let at = 0;
  for (const x of parts) {
    out.set(x, at);
    at += x.length;
  }
  return out;
}

export function toLE(n: bigint, bytes = 32): Uint8Array {
  if (n < 0n || n >= 1n << BigInt(8 * bytes)) throw new RangeError(`${n} does not fit in ${bytes} bytes`);
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

export function fromLE(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
  return n;
}

const sha512 = (data: Uint8Array): Uint8Array => new Uint8Array(createHash('sha512').update(data).digest());

export const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m;
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

/** [n]P for any n >= 0 and any curve point P, torsion components included. */
export function mul(P: Point, n: bigint): Point {
  return n === 0n ? O : P.multiplyUnsafe(n);
}

/** The canonical 32-byte encoding of P. */
export const enc = (P: Point): Uint8Array => P.toBytes();

/** Encoding of y with sign bit `sign`, y anywhere in [0, 2^255): also the non-canonical ones. */
export function encodeY(y: bigint, sign: 0 | 1): Uint8Array {
  const b = toLE(y);
  b[31] = (b[31]! & 0x7f) | (sign << 7);
  return b;
}

/** Decodes like a lenient verifier would: y is reduced mod p and "negative zero" x is allowed. */
export function decodeLenient(bytes: Uint8Array): Point | undefined {
  try {
    return Point.fromBytes(bytes, true);
  } catch {
    return undefined;
  }
}

/** The smallest m in {1, 2, 4, 8} with [m]P = O, or undefined when P is not of small order. */
export function smallOrder(P: Point): 1 | 2 | 4 | 8 | undefined {
  for (const m of [1, 2, 4, 8] as const) if (mul(P, BigInt(m)).is0()) return m;
  return undefined;
}

/** The eight points of order dividing 8, in their canonical encodings. */
export const TORSION: readonly Point[] = ED25519_TORSION_SUBGROUP.map((h) => Point.fromHex(h));
/** A generator of the torsion subgroup (order 8). */
export const T8: Point = TORSION.find((T) => smallOrder(T) === 8)!;

/** k = SHA-512(R || A || M) mod L, over the bytes exactly as they appear in signature and key. */
export function challenge(R: Uint8Array, A: Uint8Array, M: Uint8Array): bigint {
  return mod(fromLE(sha512(concat(R, A, M))), L);
}

/** A deterministic scalar in [1, L) for nonces and secret keys of constructed cases. */
export function scalar(label: string, i = 0): bigint {
  return mod(fromLE(sha512(utf8(`${label}/${i}`))), L - 1n) + 1n;
}

export function signature(R: Uint8Array, S: bigint): Uint8Array {
  return concat(R, toLE(S));
}

/** Which verification equations a (signature, message, key) satisfies, evaluated independently. */
export type Equation = 'both' | 'cofactored only' | 'neither' | 'undecodable';

/**
 * Evaluates [S]B = R + [k]A (cofactorless) and [8][S]B = [8]R + [8][k]A (cofactored) with R and
 * A decoded leniently, S taken mod L, and k hashed over the bytes as given. This is how the
 * table shows what each case is *about*, independent of the verdict of the verifier.
 */
export function equation(sig: Uint8Array, message: Uint8Array, publicKey: Uint8Array): Equation {
  const Renc = sig.subarray(0, 32);
  const R = decodeLenient(Renc);
  const A = decodeLenient(publicKey);
  if (R === undefined || A === undefined) return 'undecodable';
  const S = mod(fromLE(sig.subarray(32, 64)), L);
  const k = challenge(Renc, publicKey, message);
  const diff = mul(B, S).subtract(R.add(mul(A, k)));
  if (diff.is0()) return 'both';
  return mul(diff, 8n).is0() ? 'cofactored only' : 'neither';
}
