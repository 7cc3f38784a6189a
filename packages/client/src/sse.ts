/** One Server-Sent Event, as dispatched by the parsing rules of the HTML standard (§9.2.6). */
export interface SseMessage {
  /** `event:` field; "message" when absent */
  readonly event: string;
  /** `data:` lines joined with "\n" */
  readonly data: string;
  /** the last `id:` seen so far in the stream (the resume point), if any */
  readonly id: string | undefined;
}

/**
 * Longest line accepted. An event of the node is one JSON entry, a few kilobytes at most; a
 * stream that never ends its line is not an event stream and must not fill memory.
 */
export const MAX_SSE_LINE_CHARS = 1 << 20;

/**
 * Most characters of data one event may carry: its `data:` lines together, with the line
 * break after each. Bounding each line is not enough, since an event's lines are kept until
 * the blank line that ends it, and a stream may never send one.
 */
export const MAX_SSE_EVENT_CHARS = 1 << 20;

/**
 * Parses an event stream. Stops when the stream ends; cancels the stream when the consumer
 * stops early (a `break` out of `for await`).
 */
export async function* parseSse(stream: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const reader = stream.getReader();
  const decoder = new TextDecoder('utf-8');
  let buffer = '';
  let first = true;
  let event = '';
  let data: string[] = [];
  let dataChars = 0;
  let lastId: string | undefined;
  let done = false;
  try {
    while (!done) {
      const chunk = await reader.read();
      if (chunk.done) {
        done = true;
        buffer += decoder.decode();
      } else {
        buffer += decoder.decode(chunk.value, { stream: true });
      }
      if (first && buffer.length > 0) {
        if (buffer.charCodeAt(0) === 0xfeff) buffer = buffer.slice(1);
        first = false;
      }
      let start = 0;
      for (;;) {
        const end = lineEnd(buffer, start);
        if (end === -1) break;
        // A CR at the very end may be the first half of a CRLF split across chunks.
        if (buffer[end] === '\r' && end + 1 === buffer.length && !done) break;
        const line = buffer.slice(start, end);
        start = end + (buffer[end] === '\r' && buffer[end + 1] === '\n' ? 2 : 1);
        if (line === '') {
          // Blank line: dispatch. An event with no data lines is dropped (the standard's rule).
          if (data.length > 0) yield { event: event || 'message', data: data.join('\n'), id: lastId };
          event = '';
          data = [];
          dataChars = 0;
          continue;
        }
        if (line.startsWith(':')) continue; // comment: keep-alive
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'data') {
          dataChars += value.length + 1;
          if (dataChars > MAX_SSE_EVENT_CHARS) throw new RangeError(`an event stream event has more than ${MAX_SSE_EVENT_CHARS} characters of data`);
          data.push(value);
        } else if (field === 'event') event = value;
        else if (field === 'id' && !value.includes('\0')) lastId = value;
        // `retry` and unknown fields: ignored; reconnection is the caller's choice.
      }
      buffer = buffer.slice(start);
      if (buffer.length > MAX_SSE_LINE_CHARS) throw new RangeError(`an event stream line is longer than ${MAX_SSE_LINE_CHARS} characters`);
    }
    // At the end of the stream, an event not closed by a blank line is discarded (the standard's rule).
  } finally {
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

function lineEnd(s: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 10 || c === 13) return i;
  }
  return -1;
}
