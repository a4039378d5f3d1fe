// The slotway command as an operator runs it: bad configuration exits 2 with
// one line per problem; SIGTERM under a pipelined load drains (every command
// Slotway accepted is answered, none cut) and exits 0 within --shutdown-timeout.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import { LocalCluster } from '../../src/demo/local-cluster.js';
import { findFreePorts } from '../../src/demo/loopback-ports.js';
import { ReplyFramer } from '../../src/protocol/reply-framer.js';
import { Frame } from '../../src/protocol/stream-framer.js';
import { sleep } from '../helpers/proxy-cluster.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

function runCli(...args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20000 });
  return { status: result.status, stderr: result.stderr };
}

test('bad configuration exits 2 with one clear line each', () => {
  const cases: [string[], string][] = [
    [['--port', '70000'], 'slotway: --port must be at most 65535 (got 70000)\n'],
    [['--nope'], 'slotway: unknown option --nope (see --help)\n'],
    [['--users-file', '/nonexistent/users.acl'], 'slotway: --users-file: cannot read file "/nonexistent/users.acl"\n'],
    [
      ['--tls-port', '7001', '--tls-key', '/nonexistent/key.pem', '--tls-cert', '/nonexistent/cert.pem'],
      'slotway: --tls-cert: cannot read file "/nonexistent/cert.pem"\nslotway: --tls-key: cannot read file "/nonexistent/key.pem"\n',
    ],
    [['--deny-commands', 'flushall,frobnicate'], 'slotway: --deny-commands: unknown command "frobnicate"\n'],
  ];
  for (const [args, line] of cases) {
    const { status, stderr } = runCli('--cluster', '127.0.0.1:1', ...args);
    assert.equal(status, 2, args.join(' '));
    assert.equal(stderr, line, args.join(' '));
  }
  const both = runCli('--port', '-1', '--maxclients', 'x');
  assert.equal(both.status, 2);
  assert.equal(both.stderr.split('\n').filter((l) => l !== '').length, 2, 'every problem at once');
});

/**
 * A client that keeps `depth` INCRs of its own counter in flight, and checks
 * every reply: the n-th reply must be :n (none lost, none out of order).
 */
class IncrLoad {
  readonly socket: Socket;
  readonly key: string;
  replies = 0;
  sent = 0;
  bad = '';
  /** Bytes of a reply cut by the close. */
  leftover = 0;
  closed: Promise<unknown>;
  readonly #framer = new ReplyFramer();
  readonly #command: Buffer;

  constructor(
    port: number,
    key: string,
    readonly depth: number,
  ) {
    this.key = key;
    this.#command = Buffer.from(`*2\r\n$4\r\nINCR\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n`);
    this.socket = connect({ port, host: '127.0.0.1' });
    this.socket.on('error', () => {});
    this.closed = new Promise((resolve) => this.socket.on('close', resolve));
    this.socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.socket.once('connect', () => this.#send(depth));
  }

  #send(count: number): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    this.socket.write(Buffer.concat(Array.from({ length: count }, () => this.#command)));
    this.sent += count;
  }

  #onData(chunk: Buffer): void {
    const framer = this.#framer;
    framer.push(chunk);
    let answered = 0;
    while (framer.next() === Frame.Ready) {
      const reply = framer.frameBuffer.toString('latin1', framer.frameStart, framer.frameEnd);
      answered++;
      if (reply !== `:${++this.replies}\r\n` && this.bad === '')
        this.bad = `reply ${this.replies} was ${JSON.stringify(reply)}`;
    }
    this.leftover = framer.pendingBytes;
    if (answered > 0) this.#send(answered);
  }
}

test(
  'SIGTERM during a pipelined load: every accepted command is answered, then exit 0 within --shutdown-timeout',
  { timeout: 90000 },
  async () => {
    const cluster = await LocalCluster.start({});
    const port = (await findFreePorts(1))[0] as number;
    const timeoutMs = 5000;
    const slotway = spawn(
      process.execPath,
      [
        CLI,
        '--cluster',
        cluster.seeds.join(','),
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--shutdown-timeout',
        String(timeoutMs),
        '--metrics-port',
        '0',
        '--metrics-bind',
        '127.0.0.1',
        '--log-level',
        'info',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let log = '';
    slotway.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const exited = once(slotway, 'exit');
    const direct: Cluster[] = [];
    try {
      for (let attempt = 0; ; attempt++) {
        const probe = new Redis({
          port,
          host: '127.0.0.1',
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        });
        probe.on('error', () => {});
        try {
          await probe.connect();
          if (/cluster_slots_covered:16384/.test(await probe.info('proxy'))) break;
        } catch {
          if (attempt > 100) throw new Error('Slotway did not start');
        } finally {
          probe.disconnect();
        }
        await sleep(100);
      }
      const loads = Array.from({ length: 20 }, (_, i) => new IncrLoad(port, `drain:{${i}}`, 64));
      // Clients that wait on a node: a blocked BLPOP and a subscriber are closed last.
      const blocked = connect({ port, host: '127.0.0.1' });
      blocked.on('error', () => {});
      blocked.write('*3\r\n$5\r\nBLPOP\r\n$11\r\ndrain:never\r\n$1\r\n0\r\n');
      const subscriber = connect({ port, host: '127.0.0.1' });
      subscriber.on('error', () => {});
      subscriber.write('*2\r\n$9\r\nSUBSCRIBE\r\n$5\r\ndrain\r\n');
      await sleep(1000);
      assert.ok(
        loads.every((load) => load.replies > 0),
        'every client is running',
      );

      const signalled = Date.now();
      slotway.kill('SIGTERM');
      const [code] = (await Promise.race([exited, sleep(timeoutMs + 5000).then(() => ['timeout'])])) as [
        number | string,
      ];
      const took = Date.now() - signalled;
      await Promise.all(loads.map((load) => load.closed));
      assert.equal(code, 0, `exit code (${took} ms after SIGTERM)`);
      assert.ok(took < timeoutMs + 2000, `exited ${took} ms after SIGTERM`);

      const node = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0]?.port ?? 0 }]);
      direct.push(node);
      let replies = 0;
      for (const load of loads) {
        assert.equal(load.bad, '', load.key);
        assert.equal(load.leftover, 0, `${load.key}: no reply was cut in the middle`);
        const executed = Number(await node.get(load.key));
        // Executed on the node == answered to the client: nothing Slotway accepted went unanswered.
        assert.equal(
          executed,
          load.replies,
          `${load.key}: ${executed} executed, ${load.replies} answered, ${load.sent} sent`,
        );
        replies += load.replies;
      }
      assert.ok(replies > 1000, `a real load ran (${replies} replies)`);
      assert.match(log, /draining clients/);
      blocked.destroy();
      subscriber.destroy();
    } finally {
      for (const client of direct) client.disconnect();
      if (slotway.exitCode === null) slotway.kill('SIGKILL');
      await cluster.stop();
    }
  },
);
