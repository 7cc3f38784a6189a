import { TopicValidatorResult, type Message } from '@libp2p/gossipsub';
import { LIMITS } from '@mutual/interface';
import { checkSignedAgreement, type VerifyFn } from '@mutual/ledger';

/**
 * The gossip validator of the agreements topic: Accept one SignedAgreement of this bioregion
 * within MAX_AGREEMENT_BYTES, strictly decoded, each signature present a valid one of a member.
 * Anything else is Reject: an honest peer never relays it, whatever banks it knows, because
 * an agreement carries every key its signatures are checked against.
 */
export function validateAgreement(msg: Message, bioregion: string, verify: VerifyFn): TopicValidatorResult {
  return msg.type === 'unsigned' && isAgreementOf(msg.data, bioregion, verify) ? TopicValidatorResult.Accept : TopicValidatorResult.Reject;
}

/**
 * Whether `signed` is one SignedAgreement of `bioregion` within MAX_AGREEMENT_BYTES, strictly
 * decoded, each signature present a valid one of a member: what the node takes from gossip or
 * from a peer's pool.
 */
export function isAgreementOf(signed: Uint8Array, bioregion: string, verify: VerifyFn): boolean {
  if (signed.length > LIMITS.MAX_AGREEMENT_BYTES) return false;
  const check = checkSignedAgreement(signed, verify);
  return check.ok && check.agreement.bioregion === bioregion;
}
