// Node connections read into one buffer that every plain-TCP connection
// shares (node-connection.ts, header). A reply handed to its command must
// stay intact however many reads of this and other connections follow: here
// every reply is kept as the view it was handed out as, and checked only
// once all replies of two connections, pipelined and interleaved, have come.
// Values are sized around the read buffer (256 KiB), Node's usual read (64
// KiB) and the framer's spill (16 KiB) so that replies end inside a read,
// span reads, and fill several.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { NodeConnection, type PendingCommand } from '../../src/backend/node-connection.js';
import { findFreePorts } from '../../src/demo/loopback-ports.js';
import { encodeCommand } from '../../src/protocol/resp-writer.js';
import { seededRandom } from '../helpers/random.js';

const SIZES = [0, 1, 16, 300, 4_000, 16_380, 65_530, 65_536, 70_000, 100_000, 262_140, 262_144, 270_000, 600_000];
const GETS_PER_CONNECTION = 300;

let server: ChildProcess;
let port: number;
const values: Buffer[] = [];

before(async () => {
  [port = 0] = await findFreePorts(1);
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const probe = new Redis({ port, host: '127.0.0.1', retryStrategy: (n) => (n > 100 ? null : 50) });
  probe.on('error', () => {});
  for (const [i, size] of SIZES.entries()) {
    // A pattern of its own per value: a reply made of another reply's bytes cannot pass.
    const value = Buffer.alloc(size);
    for (let j = 0; j < size; j++) value[j] = (j * 31 + i * 7 + (j >> 8)) & 0xff;
    values.push(value);
    await probe.set(`v${i}`, value);
  }
  probe.disconnect();
});

after(async () => {
  if (server.exitCode === null) {
    server.kill('SIGKILL');
    await once(server, 'exit');
  }
});

function connect(): Promise<NodeConnection> {
  return new Promise((resolve, reject) => {
    new NodeConnection(
      '127.0.0.1',
      port,
      { connectTimeoutMs: 2_000 },
      { onConnectionReady: (c) => resolve(c), onConnectionClosed: (_c, reason) => reject(new Error(reason)) },
    );
  });
}

/** A GET whose reply is kept as handed out: a view, not a copy. */
class KeptGet implements PendingCommand {
  readonly payload: Buffer;
  readonly index: number;
  buffer: Buffer | null = null;
  start = 0;
  end = 0;
  failure = '';

  constructor(index: number) {
    this.index = index;
    this.payload = encodeCommand(['GET', `v${index}`]);
  }

  onNodeReply(buffer: Buffer, start: number, end: number): void {
    this.buffer = buffer;
    this.start = start;
    this.end = end;
  }

  onNodeFailure(_sent: boolean, reason: string): void {
    this.failure = reason;
  }
}

test('replies handed out stay intact across later reads of the shared read buffer', async () => {
  const random = seededRandom(7);
  const connections = [await connect(), await connect()];
  const gets: KeptGet[][] = connections.map(() =>
    Array.from({ length: GETS_PER_CONNECTION }, () => new KeptGet(Math.floor(random() * SIZES.length))),
  );
  const done = Promise.all(
    connections.map(
      (connection, c) =>
        new Promise<void>((resolve) => {
          const list = gets[c] ?? [];
          const last = list[list.length - 1];
          // The last GET answered: every earlier one was (Redis answers in order).
          if (last !== undefined) {
            const onNodeReply = last.onNodeReply.bind(last);
            last.onNodeReply = (buffer, start, end) => {
              onNodeReply(buffer, start, end);
              resolve();
            };
          }
          for (const get of list) connection.send(get);
        }),
    ),
  );
  await done;
  let bytes = 0;
  for (const list of gets) {
    for (const [n, get] of list.entries()) {
      assert.equal(get.failure, '', `GET ${n}`);
      assert.ok(get.buffer !== null, `GET ${n} answered`);
      const value = values[get.index] ?? Buffer.alloc(0);
      const expected = Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n')]);
      assert.ok(get.buffer.subarray(get.start, get.end).equals(expected), `GET ${n} of v${get.index}: intact`);
      bytes += expected.length;
    }
  }
  // Enough bytes that the shared buffer was refilled many times over while replies were kept.
  assert.ok(bytes > 20 * 262_144, `${bytes} bytes read`);
  for (const connection of connections) connection.close('test over');
});

test('a node closing the connection is seen on the onread path', async () => {
  const closed = new Promise<string>((resolve, reject) => {
    const connection = new NodeConnection(
      '127.0.0.1',
      port,
      { connectTimeoutMs: 2_000 },
      {
        onConnectionReady: (c) => {
          let reply = '';
          c.send({
            payload: encodeCommand(['QUIT']),
            onNodeReply: (buffer, start, end) => (reply = buffer.toString('latin1', start, end)),
            onNodeFailure: (_sent, reason) => reject(new Error(reason)),
          });
          setTimeout(() => reject(new Error(`no close after QUIT (reply ${JSON.stringify(reply)})`)), 5_000).unref();
        },
        onConnectionClosed: (_c, reason) => resolve(reason),
      },
    );
    assert.equal(connection.state, 'connecting');
  });
  assert.equal(await closed, 'connection closed by the node');
});
