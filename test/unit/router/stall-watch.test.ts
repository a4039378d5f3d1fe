// The stall rule with real NodeConnections to a scripted local server that
// reads commands and answers only when told: no Redis is needed to hold replies back.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { NodePool } from '../../../src/backend/node-pool.js';
import type { PendingCommand } from '../../../src/backend/node-connection.js';
import { encodeCommand } from '../../../src/protocol/resp-writer.js';
import { StallWatch, type StallHost } from '../../../src/router/stall-watch.js';

let server: Server;
let port = 0;
const sockets: Socket[] = [];

before(async () => {
  server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as { port: number }).port;
});

after(() => {
  for (const socket of sockets) socket.destroy();
  server.close();
});

class Command implements PendingCommand {
  readonly payload = encodeCommand(['GET', 'k']);
  reply = '';
  failure = '';
  onNodeReply(buffer: Buffer, start: number, end: number): void {
    this.reply = buffer.toString('latin1', start, end);
  }
  onNodeFailure(_sent: boolean, reason: string): void {
    this.failure = reason;
  }
}

const options = {
  connectTimeoutMs: 1000,
  connectionsPerNode: 1,
  maxLeasesPerNode: 2,
  idleLeasesPerNode: 0,
  reconnectMinMs: 10000,
  reconnectMaxMs: 10000,
};

function host(masters: Set<string>, refreshes: string[]): StallHost {
  return {
    isMaster: (address) => masters.has(address),
    requestRefresh: (reason) => void refreshes.push(reason),
    probe: () => {},
  };
}

test('silent past the bound with commands in flight: stalled and a refresh asked; any reply resets it; a former master is reset', async () => {
  const pool = new NodePool('127.0.0.1', port, options, pino({ level: 'silent' }), { onNodeDown() {} });
  const address = pool.address;
  try {
    for (let i = 0; i < 100 && pool.state !== 'ready'; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const watch = new StallWatch(1000, pino({ level: 'silent' }));
    const refreshes: string[] = [];
    const masters = new Set([address]);
    // Idle: never stalled, however long.
    watch.sample([pool], host(masters, refreshes), 0);
    watch.sample([pool], host(masters, refreshes), 5000);
    assert.equal(watch.stalledFor(address), 0);
    const first = new Command();
    pool.send(first, 0);
    // Counted from the last sample that saw it idle (5000): up to one period more than the command waited.
    watch.sample([pool], host(masters, refreshes), 5250);
    watch.sample([pool], host(masters, refreshes), 6000);
    assert.equal(watch.stalledFor(address), 0, '1000 ms of silence is not past the bound');
    watch.sample([pool], host(masters, refreshes), 6500);
    assert.equal(watch.stalledFor(address), 1500);
    assert.deepEqual(refreshes, ['stalled master connection']);
    // One reply is progress: no longer stalled, though another command now waits.
    await new Promise((resolve) => setTimeout(resolve, 50));
    pool.send(new Command(), 0);
    (sockets[0] as Socket).write('$1\r\nv\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(first.reply, '$1\r\nv\r\n');
    watch.sample([pool], host(masters, refreshes), 6750);
    assert.equal(watch.stalledFor(address), 0);
    // Demoted while silent: reset, its command fails (sent: may have run).
    const waiting = new Command();
    pool.send(waiting, 0);
    watch.sample([pool], host(new Set(), refreshes), 7000);
    assert.equal(waiting.failure, '', 'one sample is not enough to reset');
    watch.sample([pool], host(new Set(), refreshes), 7500);
    assert.match(waiting.failure, /no reply for 750 ms from a node that is no longer a master/);
  } finally {
    pool.close('test over');
  }
});
