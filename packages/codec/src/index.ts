/**
 * @mutual/codec: the text people read and type, and the bytes the ledger keeps.
 *
 * - IDs with a checksum (bech32m): bank IDs `mbank1...`, account IDs `macct1...`, holder
 *   public keys `mpub1...`. A mistyped character is refused with `INVALID_ID`.
 * - Amounts and hours as decimals with at most 3 places, held as bigint thousandths.
 * - Days as YYYY-MM-DD, held as days since 1970-01-01 (UTC).
 * - Binary fields as hex or base64, decoded strictly (`INVALID_ENCODING`).
 *
 * Portable: no Node.js-only imports, so browsers and the CLI share the same rules.
 */

export {
  /** Bytes of an account ID (20). */
  ACCOUNT_ID_BYTES,
  /** Bytes of an Ed25519 public key: a bank ID or a holder key (32). */
  KEY_BYTES,
  /** Longest text accepted as an ID, checked before decoding (90). */
  MAX_ID_CHARS,
  /** `mbank1...` text of a bank's 32-byte public key. */
  formatBankId,
  /** The 32 bytes of a bank ID; throws `INVALID_ID`. */
  parseBankId,
  /** `macct1...` text of a 20-byte account ID. */
  formatAccountId,
  /** The 20 bytes of an account ID; throws `INVALID_ID`. */
  parseAccountId,
  /** `mpub1...` text of a holder's 32-byte public key. */
  formatPublicKey,
  /** The 32 bytes of a holder public key text; throws `INVALID_ID`. */
  parsePublicKey,
} from './ids.ts';

/** First 20 bytes of SHA-256(DOMAIN.accountId || bankKey || holderKey). */
export { deriveAccountId } from './account-id.ts';

/** Longest decimal text accepted for an amount or hours, checked first (32). */
export { MAX_DECIMAL_CHARS } from './decimal.ts';

export {
  /** Milli-notes of a decimal amount ("7.5" -> 7500n); throws `INVALID_AMOUNT`. */
  parseAmount,
  /** Shortest decimal text of milli-notes (7500n -> "7.5"; negatives get "-"). */
  formatAmount,
} from './amount.ts';
/** Options of parseAmount and parseHours: `allowZero` (default false). */
export type { ParseDecimalOptions } from './amount.ts';

export {
  /** Milli-hours of decimal hours, at most 24 ("7.5" -> 7500n); throws `VALIDATION_FAILED`. */
  parseHours,
  /** Shortest decimal text of milli-hours (7500n -> "7.5"). */
  formatHours,
} from './hours.ts';

export {
  /** The last day number that can be written: 9999-12-31. */
  MAX_DAY,
  /** Day number (days since 1970-01-01) of a YYYY-MM-DD date; throws `VALIDATION_FAILED`. */
  parseDay,
  /** YYYY-MM-DD text of a day number. */
  formatDay,
  /** UTC day number of a time in milliseconds since the epoch. */
  dayOfTimeMs,
} from './day.ts';

export {
  /** Lower-case hex of bytes. */
  toHex,
  /** Bytes of hex text, optionally of an exact length; throws `INVALID_ENCODING`. */
  fromHex,
  /** Standard padded base64 of bytes. */
  toBase64,
  /** Bytes of strict standard padded base64, optionally of an exact length; throws `INVALID_ENCODING`. */
  fromBase64,
} from './binary.ts';
