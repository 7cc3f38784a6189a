import { isHash } from './hash.ts';

/**
 * The most hashes a proof may hold; longer proofs are rejected before any hashing.
 * No tree of a safe-integer size needs more: an inclusion proof has at most 53 hashes and
 * a consistency proof at most 54 (RFC 9162 §2.1.3.1 and §2.1.4.1: one per level, plus
 * one for the consistency proof's starting subtree).
 */
export const MAX_PROOF_LENGTH = 64;

/** Whether `proof` is an array of at most MAX_PROOF_LENGTH 32-byte hashes. Never throws. */
export function isProof(proof: unknown): proof is readonly Uint8Array[] {
  if (!Array.isArray(proof) || proof.length > MAX_PROOF_LENGTH) return false;
  for (let i = 0; i < proof.length; i++) if (!isHash(proof[i])) return false;
  return true;
}
