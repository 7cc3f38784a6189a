import type { Stream } from '@libp2p/interface';

/** A peer sent something this node will not read: the stream is dropped. */
export class FrameError extends Error {
  override readonly name = 'FrameError';
}

/**
 * The stream closed, or timed out, before any byte of a message arrived: the peer went away
 * (a restart, a cut connection), which is no fault of what it sent.
 */
export class StreamGone extends Error {
  override readonly name = 'StreamGone';
}

const MAX_VARINT_BYTES = 5;

/** The unsigned varint length prefix of `n`, followed by nothing. */
function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Uint8Array.from(out);
}

/** Parses a length prefix: [length, prefix bytes], undefined if incomplete. Throws on a bad prefix. */
function readLength(buf: Uint8Array): [number, number] | undefined {
  let n = 0;
  for (let i = 0; i < Math.min(buf.length, MAX_VARINT_BYTES); i++) {
    const b = buf[i]!;
    n += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return [n, i + 1];
  }
  if (buf.length >= MAX_VARINT_BYTES) throw new FrameError('length prefix too long');
  return undefined;
}

/**
 * Sends one length-prefixed message, waiting for the stream's buffer to drain when it is full
 * (backpressure rather than unbounded buffering). `signal` bounds that wait; given as a
 * function, it is only made when the stream is full, so a write the stream takes at once costs
 * no signal (a timeout signal is a timer, and an abort with its DOMException when it fires).
 */
export async function writeFrame(stream: Stream, message: Uint8Array, signal: AbortSignal | (() => AbortSignal)): Promise<void> {
  const prefix = varint(message.length);
  const frame = new Uint8Array(prefix.length + message.length);
  frame.set(prefix, 0);
  frame.set(message, prefix.length);
  if (!stream.send(frame)) await stream.onDrain({ signal: typeof signal === 'function' ? signal() : signal });
}

/**
 * Reads exactly one length-prefixed message of at most `maxBytes` from `stream`. Throws
 * FrameError when the prefix announces more, when the stream ends in the middle of the
 * message, or when bytes follow it (one message per direction per stream); StreamGone when it
 * ends before any byte or `signal` aborts it.
 */
export async function readFrame(stream: Stream, maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let have = 0;
  let want: number | undefined;
  let start = 0;
  const onAbort = () => stream.abort(new StreamGone('timed out'));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream) {
      const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray();
      chunks.push(bytes);
      have += bytes.length;
      const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      if (want === undefined) {
        const len = readLength(buf);
        if (len !== undefined) {
          if (len[0] > maxBytes) throw new FrameError(`a message of ${len[0]} bytes is over the limit of ${maxBytes}`);
          start = len[1];
          want = len[1] + len[0];
        }
      }
      if (want !== undefined && have >= want) {
        if (have > want) throw new FrameError('bytes follow the message');
        return buf.subarray(start, want);
      }
    }
    if (signal.aborted) throw new StreamGone('timed out');
    if (have === 0) throw new StreamGone('the stream ended before a message');
    throw new FrameError('the stream ended in the middle of a message');
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Reads length-prefixed messages of at most `maxBytes` each from `stream` until it ends (a
 * stream that carries many messages one way, such as pushes). Throws FrameError when a prefix
 * announces more than `maxBytes` or the stream ends in the middle of a message.
 */
export async function* readFrames(stream: Stream, maxBytes: number): AsyncGenerator<Uint8Array> {
  // Chunks are joined once a whole message (or its length prefix) is in, not on every chunk.
  let chunks: Uint8Array[] = [];
  let have = 0;
  let want: number | undefined;
  for await (const chunk of stream) {
    chunks.push(chunk instanceof Uint8Array ? chunk : chunk.subarray());
    have += chunks[chunks.length - 1]!.length;
    for (;;) {
      if (want === undefined) {
        const len = readLength(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
        if (len === undefined) break;
        if (len[0] > maxBytes) throw new FrameError(`a message of ${len[0]} bytes is over the limit of ${maxBytes}`);
        want = len[1] + len[0];
      }
      if (have < want) break;
      const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const start = readLength(buf)![1];
      const message = buf.subarray(start, want);
      const rest = buf.subarray(want);
      chunks = rest.length > 0 ? [rest] : [];
      have = rest.length;
      want = undefined;
      yield message;
    }
  }
  if (have > 0) throw new FrameError('the stream ended in the middle of a message');
}
