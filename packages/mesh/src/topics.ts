/** Gossip topic names of one bioregion. Version 1 of the mesh, one topic per kind of message. */
export function topics(bioregion: string): { heads: string; agreements: string; evidence: string } {
  const base = `mutual/1/${bioregion}`;
  return {
    /** Payload: exactly the bytes of one SignedTreeHead. */
    heads: `${base}/heads`,
    /** Payload: exactly the bytes of one SignedAgreement (any number of its signatures). */
    agreements: `${base}/agreements`,
    /** Payload: exactly the bytes of one ForkProof (protocol/README.md, "Fork proofs"). */
    evidence: `${base}/evidence`,
  };
}

/** Stream protocols of the mesh. */
export const PROTOCOLS = {
  hello: '/mutual/hello/1.0.0',
  sync: '/mutual/sync/1.0.0',
  push: '/mutual/push/1.0.0',
} as const;
