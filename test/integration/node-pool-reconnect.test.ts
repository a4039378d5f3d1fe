// A node whose connects hang: a command waits on a pool's first connect, but
// never on a reconnect after a failure, so the router's retry backoff alone
// bounds how long a client waits (README, Guarantees: every error a reply).
//
// The node is a real redis-server with requirepass, stopped with SIGSTOP: the
// kernel still completes TCP connects, but AUTH (the connection's handshake)
// is never answered, so every connect ends in Slotway's connect timeout, as
// with a resolver that does not answer or SYNs to a gone pod IP.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { NodePool, type PoolOptions } from '../../src/backend/node-pool.js';
import type { PendingCommand } from '../../src/backend/node-connection.js';
import { NodeSecurity } from '../../src/cluster/node-security.js';
import { findFreePorts } from '../../src/demo/loopback-ports.js';
import { encodeCommand } from '../../src/protocol/resp-writer.js';
import { eventually } from '../helpers/proxy-cluster.js';

const PASSWORD = 'pool-test-secret';
const CONNECT_TIMEOUT_MS = 400;

let server: ChildProcess;
let port: number;

before(async () => {
  [port = 0] = await findFreePorts(1);
  server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', PASSWORD],
    { stdio: 'ignore' },
  );
  const probe = new Redis({ port, host: '127.0.0.1', password: PASSWORD, retryStrategy: (n) => (n > 100 ? null : 50) });
  probe.on('error', () => {});
  await probe.ping();
  probe.disconnect();
});

after(async () => {
  if (server.exitCode === null) {
    server.kill('SIGCONT');
    server.kill('SIGKILL');
    await once(server, 'exit');
  }
});

/** One PING and what became of it: the reply, or the failure and when it came. */
class Ping implements PendingCommand {
  readonly payload = encodeCommand(['PING']);
  reply = '';
  failure = '';
  sentFlag: boolean | null = null;
  settledAt = 0;

  onNodeReply(buffer: Buffer, start: number, end: number): void {
    this.reply = buffer.toString('latin1', start, end);
    this.settledAt = performance.now();
  }

  onNodeFailure(sent: boolean, reason: string): void {
    this.failure = reason;
    this.sentFlag = sent;
    this.settledAt = performance.now();
  }

  get settled(): boolean {
    return this.settledAt !== 0;
  }
}

test(
  'a command waits on the first connect, is failed at once during a reconnect, and goes through once the node answers',
  { timeout: 30000 },
  async () => {
    const options: PoolOptions = {
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      nodeSecurity: new NodeSecurity({
        clusterUser: '',
        clusterPassword: PASSWORD,
        clusterTls: false,
        clusterTlsCa: '',
        clusterTlsCert: '',
        clusterTlsKey: '',
        clusterTlsServername: '',
      }),
      connectionsPerNode: 1,
      maxLeasesPerNode: 4,
      idleLeasesPerNode: 1,
      reconnectMinMs: 20,
      reconnectMaxMs: 20,
    };
    server.kill('SIGSTOP');
    const pool = new NodePool('127.0.0.1', port, options, pino({ level: 'silent' }), { onNodeDown() {} });
    try {
      // The first connect: the command waits in the connection's outbox, then shares its fate.
      const first = new Ping();
      const firstSentAt = performance.now();
      pool.send(first, 0);
      assert.equal(first.settled, false, 'a command is held while the pool makes its first connect');
      await eventually(() => first.settled, 'the first connect to time out', 5000);
      assert.match(first.failure, /connect timeout/);
      assert.ok(
        first.settledAt - firstSentAt >= CONNECT_TIMEOUT_MS - 50,
        `failed after ${Math.round(first.settledAt - firstSentAt)} ms, before the connect timeout`,
      );

      // A reconnect is under way (connecting, AUTH unanswered): a command is failed at once, unsent.
      await eventually(() => pool.state === 'connecting', 'the pool to reconnect', 5000);
      assert.equal(
        pool.reconnecting,
        true,
        'the router leases no connection to it meanwhile (blocking commands retry)',
      );
      const during = new Ping();
      pool.send(during, 0);
      assert.equal(during.settled, true, 'a command waited on a reconnect instead of failing to the retry queue');
      assert.equal(during.sentFlag, false, 'never written, so the router may resend it');
      assert.match(during.failure, new RegExp(`^no connection to 127\\.0\\.0\\.1:${port} \\(connect timeout\\)$`));

      // The node answers again: the pool recovers by itself and commands go through.
      server.kill('SIGCONT');
      await eventually(() => pool.state === 'ready', 'the pool to connect once the node answers', 10000);
      assert.equal(pool.reconnecting, false);
      const later = new Ping();
      pool.send(later, 0);
      await eventually(() => later.settled, 'the PING reply', 5000);
      assert.equal(later.reply, '+PONG\r\n');
    } finally {
      server.kill('SIGCONT');
      pool.close('test over');
    }
  },
);
