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
  if (msg.type !== 'unsigned' || msg.data.length > LIMITS.MAX_AGREEMENT_BYTES) return TopicValidatorResult.Reject;
  const check = checkSignedAgreement(msg.data, verify);
  if (!check.ok || check.agreement.bioregion !== bioregion) return TopicValidatorResult.Reject;
  return TopicValidatorResult.Accept;
}
