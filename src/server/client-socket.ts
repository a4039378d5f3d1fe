// Plain-TCP client sockets that read without the Readable stream.
//
// A net.Server gives no `onread` option, and each read of a stream socket
// costs a 64 KiB allocation (shrunk to what was read), a push through the
// Readable state and a 'data' event. So the listener is created with
// `pauseOnConnect` (the accepted handle is not read from yet) and its handle
// is moved into a new `net.Socket({ handle, onread })`: the kernel then reads
// into the buffer every plain socket shares (util/shared-read-buffer.ts) and
// the callback gets the byte count. Sharing is sound because reads are handed over synchronously,
// one socket at a time, and the command framer keeps nothing pointing into
// the buffer once the callback returns (CommandFramer.pushBorrowed).
//
// What the move relies on, from Node 20's lib/net.js (v20.20.2):
// - `new Socket({ handle })` runs initSocketHandle: the handle's owner_symbol
//   (what onStreamRead, afterWrite and afterShutdown find the socket by) and
//   onread become the new socket's, `useUserBuffer` installs the buffer, and
//   the async id is the handle's own (the same the accepted socket had).
//   Nothing was written to or read from the accepted socket (pauseOnCreate
//   stopped the handle), so no request of the old socket is outstanding.
// - The accepted socket is detached as child_process does when it sends a
//   socket away (`_handle = null`), and its place in the server's count moves
//   with the handle (`_server`): the new socket's _destroy decrements
//   `_connections`, so server.close() still completes once the clients are
//   gone and maxConnections still counts them. The old object is then garbage.
// - With `onread`, pause()/resume() stop and start the handle's reads
//   (readStop/readStart), and EOF still ends the Readable side (push(null)),
//   so half-close and allowHalfOpen behave as on a stream socket.
// test/integration/client-socket.test.ts checks these, so a Node that changes
// them fails there. TLS sockets keep the 'data' path (the TLS listener).
import { Socket } from 'node:net';
import { sharedReadBuffer } from '../util/shared-read-buffer.js';

/** Called with `this` the socket (lib/net.js calls it as the socket's method): no closure per client. */
export type ClientReadCallback = (this: Socket, nread: number, buffer: Buffer) => void;

/** The internals of an accepted socket the move touches (see above). */
interface AcceptedSocket {
  _handle: object | null;
  _server: object | null;
  server: object | null;
}

/** What `new Socket()` takes beyond its typed options: the handle to wrap (lib/net.js, as onconnection passes it). */
interface HandleOptions {
  handle: object;
  onread: { buffer: Buffer; callback: ClientReadCallback };
  readable: true;
  writable: true;
  allowHalfOpen: boolean;
  noDelay: boolean;
}

/**
 * Moves a socket accepted by a `pauseOnConnect` server onto a socket that
 * reads into the shared buffer and calls `onRead`. Returns the accepted
 * socket itself, resumed, when it has no handle to move (it closed already).
 */
export function adoptClientSocket(accepted: Socket, onRead: ClientReadCallback): Socket {
  const internals = accepted as unknown as AcceptedSocket;
  const handle = internals._handle;
  if (handle === null || accepted.destroyed) {
    accepted.resume();
    return accepted;
  }
  internals._handle = null;
  const server = internals._server;
  internals._server = internals.server = null;
  const options: HandleOptions = {
    handle,
    onread: { buffer: sharedReadBuffer(), callback: onRead },
    readable: true,
    writable: true,
    allowHalfOpen: accepted.allowHalfOpen,
    // The listener set TCP_NODELAY on the handle already: the socket knows, and setNoDelay(true) costs no call.
    noDelay: true,
  };
  const socket = new Socket(options);
  const moved = socket as unknown as AcceptedSocket;
  moved._server = moved.server = server;
  return socket;
}
