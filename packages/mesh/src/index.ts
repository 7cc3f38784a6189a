/**
 * @mutual/mesh: the bioregional peer mesh of Mutual banks. A {@link Mesh} is a libp2p host
 * whose peer key is the bank key: a hello on every connection admits peers of the same
 * bioregion only (an inbound connection without one is closed after HELLO_TIMEOUT_MS);
 * signed tree heads and federation agreements are gossiped on the bioregion's topics and validated before relay; a request/response sync protocol serves this bank's log and every
 * replica it holds, a push protocol takes a bank's interbank entries straight to the bank
 * they concern, and the node keeps verified replicas of the banks it meets, catching up
 * from any peer. Wire messages are in protocol/proto/mutual/v1/mesh.proto.
 */
export { Mesh, type BankInfo, type MeshLogger, type MeshOptions, type PeerInfo } from './mesh.ts';
export { validateAgreement } from './agreements.ts';
export { readFrame, writeFrame, FrameError } from './frames.ts';
export { checkHello, encodeHello, type PeerHello } from './hello.ts';
export { answerSync } from './sync-server.ts';
export { checkPush, encodePush, type CheckedPush, type IndexedEntry } from './push.ts';
export { logSource, type LogSource } from './source.ts';
export { PROTOCOLS, topics } from './topics.ts';
export { REDIAL_MAX_MS, REDIAL_MIN_MS } from './redial.ts';
export { corkWrites } from './cork.ts';
export { sodiumNoiseCrypto } from './noise-crypto.ts';
