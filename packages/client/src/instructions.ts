import {
  deriveAccountId,
  formatAccountId,
  formatBankId,
  parseAccountId,
  parseAmount,
  parseBankId,
  parseDay,
  parseHours,
  toBase64,
} from '@mutual/codec';
import { publicKeyFromSeed, sign } from '@mutual/crypto';
import { MutualError } from '@mutual/interface';
import { DOMAIN, pb, signedMessage, toU64 } from '@mutual/protocol';

/** A holder's secret: the 32-byte Ed25519 seed, alone or in a key pair. */
export type SigningKey = Uint8Array | { readonly seed: Uint8Array };

/** Fields every instruction has. IDs as text (checked) or bytes. */
export interface InstructionBase {
  /** the signer's secret key; it never leaves this process */
  readonly key: SigningKey;
  /** the bank that must apply the instruction (`mbank1…`) */
  readonly bank: string | Uint8Array;
  /** the signer account's next sequence number (`nextSequence` of the account), from 1 */
  readonly sequence: bigint | number | string;
}

export interface TransferOptions extends InstructionBase {
  /** the payee's account (`macct1…`) */
  readonly payee: string | Uint8Array;
  /** notes as a decimal ("7.5") or milli-notes as a bigint */
  readonly amount: string | bigint;
  readonly memo?: string;
  /** the payee's bank when it is not `bank` (interbank) */
  readonly payeeBank?: string | Uint8Array;
}

export interface LaborOptions extends InstructionBase {
  /** the member credited (`macct1…`) */
  readonly worker: string | Uint8Array;
  /** YYYY-MM-DD, or a day number (days since 1970-01-01, UTC) */
  readonly day: string | number;
  /** hours as a decimal ("7.5") or milli-hours as a bigint */
  readonly hours: string | bigint;
  /** a category of the bank's rate schedule, e.g. "standard" */
  readonly category: string;
  readonly memo?: string;
}

export interface RetirementOptions extends InstructionBase {
  readonly amount: string | bigint;
  readonly memo?: string;
}

function seedOf(key: SigningKey): Uint8Array {
  const seed = key instanceof Uint8Array ? key : key.seed;
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new MutualError('INVALID_ENCODING', 'a signing key is a 32-byte seed');
  return seed;
}

const bankBytes = (b: string | Uint8Array) => (typeof b === 'string' ? parseBankId(b) : b);
/**
 * Whether two bank IDs name the same bank. IDs are compared as keys: `MBANK1…` and `mbank1…`
 * are one bank. Throws `INVALID_ID` for text that is not a bank ID.
 */
export function sameBank(a: string | Uint8Array, b: string | Uint8Array): boolean {
  return formatBankId(bankBytes(a)) === formatBankId(bankBytes(b));
}

const accountBytes = (a: string | Uint8Array) => (typeof a === 'string' ? parseAccountId(a) : a);
const milli = (a: string | bigint) => (typeof a === 'string' ? parseAmount(a) : a);

function sequenceOf(s: bigint | number | string): bigint {
  let n: bigint;
  try {
    n = typeof s === 'string' && !/^\d{1,20}$/.test(s) ? -1n : BigInt(s);
  } catch {
    n = -1n;
  }
  if (n < 1n || n >= 1n << 64n) throw new MutualError('VALIDATION_FAILED', `a sequence number is an integer from 1, not ${String(s).slice(0, 40)}`);
  return n;
}

/** The account ID (`macct1…`) of a holder key at a bank. */
export function accountIdOf(bank: string | Uint8Array, key: SigningKey | { readonly publicKey: Uint8Array }): string {
  const publicKey = 'publicKey' in key ? key.publicKey : publicKeyFromSeed(seedOf(key));
  return formatAccountId(deriveAccountId(bankBytes(bank), publicKey));
}

/**
 * Signs an Instruction body: Ed25519 over DOMAIN.instruction || body, the exact bytes the
 * node verifies (protocol/README.md, "Signatures"). Returns SignedInstruction bytes.
 */
export function signInstruction(body: Uint8Array, key: SigningKey): Uint8Array {
  const signature = sign(signedMessage(DOMAIN.instruction, body), seedOf(key));
  return pb.SignedInstruction.encode({ body, signature }).finish();
}

function build(o: InstructionBase, action: Record<string, unknown>): string {
  const bank = bankBytes(o.bank);
  const seed = seedOf(o.key);
  const account = deriveAccountId(bank, publicKeyFromSeed(seed));
  const body = pb.Instruction.encode({ bank, account, sequence: toU64(sequenceOf(o.sequence)), ...action }).finish();
  return toBase64(signInstruction(body, seed));
}

/** A signed transfer, as base64 SignedInstruction bytes for `submitTransfers`. */
export function transfer(o: TransferOptions): string {
  const t: Record<string, unknown> = { payee: accountBytes(o.payee), amount: toU64(milli(o.amount)), memo: o.memo ?? '' };
  if (o.payeeBank !== undefined) t.payeeBank = bankBytes(o.payeeBank);
  return build(o, { transfer: t });
}

/** A signed labor record (signed by a cooperative), as base64 for `submitLabor`. */
export function laborRecord(o: LaborOptions): string {
  const day = typeof o.day === 'string' ? parseDay(o.day) : o.day;
  if (!Number.isSafeInteger(day) || day < 0 || day > 0xffffffff) throw new MutualError('VALIDATION_FAILED', `day ${String(o.day)} is out of range`);
  const milliHours = typeof o.hours === 'string' ? parseHours(o.hours) : o.hours;
  return build(o, { labor: { worker: accountBytes(o.worker), day, milliHours: toU64(milliHours), category: o.category, memo: o.memo ?? '' } });
}

/** A signed retirement of notes, as base64 for `submitTransfers`. */
export function retirement(o: RetirementOptions): string {
  return build(o, { retirement: { amount: toU64(milli(o.amount)), memo: o.memo ?? '' } });
}
