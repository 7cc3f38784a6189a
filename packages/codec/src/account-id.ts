import { sha256 } from '@mutual/crypto';
import { MutualError } from '@mutual/interface';
import { DOMAIN } from '@mutual/protocol';
import { ACCOUNT_ID_BYTES, KEY_BYTES } from './ids.ts';

/**
 * The ID of the account of `holderKey` at the bank `bankKey`: the first 20 bytes of
 * SHA-256(DOMAIN.accountId || bankKey || holderKey). Binding the bank into the ID gives the
 * same holder a different account at each bank, and the domain prefix keeps the hash from
 * being mistaken for any other hash of the protocol. Both keys are 32-byte Ed25519 public
 * keys; throws `INVALID_ENCODING` otherwise.
 */
export function deriveAccountId(bankKey: Uint8Array, holderKey: Uint8Array): Uint8Array {
  assertKey('bank key', bankKey);
  assertKey('holder key', holderKey);
  return sha256(DOMAIN.accountId, bankKey, holderKey).slice(0, ACCOUNT_ID_BYTES);
}

function assertKey(name: string, key: unknown): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    const got = key instanceof Uint8Array ? `${key.length} bytes` : typeof key;
    throw new MutualError('INVALID_ENCODING', `The ${name} must be a ${KEY_BYTES}-byte Ed25519 public key, got ${got}.`);
  }
}
