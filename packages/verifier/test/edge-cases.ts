import { ed25519 } from '@noble/curves/ed25519.js';
import {
  B,
  type Equation,
  L,
  O,
  type Point,
  T8,
  TORSION,
  challenge,
  concat,
  decodeLenient,
  enc,
  encodeY,
  fromLE,
  hex,
  mod,
  mul,
  p,
  scalar,
  signature,
  smallOrder,
  toLE,
  utf8,
} from './curve.ts';
import { RFC8032 } from './rfc8032.ts';

/**
 * The table of signature cases with the verdict the node's verifier must return for each.
 * Each constructed case also states which verification equation it satisfies; the test checks
 * that claim with an independent evaluation, so a row cannot silently test something else.
 */
export interface Case {
  readonly name: string;
  readonly signature: Uint8Array;
  readonly message: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly expected: boolean;
  /** The equation the construction satisfies; absent where the inputs are not even well-formed. */
  readonly equation?: Equation;
}

const MESSAGE = utf8('Mutual: transfer 40 hours from bank 7 to bank 12');
/** An honest key built from a scalar, not from a seed, so that its discrete log is known here. */
const a = scalar('honest key');
const A = mul(B, a);
const Aenc = enc(A);
/** A key with a torsion component: not small order, not in the prime-order subgroup. */
const AmixedEnc = enc(A.add(T8));

/** A cofactorless-valid signature by (a, Aenc) with nonce point [r]B + Rtorsion. */
function sign(message: Uint8Array, r: bigint, publicKey = Aenc, Rtorsion: Point = O): Uint8Array {
  const Renc = enc(mul(B, r).add(Rtorsion));
  return signature(Renc, mod(r + challenge(Renc, publicKey, message) * a, L));
}

function search<T>(what: string, attempt: (i: number) => T | undefined): T {
  for (let i = 0; i < 4096; i++) {
    const found = attempt(i);
    if (found !== undefined) return found;
  }
  throw new Error(`no construction found for: ${what}`);
}

function pointName(P: Point): string {
  const h = hex(enc(P));
  return `${h.slice(0, 8)}…${h.slice(62)} (order ${smallOrder(P) ?? 'not small'})`;
}

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

/** RFC 8032 vectors as given, and with each single bit of signature, key and message flipped. */
export function rfcCases(): Case[] {
  const rows: Case[] = [];
  for (const v of RFC8032) {
    const { signature: sig, message, publicKey } = v;
    rows.push({ name: `${v.name}: as published`, signature: sig, message, publicKey, expected: true, equation: 'both' });
    for (let bit = 0; bit < 512; bit++) {
      rows.push({ name: `${v.name}: signature bit ${bit} flipped`, signature: flipBit(sig, bit), message, publicKey, expected: false });
    }
    for (let bit = 0; bit < 256; bit++) {
      rows.push({ name: `${v.name}: key bit ${bit} flipped`, signature: sig, message, publicKey: flipBit(publicKey, bit), expected: false });
    }
    for (let bit = 0; bit < message.length * 8; bit++) {
      rows.push({ name: `${v.name}: message bit ${bit} flipped`, signature: sig, message: flipBit(message, bit), publicKey, expected: false });
    }
    if (message.length === 0) {
      rows.push({ name: `${v.name}: message extended by one zero byte`, signature: sig, message: new Uint8Array(1), publicKey, expected: false });
    }
  }
  return rows;
}

