// A node for CLI tests: a real LedgerStore in a temporary directory behind the routes of
// docs/RPC.md that the CLI uses, reached through an injected fetch (no sockets). Only what
// the CLI reads is answered; `tamper` lets a test make the node lie.
import { deriveAccountId, formatAccountId, formatAmount, formatBankId, fromBase64, toBase64, toHex } from '@mutual/codec';
import { MutualError } from '@mutual/interface';
import { signTreeHead, type SignedHead } from '@mutual/ledger';
import { AccountKind } from '@mutual/protocol';
import { LedgerStore } from '@mutual/store';
import { keyPairFromSeed, signDetached, verify } from '@mutual/verifier';
import { laborRecord, type FetchFn } from '@mutual/client';
import { tempDir } from './io.ts';

export const bankKeys = keyPairFromSeed(new Uint8Array(32).fill(7));
export const BANK_ID = formatBankId(bankKeys.publicKey);

export interface Tamper {
  /** replace the bytes of an entry in every answer */
  entry?: { index: number; bytes: Uint8Array };
  /** answer the latest head with this one */
  head?: SignedHead;
  /** a ForkProof the node says it holds against its own bank (GET /v1/banks) */
  forkProof?: Uint8Array;
}

export interface FakeNode {
  readonly store: LedgerStore;
  readonly fetch: FetchFn;
  readonly requests: string[];
  readonly tamper: Tamper;
  close(): Promise<void>;
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const refuse = (code: string, message: string, status: number) => json({ error: { code, message } }, status);

function headJson(h: SignedHead) {
  return { bank: formatBankId(h.bank), size: h.size, root: toHex(h.root), timeMs: Number(h.timeMs), signature: toBase64(h.signature), signed: toBase64(h.bytes) };
}

export async function fakeNode(): Promise<FakeNode> {
  const store = await LedgerStore.open({
    dir: tempDir(),
    bankKey: bankKeys.publicKey,
    sign: (m) => signDetached(m, bankKeys.secretKey),
    verify,
    genesis: { name: 'Test Bank', bioregion: 'Test' },
  });
  const tamper: Tamper = {};
  const requests: string[] = [];
  const entryBytes = async (i: number) => (tamper.entry?.index === i ? tamper.entry.bytes : await store.getEntry(i));

  const fetch: FetchFn = async (url, init) => {
    const u = new URL(url);
    requests.push(`${init.method ?? 'GET'} ${u.pathname}${u.search}`);
    const p = u.pathname;
    const q = u.searchParams;
    if (p === '/v1/status') {
      return json({
        bank: { id: BANK_ID, name: 'Test Bank', bioregion: 'Test' },
        version: '0.1.0',
        protocolVersion: 1,
        log: { size: store.size },
        head: headJson(store.head),
        rates: [{ category: 'standard', rate: '1' }],
        totals: { issued: formatAmount(store.totals.issued), retired: formatAmount(store.totals.retired), accounts: Number(store.totals.accounts) },
      });
    }
    if (p === '/v1/head') return json(headJson(tamper.head ?? store.head));
    if (p === '/v1/banks') {
      const fork = tamper.forkProof ? { forked: true, forkProof: toBase64(tamper.forkProof) } : { forked: false };
      return json({ banks: [{ id: BANK_ID, name: 'Test Bank', bioregion: 'Test', self: true, head: headJson(store.head), replicated: store.size, behind: 0, replicating: true, ...fork }] });
    }
    let m = /^\/v1\/heads\/(\d+)$/.exec(p);
    if (m) {
      const h = await store.getHead(Number(m[1]));
      return h ? json(headJson(h)) : refuse('NOT_FOUND', 'no head of that size', 404);
    }
    m = /^\/v1\/entries\/(\d+)$/.exec(p);
    if (m) {
      const index = Number(m[1]);
      const bytes = await entryBytes(index);
      if (!bytes) return refuse('NOT_FOUND', 'no such entry', 404);
      const proof = await store.inclusionProof(index);
      return json({ entry: { index, timeMs: 0, kind: 'transfer', bytes: toBase64(bytes) }, proof: { treeSize: store.size, path: proof.map(toBase64) }, head: headJson(store.head) });
    }
    if (p === '/v1/entries') {
      const from = Number(q.get('from'));
      const limit = Number(q.get('limit') ?? 1000);
      const to = Math.min(store.size, from + limit);
      const out: string[] = [];
      for (let i = from; i < to; i++) out.push(toBase64((await entryBytes(i))!));
      return json({ from, entries: out, size: store.size });
    }
    if (p === '/v1/consistency') {
      const from = Number(q.get('from'));
      const to = Number(q.get('to'));
      if (!(from >= 1 && from <= to && to <= store.size)) return refuse('INVALID_RANGE', 'out of the log', 400);
      return json({ from, to, path: (await store.consistencyProof(from, to)).map(toBase64) });
    }
    return refuse('NOT_FOUND', `no route ${p}`, 404);
  };
  return { store, fetch, requests, tamper, close: () => store.close() };
}

/** Opens a cooperative and a member and records labor, so that the log holds instructions. */
export async function populate(store: LedgerStore): Promise<void> {
  const coopSeed = new Uint8Array(32).fill(1);
  const coop = keyPairFromSeed(coopSeed);
  const member = keyPairFromSeed(new Uint8Array(32).fill(2));
  const opened = await store.submit([
    { type: 'openAccount', holderKey: coop.publicKey, kind: AccountKind.cooperative, label: 'coop' },
    { type: 'openAccount', holderKey: member.publicKey, kind: AccountKind.member, label: 'member' },
  ]);
  if (opened.some((r) => r.code !== 'APPLIED')) throw new MutualError('INTERNAL', 'opening accounts failed');
  const worker = formatAccountId(deriveAccountId(bankKeys.publicKey, member.publicKey));
  const day = Math.floor(Date.now() / 86_400_000) - 1;
  for (let seq = 1; seq <= 3; seq++) {
    const signed = laborRecord({ key: coopSeed, bank: BANK_ID, sequence: seq, worker, day, hours: '2', category: 'standard' });
    const [r] = await store.submitSigned([fromBase64(signed)]);
    if (r?.code !== 'APPLIED') throw new MutualError('INTERNAL', `labor failed: ${r?.code}`);
  }
}

/** A head of `size` signed by the bank over another root: what a forking bank would show. */
export function forgedHead(size: number): SignedHead {
  return signTreeHead(bankKeys.publicKey, size, new Uint8Array(32).fill(9), 1n, (m) => signDetached(m, bankKeys.secretKey));
}
