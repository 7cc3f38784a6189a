// Account holders at real daemons: keys made here, accounts opened through the admin RPC,
// instructions signed by a Wallet, as a cooperative's software would.
import { MutualClient, newKey, Wallet, type AccountKindText } from '@mutual/client';
import { formatPublicKey } from '@mutual/codec';
import type { MeshDaemon } from './mesh-daemon.ts';

export interface TestHolder {
  readonly wallet: Wallet;
  /** `macct1…` */
  readonly id: string;
  readonly daemon: MeshDaemon;
}

/** Opens an account of `kind` at `d` for a new key. */
export async function openHolder(d: MeshDaemon, kind: AccountKindText = 'member', label = ''): Promise<TestHolder> {
  const key = newKey();
  const admin = new MutualClient({ url: d.url, token: d.token });
  const opened = await admin.openAccount({ publicKey: formatPublicKey(key.publicKey), kind, label });
  const wallet = new Wallet({ client: new MutualClient({ url: d.url }), key, bank: d.bank });
  return { wallet, id: opened.account, daemon: d };
}

/** A member of `d` credited `hours` hours of standard work by a new cooperative. */
export async function fundedMember(d: MeshDaemon, hours: string): Promise<TestHolder> {
  const coop = await openHolder(d, 'cooperative', 'coop');
  const m = await openHolder(d, 'member');
  const r = await coop.wallet.recordLabor({ worker: m.id, hours, category: 'standard' });
  if (r.code !== 'APPLIED') throw new Error(`labor refused: ${r.code}`);
  return m;
}

/** The balance of `h` as its bank reports it (decimal text). */
export async function balanceOf(h: TestHolder): Promise<string> {
  return (await h.wallet.client.account(h.id)).balance;
}
