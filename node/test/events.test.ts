import type { ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import { AccountKind } from '@mutual/protocol';
import type { OutgoingStatus } from '@mutual/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventStream } from '../src/index.ts';
import { b64, funded, newHolder, signInstruction, testBank, type TestBank } from './fixture.ts';
import type { Clearing, InterbankListener } from '../src/clearing.ts';
import { ENTRY_KINDS, entryJson, entryKindOf } from '../src/rpc/entry-json.ts';

let t: TestBank;
beforeEach(async () => {
  t = await testBank({ events: { maxBufferedEntries: 50, pageSize: 3 } });
});
afterEach(async () => {
  await t.close();
});

async function openAccounts(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const [r] = await t.store.submit([{ type: 'openAccount', holderKey: newHolder().publicKey, kind: AccountKind.member, label: '' }]);
    if (r?.code !== 'APPLIED') throw new Error(r?.code);
  }
}

/** Waits for `cond` with a deadline, yielding to the event loop between checks. */
async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}

/** Reads Server-Sent Events from a fetch response body. */
class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = '';
  readonly events: SseEvent[] = [];

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }

  /** Reads until `n` events have arrived in all, or fails past the deadline. */
  async read(n: number, ms = 5000): Promise<SseEvent[]> {
    const deadline = Date.now() + ms;
    while (this.events.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out with ${this.events.length} of ${n} events`);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out with ${this.events.length} of ${n} events`)), left);
      });
      const { done, value } = await Promise.race([this.#reader.read(), timeout]).finally(() => clearTimeout(timer));
      if (done) throw new Error(`stream ended after ${this.events.length} events`);
      this.#buffer += this.#decoder.decode(value, { stream: true });
      let sep;
      while ((sep = this.#buffer.indexOf('\n\n')) >= 0) {
        const block = this.#buffer.slice(0, sep);
        this.#buffer = this.#buffer.slice(sep + 2);
        const ev: SseEvent = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue; // heartbeat
          const i = line.indexOf(': ');
          if (i < 0) continue;
          const k = line.slice(0, i) as keyof SseEvent;
          ev[k] = (ev[k] ?? '') + line.slice(i + 2);
        }
        if (ev.id !== undefined || ev.data !== undefined) this.events.push(ev);
      }
    }
    return this.events.slice(0, n);
  }

  /** Whether the server ended the stream (within the deadline). */
  async ended(ms = 5000): Promise<boolean> {
    const deadline = Date.now() + ms;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), left);
      });
      const r = await Promise.race([this.#reader.read().catch(() => ({ done: true as const, value: undefined })), timeout]).finally(() => clearTimeout(timer));
      if (r === 'timeout') return false;
      if (r.done) return true;
    }
  }

  cancel(): Promise<void> {
    return this.#reader.cancel();
  }
}

async function listen(): Promise<string> {
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
}

