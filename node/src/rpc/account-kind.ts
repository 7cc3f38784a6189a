import { AccountKind, type AccountKindNumber } from '@mutual/protocol';

/** Account kinds as the RPC writes them. */
export const ACCOUNT_KIND_TEXTS = ['member', 'cooperative', 'mutual-aid-fund'] as const;
export type AccountKindText = (typeof ACCOUNT_KIND_TEXTS)[number];

const TO_NUMBER: Record<AccountKindText, AccountKindNumber> = {
  member: AccountKind.member,
  cooperative: AccountKind.cooperative,
  'mutual-aid-fund': AccountKind.mutualAidFund,
};

/** The RPC text of an account kind number, or undefined for a number that is no kind. */
export function accountKindText(n: number): AccountKindText | undefined {
  return ACCOUNT_KIND_TEXTS.find((t) => TO_NUMBER[t] === n);
}

/** The protocol number of an account kind text (already checked against the schema's enum). */
export function accountKindNumber(t: AccountKindText): AccountKindNumber {
  return TO_NUMBER[t];
}
