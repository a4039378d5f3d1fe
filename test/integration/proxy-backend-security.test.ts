// Slotway in front of secured clusters: AUTH as an ACL user on every node
// connection (shared, leased, RESP3) and topology query; TLS to the nodes and
// a TLS listener for clients, with certificates made by openssl here; hot
// reload of the listener's certificate from a Kubernetes-style Secret mount.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { findFreePorts } from '../../src/demo/loopback-ports.js';
import { createProxy } from '../../src/index.js';
import { RespSocket } from '../helpers/resp-socket.js';
import {
  LOOPBACK_LISTENERS,
  eventually,
  keysPerMaster,
  sleep,
  startProxyCluster,
  type ProxyCluster,
} from '../helpers/proxy-cluster.js';
import { issueCert, makeCa, type CertFiles, type TestCa } from '../helpers/tls-certs.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

/** A logger whose JSON lines the test can read. */
function capturedLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

const DEFAULT_PASSWORD = 'default-Secret-1';
const SLOTWAY_PASSWORD = 'slotway-Secret-2';
const CHANGED_PASSWORD = 'changed-Secret-3';
const WRONG_PASSWORD = 'wrong-Secret-4';
// &* : Redis 7 gives new users no pub/sub channels (acl-pubsub-default resetchannels).
const slotwayUser = (password: string): string => `user slotway on >${password} ~* &* +@all`;

