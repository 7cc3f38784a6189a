/**
 * @mutual/merkle: the Merkle tree over each bank's append-only log, as in Certificate
 * Transparency (RFC 9162 §2.1).
 *
 * - Hashing (§2.1.1): {@link leafHash}, {@link nodeHash}, {@link EMPTY_ROOT}.
 * - The node: a {@link Frontier} appends leaves and yields every complete, aligned subtree
 *   to store; {@link subtreeHash}, {@link inclusionProof} and {@link consistencyProof}
 *   (§2.1.3.1, §2.1.4.1) are computed from those stored nodes through a
 *   {@link NodeReader}, for any past tree size.
 * - Auditors: {@link verifyInclusion}, {@link rootFromInclusion} and
 *   {@link verifyConsistency} (§2.1.3.2, §2.1.4.2), pure and synchronous, false on any bad
 *   input; {@link verifyForkPath} proves two roots of one log inconsistent ({@link forkPath}
 *   makes the path).
 *
 * Indexes and sizes are JavaScript numbers: safe integers >= 0. Hashes are 32-byte
 * Uint8Arrays, shared rather than copied: treat them as immutable.
 */
export { HASH_BYTES, EMPTY_ROOT, leafHash, nodeHash } from './hash.ts';
export { Frontier, type MerkleNode } from './frontier.ts';
export { perfectTreeHash, subtreeHash, withDerivedLevels, type LeafReader, type NodeReader } from './node-reader.ts';
export { inclusionProof } from './inclusion-proof.ts';
export { consistencyProof } from './consistency-proof.ts';
export { MAX_PROOF_LENGTH } from './proof-input.ts';
export { rootFromInclusion, verifyInclusion } from './verify-inclusion.ts';
export { rootsFromPath, verifyConsistency } from './verify-consistency.ts';
export { forkPath, forkPathBeyond, toForkPath, verifyForkPath } from './fork.ts';
