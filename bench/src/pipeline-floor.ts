// The least work a durable, verified apply of signed transfers can do with this stack, measured
// on the same machine, pool and inputs as the ledger's apply: the floor under the apply rate.
import { Level } from 'level';
import { leafHash, Frontier } from '@mutual/merkle';
import { DOMAIN, pb, u64 } from '@mutual/protocol';
import { signDetached, type VerifierPool, type VerifyItem } from '@mutual/verifier';

/** What the floor starts from: each account's holder key and balance (milli-notes). */
export interface FloorAccounts {
  readonly ids: readonly Uint8Array[];
  readonly holderKeys: readonly Uint8Array[];
  readonly balance: bigint;
}

type Instruction = ReturnType<typeof pb.Instruction.decode>;

const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/**
 * Applies `signed` (SignedInstruction transfers, each account's in sequence order) to a fresh
 * LevelDB in `dir` and returns transfers per second. Submissions of `perSubmission` are taken
 * by `lanes` concurrent submitters, as the apply benchmark drives the store. Per submission it
 * decodes each transfer, verifies every payer signature on `pool` (one message buffer, as the
 * store does), and then, one commit at a time: checks sequence and funds, hashes each signed
 * transfer into a Merkle tree (RFC 9162 leaf and node hashes), and writes each transfer, the
 * balance and sequence of each account it touched, and a signed tree head, in one batch
 * written with `sync: true`. There are no entry records beyond the signed bytes, no indexes, no
 * results and no retries: what the ledger adds to this is its own cost.
 */
export async function pipelineFloor(
  dir: string,
  accounts: FloorAccounts,
  bankSecretKey: Uint8Array,
  signed: readonly Uint8Array[],
  pool: VerifierPool,
  lanes: number,
  perSubmission: number,
): Promise<number> {
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  try {
    const state = new Map<string, { key: Uint8Array; holderKey: Uint8Array; balance: bigint; sequence: bigint }>();
    accounts.ids.forEach((id, i) => {
      const key = new Uint8Array(21);
      key[0] = 2;
      key.set(id, 1);
      state.set(latin1(id), { key, holderKey: accounts.holderKeys[i]!, balance: accounts.balance, sequence: 0n });
    });
    const frontier = new Frontier();
    let committing: Promise<void> = Promise.resolve();

    const commit = async (bytes: readonly Uint8Array[], decoded: readonly Instruction[]) => {
      const batch = db.batch();
      const touched = new Set<{ key: Uint8Array; balance: bigint; sequence: bigint }>();
      for (let i = 0; i < bytes.length; i++) {
        const ins = decoded[i]!;
        const payer = state.get(latin1(ins.account))!;
        const payee = state.get(latin1(ins.transfer!.payee!));
        const amount = u64(ins.transfer!.amount);
        const sequence = u64(ins.sequence);
        if (!payee || sequence !== payer.sequence + 1n || amount > payer.balance) throw new Error('the floor was given a transfer it cannot apply');
        payer.sequence = sequence;
        payer.balance -= amount;
        payee.balance += amount;
        touched.add(payer).add(payee);
        const index = frontier.size;
        frontier.append(leafHash(bytes[i]!));
        const key = new Uint8Array(9);
        key[0] = 1;
        new DataView(key.buffer).setBigUint64(1, BigInt(index));
        batch.put(key, bytes[i]!);
      }
      for (const a of touched) {
        const value = new Uint8Array(16);
        const view = new DataView(value.buffer);
        view.setBigUint64(0, a.balance);
        view.setBigUint64(8, a.sequence);
        batch.put(a.key, value);
      }
      const head = new Uint8Array(40);
      new DataView(head.buffer).setBigUint64(0, BigInt(frontier.size));
      head.set(frontier.root(), 8);
      batch.put(new Uint8Array([3]), new Uint8Array([...head, ...signDetached(head, bankSecretKey)]));
      await batch.write({ sync: true });
    };

    let next = 0;
    const lane = async () => {
      for (;;) {
        const start = next;
        next += perSubmission;
        if (start >= signed.length) return;
        const bytes = signed.slice(start, start + perSubmission);
        const decoded: Instruction[] = [];
        const items: VerifyItem[] = [];
        const bodies = bytes.map((b) => pb.SignedInstruction.decode(b));
        let total = 0;
        for (const s of bodies) total += DOMAIN.instruction.length + s.body.length;
        const messages = new Uint8Array(total);
        let at = 0;
        for (const s of bodies) {
          const ins = pb.Instruction.decode(s.body);
          decoded.push(ins);
          messages.set(DOMAIN.instruction, at);
          messages.set(s.body, at + DOMAIN.instruction.length);
          const message = messages.subarray(at, at + DOMAIN.instruction.length + s.body.length);
          at += message.length;
          items.push({ signature: s.signature, message, publicKey: state.get(latin1(ins.account))!.holderKey });
        }
        const verified = pool.verifyBatch(items);
        // One commit at a time, in the order the submissions were made (as the store commits).
        const previous = committing;
        const mine = (async () => {
          const valid = await verified;
          await previous;
          if (valid.some((v) => v !== 1)) throw new Error('the floor was given a transfer with a bad signature');
          await commit(bytes, decoded);
        })();
        committing = mine;
        await mine;
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: lanes }, lane));
    return signed.length / ((performance.now() - started) / 1000);
  } finally {
    await db.close();
  }
}
