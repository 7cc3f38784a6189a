import { join } from 'node:path';
import fc from 'fast-check';
import protobufFull from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { DOMAIN, decodeStrict, hasUnknownFields, pb, signedMessage, toU64, u64 } from '../src/index.ts';
import protobuf from 'protobufjs/minimal.js';

/** The .proto files themselves, read by protobufjs's reflection: the schema, apart from the generated code. */
const schema = new protobufFull.Root();
schema.resolvePath = (_origin, target) => join(import.meta.dirname, '..', 'proto', target);
schema.loadSync(['mutual/v1/ledger.proto', 'mutual/v1/mesh.proto', 'mutual/v1/storage.proto']).resolveAll();

/**
 * Whether `bytes` carry a field that `type` does not know, or a known one with another wire type,
 * at any depth: every occurrence of every field is looked at, also one that a later occurrence
 * replaces (an earlier member of a oneof). Throws on bytes that do not parse.
 */
function carriesUnknownField(type: protobufFull.Type, bytes: Uint8Array): boolean {
  const r = protobufFull.Reader.create(bytes);
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = type.fieldsById[tag >>> 3];
    if (!field) return true;
    const nested = field.resolvedType instanceof protobufFull.Type ? field.resolvedType : undefined;
    const wireType = nested ? 2 : field.resolvedType instanceof protobufFull.Enum ? 0 : (protobufFull.types.basic as Record<string, number>)[field.type];
    if ((tag & 7) !== wireType) return true;
    if (nested) {
      if (carriesUnknownField(nested, r.bytes())) return true;
    } else r.skipType(tag & 7);
  }
  return false;
}

describe('uint64 conversions', () => {
  it('round-trip every value in [0, 2^64)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (v) => {
        expect(u64(toU64(v))).toBe(v);
        const bytes = pb.Entry.encode({ index: toU64(v) }).finish();
        expect(u64(pb.Entry.decode(bytes).index)).toBe(v);
      }),
    );
  });
  it('refuse values outside uint64', () => {
    expect(() => toU64(-1n)).toThrow(RangeError);
    expect(() => toU64(1n << 64n)).toThrow(RangeError);
  });
});

describe('varint bounds (protocol/README.md, "Decoding" and "Test vectors")', () => {
  // The transfer body of the README's test vectors, in parts: bank, account, sequence, action.
  const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s/g, ''), 'hex'));
  const bank = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
  const account = hex('12140e246d4cd5064f04c36717e3fb5fa6e4b6ca94ca');
  const transfer = hex('221f0a14a43f37b6cf8a63d29a125c48a879cec04c96143d10cc3a1a0472656e74');
  const body = (bankField: string, sequenceField: string) => Uint8Array.from([...hex(bankField), ...bank, ...account, ...hex(sequenceField), ...transfer]);
  const sequenceOf = (bytes: Uint8Array) => {
    const a = decodeStrict(pb.Instruction, bytes);
    const b = decodeStrict(pb.Instruction, Buffer.from(bytes));
    expect(a === undefined).toBe(b === undefined);
    return a === undefined ? undefined : u64(a.sequence);
  };

  it('the test vector body itself is well-formed', () => {
    expect(body('0a20', '1801').length).toBe(91);
    expect(sequenceOf(body('0a20', '1801'))).toBe(1n);
  });
  it('a field tag has at most 5 bytes and a value below 2^32, even when the extra bytes are zero', () => {
    expect(sequenceOf(body('0a20', '9880808000 01'))).toBe(1n);
    expect(sequenceOf(body('0a20', '988080808000 01'))).toBeUndefined();
    expect(sequenceOf(body('0a20', '9880808010 01'))).toBeUndefined();
  });
  it('a length prefix has at most 5 bytes and a value below 2^31, even when the extra bytes are zero', () => {
    expect(sequenceOf(body('0a a080808000', '1801'))).toBe(1n);
    expect(sequenceOf(body('0a a08080808000', '1801'))).toBeUndefined();
    // 2^31 + 32: refused as a length, before it is compared with the bytes that remain
    expect(sequenceOf(body('0a a080808008', '1801'))).toBeUndefined();
  });
  it('a uint64 varint has at most 10 bytes; of a 10th byte only the lowest bit counts', () => {
    expect(sequenceOf(body('0a20', '18 81808080808080808000'))).toBe(1n);
    expect(sequenceOf(body('0a20', '18 8180808080808080807e'))).toBe(1n);
    expect(sequenceOf(body('0a20', '18 8180808080808080807f'))).toBe((1n << 63n) + 1n);
    expect(sequenceOf(body('0a20', '18 8180808080808080808000'))).toBeUndefined();
  });
  it('a uint32 varint has at most 10 bytes and gives its low 32 bits', () => {
    const labor = (day: string) => decodeStrict(pb.LaborRecord, hex(`0a14${'04'.repeat(20)} 10${day} 18e807`))?.day;
    expect(labor('83808080f0808080807f')).toBe(3);
    expect(labor('83808080f080808080ff00')).toBeUndefined();
  });
});

