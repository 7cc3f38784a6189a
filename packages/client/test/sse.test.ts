import { describe, expect, it } from 'vitest';
import { MAX_SSE_EVENT_CHARS, MutualClient, parseSse, type SseMessage } from '../src/index.ts';
import { fakeFetch } from './fake-fetch.ts';

const enc = new TextEncoder();

/** A stream that delivers `text` in the given chunk sizes, and records whether it was cancelled. */
function chunked(text: string, sizes: number[]): { stream: ReadableStream<Uint8Array>; cancelled: () => boolean } {
  const bytes = enc.encode(text);
  let at = 0;
  let i = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      const n = sizes[i++ % sizes.length]!;
      controller.enqueue(bytes.subarray(at, at + n));
      at += n;
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, cancelled: () => cancelled };
}

/** `lines` lines `data: xxx…`, each counting `perLine` characters of data with its line break, then `end`; made as read. */
function dataLines(lines: number, perLine: number, end: string): { stream: ReadableStream<Uint8Array>; cancelled: () => boolean } {
  const line = enc.encode(`data: ${'x'.repeat(perLine - 1)}\n`);
  let sent = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent < lines) controller.enqueue(line);
      else if (sent === lines) controller.enqueue(enc.encode(end));
      else return controller.close();
      sent++;
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, cancelled: () => cancelled };
}

async function collect(it: AsyncIterable<SseMessage>): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  for await (const m of it) out.push(m);
  return out;
}

const TEXT =
  '\uFEFF: keep-alive\r\n' +
  'id: 1\r\nevent: entry\r\ndata: {"index":1,\r\ndata: "kind":"labor"}\r\n\r\n' +
  'id: 2\nevent: entry\ndata:{"index":2}\n\n' +
  'retry: 1000\rdata: plain\r\r' +
  'event: ignored-without-data\n\n' +
  'data: unterminated';

const WANT: SseMessage[] = [
  { event: 'entry', data: '{"index":1,\n"kind":"labor"}', id: '1' },
  { event: 'entry', data: '{"index":2}', id: '2' },
  { event: 'message', data: 'plain', id: '2' },
];

describe('parseSse', () => {
  it('parses CRLF, LF and CR lines, comments, multi-line data and ids, and drops an unterminated event', async () => {
    expect(await collect(parseSse(chunked(TEXT, [TEXT.length * 4]).stream))).toEqual(WANT);
  });

  it('gives the same events however the bytes are split, CRLF pairs included', async () => {
    for (const sizes of [[1], [2], [3, 1], [7, 5, 1]]) {
      expect(await collect(parseSse(chunked(TEXT, sizes).stream))).toEqual(WANT);
    }
  });

  it('cancels the stream when the consumer stops early', async () => {
    const s = chunked(TEXT, [1]);
    for await (const m of parseSse(s.stream)) {
      expect(m.id).toBe('1');
      break;
    }
    expect(s.cancelled()).toBe(true);
  });

  it('bounds the data of one event, which a stream may never end', async () => {
    // 1024 lines of 1024 characters with their line breaks: exactly the most one event may carry.
    const most = await collect(parseSse(dataLines(1024, 1024, '\n').stream));
    expect(MAX_SSE_EVENT_CHARS).toBe(1024 * 1024);
    expect(most).toHaveLength(1);
    expect(most[0]!.data.length).toBe(MAX_SSE_EVENT_CHARS - 1);
    // One line more, with no blank line ever: refused as soon as it arrives, and the stream is cancelled.
    const endless = dataLines(1025, 1024, '\n');
    await expect(collect(parseSse(endless.stream))).rejects.toThrow(new RangeError(`an event stream event has more than ${MAX_SSE_EVENT_CHARS} characters of data`));
    expect(endless.cancelled()).toBe(true);
  });
});

describe('MutualClient.events', () => {
  it('asks to resume from an index and yields the entries of `entry` events', async () => {
    const body = 'id: 5\nevent: entry\ndata: {"index":5,"kind":"transfer"}\n\n: ping\n\nevent: other\ndata: x\n\nid: 6\nevent: entry\ndata: {"index":6,"kind":"labor"}\n\n';
    const { fetch, requests } = fakeFetch(() => new Response(body, { headers: { 'content-type': 'text/event-stream' } }));
    const seen: unknown[] = [];
    for await (const e of new MutualClient({ url: 'http://n', fetch }).events({ from: 5 })) seen.push(e);
    expect(requests[0]!.url).toBe('http://n/v1/events?from=5');
    expect(requests[0]!.headers.accept).toBe('text/event-stream');
    expect(seen).toEqual([{ index: 5, kind: 'transfer' }, { index: 6, kind: 'labor' }]);
  });

  it('asks for the kinds wanted, and refuses an empty list before asking', async () => {
    const { fetch, requests } = fakeFetch(() => new Response('', { headers: { 'content-type': 'text/event-stream' } }));
    const client = new MutualClient({ url: 'http://n', fetch });
    for await (const _ of client.events({ from: 2, kinds: ['interbank-credit', 'interbank-rejection'] })) void _;
    expect(requests[0]!.url).toBe('http://n/v1/events?from=2&kinds=interbank-credit,interbank-rejection');
    for await (const _ of client.events({ kinds: ['labor'] })) void _;
    expect(requests[1]!.url).toBe('http://n/v1/events?kinds=labor');
    const empty = async () => {
      for await (const _ of client.events({ kinds: [] })) void _;
    };
    await expect(empty()).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(requests).toHaveLength(2);
  });

  it('reports an event that is not JSON as UNEXPECTED_RESPONSE', async () => {
    const { fetch } = fakeFetch(() => new Response('id: 1\nevent: entry\ndata: {oops\n\n'));
    const run = async () => {
      for await (const _ of new MutualClient({ url: 'http://n', fetch }).events()) void _;
    };
    await expect(run()).rejects.toMatchObject({ code: 'UNEXPECTED_RESPONSE' });
  });

  it('reports an event with too much data as UNEXPECTED_RESPONSE', async () => {
    const { fetch } = fakeFetch(() => new Response(dataLines(2048, 1024, '\n').stream));
    const run = async () => {
      for await (const _ of new MutualClient({ url: 'http://n', fetch }).events()) void _;
    };
    await expect(run()).rejects.toMatchObject({ code: 'UNEXPECTED_RESPONSE', message: expect.stringContaining('characters of data') });
  });
});
