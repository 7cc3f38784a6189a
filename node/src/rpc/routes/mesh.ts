import { formatBankId, toBase64 } from '@mutual/codec';
import type { BankInfo, PeerInfo } from '@mutual/mesh';
import type { LedgerStore } from '@mutual/store';
import type { FastifyInstance } from 'fastify';
import { errors, ref } from '../schemas.ts';
import { headJson } from '../views.ts';

/** What the routes read of the mesh; absent when the node runs without one (RPC tests). */
export interface MeshView {
  peers(): PeerInfo[];
  banks(): Promise<BankInfo[]>;
  /** Pushes sent, left to replication, received and refused (the `mutual_pushes_total` metric). */
  pushCounts?(): { sent: number; unsent: number; received: number; refused: number };
}

const peersResponse = {
  type: 'object',
  properties: {
    peers: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          peerId: { type: 'string' },
          bank: { type: 'string' },
          name: { type: 'string' },
          bioregion: { type: 'string' },
          addresses: { type: 'array', items: { type: 'string' } },
          latencyMs: { type: 'number' },
          gossip: { type: 'array', items: { type: 'string', enum: ['heads', 'agreements', 'evidence'] } },
        },
      },
    },
  },
} as const;

const banksResponse = {
  type: 'object',
  properties: {
    banks: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          name: { type: 'string' },
          bioregion: { type: 'string' },
          self: { type: 'boolean' },
          head: { anyOf: [ref('SignedHead'), { type: 'null' }] },
          replicated: { type: 'integer' },
          behind: { type: 'integer' },
          replicating: { type: 'boolean', description: 'this node keeps a replica of the bank\'s log (a bank it federates with; true for this bank)' },
          forked: { type: 'boolean', description: 'this node holds a verified fork proof against the bank' },
          forkProof: { type: 'string', description: 'when forked: the ForkProof bytes, base64 (protocol/README.md, "Fork proofs")' },
        },
      },
    },
  },
} as const;

/** `GET /v1/peers` and `GET /v1/banks`: the mesh as this node sees it. */
export function meshRoutes(app: FastifyInstance, deps: { store: LedgerStore; mesh: MeshView | undefined }): void {
  const { store, mesh } = deps;
  app.get('/v1/peers', { schema: { tags: ['mesh'], response: { 200: peersResponse, ...errors(429) } } }, async () => ({
    peers: (mesh?.peers() ?? []).map((p) => ({
      peerId: p.peerId,
      ...(p.bank ? { bank: formatBankId(p.bank), name: p.name, bioregion: p.bioregion } : {}),
      addresses: p.addresses,
      ...(p.latencyMs !== undefined ? { latencyMs: p.latencyMs } : {}),
      gossip: p.gossip,
    })),
  }));
  app.get('/v1/banks', { schema: { tags: ['mesh'], response: { 200: banksResponse, ...errors(429) } } }, async () => {
    const rows: BankInfo[] = mesh
      ? await mesh.banks()
      : [{ bank: store.bank.key, name: store.bank.name, bioregion: store.bank.bioregion, self: true, head: store.head, replicated: store.size, behind: 0, replicating: true }];
    return {
      banks: rows.map((b) => ({
        id: formatBankId(b.bank),
        name: b.name,
        bioregion: b.bioregion,
        self: b.self,
        head: b.head ? headJson(b.head) : null,
        replicated: b.replicated,
        behind: b.behind,
        replicating: b.replicating,
        forked: b.forkProof !== undefined,
        ...(b.forkProof ? { forkProof: toBase64(b.forkProof) } : {}),
      })),
    };
  });
}
