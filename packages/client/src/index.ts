/**
 * @mutual/client: a typed client of the Mutual RPC (docs/RPC.md) that signs instructions
 * locally, so a holder's secret key never leaves the holder's machine. Browser-safe: it uses
 * the platform `fetch` (or one you pass) and no Node.js module.
 *
 * - {@link MutualClient}: one method per route; refused requests reject with `MutualError`
 *   (the node's stable code), an unreachable node with `NODE_UNREACHABLE`.
 * - {@link transfer}, {@link laborRecord}, {@link retirement}: signed instructions as base64.
 * - {@link Wallet}: one holder's account; looks up the bank and the next sequence number,
 *   signs and submits.
 * - {@link serializeKey}, {@link parseKeyFile}: the key file format.
 *
 * @example
 * ```ts
 * const client = new MutualClient({ url: 'http://127.0.0.1:8547' });
 * const wallet = new Wallet({ client, key: parseKeyFile(text) });
 * const result = await wallet.transfer({ to: 'macct1…', amount: '7.5' });
 * if (result.code !== 'APPLIED') console.error(result.code, result.message);
 * ```
 */
export { MutualClient, type ClientOptions, type EventsOptions } from './client.ts';
export type { CallOptions, FetchFn } from './http.ts';
export {
  accountIdOf,
  laborRecord,
  retirement,
  sameBank,
  signInstruction,
  transfer,
  type InstructionBase,
  type LaborOptions,
  type RetirementOptions,
  type SigningKey,
  type TransferOptions,
} from './instructions.ts';
export { KEY_FILE_KIND, MAX_KEY_FILE_CHARS, newKey, parseKeyFile, serializeKey, type HolderKey } from './key-file.ts';
export { parseSse, MAX_SSE_EVENT_CHARS, MAX_SSE_LINE_CHARS, type SseMessage } from './sse.ts';
export {
  ACCOUNT_KINDS,
  isApplied,
  type AccountInfo,
  type AccountKindText,
  type AgreementMemberView,
  type AgreementProposal,
  type AgreementView,
  type Applied,
  type BankView,
  type ConsistencyProof,
  type Entry,
  type EntryKind,
  type EntryPage,
  type EntryRefView,
  type EntryWithProof,
  type InterbankState,
  type InterbankTransfer,
  type OpenedAccount,
  type Peer,
  type LogEntryRef,
  type PairState,
  type Rate,
  type Reconciliation,
  type ReconciliationBank,
  type ReconciliationPair,
  type Rejected,
  type Result,
  type SignedHead,
  type Statement,
  type Status,
} from './types.ts';
export { Wallet, type WalletOptions } from './wallet.ts';
