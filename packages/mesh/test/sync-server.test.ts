import { pb } from '@mutual/protocol';
import { describe, expect, it } from 'vitest';
import { answerSync } from '../src/sync-server.ts';
import type { LogSource } from '../src/source.ts';

const nothing = { servableHead: async () => undefined, entries: async () => [], consistency: async () => [] } as unknown as LogSource;

async function answer(bytes: number[]): Promise<[string | undefined, boolean]> {
  const [response, wellFormed] = await answerSync(Uint8Array.from(bytes), nothing);
  return [pb.SyncResponse.decode(response).error?.code ?? undefined, wellFormed];
}

describe('answerSync and kinds of request it does not know', () => {
  it('answers a request of a kind a newer node added with UNSUPPORTED_REQUEST, not as malformed', async () => {
    expect(await answer([0x4a, 0x00])).toEqual(['UNSUPPORTED_REQUEST', true]); // field 9, an empty message
    expect(await answer([0x4a, 0x02, 0x08, 0x01])).toEqual(['UNSUPPORTED_REQUEST', true]); // field 9 with content
    expect(await answer([0x82, 0x01, 0x00])).toEqual(['UNSUPPORTED_REQUEST', true]); // field 16
  });

  it('takes every kind this version has for one it knows', async () => {
    for (const kind of ['getHead', 'getEntries', 'getConsistency', 'getAgreements', 'getEvidence']) {
      const [code] = await answer([...pb.SyncRequest.encode({ [kind]: {} }).finish()]);
      expect(code).not.toBe('UNSUPPORTED_REQUEST');
    }
  });

  it('still holds as malformed what is not one such field', async () => {
    const cases = [
      [], // nothing at all
      [0xff, 0xff, 0xff], // not protobuf
      [0x48, 0x01], // field 9 as a varint, not a message
      [0x4a, 0x05, 0x01], // field 9 cut short
      [0x4a, 0x00, 0x4a, 0x00], // two fields
      [0x0a, 0x02, 0x50, 0x01], // a known kind (GetHead) with a field it does not have
      [0x02, 0x00], // field 0
    ];
    for (const c of cases) expect(await answer(c)).toEqual(['VALIDATION_FAILED', false]);
  });
});
