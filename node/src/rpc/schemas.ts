// JSON Schemas shared by the routes: the objects of docs/RPC.md. They validate requests,
// serialize responses (fields not in a response schema are dropped) and feed /docs/json.
import { LIMITS } from '@mutual/interface';
import { ACCOUNT_KIND_TEXTS } from './account-kind.ts';
import { ENTRY_KINDS } from './entry-json.ts';

const str = { type: 'string' } as const;
const idText = { type: 'string', minLength: 1, maxLength: 90 } as const;

export const accountIdSchema = { ...idText, description: 'account ID, macct1…' } as const;
export const publicKeySchema = { ...idText, description: 'holder public key, mpub1…' } as const;
export const decimalSchema = { type: 'string', description: 'decimal, at most 3 places' } as const;
export const base64Schema = { type: 'string', description: 'standard padded base64' } as const;
export const hexSchema = { type: 'string', description: 'lower-case hex' } as const;
export const accountKindSchema = { type: 'string', enum: [...ACCOUNT_KIND_TEXTS] } as const;

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['error'],
  properties: {
    error: { type: 'object', required: ['code', 'message'], properties: { code: str, message: str } },
  },
} as const;

export const signedHeadSchema = {
  $id: 'SignedHead',
  type: 'object',
  required: ['bank', 'size', 'root', 'timeMs', 'signature', 'signed'],
  properties: {
    bank: { type: 'string', description: 'bank ID, mbank1…' },
    size: { type: 'integer' },
    root: hexSchema,
    timeMs: { type: 'integer' },
    signature: base64Schema,
    signed: { ...base64Schema, description: 'SignedTreeHead bytes: what an auditor verifies' },
  },
} as const;

export const entrySchema = {
  $id: 'Entry',
  type: 'object',
  required: ['index', 'timeMs', 'kind', 'bytes'],
  properties: {
    index: { type: 'integer' },
    timeMs: { type: 'integer' },
    kind: {
      type: 'string',
      enum: [...ENTRY_KINDS],
    },
    bytes: { ...base64Schema, description: 'Entry bytes (authoritative)' },
    account: accountIdSchema,
    payee: accountIdSchema,
    payeeBank: { type: 'string', description: 'bank ID, mbank1…: a transfer to another bank' },
    worker: accountIdSchema,
    amount: decimalSchema,
    hours: decimalSchema,
    category: str,
    day: { type: 'string', description: 'YYYY-MM-DD' },
    rate: decimalSchema,
    memo: str,
    sequence: { type: 'string', description: 'decimal uint64' },
    kindOfAccount: accountKindSchema,
    publicKey: publicKeySchema,
    label: str,
    name: str,
    bioregion: str,
    rates: { type: 'array', items: { type: 'object', properties: { category: str, rate: decimalSchema } } },
    agreement: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'agreement ID (hex)' },
    source: { $ref: 'EntryRef#' },
    rejection: { $ref: 'EntryRef#' },
    outgoingIndex: { type: 'integer' },
    code: str,
  },
} as const;

export const entryRefSchema = {
  $id: 'EntryRef',
  type: 'object',
  required: ['bank', 'index', 'leafHash'],
  properties: {
    bank: { type: 'string', description: 'bank ID, mbank1…' },
    index: { type: 'integer' },
    leafHash: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'RFC 9162 leaf hash of the entry (hex)' },
  },
} as const;

export const resultSchema = {
  $id: 'Result',
  type: 'object',
  required: ['code'],
  properties: {
    code: str,
    entryIndex: { type: 'integer' },
    duplicate: { type: 'boolean' },
    amount: decimalSchema,
    message: str,
  },
} as const;

/** Base64 length of the largest signed instruction. */
export const MAX_INSTRUCTION_BASE64_CHARS = 4 * Math.ceil(LIMITS.MAX_INSTRUCTION_BYTES / 3);

export const instructionsBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['instructions'],
  properties: {
    instructions: {
      type: 'array',
      minItems: 1,
      maxItems: LIMITS.MAX_INSTRUCTIONS_PER_REQUEST,
      items: { type: 'string', minLength: 1, maxLength: MAX_INSTRUCTION_BASE64_CHARS, description: 'base64 SignedInstruction' },
    },
  },
} as const;

/** Schemas registered with `app.addSchema`, referenced as `{ $ref: 'Name#' }`. */
export const SHARED_SCHEMAS = [errorSchema, signedHeadSchema, entryRefSchema, entrySchema, resultSchema];

export const ref = (id: string) => ({ $ref: `${id}#` }) as const;

/** Error responses a route can give, for the OpenAPI document. */
export function errors(...statuses: number[]): Record<number, { $ref: string }> {
  const out: Record<number, { $ref: string }> = {};
  for (const s of statuses) out[s] = ref('Error');
  return out;
}