describe('domain prefixes', () => {
  it('are distinct and none is a prefix of another', () => {
    const all = Object.values(DOMAIN).map((d) => Buffer.from(d).toString('latin1'));
    for (const a of all) for (const b of all) if (a !== b) expect(b.startsWith(a)).toBe(false);
  });
  it('are prepended to the signed bytes', () => {
    const m = signedMessage(DOMAIN.instruction, new Uint8Array([1, 2]));
    expect(Buffer.from(m).toString('latin1')).toBe('mutual/v1/instruction\n\x01\x02');
  });
});

describe('unknown fields', () => {
  it('make a strict decode fail, also when nested or of the wrong wire type', () => {
    const known = pb.Transfer.encode({ amount: toU64(5n) }).finish();
    expect(u64(decodeStrict(pb.Transfer, known)?.amount)).toBe(5n);
    // field 9, varint 1: not part of Transfer
    expect(decodeStrict(pb.Transfer, new Uint8Array([...known, 0x48, 0x01]))).toBeUndefined();
    // field 2 (amount) sent as length-delimited instead of varint
    expect(decodeStrict(pb.Transfer, new Uint8Array([0x12, 0x01, 0x00]))).toBeUndefined();
    // unknown field inside a nested Transfer of an Instruction
    const nested = pb.Instruction.encode({ sequence: toU64(1n) }).finish();
    const inner = new Uint8Array([...known, 0x48, 0x01]);
    const withNested = new Uint8Array([...nested, 0x22, inner.length, ...inner]);
    expect(decodeStrict(pb.Instruction, withNested)).toBeUndefined();
    expect(decodeStrict(pb.Instruction, new Uint8Array([...nested, 0x22, known.length, ...known]))).toBeDefined();
  });
  it('truncated or garbage bytes do not decode', () => {
    const ok = pb.Transfer.encode({ amount: toU64(500n), memo: 'hello' }).finish();
    // [0x10 0xf4 0x03] amount, [0x1a 0x05 h e l l o] memo: a cut at the field boundary (3)
    // leaves a valid shorter message; a cut inside a field must not decode.
    expect(ok.length).toBe(10);
    for (let i = 1; i < ok.length; i++) {
      if (i === 3) expect(decodeStrict(pb.Transfer, ok.subarray(0, i))).toBeDefined();
      else expect(decodeStrict(pb.Transfer, ok.subarray(0, i)), `cut at ${i}`).toBeUndefined();
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => { decodeStrict(pb.Instruction, b); }));
  });
  it('is decided the same way as decoding everything and looking for unknown fields in the result', () => {
    // The definition: parse completely with unknown fields kept, no `$unknowns` anywhere in the
    // result, and no unknown field in any occurrence by the schema (a oneof member replaced by a
    // later one is not in the result, with its unknown fields).
    const byDefinition = <T extends object>(type: { name: string; decode(r: protobuf.Reader): T }, bytes: Uint8Array) => {
      try {
        const reader = protobuf.Reader.create(bytes);
        reader.discardUnknown = false;
        const m = type.decode(reader);
        return reader.pos === bytes.length && !hasUnknownFields(m) && !carriesUnknownField(schema.lookupType(`mutual.v1.${type.name}`), bytes);
      } catch {
        return false;
      }
    };
    const types = [pb.Entry, pb.Instruction, pb.SignedInstruction, pb.Transfer, pb.SignedTreeHead, pb.SyncRequest, pb.SyncResponse, pb.Push];
    // Valid messages with a byte changed, cut or extended: mostly near-valid inputs, where unknown
    // fields hide (a changed tag byte makes a field unknown or of the wrong wire type).
    const valid = [
      pb.Entry.encode({ index: toU64(7n), timeMs: toU64(1_700_000_000_000n), applied: { body: new Uint8Array([0x10, 0x01]), amount: toU64(3n) } }).finish(),
      pb.Instruction.encode({ sequence: toU64(1n), transfer: { amount: toU64(5n), memo: 'rent', payee: new Uint8Array(16) } }).finish(),
      pb.SyncRequest.encode({ getEntries: { bank: new Uint8Array(32), from: toU64(3n), count: 10 } }).finish(),
    ];
    const mutated = fc.tuple(fc.constantFrom(...valid), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'cut', 'append')).map(([v, i, b, how]) => {
      const c = Uint8Array.from(v);
      if (how === 'set') c[i % c.length] = b;
      if (how === 'cut') return c.subarray(0, i % c.length);
      if (how === 'append') return Uint8Array.from([...c, b, i & 0x7f]);
      return c;
    });
    let unknown = 0;
    fc.assert(
      fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 48 })), fc.constantFrom(...types), fc.boolean(), (bytes, type, asBuffer) => {
        const input = asBuffer ? Buffer.from(bytes) : bytes;
        const expected = byDefinition(type as { name: string; decode(r: protobuf.Reader): object }, bytes);
        if (!expected) unknown++;
        expect(decodeStrict(type as { decode(r: protobuf.Reader | Uint8Array): object }, input) !== undefined).toBe(expected);
      }),
      { numRuns: 5000 },
    );
    expect(unknown).toBeGreaterThan(100);
  });
  it('refuses an unknown field in a oneof member that a later member replaces', () => {
    // An Entry whose genesis carries field 2 (name) as a varint, then an `applied`: decoded, the
    // genesis is gone, but the bytes carried a field of the wrong wire type.
    const bytes = Uint8Array.from([0x1a, 0x07, 0x10, 0x80, 0xd0, 0x95, 0xff, 0xbc, 0x31, 0x2a, 0x06, 0x0a, 0x02, 0x10, 0x01, 0x18, 0x03]);
    const decoded = pb.Entry.decode(bytes);
    expect(decoded.kind).toBe('applied');
    expect(hasUnknownFields(decoded)).toBe(false);
    expect(carriesUnknownField(schema.lookupType('mutual.v1.Entry'), bytes)).toBe(true);
    expect(decodeStrict(pb.Entry, bytes)).toBeUndefined();
    expect(decodeStrict(pb.Entry, Buffer.from(bytes))).toBeUndefined();
    // The same with a well-formed genesis first is well-formed: the applied member is the one set.
    const genesis = pb.Genesis.encode({ name: 'x' }).finish();
    const fine = Uint8Array.from([0x1a, genesis.length, ...genesis, ...bytes.subarray(9)]);
    expect(decodeStrict(pb.Entry, fine)?.kind).toBe('applied');
  });
  it('reads strings and bytes alike from a Buffer and from a plain Uint8Array', () => {
    const bytes = pb.Transfer.encode({ amount: toU64(500n), memo: 'caf\u00e9 \u{1f331}', payee: new Uint8Array([1, 2, 3]) }).finish();
    for (const input of [Uint8Array.from(bytes), Buffer.from(bytes)]) {
      const t = decodeStrict(pb.Transfer, input)!;
      expect(t.memo).toBe('caf\u00e9 \u{1f331}');
      expect([...t.payee!]).toEqual([1, 2, 3]);
    }
  });
});