describe('GET /v1/events', () => {
  it('follows live from the end of the log when not resuming', async () => {
    const base = await listen();
    const res = await fetch(`${base}/v1/events`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const sse = new SseReader(res.body!);
    await openAccounts(2);
    const evs = await sse.read(2);
    expect(evs.map((e) => e.id)).toEqual(['2', '3']);
    expect(evs.every((e) => e.event === 'entry')).toBe(true);
    const data = JSON.parse(evs[0]!.data!);
    expect(data).toMatchObject({ index: 2, kind: 'account-opened', kindOfAccount: 'member' });
    await sse.cancel();
  });

  it('replays after Last-Event-ID, then follows live', async () => {
    await openAccounts(3); // entries 2, 3, 4
    const base = await listen();
    const res = await fetch(`${base}/v1/events`, { headers: { 'last-event-id': '2' } });
    const sse = new SseReader(res.body!);
    expect((await sse.read(2)).map((e) => e.id)).toEqual(['3', '4']);
    await openAccounts(1);
    expect((await sse.read(3)).map((e) => e.id)).toEqual(['3', '4', '5']);
    await sse.cancel();
  });

  it('?from=0 replays the whole log from genesis', async () => {
    const base = await listen();
    const res = await fetch(`${base}/v1/events?from=0`);
    const sse = new SseReader(res.body!);
    const evs = await sse.read(2);
    expect(evs.map((e) => JSON.parse(e.data!).kind)).toEqual(['genesis', 'rate-schedule']);
    await sse.cancel();
  });

  it('delivers every entry exactly once while commits race the replay', async () => {
    await openAccounts(20);
    const base = await listen();
    const res = await fetch(`${base}/v1/events?from=0`);
    const sse = new SseReader(res.body!);
    const writing = openAccounts(30); // commits while the 22 old entries are being replayed
    await writing;
    const evs = await sse.read(t.store.size);
    expect(evs.map((e) => Number(e.id))).toEqual(Array.from({ length: t.store.size }, (_, i) => i));
    await sse.cancel();
  });

  it('?kinds= sends only entries of those kinds, with their indexes as ids, replayed and live', async () => {
    const { alice, bob } = await funded(t); // three accounts opened, then a labor record
    const base = await listen();
    const res = await fetch(`${base}/v1/events?from=0&kinds=labor,transfer`);
    expect(res.status).toBe(200);
    const sse = new SseReader(res.body!);
    const first = await sse.read(1);
    const laborIndex = t.store.size - 1;
    expect(first.map((e) => [e.id, JSON.parse(e.data!).kind])).toEqual([[String(laborIndex), 'labor']]);
    await openAccounts(2); // not sent
    const pay = signInstruction(t.bank.publicKey, alice, 1n, { transfer: { payee: bob.id, amount: 1_000n } });
    const r = await t.app.inject({ method: 'POST', url: '/v1/transfers', payload: { instructions: [b64(pay)] } });
    expect(r.json().results[0].code).toBe('APPLIED');
    const evs = await sse.read(2);
    expect(evs.map((e) => [Number(e.id), JSON.parse(e.data!).kind])).toEqual([
      [laborIndex, 'labor'],
      [t.store.size - 1, 'transfer'],
    ]);
    await sse.cancel();

    // Resuming a filtered stream after its last id.
    const again = await fetch(`${base}/v1/events?kinds=account-opened`, { headers: { 'last-event-id': String(laborIndex) } });
    const resumed = new SseReader(again.body!);
    expect((await resumed.read(2)).map((e) => Number(e.id))).toEqual([laborIndex + 1, laborIndex + 2]);
    await resumed.cancel();
  });

  it('?kinds= refuses a kind it does not know, naming the ones it does', async () => {
    for (const q of ['kinds=transfers', 'kinds=', 'kinds=transfer,', 'kinds=Transfer']) {
      const res = await t.app.inject({ method: 'GET', url: `/v1/events?${q}` });
      expect(res.statusCode, q).toBe(400);
      expect(res.json().error.code, q).toBe('VALIDATION_FAILED');
      expect(res.json().error.message, q).toContain('interbank-credit');
    }
  });

  it('names the kind of an entry exactly as its JSON does, for every entry of a log', async () => {
    await funded(t);
    await openAccounts(2);
    const entries = await t.store.getEntries(0, t.store.size);
    const kinds = entries.map((b) => entryKindOf(b));
    expect(kinds).toEqual(entries.map((b) => entryJson(b).kind));
    expect(new Set(kinds)).toEqual(new Set(['genesis', 'rate-schedule', 'account-opened', 'labor']));
    for (const k of kinds) expect(ENTRY_KINDS).toContain(k);
    expect(entryKindOf(new Uint8Array([0xff]))).toBeUndefined();
  });

  it('closing the app ends open streams', async () => {
    const base = await listen();
    const res = await fetch(`${base}/v1/events`);
    const sse = new SseReader(res.body!);
    await openAccounts(1);
    await sse.read(1);
    await t.app.close();
    expect(await sse.ended()).toBe(true);
  });
});

describe('GET /v1/interbank/events', () => {
  const listeners = new Set<InterbankListener>();
  const clearing = {
    subscribe(l: InterbankListener) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  } as unknown as Clearing;
  const transfer = (index: number): OutgoingStatus => ({
    index,
    state: 'pending',
    payer: new Uint8Array(20),
    bank: new Uint8Array(32).fill(7),
    payee: new Uint8Array(20),
    amount: 1000n,
    refundIndex: undefined,
  });
  const emit = (n: number, first: number): void => {
    for (let i = first; i < first + n; i++) {
      const e = { transfer: transfer(i) };
      for (const l of listeners) l(e);
    }
  };
  beforeEach(async () => {
    await t.close();
    listeners.clear();
    t = await testBank({ clearing, events: { maxBufferedEntries: 50, pageSize: 3 } });
  });

  it('disconnects a client that does not read once 50 events wait for it, while one that reads gets them all', async () => {
    const base = await listen();
    const responses: ServerResponse[] = [];
    t.app.server.on('request', (_req, res: ServerResponse) => responses.push(res));

    // A client that reads the head of the answer, then nothing more.
    const slow = connect((t.app.server.address() as AddressInfo).port, '127.0.0.1');
    slow.write('GET /v1/interbank/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
    slow.once('data', () => slow.pause());
    const slowClosed = new Promise<void>((resolve) => slow.once('close', () => resolve()));
    await until(() => listeners.size === 1, 'the slow client to subscribe');
    const slowRes = responses[0]!;

    const fast = new SseReader((await fetch(`${base}/v1/interbank/events`)).body!);
    await until(() => listeners.size === 2, 'the fast client to subscribe');

    // Rounds smaller than the bound: a client that reads keeps up; one that does not fills
    // the sockets' buffers, and then the stream's own.
    let sent = 0;
    // One send waits for 'drain' at a time (its 'drain' and 'error' listeners), not one per event.
    const base0 = { drain: slowRes.listenerCount('drain'), error: slowRes.listenerCount('error') };
    let addedListeners = 0;
    for (let round = 0; round < 5000 && !slowRes.destroyed; round++) {
      emit(20, sent);
      sent += 20;
      addedListeners = Math.max(addedListeners, slowRes.listenerCount('drain') - base0.drain, slowRes.listenerCount('error') - base0.error);
      await fast.read(sent);
    }
    expect(slowRes.destroyed).toBe(true);
    expect(addedListeners).toBe(1);
    expect(listeners.size).toBe(1);
    // The client sees the connection end once it reads what reached it.
    slow.resume();
    await slowClosed;

    emit(5, sent);
    sent += 5;
    const got = await fast.read(sent);
    expect(got.map((e) => (JSON.parse(e.data!) as { index: number }).index)).toEqual(Array.from({ length: sent }, (_, i) => i));
    expect(got.every((e) => e.event === 'interbank')).toBe(true);
    await fast.cancel();
  });

  it('closing the app ends open streams and lets go of the clearing', async () => {
    const base = await listen();
    const sse = new SseReader((await fetch(`${base}/v1/interbank/events`)).body!);
    await until(() => listeners.size === 1, 'the client to subscribe');
    emit(1, 0);
    await sse.read(1);
    await t.app.close();
    expect(await sse.ended()).toBe(true);
    expect(listeners.size).toBe(0);
  });
});

describe('EventStream', () => {
  it('switches from replay to live with no gap and no duplicate, whatever the interleaving', async () => {
    await openAccounts(10);
    const seen: number[] = [];
    let commits = 0;
    const stream = new EventStream(
      t.store,
      0,
      async (index) => {
        seen.push(index);
        // Commit in the middle of the replay, at page boundaries and inside pages.
        if (index % 2 === 1 && commits < 8) {
          commits++;
          await openAccounts(1);
        }
        await tick();
      },
      { maxBufferedEntries: 1000, pageSize: 3 },
    );
    const done = stream.run();
    await until(() => commits === 8 && seen.length === t.store.size, 'the stream to catch up');
    await openAccounts(2); // live
    await until(() => seen.length === t.store.size, 'live entries');
    stream.stop();
    expect(await done).toBe('stopped');
    expect(seen).toEqual(Array.from({ length: t.store.size }, (_, i) => i));
  });

  it('disconnects a live client that lets too many entries pile up', async () => {
    let release!: () => void;
    const stuck = new Promise<void>((r) => {
      release = r;
    });
    const seen: number[] = [];
    const stream = new EventStream(
      t.store,
      t.store.size,
      async (index) => {
        seen.push(index);
        await stuck; // a client whose socket never drains
      },
      { maxBufferedEntries: 5, pageSize: 3 },
    );
    const done = stream.run();
    await openAccounts(1);
    await until(() => seen.length === 1, 'the first live entry');
    await openAccounts(6);
    expect(await done).toBe('overflow');
    release();
  });

  it('a slow replay does not count against the live buffer', async () => {
    await openAccounts(10);
    let sent = 0;
    const stream = new EventStream(
      t.store,
      0,
      async () => {
        sent++;
        if (sent === 2) await openAccounts(8); // more than the buffer, while replaying
      },
      { maxBufferedEntries: 5, pageSize: 2 },
    );
    const done = stream.run();
    await until(() => sent === t.store.size, 'the replay to finish');
    stream.stop();
    expect(await done).toBe('stopped');
  });
});
