/**
 * @mutual/crypto: portable hashing and Ed25519 signing. Runs in Node.js and in browsers
 * (Node.js gets native SHA-256 through the `#sha256` import condition).
 */
export { sha256 } from '#sha256';
