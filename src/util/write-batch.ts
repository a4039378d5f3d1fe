// Writing many small buffers to a socket at once. Each socket.write() goes
// through the stream machinery (a queue entry, a callback, a writev iovec);
// copying small pieces into one buffer and writing that once costs less.
// Large batches are corked and written piece by piece (one writev, no copy).
import type { Socket } from 'node:net';

/** Batches up to this many bytes are copied into one buffer. */
const COPY_LIMIT = 16 * 1024;

/** Writes `pieces` (`bytes` long in all) in one system call where possible; empties `pieces`. */
export function writeBatch(socket: Socket, pieces: Buffer[], bytes: number): void {
  if (pieces.length === 1) {
    socket.write(pieces[0] as Buffer);
  } else if (bytes <= COPY_LIMIT) {
    socket.write(Buffer.concat(pieces, bytes));
  } else {
    socket.cork();
    for (const piece of pieces) socket.write(piece);
    socket.uncork();
  }
  pieces.length = 0;
}
