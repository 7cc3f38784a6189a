import { LIMITS, type RejectCode } from '@mutual/interface';
import { decodeStrict, pb, u64 } from '@mutual/protocol';
import type { Action, Prepared, PreparedRejected } from './types.ts';

const utf8 = new TextEncoder();

function reject(code: RejectCode, message: string): PreparedRejected {
  return { ok: false, code, message };
}

/**
 * Whether the UTF-8 encoding of a decoded protobuf string is longer than `max` bytes. Each
 * UTF-16 code unit takes 1 to 3 bytes (a surrogate pair 4 for its 2 units), so the length
 * in code units decides most strings, the empty memo of nearly every instruction among them,
 * without encoding anything.
 */
function utf8Exceeds(s: string, max: number): boolean {
  if (s.length > max) return true;
  if (s.length * 3 <= max) return false;
  return utf8.encode(s).length > max;
}

const CATEGORY_RE = /^[a-z][a-z0-9-]*$/;

/** Whether `name` is a well-formed rate-schedule category (protocol/README.md, "Rate schedules"). */
export function isCategoryName(name: string): boolean {
  return name.length > 0 && name.length <= LIMITS.MAX_CATEGORY_BYTES && CATEGORY_RE.test(name);
}

/**
 * The checks that need no ledger state, in the order of protocol/README.md ("Validation
 * order", steps 1 to 3): size, strict decoding and field shapes, then the action's own
 * bounds. Never throws.
 */
export function prepareInstruction(signed: Uint8Array): Prepared {
  // 1. "A SignedInstruction larger than MAX_INSTRUCTION_BYTES is rejected before decoding."
  if (signed.length > LIMITS.MAX_INSTRUCTION_BYTES) {
    return reject('INSTRUCTION_TOO_LARGE', `signed instruction is ${signed.length} bytes; at most ${LIMITS.MAX_INSTRUCTION_BYTES}`);
  }
  // 2. Strict decoding: no unknown fields, every fixed-size field of its exact size.
  const outer = decodeStrict(pb.SignedInstruction, signed);
  if (!outer) return reject('MALFORMED_INSTRUCTION', 'not a SignedInstruction');
  const body = outer.body;
  const signature = outer.signature;
  if (!body || body.length === 0) return reject('MALFORMED_INSTRUCTION', 'empty instruction body');
  if (!signature || signature.length !== 64) return reject('MALFORMED_INSTRUCTION', 'signature must be 64 bytes');
  const ins = decodeStrict(pb.Instruction, body);
  if (!ins) return reject('MALFORMED_INSTRUCTION', 'body is not an Instruction');
  if (ins.bank?.length !== 32) return reject('MALFORMED_INSTRUCTION', 'bank must be 32 bytes');
  if (ins.account?.length !== 20) return reject('MALFORMED_INSTRUCTION', 'account must be 20 bytes');
  const sequence = u64(ins.sequence);
  if (sequence === 0n) return reject('MALFORMED_INSTRUCTION', 'sequence numbers start at 1');

  let action: Action;
  switch (ins.action) {
    case 'transfer': {
      const t = ins.transfer!;
      if (t.payee?.length !== 20) return reject('MALFORMED_INSTRUCTION', 'payee must be 20 bytes');
      const payeeBank = t.payeeBank && t.payeeBank.length > 0 ? t.payeeBank : undefined;
      if (payeeBank && payeeBank.length !== 32) return reject('MALFORMED_INSTRUCTION', 'payee_bank must be empty or 32 bytes');
      action = { type: 'transfer', payee: t.payee, amount: u64(t.amount), memo: t.memo ?? '', payeeBank };
      break;
    }
    case 'labor': {
      const l = ins.labor!;
      if (l.worker?.length !== 20) return reject('MALFORMED_INSTRUCTION', 'worker must be 20 bytes');
      action = {
        type: 'labor',
        worker: l.worker,
        day: l.day ?? 0,
        milliHours: u64(l.milliHours),
        category: l.category ?? '',
        memo: l.memo ?? '',
      };
      break;
    }
    case 'retirement': {
      const r = ins.retirement!;
      action = { type: 'retirement', amount: u64(r.amount), memo: r.memo ?? '' };
      break;
    }
    default:
      return reject('MALFORMED_INSTRUCTION', 'the instruction has no action');
  }

  // 3. The action's own bounds.
  if (utf8Exceeds(action.memo, LIMITS.MAX_MEMO_BYTES)) {
    return reject('MEMO_TOO_LONG', `memo is longer than ${LIMITS.MAX_MEMO_BYTES} bytes`);
  }
  if (!isWellFormedText(action.memo)) return reject('MEMO_TOO_LONG', 'memo is not valid UTF-8');
  if (action.type === 'transfer' || action.type === 'retirement') {
    if (action.amount === 0n || action.amount > LIMITS.MAX_AMOUNT_MILLI) {
      return reject('AMOUNT_INVALID', `amount must be between 0.001 and ${LIMITS.MAX_AMOUNT_MILLI / 1000n} notes`);
    }
  }
  if (action.type === 'transfer' && !action.payeeBank && bytesEq(action.payee, ins.account)) {
    return reject('SELF_TRANSFER', 'payer and payee are the same account');
  }
  if (action.type === 'labor') {
    if (action.milliHours === 0n || action.milliHours > BigInt(LIMITS.MAX_MILLI_HOURS_PER_DAY)) {
      return reject('HOURS_INVALID', 'hours must be more than 0 and at most 24');
    }
    if (!isCategoryName(action.category)) return reject('UNKNOWN_CATEGORY', `"${action.category.slice(0, 40)}" is not a category name`);
  }
  return {
    ok: true,
    body,
    signature,
    bank: ins.bank,
    account: ins.account,
    sequence,
    action,
  };
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** A UTF-16 surrogate without its pair: a string that holds one has no UTF-8 form. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Whether a text field is acceptable. Text decoded from a message is valid UTF-8 (strict
 * decoding refuses anything else), but text from a JavaScript string (an RPC body, an option)
 * may hold a lone surrogate, which protobufjs would write as bytes that are not UTF-8 (or as
 * U+FFFD): refused. U+FFFD is refused as well, since it is what lenient decoders substitute
 * for bad bytes and a memo must read the same everywhere (protocol/README.md, "Text").
 */
export function isWellFormedText(s: string): boolean {
  return !s.includes('\uFFFD') && !LONE_SURROGATE.test(s);
}

/** Whether a bank, bioregion or member name is acceptable: at most MAX_NAME_BYTES of well-formed text. */
export function isName(s: string): boolean {
  return utf8.encode(s).length <= LIMITS.MAX_NAME_BYTES && isWellFormedText(s);
}
