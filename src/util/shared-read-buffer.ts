// The one buffer every plain-TCP socket of the process reads into (net's
// `onread`): node connections (backend/node-connection.ts) and client sockets
// (server/client-socket.ts) alike. One is enough: libuv hands reads over one
// at a time, synchronously, and each reader copies out what outlives its
// callback before returning, so no read ever finds another's bytes in use.
//
// 256 KiB rather than Node's 64: with 100 KB values a node read took about 2
// replies instead of 0.6 (bench/node-reads.ts, strace: 5.4k against 19k reads
// for 12k GETs), and a 100 KB SET arrives in one or two reads instead of two
// or three. Its size is paid once per process, on the first plain-TCP socket.
const READ_BUFFER_BYTES = 256 * 1024;
let buffer: Buffer | null = null;

export function sharedReadBuffer(): Buffer {
  buffer ??= Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
  return buffer;
}