/** Edge cases after Wycheproof's EdDSA vectors and ed25519-speccheck, built with noble's arithmetic. */
export function edgeCases(): Case[] {
  const rows: Case[] = [];
  const row = (name: string, sig: Uint8Array, message: Uint8Array, publicKey: Uint8Array, expected: boolean, equation?: Equation): void => {
    rows.push(equation === undefined ? { name, signature: sig, message, publicKey, expected } : { name, signature: sig, message, publicKey, expected, equation });
  };

  // Controls: an honest signature and honest signatures from noble's own signer.
  const honest = sign(MESSAGE, scalar('nonce'));
  row('control: honest signature', honest, MESSAGE, Aenc, true, 'both');
  const seed = utf8('mutual verifier control seed 32b');
  const noblePk = ed25519.getPublicKey(seed);
  const empty = new Uint8Array(0);
  row('(h) message of 0 bytes, signed by noble', ed25519.sign(empty, seed), empty, noblePk, true, 'both');
  const big = new Uint8Array(10 * 1024).map((_, i) => (i * 131 + 7) & 0xff);
  row('(h) message of 10 kB, signed by noble', ed25519.sign(big, seed), big, noblePk, true, 'both');

  // (a) S must be canonical: S + nL satisfies the equation mod L, yet is a different byte string.
  const honestR = honest.subarray(0, 32);
  const honestS = fromLE(honest.subarray(32));
  {
    // S + L below 2^253 has its top three bits clear, so only an exact S < L check rejects it
    // (older libsodium in ED25519_COMPAT mode checked just those three bits).
    const low = search('S + L < 2^253', (i) => {
      const sig = sign(MESSAGE, scalar('S + L', i));
      const S = fromLE(sig.subarray(32));
      return S + L < 1n << 253n ? signature(sig.subarray(0, 32), S + L) : undefined;
    });
    row('(a) S + L < 2^253 (non-canonical S, top three bits clear, equation holds mod L)', low, MESSAGE, Aenc, false, 'both');
  }
  row('(a) S + L (non-canonical S, equation holds mod L)', signature(honestR, honestS + L), MESSAGE, Aenc, false, 'both');
  if (honestS + 15n * L >= 1n << 256n) throw new Error('nonce gives S too large for S + 15L');
  row('(a) S + 15L (top bits of S set, equation holds mod L)', signature(honestR, honestS + 15n * L), MESSAGE, Aenc, false, 'both');
  row('(a) S with bit 255 set', signature(honestR, honestS | (1n << 255n)), MESSAGE, Aenc, false, 'neither');
  row('(a) S = L', signature(honestR, L), MESSAGE, Aenc, false, 'neither');
  row('(a) S = 2^256 - 1', signature(honestR, (1n << 256n) - 1n), MESSAGE, Aenc, false, 'neither');

  // (b) Small-order A: with R = [r]B and S = r, the equation holds once [k]A = O, i.e. k ≡ 0 mod ord(A).
  const smallOrderKey = (label: string, Abytes: Uint8Array, order: number): void => {
    const sig = search(label, (i) => {
      const r = scalar(`small-order A ${label}`, i);
      const Renc = enc(mul(B, r));
      return challenge(Renc, Abytes, MESSAGE) % BigInt(order) === 0n ? signature(Renc, r) : undefined;
    });
    row(label, sig, MESSAGE, Abytes, false, 'both');
  };
  for (const T of TORSION) smallOrderKey(`(b) A = small-order point ${pointName(T)}, equation holds`, enc(T), smallOrder(T)!);

  // speccheck case 0: small-order A and small-order R with S = 0 ([0]B = R + [k]A).
  {
    const found = search('small-order A and R, S = 0', (i) => {
      const message = utf8(`speccheck 0 / ${i}`);
      for (const R of TORSION) {
        const Renc = enc(R);
        if (R.add(mul(T8, challenge(Renc, enc(T8), message))).is0()) return { sig: signature(Renc, 0n), message };
      }
      return undefined;
    });
    row('(b) small-order A and small-order R, S = 0, equation holds', found.sig, found.message, enc(T8), false, 'both');
  }

  // (c) Small-order R. With the mixed-order key A + T8 the torsion parts cancel for one k in 8,
  // so every small-order R gets a signature that satisfies even the cofactorless equation.
  const smallOrderR = (label: string, Renc: Uint8Array, R: Point): void => {
    const message = search(label, (i) => {
      const m = utf8(`${label} / ${i}`);
      return R.add(mul(T8, challenge(Renc, AmixedEnc, m))).is0() ? m : undefined;
    });
    const S = mod(challenge(Renc, AmixedEnc, message) * a, L);
    row(label, signature(Renc, S), message, AmixedEnc, false, 'both');
  };
  for (const T of TORSION) smallOrderR(`(c) R = small-order point ${pointName(T)}, mixed-order A, equation holds`, enc(T), T);
  {
    // The same with the honest key: only R = O can satisfy the cofactorless equation.
    const Renc = enc(O);
    row('(c) R = identity, honest A, S = k·a, equation holds', signature(Renc, mod(challenge(Renc, Aenc, MESSAGE) * a, L)), MESSAGE, Aenc, false, 'both');
    const Renc8 = enc(T8);
    row('(c) R = order-8 point, honest A, S = k·a', signature(Renc8, mod(challenge(Renc8, Aenc, MESSAGE) * a, L)), MESSAGE, Aenc, false, 'cofactored only');
  }

  // (d) Non-canonical encodings of A: y in [p, 2^255) with either sign, and "negative zero" x.
  // Those that decode to small-order points get signatures satisfying the equation; for the
  // others no signature can be made without their discrete log, so the equation fails too.
  const nonCanonical: { label: string; bytes: Uint8Array }[] = [];
  for (let j = 0n; j < 19n; j++) {
    for (const s of [0, 1] as const) nonCanonical.push({ label: `y = p + ${j}, sign ${s}`, bytes: encodeY(p + j, s) });
  }
  nonCanonical.push({ label: 'y = 1, sign 1 (x = -0)', bytes: encodeY(1n, 1) });
  nonCanonical.push({ label: 'y = p - 1, sign 1 (x = -0)', bytes: encodeY(p - 1n, 1) });
  for (const { label, bytes } of nonCanonical) {
    const P = decodeLenient(bytes);
    if (P === undefined) {
      row(`(d) non-canonical A ${label}: not a curve point`, honest, MESSAGE, bytes, false, 'undecodable');
    } else if (smallOrder(P) !== undefined) {
      smallOrderKey(`(d) non-canonical A ${label}: small-order point ${pointName(P)}, equation holds`, bytes, smallOrder(P)!);
    } else {
      const r = scalar(`non-canonical A ${label}`);
      const Renc = enc(mul(B, r));
      row(`(d) non-canonical A ${label}: point not of small order, no signature possible`, signature(Renc, r), MESSAGE, bytes, false, 'neither');
    }
  }
  row('(d) A not on the curve (y = 2)', honest, MESSAGE, encodeY(2n, 0), false, 'undecodable');
  row('(d) A negated (sign bit flipped)', honest, MESSAGE, encodeY(fromLE(Aenc) & ((1n << 255n) - 1n), ((Aenc[31]! >> 7) ^ 1) as 0 | 1), false, 'neither');

  // (e) Non-canonical encodings of R. Small-order ones satisfy the equation once decoded (as in (c));
  // the others decode to points whose discrete log nobody knows.
  for (const { label, bytes } of nonCanonical) {
    const P = decodeLenient(bytes);
    if (P === undefined) {
      row(`(e) non-canonical R ${label}: not a curve point`, concat(bytes, honest.subarray(32)), MESSAGE, Aenc, false, 'undecodable');
    } else if (smallOrder(P) !== undefined) {
      smallOrderR(`(e) non-canonical R ${label}: small-order point ${pointName(P)}, mixed-order A, equation holds`, bytes, P);
    } else {
      row(`(e) non-canonical R ${label}: point not of small order`, concat(bytes, honest.subarray(32)), MESSAGE, Aenc, false, 'neither');
    }
  }
  row('(e) R not on the curve (y = 2)', concat(encodeY(2n, 0), honest.subarray(32)), MESSAGE, Aenc, false, 'undecodable');

  // (f) Mixed-order A = [a]B + T8: [S]B - R - [k]A = -[k]T8, zero exactly when k ≡ 0 mod 8.
  {
    const both = search('mixed A, k ≡ 0 mod 8', (i) => {
      const r = scalar('mixed A both', i);
      const Renc = enc(mul(B, r));
      return challenge(Renc, AmixedEnc, MESSAGE) % 8n === 0n ? sign(MESSAGE, r, AmixedEnc) : undefined;
    });
    row('(f) mixed-order A, k ≡ 0 mod 8: both equations hold', both, MESSAGE, AmixedEnc, true, 'both');
    const cofactoredOnly = search('mixed A, k odd', (i) => {
      const r = scalar('mixed A cofactored', i);
      const Renc = enc(mul(B, r));
      return challenge(Renc, AmixedEnc, MESSAGE) % 2n === 1n ? sign(MESSAGE, r, AmixedEnc) : undefined;
    });
    row('(f) mixed-order A, k odd: only the cofactored equation holds', cofactoredOnly, MESSAGE, AmixedEnc, false, 'cofactored only');
    row('(f) mixed-order R = [r]B + T8, honest A: only the cofactored equation holds', sign(MESSAGE, scalar('mixed R'), Aenc, T8), MESSAGE, Aenc, false, 'cofactored only');
    const mixedBoth = search('mixed A and R, torsion cancels', (i) => {
      const r = scalar('mixed A and R', i);
      for (const T of TORSION) {
        if (T.is0()) continue;
        const Renc = enc(mul(B, r).add(T));
        if (T.add(mul(T8, challenge(Renc, AmixedEnc, MESSAGE))).is0()) return sign(MESSAGE, r, AmixedEnc, T);
      }
      return undefined;
    });
    row('(f) mixed-order A and mixed-order R, torsion cancels: both equations hold', mixedBoth, MESSAGE, AmixedEnc, true, 'both');
  }

  // (g) All-zero inputs. R = A = the order-4 point with y = 0; a message with k ≡ 3 mod 4 makes
  // R + [k]A = O = [0]B, so even the equation holds.
  {
    const zeros32 = new Uint8Array(32);
    const zeros64 = new Uint8Array(64);
    const message = search('all zeros', (i) => {
      const m = utf8(`zeros / ${i}`);
      return challenge(zeros32, zeros32, m) % 4n === 3n ? m : undefined;
    });
    row('(g) all-zero signature and all-zero key, equation holds', zeros64, message, zeros32, false, 'both');
    row('(g) all-zero signature and all-zero key, empty message', zeros64, new Uint8Array(0), zeros32, false);
    row('(g) all-zero signature, honest key', zeros64, MESSAGE, Aenc, false);
    row('(g) honest signature, all-zero key', honest, MESSAGE, zeros32, false);
  }

  // Shapes: anything but a 64-byte signature and a 32-byte key is invalid, never an exception.
  row('length: signature of 63 bytes', honest.subarray(0, 63), MESSAGE, Aenc, false);
  row('length: signature of 65 bytes (valid signature + one byte)', concat(honest, new Uint8Array(1)), MESSAGE, Aenc, false);
  row('length: empty signature', new Uint8Array(0), MESSAGE, Aenc, false);
  row('length: key of 31 bytes', honest, MESSAGE, Aenc.subarray(0, 31), false);
  row('length: key of 33 bytes (valid key + one byte)', honest, MESSAGE, concat(Aenc, new Uint8Array(1)), false);
  row('length: empty key', honest, MESSAGE, new Uint8Array(0), false);
  row('type: signature as an array of numbers', [...honest] as unknown as Uint8Array, MESSAGE, Aenc, false);
  row('type: message as a string', honest, 'Mutual' as unknown as Uint8Array, Aenc, false);
  row('type: key as null', honest, MESSAGE, null as unknown as Uint8Array, false);
  // Views that are not whole, plain ArrayBuffers are still the same bytes.
  const framed = concat(new Uint8Array(3), honest, MESSAGE, Aenc, new Uint8Array(5));
  row(
    'views: signature, message and key as subarrays of one buffer',
    framed.subarray(3, 67),
    framed.subarray(67, 67 + MESSAGE.length),
    framed.subarray(67 + MESSAGE.length, 99 + MESSAGE.length),
    true,
    'both',
  );
  const shared = new Uint8Array(new SharedArrayBuffer(64));
  shared.set(honest);
  row('views: signature in a SharedArrayBuffer, key in a Buffer', shared, MESSAGE, Buffer.from(Aenc), true, 'both');
  return rows;
}
