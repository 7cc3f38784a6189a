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
 * Makes the TCP socket under `conn` write everything sent to it during one turn of the event
 * loop with one system call. The TCP transport writes each piece of what it is given on its
 * own (`socket.write` per buffer), and the encryption layer hands it a length prefix and a
 * ciphertext per frame: without this, every frame of every stream costs two `write` calls and,
 * with Nagle off, two TCP segments. Corked until the end of the current turn of the event loop
 * (`setImmediate`: the layers above send from promise callbacks, which run after any
 * `process.nextTick`), the frames of a turn leave in one `writev`, with no timer in between. Returns whether the connection was corked (a transport without a Node socket is
 * left as it is).
 */
export function corkWrites(conn: Connection): boolean {
  const transport = (conn as unknown as { maConn?: SocketConnection }).maConn;
  const socket = transport?.socket;
  if (!transport || !(socket instanceof Socket) || typeof transport.sendData !== 'function' || CORKED.has(transport)) return false;
  const send = transport.sendData.bind(transport);
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  transport.sendData = (data) => {
    if (!corked && !socket.destroyed) {
      corked = true;
      socket.cork();
      setImmediate(uncork);
    }
    return send(data);
  };
  CORKED.add(transport);
  return true;
}

/** Whether {@link corkWrites} took effect on `conn`. */
export function isCorked(conn: Connection): boolean {
  const transport = (conn as unknown as { maConn?: object }).maConn;
  return transport !== undefined && CORKED.has(transport);
}
