/**
 * Stable codes. A code never changes meaning and is never reused; messages may change.
 * Every code is listed in docs/errors.md (a test checks both directions).
 *
 * Three kinds of failure:
 * - `result`: an instruction was rejected. Returned as data, one result per instruction.
 * - `request`: a request to the node was refused (bad input, auth, limits). Maps to a 4xx.
 * - `operational`: the node cannot do its work (disk, database, configuration).
 */
export type CodeKind = 'result' | 'request' | 'operational';

export interface CodeInfo<K extends CodeKind = CodeKind> {
  readonly kind: K;
  /** HTTP status when the code is the answer to a whole request. */
  readonly status: number;
  /** What happened and what to do about it. */
  readonly description: string;
}

function code<K extends CodeKind>(kind: K, status: number, description: string): CodeInfo<K> {
  return { kind, status, description };
}

/** The registry of every code. */
export const CODES = {
  // --- instruction results (rejections) ---
  MALFORMED_INSTRUCTION: code('result', 422, 'The instruction bytes do not decode to a valid Instruction (missing, unknown or wrongly sized fields). Re-encode it with a current client.'),
  INSTRUCTION_TOO_LARGE: code('result', 413, 'The signed instruction is larger than MAX_INSTRUCTION_BYTES.'),
  WRONG_BANK: code('result', 422, 'The instruction is addressed to another bank. Sign it for the bank that holds the account.'),
  BAD_SIGNATURE: code('result', 422, "The signature does not verify against the account holder's key over the instruction bytes."),
  UNKNOWN_ACCOUNT: code('result', 422, 'The signing account does not exist at this bank.'),
  UNKNOWN_PAYEE: code('result', 422, 'The payee account does not exist at this bank.'),
  SELF_TRANSFER: code('result', 422, 'Payer and payee are the same account.'),
  INSUFFICIENT_FUNDS: code('result', 422, 'The payer balance is lower than the amount. There is no overdraft.'),
  SEQUENCE_REPLAYED: code('result', 409, "The sequence number was already used by a different instruction of this account. Use the account's next sequence number."),
  SEQUENCE_GAP: code('result', 409, "The sequence number is ahead of the account's next one. Submit the missing instructions first."),
  AMOUNT_INVALID: code('result', 422, 'The amount is zero or larger than MAX_AMOUNT_MILLI.'),
  BALANCE_LIMIT: code('result', 422, 'The payee balance would exceed MAX_BALANCE_MILLI.'),
  MEMO_TOO_LONG: code('result', 422, 'The memo is longer than MAX_MEMO_BYTES or contains U+FFFD (the replacement character).'),
  NOT_A_COOPERATIVE: code('result', 422, 'Only a cooperative account can attest labor.'),
  UNKNOWN_WORKER: code('result', 422, 'The worker account of the labor record does not exist at this bank.'),
  WORKER_NOT_A_MEMBER: code('result', 422, 'Labor is credited to member accounts only, not to cooperatives or funds.'),
  UNKNOWN_CATEGORY: code('result', 422, "The work category is not in the bank's current rate schedule."),
  HOURS_INVALID: code('result', 422, 'Hours must be more than 0 and at most 24 in one record, and enough to issue at least 0.001 notes at the rate.'),
  DAILY_HOURS_EXCEEDED: code('result', 422, 'More than 24 hours would be credited to the worker for that day, across all records.'),
  DAY_IN_FUTURE: code('result', 422, "The labor record is dated after the bank's current day (plus MAX_LABOR_DAYS_AHEAD)."),
  DAY_TOO_OLD: code('result', 422, "The labor record is dated more than MAX_LABOR_DAYS_BACK days before the bank's current day."),
  RATE_SCHEDULE_INVALID: code('request', 400, 'The rate schedule is not valid: the message says which category or bound.'),
  INTERBANK_UNAVAILABLE: code('result', 422, 'The payee is at another bank and no federation agreement in force covers both banks.'),
  CLEARING_LIMIT: code('result', 422, "The transfer would take the net position between the two banks past the agreement's clearing limit."),
  BANK_FORKED: code('result', 422, 'The other bank signed two inconsistent tree heads: this bank holds the proof and refuses new interbank transfers with it.'),

  // --- requests ---
  VALIDATION_FAILED: code('request', 400, 'The request does not match the schema of the route: see the message for the field.'),
  MALFORMED_JSON: code('request', 400, 'The request body is not valid JSON.'),
  MALFORMED_HTTP: code('request', 400, 'The request is not valid HTTP/1.1; the connection is closed.'),
  HEADERS_TOO_LARGE: code('request', 431, 'The request line and headers are larger than the HTTP server accepts (16 KiB); the connection is closed.'),
  REQUEST_TIMEOUT: code('request', 408, 'The head of the request did not arrive within REQUEST_TIMEOUT_MS; the connection is closed.'),
  BODY_TOO_LARGE: code('request', 413, 'The request body is larger than the route allows.'),
  UNSUPPORTED_MEDIA_TYPE: code('request', 415, 'Send the body as application/json.'),
  TOO_MANY_INSTRUCTIONS: code('request', 413, 'More instructions in one request than MAX_INSTRUCTIONS_PER_REQUEST.'),
  INVALID_ID: code('request', 400, 'An account, bank or key ID is not valid text: wrong prefix, character or checksum (a typo?).'),
  INVALID_AMOUNT: code('request', 400, 'An amount is not a non-negative decimal with at most 3 decimal places, or is too large.'),
  INVALID_ENCODING: code('request', 400, 'A binary field is not valid base64 or hex, or has the wrong length.'),
  AGREEMENT_INVALID: code('request', 400, 'The federation agreement is malformed, out of bounds, or carries a signature that is not a valid one of a member.'),
  AGREEMENT_INCOMPLETE: code('request', 409, 'The federation agreement is not signed yet by every member (and, for an amendment, every member of the agreement it amends).'),
  NOT_AGREEMENT_MEMBER: code('request', 403, 'This bank is not a member of the federation agreement, or not of its bioregion.'),
  AGREEMENT_NOT_CURRENT: code('request', 409, 'The agreement is adopted already, or amends another agreement than the one in force.'),
  AGREEMENT_POOL_FULL: code('request', 409, "This node's pool holds MAX_POOLED_AGREEMENTS agreements this bank signed: no other can be proposed."),
  UNKNOWN_BANK: code('request', 400, 'A bank named in the request is not known to this node (not seen on the mesh): its name cannot be filled in.'),
  ACCOUNT_EXISTS: code('request', 409, 'An account for this holder key already exists at this bank.'),
  NOT_FOUND: code('request', 404, 'No such account, entry or route.'),
  UNAUTHORIZED: code('request', 401, 'This route needs the admin token (Authorization: Bearer <token>).'),
  RATE_LIMITED: code('request', 429, 'Too many requests from this address: retry after the time in Retry-After.'),
  INVALID_RANGE: code('request', 400, 'The requested tree sizes or indexes are outside the log.'),
  UNSUPPORTED_REQUEST: code('request', 400, 'A mesh sync request of a kind this node does not know (a newer node asked it): answered with this error and not held against the peer.'),
  OVERLOADED: code('request', 503, 'The node has more instructions waiting than MAX_QUEUED_INSTRUCTIONS: retry shortly.'),
  NOT_READY: code('request', 503, 'The node is starting or stopping.'),

  // --- operational ---
  CONFIG_INVALID: code('operational', 500, 'A configuration option is invalid: the message names it and says why.'),
  DATA_DIR_IN_USE: code('operational', 500, 'Another node process has the data directory open.'),
  DB_FORMAT_MISMATCH: code('operational', 500, 'The database was written by an incompatible version of Mutual.'),
  DB_CORRUPT: code('operational', 500, 'The database is damaged: the message names what does not verify. Restore it from a replica or backup.'),
  KEY_FILE_INVALID: code('operational', 500, 'A key or token file in the data directory is unreadable, malformed or readable by others.'),
  STORE_CLOSED: code('operational', 503, 'The ledger store is closed.'),
  INTERNAL: code('operational', 500, 'An unexpected internal error. It is logged with details.'),

  // --- clients (the library and the CLI; never sent by a node) ---
  NODE_UNREACHABLE: code('operational', 503, 'The client cannot reach the node at its RPC URL: check --rpc (or MUTUAL_RPC) and that the node is running.'),
  UNEXPECTED_RESPONSE: code('operational', 502, 'The node answered with something that is not the RPC contract (docs/RPC.md): wrong shape, not JSON, or an unknown code. Check the URL and the versions of client and node.'),
  USAGE: code('request', 400, 'The command line is not valid: a missing or unknown option or argument. See --help.'),
  STILL_PENDING: code('operational', 504, "The interbank transfer was still pending when the wait ended: the payee's bank has not answered yet. It settles or is refunded later; check with `mutual interbank show`."),
  NOT_RECONCILED: code('operational', 504, 'Interbank transfers are still in flight (an outgoing entry not answered, a rejection not refunded, or a replica behind): the reconciliation does not hold yet. Try again later; a mismatch is VERIFICATION_FAILED.'),
  INTERBANK_REFUNDED: code('result', 422, "The payee's bank rejected the interbank transfer and the payer was refunded."),
  VERIFICATION_FAILED: code('operational', 502, "What the node sent does not verify: a bad signature, a proof that fails, a head inconsistent with an earlier one, or a log that does not replay. Keep the output as evidence."),
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof CODES;

/** Codes an instruction can be rejected with. */
export type RejectCode = {
  [K in Code]: (typeof CODES)[K]['kind'] extends 'result' ? K : never;
}[Code];

export function isCode(s: string): s is Code {
  return Object.hasOwn(CODES, s);
}
