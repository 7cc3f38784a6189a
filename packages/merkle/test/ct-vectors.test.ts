// Known answers from the Certificate Transparency test data shared by RFC 6962 / RFC 9162
// implementations (the eight entries below, their tree heads, and proofs over them; as in
// the verifier tests of github.com/transparency-dev/merkle, proof/verify_test.go, where
// leaf indexes are written 1-based).
import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  EMPTY_ROOT,
  Frontier,
  inclusionProof,
  leafHash,
  subtreeHash,
  verifyConsistency,
  verifyInclusion,
} from '../src/index.ts';
import { hex, refMth, unhex } from './reference.ts';
import { MemoryStore } from './store.ts';

const ENTRIES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(unhex);

/** Roots of the trees of sizes 1 to 8. */
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const root = (size: number) => unhex(ROOTS[size - 1]!);

/** Inclusion proofs, with 0-based indexes. */
const INCLUSION = [
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    index: 1,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];

const CONSISTENCY = [
  {
    m: 1,
    n: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    m: 6,
    n: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    m: 2,
    n: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    m: 6,
    n: 7,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

function buildStore(): MemoryStore {
  const store = new MemoryStore();
  const frontier = new Frontier();
  for (const entry of ENTRIES) {
    for (const node of frontier.append(leafHash(entry))) store.put(node.level, node.index, node.hash);
  }
  return store;
}

describe('Certificate Transparency test data', () => {
  it('the reference implementation gives the published roots', () => {
    expect(hex(refMth([]))).toBe(hex(EMPTY_ROOT));
    for (let n = 1; n <= 8; n++) expect(hex(refMth(ENTRIES.slice(0, n))), `size ${n}`).toBe(ROOTS[n - 1]);
  });

  it('the frontier gives the published root after every append', () => {
    const frontier = new Frontier();
    expect(hex(frontier.root())).toBe(hex(EMPTY_ROOT));
    ENTRIES.forEach((entry, i) => {
      frontier.append(leafHash(entry));
      expect(hex(frontier.root()), `size ${i + 1}`).toBe(ROOTS[i]);
    });
  });

  it('stored nodes give the published roots for every past size', async () => {
    const store = buildStore();
    for (let n = 1; n <= 8; n++) expect(hex(await subtreeHash(store.reader(n), 0, n))).toBe(ROOTS[n - 1]);
  });

  it('inclusion proofs match the published ones and verify', async () => {
    const store = buildStore();
    for (const { index, size, proof } of INCLUSION) {
      const got = await inclusionProof(store.reader(size), index, size);
      expect(got.map(hex), `${index} in ${size}`).toEqual(proof);
      expect(verifyInclusion(leafHash(ENTRIES[index]!), index, size, proof.map(unhex), root(size))).toBe(true);
    }
  });

  it('consistency proofs match the published ones and verify', async () => {
    const store = buildStore();
    for (const { m, n, proof } of CONSISTENCY) {
      const got = await consistencyProof(store.reader(n), m, n);
      expect(got.map(hex), `${m} to ${n}`).toEqual(proof);
      expect(verifyConsistency(m, n, root(m), root(n), proof.map(unhex))).toBe(true);
    }
  });
});
