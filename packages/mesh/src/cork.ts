import { Socket } from 'node:net';
import type { Connection } from '@libp2p/interface';

interface SendResult {
  sentBytes: number;
  canSendMore: boolean;
}

/** The transport side of a libp2p connection, as the TCP transport makes it. */
interface SocketConnection {
  socket?: unknown;
  sendData?: (data: Iterable<Uint8Array>) => SendResult;
}

const CORKED = new WeakSet<object>();

/**
 * Makes the TCP socket under `conn` write what one send of the connection carries with one
 * system call. The TCP transport writes each piece of what it is given on its own
 * (`socket.write` per buffer), and the encryption layer hands it a length prefix and a
 * ciphertext per frame: without this, every frame costs two `write` calls and, with Nagle
 * off, two TCP segments. The socket is corked for the duration of the transport's send and
 * uncorked before it returns, so the pieces leave in one `writev` at once: nothing waits for a
 * later turn of the event loop (a request sent just before a long computation must reach the
 * peer before the computation, not after it). Returns whether the connection was corked (a
 * transport without a Node socket is left as it is).
 */
export function corkWrites(conn: Connection): boolean {
  const transport = (conn as unknown as { maConn?: SocketConnection }).maConn;
  const socket = transport?.socket;
  if (!transport || !(socket instanceof Socket) || typeof transport.sendData !== 'function' || CORKED.has(transport)) return false;
  const send = transport.sendData.bind(transport);
  transport.sendData = (data) => {
    if (socket.destroyed) return send(data);
    socket.cork();
    try {
      return send(data);
    } finally {
      socket.uncork();
    }
  };
  CORKED.add(transport);
  return true;
}

/** Whether {@link corkWrites} took effect on `conn`. */
export function isCorked(conn: Connection): boolean {
  const transport = (conn as unknown as { maConn?: object }).maConn;
  return transport !== undefined && CORKED.has(transport);
}
