// A bank whose ledger lives in a real LevelDB in a temporary directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveAccountId } from '@mutual/codec';
import { AccountKind, type AccountKindNumber } from '@mutual/protocol';
import type { Level } from 'level';
import { LedgerStore, type StoreOptions } from '../src/index.ts';
import { instructionBody, newHolder, signBytes, signInstruction, verify, type ActionProps, type Holder } from '../../ledger/test/fixture.ts';

export { instructionBody, newHolder, signInstruction, verify, type ActionProps, type Holder };
export type Acct = Holder & { id: Uint8Array };

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mutual-store-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function storeOptions(dir: string, bank: Holder, extra: Partial<StoreOptions> = {}): StoreOptions {
  return {
    dir,
    bankKey: bank.publicKey,
    sign: (m) => signBytes(m, bank.seed),
    verify,
    genesis: { name: 'Test Bank', bioregion: 'Cascadia' },
    ...extra,
  };
}

export async function openAccount(store: LedgerStore, kind: AccountKindNumber = AccountKind.member): Promise<Acct> {
  const h = newHolder();
  const [r] = await store.submit([{ type: 'openAccount', holderKey: h.publicKey, kind, label: '' }]);
  if (r?.code !== 'APPLIED') throw new Error(`open failed: ${r?.code}`);
  return { ...h, id: deriveAccountId(store.bank.key, h.publicKey) };
}

export function signed(store: LedgerStore, who: Acct, seq: bigint, action: ActionProps): Uint8Array {
  return signInstruction(instructionBody(store.bank.key, who.id, seq, action), who.seed);
}

export const DAY = Math.floor(Date.now() / 86_400_000);

/** Makes every later chained batch of `db` fail to write, as a full disk would. */
export function failWrites(db: Level<Uint8Array, Uint8Array>): void {
  const batch = db.batch.bind(db) as () => ReturnType<typeof db.batch>;
  Object.assign(db, {
    batch: (...args: unknown[]) => {
      if (args.length > 0) return (batch as (...a: unknown[]) => unknown)(...args);
      const b = batch();
      Object.assign(b, {
        write: async () => {
          await b.close();
          throw Object.assign(new Error('IO error: No space left on device'), { code: 'LEVEL_IO_ERROR' });
        },
      });
      return b;
    },
  });
}
