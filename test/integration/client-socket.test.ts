// What moving an accepted handle onto a `net.Socket({ handle, onread })`
// (server/client-socket.ts) relies on in lib/net.js, checked on real loopback
// sockets: the server's connection count follows the moved socket (close()
// completes once it is gone, not before), pause()/resume() stop and start its
// reads, EOF ends it (half-close as allowHalfOpen says), destroy() closes it,
// and every byte arrives through the one shared buffer in order.
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { adoptClientSocket } from '../../src/server/client-socket.js';
import { eventually, sleep } from '../helpers/proxy-cluster.js';

/** What the adopted sockets read, per socket, copied out of the lent buffer. */
const reads = new Map<Socket, Buffer[]>();
let readCalls = 0;

function onRead(this: Socket, nread: number, buffer: Buffer): void {
  readCalls++;
  let list = reads.get(this);
  if (list === undefined) reads.set(this, (list = []));
  list.push(Buffer.from(buffer.subarray(0, nread)));
}

const servers: Server[] = [];
after(() => {
  for (const server of servers) server.close();
});

/** A pauseOnConnect server whose sockets are adopted; resolves with it, its port and the adopted sockets. */
async function listen(): Promise<{ server: Server; port: number; adopted: Socket[] }> {
  const adopted: Socket[] = [];
  const server = createServer({ pauseOnConnect: true, noDelay: true }, (accepted) => {
    const socket = adoptClientSocket(accepted, onRead);
    assert.notEqual(socket, accepted, 'the handle moved to a new socket');
    socket.on('error', () => {});
    adopted.push(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return { server, port: address.port, adopted };
}

async function client(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  return socket;
}

function connections(server: Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );
}

test(
  'the server counts an adopted socket until it closes; close() completes only then',
  { timeout: 20000 },
  async () => {
    const { server, port, adopted } = await listen();
    const a = await client(port);
    const b = await client(port);
    await eventually(() => adopted.length === 2, 'both adopted');
    assert.equal(await connections(server), 2);
    let closed = false;
    server.close(() => (closed = true));
    adopted[0]?.destroy();
    await eventually(() => adopted[0]?.closed === true, 'the first one closed');
    assert.equal(await connections(server), 1);
    await sleep(100);
    assert.equal(closed, false, 'close() waits for the client still connected');
    b.end(); // EOF: allowHalfOpen is false, so the adopted socket ends its side too and closes
    await eventually(() => closed, 'close() completed once the last client went', 5000);
    assert.equal(adopted[1]?.closed, true);
    a.destroy();
    b.destroy();
  },
);

test(
  'bytes arrive in order through the shared buffer; pause() stops reading, resume() goes on',
  { timeout: 20000 },
  async () => {
    const { port, adopted } = await listen();
    const sockets = [await client(port), await client(port), await client(port)];
    await eventually(() => adopted.length === 3, 'all adopted');
    const sent = sockets.map((_, i) => Buffer.alloc(3 * 1024 * 1024, `client ${i} `));
    // Two adopted sockets read concurrently into the one buffer; the third is paused first.
    const paused = adopted[2] as Socket;
    paused.pause();
    sockets.forEach((socket, i) => socket.write(sent[i] as Buffer));
    const total = (socket: Socket | undefined): number =>
      (reads.get(socket as Socket) ?? []).reduce((sum, chunk) => sum + chunk.length, 0);
    await eventually(
      () => total(adopted[0]) === sent[0]?.length && total(adopted[1]) === sent[1]?.length,
      'two read',
      10000,
    );
    await sleep(100);
    assert.equal(total(paused), 0, 'nothing read while paused');
    const before = readCalls;
    paused.resume();
    await eventually(() => total(paused) === sent[2]?.length, 'the paused one read after resume()', 10000);
    assert.ok(readCalls > before);
    for (let i = 0; i < 3; i++)
      assert.ok(
        Buffer.concat(reads.get(adopted[i] as Socket) ?? []).equals(sent[i] as Buffer),
        `client ${i}'s bytes intact`,
      );
    // Writes go out as on any socket, and end() half-closes: the client sees the reply, then EOF.
    const replies: Buffer[] = [];
    const ended = new Promise<void>((resolve) => sockets[0]?.on('end', resolve));
    sockets[0]?.on('data', (chunk: Buffer) => replies.push(chunk));
    adopted[0]?.end('+OK\r\n');
    await ended;
    assert.equal(Buffer.concat(replies).toString(), '+OK\r\n');
    for (const socket of sockets) socket.destroy();
  },
);
