import type { MutualClient, SignedHead as HeadJson } from '@mutual/client';
import { formatBankId, fromBase64, parseBankId, toHex } from '@mutual/codec';
import { bytesEqual, openTreeHead, type SignedHead } from '@mutual/ledger';
import { verifyConsistency } from '@mutual/merkle';
import { verify } from '@mutual/verifier';
import { Failure, parsingArg, verificationFailed } from './failure.ts';
import type { HeadsMemory } from './heads-memory.ts';

/** The bank an auditor checks against: pinned with `--bank`, or as the node names itself. */
export interface Bank {
  /** the canonical text of `key` (lower case), whatever case `--bank` or the node used */
  readonly id: string;
  readonly key: Uint8Array;
  /** whether the ID came from `--bank` rather than from the node being checked */
  readonly pinned: boolean;
}

/** The bank to verify against: `--bank`, else the node's own status (trust on first use). */
export async function bankToVerify(client: MutualClient, flag: string | undefined): Promise<Bank> {
  if (flag !== undefined) {
    const key = parsingArg('--bank', () => parseBankId(flag));
    return { id: formatBankId(key), key, pinned: true };
  }
  const id = (await client.status()).bank.id;
  let key: Uint8Array;
  try {
    key = parseBankId(id);
  } catch {
    throw verificationFailed(`the node names its bank with an invalid ID (${id.slice(0, 100)})`);
  }
  return { id: formatBankId(key), key, pinned: false };
}

/** Whether a bank ID as text names `key`, in whichever case it is written. */
export function namesBank(id: string, key: Uint8Array): boolean {
  try {
    return bytesEqual(parseBankId(id), key);
  } catch {
    return false;
  }
}

/**
 * Checks a head as the node sent it: its `signed` bytes must decode, be signed by `bank`
 * under DOMAIN.treeHead (protocol/README.md, "Signed tree heads"), and the convenience
 * fields must say what the signed bytes say.
 */
export function openHead(json: HeadJson, bank: Bank, what = 'the head'): SignedHead {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(json.signed);
  } catch {
    throw verificationFailed(`${what}: "signed" is not base64`);
  }
  const head = openTreeHead(bytes, verify, bank.key);
  if (!head) throw verificationFailed(`${what} is not signed by ${bank.id}`);
  if (json.size !== head.size || json.root !== toHex(head.root) || json.bank !== formatBankId(head.bank)) {
    throw verificationFailed(`${what}: its fields do not match its signed bytes (size ${json.size} vs ${head.size})`);
  }
  return head;
}

/**
 * Checks that `newer` extends `older` (RFC 9162 §2.1.4): equal roots at equal sizes, else a
 * consistency proof from the node. Throws VERIFICATION_FAILED (exit 4) when they do not agree.
 */
export async function checkConsistent(client: MutualClient, older: SignedHead, newer: SignedHead): Promise<void> {
  if (older.size > newer.size) return checkConsistent(client, newer, older);
  if (older.size === newer.size) {
    if (!bytesEqual(older.root, newer.root)) throw verificationFailed(`two signed heads of size ${older.size} have different roots: the bank forked its log`);
    return;
  }
  const proof = await client.consistency(older.size, newer.size);
  let path: Uint8Array[];
  try {
    path = proof.path.map((p) => fromBase64(p, 32));
  } catch {
    throw verificationFailed(`the consistency proof from ${older.size} to ${newer.size} is not base64 hashes`);
  }
  if (!verifyConsistency(older.size, newer.size, older.root, newer.root, path)) {
    throw verificationFailed(`the head of size ${newer.size} does not extend the head of size ${older.size}: the bank rewrote its log`);
  }
}

/** What {@link rememberHead} found. */
export interface Remembered {
  /** the size of the head remembered before, if any */
  readonly previousSize: number | undefined;
}

/**
 * Checks `head` against the last head of its bank verified on this machine, then remembers the
 * larger of the two. A conflict is saved as evidence and fails with exit 4.
 */
export async function rememberHead(
  memory: HeadsMemory,
  client: MutualClient,
  bank: Bank,
  head: SignedHead,
  o: { nowMs: number; latest: boolean },
): Promise<Remembered> {
  const previous = memory.load(bank.key);
  if (previous) {
    try {
      // The log only grows: a latest head smaller than one the bank signed before is a rollback.
      if (o.latest && head.size < previous.size) {
        throw verificationFailed(`the node's latest head has size ${head.size}, but the bank signed a head of size ${previous.size} before: the log was rolled back`);
      }
      await checkConsistent(client, previous, head);
    } catch (err) {
      if (err instanceof Failure) {
        const file = memory.saveFork(bank.key, previous, head, err.message);
        throw verificationFailed(`${err.message}; both signed heads are saved as evidence in ${file}`, { evidence: file });
      }
      throw err;
    }
  }
  if (!previous || head.size > previous.size) memory.save(bank.key, head, o.nowMs);
  return { previousSize: previous?.size };
}