describe('backend AUTH as an ACL user, on a cluster with requirepass', () => {
  let env: ProxyCluster;
  const logs = capturedLogger();
  before(async () => {
    env = await startProxyCluster(
      { clusterUser: 'slotway', clusterPassword: SLOTWAY_PASSWORD, reconnectMaxMs: 300, retryAttempts: 4 },
      { password: DEFAULT_PASSWORD, aclUsers: [slotwayUser(SLOTWAY_PASSWORD)] },
      { logger: logs.logger },
    );
  });
  after(async () => {
    await env?.close();
  });

  /** Runs `command` on every node of the cluster (masters and replicas), as the default user. */
  async function onEveryNode(...command: string[]): Promise<unknown[]> {
    return Promise.all(
      env.cluster.nodes.map(async (node) => {
        const client = new Redis({
          host: node.host,
          port: node.port,
          ...env.cluster.clientOptions(),
          maxRetriesPerRequest: 0,
        });
        try {
          return await client.call(command[0] as string, ...command.slice(1));
        } finally {
          client.disconnect();
        }
      }),
    );
  }

  test(
    'routes normally: keys on every master, cross-slot MGET, BLPOP on a lease, SUBSCRIBE, RESP3',
    { timeout: 60000 },
    async () => {
      const keys = (await keysPerMaster(env.direct(), 2, 'auth')).flat();
      assert.equal(keys.length, 6);
      const client = env.client();
      for (const key of keys) assert.equal(await client.set(key, `v:${key}`), 'OK');
      for (const key of keys) assert.equal(await client.get(key), `v:${key}`);
      assert.deepEqual(
        await client.mget(...keys),
        keys.map((key) => `v:${key}`),
      );

      // BLPOP holds a dedicated (leased) node connection, which authenticates too.
      const blocked = env.client();
      const woken = blocked.blpop('auth:list', 10);
      await sleep(200);
      await client.lpush('auth:list', 'wake');
      assert.deepEqual(await woken, ['auth:list', 'wake']);

      const subscriber = env.client();
      const received: string[] = [];
      subscriber.on('message', (channel: string, message: string) => received.push(`${channel}=${message}`));
      assert.equal(await subscriber.subscribe('auth-news'), 1);
      await client.publish('auth-news', 'hello'); // counts receivers on one node only: not checked
      await eventually(() => received.length === 1, 'the published message');
      assert.deepEqual(received, ['auth-news=hello']);

      // RESP3 clients go out on connections that sent HELLO 3 AUTH slotway ...
      const resp3 = await RespSocket.connect(env.port);
      try {
        assert.match(await resp3.call('HELLO', '3'), /^%7\r\n/);
        await client.hset('auth:hash', 'f', 'v');
        assert.equal(await resp3.call('HGETALL', 'auth:hash'), '%1\r\n$1\r\nf\r\n$1\r\nv\r\n');
      } finally {
        resp3.close();
      }

      // Every connection Slotway has on the masters is authenticated as the ACL user.
      for (const master of await env.cluster.masters()) {
        const node = new Redis({ host: master.host, port: master.port, ...env.cluster.clientOptions() });
        const lines = String(await node.call('CLIENT', 'LIST'))
          .split('\n')
          .filter((line) => / user=slotway /.test(line));
        node.disconnect();
        assert.ok(lines.length >= 1, `${master.address} has connections of user slotway`);
      }
    },
  );

  test(
    'a password changed under Slotway: clients get the WRONGPASS reason, the log names the node, then it recovers',
    { timeout: 60000 },
    async () => {
      const client = env.client();
      const [key] = (await keysPerMaster(env.direct(), 1, 'auth2'))[0] ?? [];
      assert.ok(key !== undefined);
      assert.equal(await client.set(key, 'before'), 'OK');
      logs.lines.length = 0;

      await onEveryNode('ACL', 'SETUSER', 'slotway', 'resetpass', `>${CHANGED_PASSWORD}`);
      await onEveryNode('CLIENT', 'KILL', 'USER', 'slotway');
      await eventually(
        () => logs.lines.some((line) => line.includes('node refused authentication')),
        'a refused AUTH in the log',
      );

      const error = await client.get(key).then(
        () => null,
        (failure: unknown) => (failure as Error).message,
      );
      // The retries ran into the refused connection, or into its absence while it waits to reconnect.
      const unreachable =
        /^CLUSTERDOWN node 127\.0\.0\.1:\d+ is unreachable \((no connection to 127\.0\.0\.1:\d+ \()?AUTH refused: /;
      assert.match(error ?? 'GET succeeded', unreachable);
      assert.match(
        error ?? '',
        /WRONGPASS invalid username-password pair or user is disabled\.\)+; Slotway gave up after its retries$/,
      );

      const refused = logs.lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((entry) => entry.msg === 'node refused authentication');
      assert.ok(refused.length > 0);
      for (const entry of refused) {
        assert.equal(entry.level, 40, 'warn');
        assert.match(String(entry.node), /^127\.0\.0\.1:\d+$/);
        // HELLO from the RESP3 connections (HELLO 3 AUTH ...), AUTH from the others.
        assert.match(String(entry.reason), /^(AUTH|HELLO) refused: WRONGPASS /);
      }
      for (const line of logs.lines) {
        assert.ok(
          !line.includes(SLOTWAY_PASSWORD) && !line.includes(CHANGED_PASSWORD),
          `no password in the log: ${line}`,
        );
      }

      // The password Slotway has is valid again: its reconnects (with backoff) succeed.
      await onEveryNode('ACL', 'SETUSER', 'slotway', 'resetpass', `>${SLOTWAY_PASSWORD}`);
      const deadline = Date.now() + 10000;
      let value: string | null = null;
      while (value === null && Date.now() < deadline) {
        value = await client.get(key).catch(() => null);
        if (value === null) await sleep(100);
      }
      assert.equal(value, 'before');
    },
  );

  test(
    'started with a wrong password: no topology, the log says WRONGPASS (not the password), clients get an error',
    { timeout: 30000 },
    async () => {
      const { logger, lines } = capturedLogger();
      const proxy = createProxy(
        {
          seeds: env.cluster.seeds,
          ...LOOPBACK_LISTENERS,
          clusterUser: 'slotway',
          clusterPassword: WRONG_PASSWORD,
          retryAttempts: 2,
        },
        { logger },
      );
      try {
        const { port } = await proxy.listen();
        assert.equal(await proxy.ready, false);
        const failed = lines.find((line) => line.includes('topology refresh failed'));
        assert.match(failed ?? '(no refresh failure logged)', /WRONGPASS/);
        assert.ok(
          lines.every((line) => !line.includes(WRONG_PASSWORD)),
          'the password is never logged',
        );
        const plain = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
        const error = await plain.get('any-key').then(
          () => null,
          (failure: unknown) => (failure as Error).message,
        );
        plain.disconnect();
        assert.match(error ?? 'GET succeeded', /^CLUSTERDOWN /);
      } finally {
        await proxy.close();
      }
    },
  );
});

/**
 * A Kubernetes-style Secret mount: `tls.crt` -> `..data/tls.crt`, `..data` ->
 * `..<version>`; an update writes a new version directory and swaps the
 * `..data` link in one rename.
 */
class SecretMount {
  readonly dir: string;
  #version = 0;
  constructor(dir: string) {
    this.dir = dir;
  }
  get certFile(): string {
    return join(this.dir, 'tls.crt');
  }
  get keyFile(): string {
    return join(this.dir, 'tls.key');
  }
  async publish(cert: Buffer | string, key: Buffer | string): Promise<void> {
    const version = `..v${++this.#version}`;
    await mkdir(join(this.dir, version), { recursive: true });
    await writeFile(join(this.dir, version, 'tls.crt'), cert);
    await writeFile(join(this.dir, version, 'tls.key'), key);
    await symlink(version, join(this.dir, '..data_tmp'));
    await rename(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    if (this.#version === 1) {
      await symlink('..data/tls.crt', this.certFile);
      await symlink('..data/tls.key', this.keyFile);
    }
  }
}

describe('TLS to the cluster and a TLS listener, with certificate reload', () => {
  let env: ProxyCluster;
  let dir = '';
  let ca: TestCa;
  let app: CertFiles;
  let slotwayClient: CertFiles;
  let mount: SecretMount;
  const logs = capturedLogger();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slotway-tls-test-'));
    ca = await makeCa(dir);
    // Nodes are reached at 127.0.0.1, but Slotway checks them by name (--cluster-tls-servername), as with pod IPs.
    const node = await issueCert(ca, 'node', 'redis-node', '10', ['redis.test']);
    slotwayClient = await issueCert(ca, 'slotway-client', 'slotway-client', '20');
    app = await issueCert(ca, 'app', 'app', '40');
    const listener = await issueCert(ca, 'listener-1', 'slotway-1', '31');
    mount = new SecretMount(join(dir, 'secret'));
    await mount.publish(await readFile(listener.certFile), await readFile(listener.keyFile));
    const [tlsPort] = await findFreePorts(1);
    env = await startProxyCluster(
      {
        clusterTls: true,
        clusterTlsCa: ca.certFile,
        clusterTlsCert: slotwayClient.certFile,
        clusterTlsKey: slotwayClient.keyFile,
        clusterTlsServername: 'redis.test',
        clusterPassword: DEFAULT_PASSWORD,
        tlsPort,
        tlsCert: mount.certFile,
        tlsKey: mount.keyFile,
        tlsCa: ca.certFile,
      },
      { tls: { caFile: ca.certFile, certFile: node.certFile, keyFile: node.keyFile }, password: DEFAULT_PASSWORD },
      { logger: logs.logger, tlsWatchIntervalMs: 100 },
    );
  });
  after(async () => {
    await env?.close();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  /** TLS options of an application client: trusts the CA, presents its own certificate. */
  async function appTls(): Promise<{ ca: Buffer; cert: Buffer; key: Buffer }> {
    return { ca: await readFile(ca.certFile), cert: await readFile(app.certFile), key: await readFile(app.keyFile) };
  }
  const serialOf = async (file: string): Promise<string> => new X509Certificate(await readFile(file)).serialNumber;

  test('redis-cli --tls, ioredis with tls and a plain client all reach every master', { timeout: 60000 }, async () => {
    assert.ok(env.tlsPort > 0);
    const cli = async (...args: string[]): Promise<string> => {
      const tlsArgs = [
        '--tls',
        '--cacert',
        ca.certFile,
        '--cert',
        app.certFile,
        '--key',
        app.keyFile,
        '-h',
        '127.0.0.1',
        '-p',
        String(env.tlsPort),
      ];
      return (await run('redis-cli', [...tlsArgs, ...args])).stdout.trim();
    };
    assert.equal(await cli('SET', 'tls:cli', 'over-tls'), 'OK');
    assert.equal(await cli('GET', 'tls:cli'), 'over-tls');

    const keys = (await keysPerMaster(env.direct(), 2, 'tls')).flat();
    const secure = new Redis({ host: '127.0.0.1', port: env.tlsPort, tls: await appTls(), maxRetriesPerRequest: 0 });
    try {
      for (const key of keys) assert.equal(await secure.set(key, `tls:${key}`), 'OK');
      assert.deepEqual(
        await secure.mget(...keys),
        keys.map((key) => `tls:${key}`),
      );
      const woken = secure.duplicate();
      const blpop = woken.blpop('tls:list', 10);
      await sleep(200);
      await secure.lpush('tls:list', 'x');
      assert.deepEqual(await blpop, ['tls:list', 'x']);
      woken.disconnect();
    } finally {
      secure.disconnect();
    }
    // The plain listener on --port serves the same data.
    const plain = env.client();
    assert.deepEqual(
      await plain.mget(...keys),
      keys.map((key) => `tls:${key}`),
    );
    assert.equal(await plain.get('tls:cli'), 'over-tls');
  });

  test('the TLS listener refuses a client without a certificate (--tls-ca given)', { timeout: 30000 }, async () => {
    const outcome = await run('redis-cli', [
      '--tls',
      '--cacert',
      ca.certFile,
      '-h',
      '127.0.0.1',
      '-p',
      String(env.tlsPort),
      'PING',
    ]).then(
      ({ stdout }) => stdout.trim(),
      (error: unknown) => {
        const { stdout, stderr } = error as { stdout?: string; stderr?: string };
        return `${stdout ?? ''}${stderr ?? ''}`.trim();
      },
    );
    assert.notEqual(outcome, 'PONG');
  });

  test(
    'reloadTls(): new handshakes present the new certificate, open connections keep working',
    { timeout: 30000 },
    async () => {
      const first = await RespSocket.connectTls(env.tlsPort, await appTls());
      try {
        assert.equal(first.peerCertificate()?.serialNumber, await serialOf(mount.certFile));
        assert.equal(first.peerCertificate()?.subject.CN, 'slotway-1');

        const next = await issueCert(ca, 'listener-2', 'slotway-2', '32');
        await mount.publish(await readFile(next.certFile), await readFile(next.keyFile));
        logs.lines.length = 0;
        assert.equal(env.proxy.reloadTls(), true);
        assert.ok(
          logs.lines.some(
            (line) =>
              line.includes('TLS certificates reloaded') && line.includes('"listener"') && line.includes('"cluster"'),
          ),
        );

        const second = await RespSocket.connectTls(env.tlsPort, await appTls());
        try {
          assert.equal(second.peerCertificate()?.serialNumber, await serialOf(next.certFile));
          assert.equal(second.peerCertificate()?.subject.CN, 'slotway-2');
          assert.equal(await second.call('SET', 'reload:k', 'new'), '+OK\r\n');
        } finally {
          second.close();
        }
        // The connection from before the reload still works, with its old certificate.
        assert.equal(await first.call('GET', 'reload:k'), '$3\r\nnew\r\n');
        assert.equal(first.peerCertificate()?.subject.CN, 'slotway-1');
        // New node connections use the rebuilt cluster context: a BLPOP takes a fresh lease.
        assert.equal(await first.call('BLPOP', 'reload:none', '0.1'), '*-1\r\n');
      } finally {
        first.close();
      }
    },
  );

  test(
    'a Secret update is picked up without a signal; invalid files keep the previous certificate',
    { timeout: 30000 },
    async () => {
      const next = await issueCert(ca, 'listener-3', 'slotway-3', '33');
      logs.lines.length = 0;
      await mount.publish(await readFile(next.certFile), await readFile(next.keyFile));
      const presented = async (): Promise<string | undefined> => {
        const socket = await RespSocket.connectTls(env.tlsPort, await appTls());
        const cn = socket.peerCertificate()?.subject.CN;
        socket.close();
        return cn === undefined ? undefined : String(cn);
      };
      for (const deadline = Date.now() + 10000; (await presented()) !== 'slotway-3'; await sleep(50)) {
        if (Date.now() > deadline) assert.fail('the changed certificate was not picked up');
      }
      assert.ok(logs.lines.some((line) => line.includes('TLS certificates reloaded') && line.includes('file changed')));

      // A key that does not belong to the certificate: one error line, the old certificate stays.
      const stranger = await issueCert(ca, 'stranger', 'stranger', '99');
      logs.lines.length = 0;
      await mount.publish(await readFile(next.certFile), await readFile(stranger.keyFile));
      await eventually(
        () => logs.lines.some((line) => line.includes('TLS reload failed')),
        'the failed reload in the log',
        10000,
      );
      const failed = logs.lines.filter((line) => line.includes('TLS reload failed'));
      assert.equal(failed.length, 1);
      assert.match(failed[0] ?? '', /"level":50/);
      assert.match(failed[0] ?? '', /key values mismatch/);
      assert.equal(await presented(), 'slotway-3');
      const client = await RespSocket.connectTls(env.tlsPort, await appTls());
      assert.equal(await client.call('PING'), '+PONG\r\n');
      client.close();
      await mount.publish(await readFile(next.certFile), await readFile(next.keyFile)); // valid again, for the next test
    },
  );

  test(
    'a servername the node certificates do not name: no node is trusted, the log says why',
    { timeout: 30000 },
    async () => {
      const { logger, lines } = capturedLogger();
      const proxy = createProxy(
        {
          seeds: env.cluster.seeds.slice(0, 1),
          ...LOOPBACK_LISTENERS,
          clusterTls: true,
          clusterTlsCa: ca.certFile,
          clusterTlsCert: slotwayClient.certFile,
          clusterTlsKey: slotwayClient.keyFile,
          clusterTlsServername: 'other.test',
          clusterPassword: DEFAULT_PASSWORD,
        },
        { logger },
      );
      try {
        await proxy.listen();
        assert.equal(await proxy.ready, false);
        assert.match(
          lines.find((line) => line.includes('topology refresh failed')) ?? '(none)',
          /other\.test.*altnames/,
        );
      } finally {
        await proxy.close();
      }
    },
  );

  test(
    'the slotway command: SIGHUP reloads the certificates (one info line), clients keep being served',
    { timeout: 60000 },
    async () => {
      const [port = 0, tlsPort = 0] = await findFreePorts(2);
      const args = [
        CLI,
        '--cluster',
        env.cluster.seeds.join(','),
        '--bind',
        '127.0.0.1',
        '--port',
        String(port),
        '--metrics-port',
        '0',
        '--metrics-bind',
        '127.0.0.1',
      ];
      args.push(
        '--cluster-tls',
        '--cluster-tls-ca',
        ca.certFile,
        '--cluster-tls-cert',
        slotwayClient.certFile,
        '--cluster-tls-key',
        slotwayClient.keyFile,
      );
      args.push(
        '--cluster-tls-servername',
        'redis.test',
        '--tls-port',
        String(tlsPort),
        '--tls-cert',
        mount.certFile,
        '--tls-key',
        mount.keyFile,
      );
      const slotway = spawn(process.execPath, args, {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, SLOTWAY_CLUSTER_PASSWORD: DEFAULT_PASSWORD },
      });
      const exited = once(slotway, 'exit');
      let output = '';
      slotway.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      slotway.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      try {
        await eventually(
          () => output.includes('"topology changed"') || slotway.exitCode !== null,
          'Slotway reading the topology',
          20000,
        );
        assert.equal(slotway.exitCode, null, `slotway exited early:\n${output}`);
        const trusting = { ca: await readFile(ca.certFile) };
        const before = await RespSocket.connectTls(tlsPort, trusting);
        assert.equal(await before.call('SET', 'cli:tls', 'yes'), '+OK\r\n');
        slotway.kill('SIGHUP');
        await eventually(() => output.includes('TLS certificates reloaded'), 'the reload line', 10000);
        const reloadLines = output.split('\n').filter((line) => line.includes('TLS certificates reloaded'));
        assert.equal(reloadLines.length, 1);
        assert.match(reloadLines[0] ?? '', /"reason":"SIGHUP"/);
        assert.equal(await before.call('GET', 'cli:tls'), '$3\r\nyes\r\n');
        before.close();
        const after = await RespSocket.connectTls(tlsPort, trusting);
        assert.equal(await after.call('PING'), '+PONG\r\n');
        after.close();
        assert.ok(!output.includes(DEFAULT_PASSWORD), 'the password is never logged');
      } finally {
        slotway.kill('SIGTERM');
        const [code] = (await Promise.race([exited, sleep(15000).then(() => ['timeout'])])) as [number | string];
        if (code === 'timeout') slotway.kill('SIGKILL');
        assert.equal(code, 0, `exit after SIGTERM; its log:\n${output.slice(-3000)}`);
      }
    },
  );

  test('the slotway command exits 2 with one line per bad combination', { timeout: 30000 }, async () => {
    const outcome = await run(process.execPath, [
      CLI,
      '--cluster',
      '127.0.0.1:7000',
      '--tls-port',
      '7001',
      '--cluster-user',
      'app',
    ]).then(
      () => ({ code: 0, stderr: '' }),
      (error: unknown) => {
        const { code, stderr } = error as { code?: number; stderr?: string };
        return { code, stderr: stderr ?? '' };
      },
    );
    assert.equal(outcome.code, 2);
    assert.deepEqual(outcome.stderr.trim().split('\n'), [
      'slotway: --tls-port 7001 needs --tls-cert and --tls-key',
      'slotway: --cluster-user needs --cluster-password',
    ]);
  });
});
