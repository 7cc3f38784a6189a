/**
 * @mutual/ledger: the ledger rules as pure functions. No disk, no network, no clock: the
 * commit time and the signature verifier are passed in.
 *
 * - {@link prepareInstruction}: the checks that need no state (size, strict decoding, bounds).
 * - {@link applyBatch}: applies commands in order; one result per command, the entries to
 *   append, and the state changes to write in one atomic batch.
 * - {@link replayEntries}: re-derives a log entry by entry and checks every byte (verify, audit).
 */
export {
  agreementId,
  agreementMessage,
  checkAdoptedAgreement,
  checkSignedAgreement,
  encodeSignedAgreement,
  hasSigned,
  inForce as inForceOf,
  isMember,
  mergeSignatures,
  type AgreementCheck,
  type AgreementInForce,
  type AgreementMember,
  type AgreementView,
} from './agreement.ts';
export { applyBatch, assert, type ApplyContext, type BatchOutcome, type VerifyFn } from './apply.ts';
export { conservationProblem } from './conservation.ts';
export { openTreeHead, signTreeHead, wasOpened, type SignedHead } from './heads.ts';
export { netPosition, type ForkCheck } from './interbank.ts';
export { appliedKey, bkey, bytesEqual, laborDayKey } from './keys.ts';
export { isCategoryName, isName, isWellFormedText, prepareInstruction } from './prepare.ts';
export { keepNewest } from './recent.ts';
export { DEFAULT_RATES, issuedFor, rateScheduleProblem, toSchedule } from './rates.ts';
export { decodeEntry, entryRefOf, instructionOfEntry, replayEntries, type DecodedEntry, type ReplayProblem, preverifyEntries, type SignatureItem, wholeCommands } from './replay.ts';
export { u64Field } from './u64.ts';
export { entryKey, MemoryLedgerState, Overlay, sameInstruction, ZERO_POSITION, type AdoptedAgreement, type LedgerState, type StateChanges } from './state.ts';
export {
  isApplied,
  type Account,
  type Action,
  type AgreementRefusal,
  type AppliedRef,
  type BankInfo,
  type Command,
  type EntryRef,
  type Outgoing,
  type Position,
  type Prepared,
  type PreparedOk,
  type PreparedRejected,
  type RateSchedule,
  type Result,
  type Totals,
} from './types.ts';
