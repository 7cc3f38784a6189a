// Test fixture: a bank store in a temporary directory with its RPC app, holders with keys,
// and instructions signed as a client would sign them.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveAccountId, formatAccountId, formatPublicKey, toBase64 } from '@mutual/codec';
import { DOMAIN, pb, signedMessage, toU64 } from '@mutual/protocol';
import { LedgerStore } from '@mutual/store';
import { keyPairFromSeed, signDetached, verify, type KeyPair } from '@mutual/verifier';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp, type AppDeps } from '../src/index.ts';

export function tempDir(prefix = 'mutual-node-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Holder extends KeyPair {
  /** Text of the holder's public key (mpub1…). */
  readonly key: string;
}

export function newHolder(): Holder {
  const kp = keyPairFromSeed(new Uint8Array(randomBytes(32)));
  return { ...kp, key: formatPublicKey(kp.publicKey) };
}

/** An account: its holder, ID bytes and text. */
export interface Acct extends Holder {
  readonly id: Uint8Array;
  readonly account: string;
}

export function accountOf(bankKey: Uint8Array, h: Holder): Acct {
  const id = deriveAccountId(bankKey, h.publicKey);
  return { ...h, id, account: formatAccountId(id) };
}

export type ActionProps =
  | { transfer: { payee: Uint8Array; amount: bigint; memo?: string; payeeBank?: Uint8Array } }
  | { labor: { worker: Uint8Array; day: number; milliHours: bigint; category: string; memo?: string } }
  | { retirement: { amount: bigint; memo?: string } };

/** `SignedInstruction` bytes: the holder signs DOMAIN.instruction || body (protocol/README.md). */
export function signInstruction(bankKey: Uint8Array, who: Acct, sequence: bigint, action: ActionProps): Uint8Array {
  const a: Record<string, unknown> = {};
  if ('transfer' in action) a.transfer = { ...action.transfer, amount: toU64(action.transfer.amount) };
  if ('labor' in action) a.labor = { ...action.labor, milliHours: toU64(action.labor.milliHours) };
  if ('retirement' in action) a.retirement = { ...action.retirement, amount: toU64(action.retirement.amount) };
  const body = pb.Instruction.encode({ bank: bankKey, account: who.id, sequence: toU64(sequence), ...a }).finish();
  const signature = signDetached(signedMessage(DOMAIN.instruction, body), who.secretKey);
  return pb.SignedInstruction.encode({ body, signature }).finish();
}

export const b64 = (bytes: Uint8Array) => toBase64(bytes);

/** Today, as the bank's clock sees it: labor records may not be dated later. */
export const TODAY = Math.floor(Date.now() / 86_400_000);

export const silentLogger = () => pino({ level: 'silent' });

/** Polls `cond` every 50 ms until it holds; throws, naming `what`, past the deadline. */
export async function waitFor(what: string, cond: () => Promise<boolean> | boolean, deadlineMs = 15_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface TestBank {
  readonly app: FastifyInstance;
  readonly store: LedgerStore;
  readonly bank: KeyPair;
  readonly token: string;
  readonly dir: string;
  close(): Promise<void>;
}

/** A store in a temporary directory and its RPC app (not listening). */
export async function testBank(extra: Partial<AppDeps> = {}): Promise<TestBank> {
  const { dir, cleanup } = tempDir();
  const bank = keyPairFromSeed(new Uint8Array(randomBytes(32)));
  const store = await LedgerStore.open({
    dir: join(dir, 'ledger'),
    bankKey: bank.publicKey,
    sign: (m) => signDetached(m, bank.secretKey),
    verify,
    genesis: { name: 'Test Bank', bioregion: 'Cascadia' },
  });
  const token = randomBytes(32).toString('hex');
  const app = await buildApp({ store, logger: silentLogger(), adminToken: token, ...extra });
  return {
    app,
    store,
    bank,
    token,
    dir,
    async close() {
      await app.close();
      await store.close();
      cleanup();
    },
  };
}

/** Opens an account over the RPC and returns it. */
export async function openAccount(t: TestBank, kind: 'member' | 'cooperative' | 'mutual-aid-fund' = 'member', label?: string): Promise<Acct> {
  const h = newHolder();
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/accounts',
    headers: { authorization: `Bearer ${t.token}` },
    payload: { publicKey: h.key, kind, ...(label === undefined ? {} : { label }) },
  });
  if (res.statusCode !== 201) throw new Error(`open failed: ${res.statusCode} ${res.body}`);
  return accountOf(t.bank.publicKey, h);
}

/** A cooperative, a member credited with 8 hours of standard work (8 notes), and a second member. */
export async function funded(t: TestBank): Promise<{ coop: Acct; alice: Acct; bob: Acct }> {
  const coop = await openAccount(t, 'cooperative');
  const alice = await openAccount(t);
  const bob = await openAccount(t);
  const labor = signInstruction(t.bank.publicKey, coop, 1n, { labor: { worker: alice.id, day: TODAY, milliHours: 8000n, category: 'standard' } });
  const res = await t.app.inject({ method: 'POST', url: '/v1/labor', payload: { instructions: [b64(labor)] } });
  if (res.json().results[0].code !== 'APPLIED') throw new Error(`labor failed: ${res.body}`);
  return { coop, alice, bob };
}
