import fc from 'fast-check';
import { AccountKind } from '@mutual/protocol';
import { consistencyProof, Frontier, inclusionProof, leafHash, verifyConsistency, verifyInclusion, type MerkleNode } from '@mutual/merkle';
import { describe, expect, it } from 'vitest';
import { conservationProblem, MemoryLedgerState, replayEntries, type Result } from '../src/index.ts';
import { DAY, instructionBody, signInstruction, TestBank, verify, type Holder } from './fixture.ts';

type Acct = Holder & { id: Uint8Array };

// One random step. Indexes pick accounts modulo the number opened; `seqSkew` makes some
// instructions use a wrong sequence number; `badSig` signs with another key; `resend` sends
// the bytes of an earlier instruction again.
const step = fc.oneof(
  fc.record({ t: fc.constant('labor' as const), coop: fc.nat(), worker: fc.nat(), hours: fc.integer({ min: 0, max: 26_000 }), unpleasant: fc.boolean(), dayBack: fc.nat(3), seqSkew: fc.constantFrom(0, 0, 0, -1, 1), badSig: fc.boolean() }),
  fc.record({ t: fc.constant('transfer' as const), from: fc.nat(), to: fc.nat(), amount: fc.bigInt({ min: 0n, max: 30_000n }), seqSkew: fc.constantFrom(0, 0, 0, -1, 1), badSig: fc.boolean() }),
  fc.record({ t: fc.constant('retire' as const), from: fc.nat(), amount: fc.bigInt({ min: 1n, max: 5_000n }), seqSkew: fc.constant(0), badSig: fc.constant(false) }),
  fc.record({ t: fc.constant('resend' as const), which: fc.nat() }),
);

describe('ledger invariants over random instruction sequences', () => {
  it('conserve notes, never go negative, replay to the same state, ignore resends, and prove the log', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 10 }), async (steps, batchSizes) => {
        const bank = new TestBank();
        const coops: Acct[] = [bank.open(AccountKind.cooperative), bank.open(AccountKind.cooperative)];
        const members: Acct[] = [bank.open(), bank.open(), bank.open(), bank.open()];
        const nextSeq = new Map<Acct, bigint>();
        const sent: Uint8Array[] = [];
        const firstResult = new Map<Uint8Array, Result>();
        const seqOf = (a: Acct, skew: number) => (nextSeq.get(a) ?? 1n) + BigInt(skew);

        const signedSteps = steps.map((s): { bytes: Uint8Array; signer?: Acct } => {
          if (s.t === 'resend') return { bytes: sent.length ? sent[s.which % sent.length]! : new Uint8Array([1]) };
          let signer: Acct;
          let body: Uint8Array;
          if (s.t === 'labor') {
            signer = coops[s.coop % coops.length]!;
            body = instructionBody(bank.key, signer.id, seqOf(signer, s.seqSkew), { labor: { worker: members[s.worker % members.length]!.id, day: DAY - s.dayBack, milliHours: BigInt(s.hours), category: s.unpleasant ? 'unpleasant' : 'standard' } });
          } else {
            const all = [...members, ...coops];
            signer = all[s.from % all.length]!;
            const payee = all[('to' in s ? s.to : 0) % all.length]!;
            body = instructionBody(bank.key, signer.id, seqOf(signer, s.seqSkew), s.t === 'transfer' ? { transfer: { payee: payee.id, amount: s.amount } } : { retirement: { amount: s.amount } });
          }
          const bytes = signInstruction(body, s.badSig ? members[0]!.seed : signer.seed);
          sent.push(bytes);
          return { bytes, signer };
        });

        // Apply in batches of random sizes; sequence numbers advance only when applied.
        let k = 0;
        let b = 0;
        while (k < signedSteps.length) {
          const n = batchSizes[b++ % batchSizes.length]!;
          const chunk = signedSteps.slice(k, k + n);
          const before = bank.state.size;
          const results = bank.submitBytes(...chunk.map((c) => c.bytes));
          results.forEach((r, j) => {
            const c = chunk[j]!;
            if (r.code === 'APPLIED' && !r.duplicate && c.signer) nextSeq.set(c.signer, (nextSeq.get(c.signer) ?? 1n) + 1n);
            const prior = firstResult.get(c.bytes);
            if (prior?.code === 'APPLIED') {
              // a resend of applied bytes returns the original entry and appends nothing new for it
              expect(r).toMatchObject({ code: 'APPLIED', duplicate: true, entryIndex: prior.entryIndex });
            } else if (r.code === 'APPLIED' && !r.duplicate) firstResult.set(c.bytes, r);
          });
          expect(bank.state.size).toBe(before + results.filter((r) => r.code === 'APPLIED' && !r.duplicate).length);
          expect(conservationProblem(bank.state)).toBeUndefined();
          k += n;
        }

        // The log's Merkle tree: every entry is provably included, and every earlier size is
        // provably a prefix of the final one.
        const frontier = new Frontier();
        const nodes = new Map<string, Uint8Array>();
        const roots: Uint8Array[] = [];
        for (const e of bank.entries) {
          for (const n of frontier.append(leafHash(e)) as MerkleNode[]) nodes.set(`${n.level}/${n.index}`, n.hash);
          roots.push(frontier.root());
        }
        const reader = (level: number, index: number) => nodes.get(`${level}/${index}`)!;
        const size = bank.entries.length;
        for (const i of [0, Math.floor(size / 2), size - 1]) {
          const proof = await inclusionProof(reader, i, size);
          expect(verifyInclusion(leafHash(bank.entries[i]!), i, size, proof, frontier.root())).toBe(true);
          const m = i + 1;
          expect(verifyConsistency(m, size, roots[m - 1]!, frontier.root(), await consistencyProof(reader, m, size))).toBe(true);
        }

        const fresh = new MemoryLedgerState();
        expect(replayEntries(fresh, bank.entries, verify)).toBeUndefined();
        expect(fresh.totals).toEqual(bank.state.totals);
        const norm = (a: { holderKey: Uint8Array; id: Uint8Array } & object) => ({ ...a, holderKey: Buffer.from(a.holderKey).toString('hex'), id: Buffer.from(a.id).toString('hex') });
        expect(fresh.accounts.size).toBe(bank.state.accounts.size);
        for (const [key, a] of bank.state.accounts) expect(norm(fresh.accounts.get(key)!)).toEqual(norm(a));
      }),
      { numRuns: 60 },
    );
  });
});
