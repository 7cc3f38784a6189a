// Test fixture: a bank in memory, holders with keys, and signed instructions.
import { createPrivateKey, createPublicKey, randomBytes, sign as edSign, verify as edVerify } from 'node:crypto';
import { deriveAccountId } from '@mutual/codec';
import { AccountKind, DOMAIN, pb, signedMessage, toU64, type AccountKindNumber } from '@mutual/protocol';
import {
  applyBatch,
  DEFAULT_RATES,
  MemoryLedgerState,
  prepareInstruction,
  type Command,
  type Result,
  type VerifyFn,
} from '../src/index.ts';

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface Holder {
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function newHolder(seed: Uint8Array = randomBytes(32)): Holder {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return { seed, publicKey: new Uint8Array(spki.subarray(SPKI_PREFIX.length)) };
}

export function signBytes(message: Uint8Array, seed: Uint8Array): Uint8Array {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  return new Uint8Array(edSign(null, message, key));
}

/** Plain RFC 8032 verification through OpenSSL: a stand-in for the node's verifier in unit tests. */
export const verify: VerifyFn = (sig, msg, pk) => {
  if (sig.length !== 64 || pk.length !== 32) return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pk]), format: 'der', type: 'spki' });
    return edVerify(null, msg, key, sig);
  } catch {
    return false;
  }
};

export type ActionProps =
  | { transfer: { payee: Uint8Array; amount: bigint; memo?: string; payeeBank?: Uint8Array } }
  | { labor: { worker: Uint8Array; day: number; milliHours: bigint; category: string; memo?: string } }
  | { retirement: { amount: bigint; memo?: string } };

export function instructionBody(bank: Uint8Array, account: Uint8Array, sequence: bigint, action: ActionProps): Uint8Array {
  const a: Record<string, unknown> = {};
  if ('transfer' in action) a.transfer = { ...action.transfer, amount: toU64(action.transfer.amount) };
  if ('labor' in action) a.labor = { ...action.labor, milliHours: toU64(action.labor.milliHours) };
  if ('retirement' in action) a.retirement = { ...action.retirement, amount: toU64(action.retirement.amount) };
  return pb.Instruction.encode({ bank, account, sequence: toU64(sequence), ...a }).finish();
}

export function signInstruction(body: Uint8Array, seed: Uint8Array): Uint8Array {
  const signature = signBytes(signedMessage(DOMAIN.instruction, body), seed);
  return pb.SignedInstruction.encode({ body, signature }).finish();
}

export const DAY = 20_000; // 2024-10-04
export const TIME_MS = BigInt(DAY) * 86_400_000n + 43_200_000n;

/** A bank in memory that commits every batch it applies. */
export class TestBank {
  readonly bank = newHolder();
  readonly state = new MemoryLedgerState();
  readonly entries: Uint8Array[] = [];
  /** banks this bank holds a fork proof against (hex keys) */
  readonly forked = new Set<string>();
  timeMs = TIME_MS;

  constructor() {
    const [g, r] = this.apply([{ type: 'genesis', name: 'Test Bank', bioregion: 'Cascadia' }, { type: 'adoptRates', rates: DEFAULT_RATES }]);
    if (g?.code !== 'APPLIED' || r?.code !== 'APPLIED') throw new Error('genesis failed');
  }

  get key(): Uint8Array {
    return this.bank.publicKey;
  }

  apply(commands: Command[]): Result[] {
    const isForked = (b: Uint8Array) => this.forked.has(Buffer.from(b).toString('hex'));
    const out = applyBatch(this.state, commands, { bankKey: this.key, timeMs: this.timeMs, verify, isForked });
    this.state.commit(out.changes);
    this.entries.push(...out.entries);
    this.timeMs += 1n; // each batch its own commit time, as a store does
    return out.results;
  }

  open(kind: AccountKindNumber = AccountKind.member, label = ''): Holder & { id: Uint8Array } {
    const h = newHolder();
    const [r] = this.apply([{ type: 'openAccount', holderKey: h.publicKey, kind, label }]);
    if (r?.code !== 'APPLIED') throw new Error(`open failed: ${r?.code}`);
    return { ...h, id: deriveAccountId(this.key, h.publicKey) };
  }

  /** Signs and applies instructions; each element is [holder, sequence, action]. */
  submit(...items: Array<[Holder & { id: Uint8Array }, bigint, ActionProps]>): Result[] {
    return this.apply(items.map(([h, seq, action]) => ({ type: 'instruction', prepared: prepareInstruction(signInstruction(instructionBody(this.key, h.id, seq, action), h.seed)) })));
  }

  submitBytes(...signed: Uint8Array[]): Result[] {
    return this.apply(signed.map((s) => ({ type: 'instruction', prepared: prepareInstruction(s) })));
  }

  balance(id: Uint8Array): bigint {
    return this.state.getAccount(id)!.balance;
  }
}
