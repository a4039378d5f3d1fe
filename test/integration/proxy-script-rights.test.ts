// Scripts obey the same rules as commands: what --deny-commands refuses to a
// client, its EVAL and FCALL cannot call either. Redis enforces it, because
// Slotway sends such scripts as a node ACL user with the client's rights
// (cluster/script-user.ts). Real clusters; keys counted on the nodes directly.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { scriptUserName } from '../../src/cluster/script-user.js';
import type { LocalClusterNode } from '../../src/demo/local-cluster.js';
import { RespSocket } from '../helpers/resp-socket.js';
import {
  call,
  eventually,
  leasedConnections,
  keysPerMaster,
  ownerOfSlot,
  sleep,
  startProxyCluster,
  type ProxyCluster,
} from '../helpers/proxy-cluster.js';

const FLUSH = "return redis.call('flushall')";
const KEYS = "return redis.call('keys','*')";
const SET_GET = "redis.call('set', KEYS[1], ARGV[1]); return redis.call('get', KEYS[1])";
const LIBRARY = [
  '#!lua name=slotwaytest',
  "redis.register_function('flushit', function(keys, args) return redis.call('flushall') end)",
  "redis.register_function('setget', function(keys, args) redis.call('set', keys[1], args[1]); return redis.call('get', keys[1]) end)",
  "redis.register_function{function_name='getro', callback=function(keys, args) return redis.call('get', keys[1]) end, flags={'no-writes'}}",
].join('\n');
const NOT_ALLOWED = /can't run this command or subcommand/;

/** The error message of a rejected promise, or a line saying it was not rejected. */
async function errorOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    (value) => `not refused: ${JSON.stringify(value)}`,
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
}

/** Keys on every master, counted on the nodes themselves. */
async function keysOnMasters(masters: LocalClusterNode[]): Promise<number> {
  let total = 0;
  for (const master of masters) total += Number(await call(master, 'DBSIZE'));
  return total;
}

/** CLIENT LIST lines of a node. */
async function clientList(node: LocalClusterNode): Promise<string[]> {
  return String(await call(node, 'CLIENT', 'LIST'))
    .split('\n')
    .filter((line) => line !== '');
}

function capturedLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

describe('with --deny-commands flushall,flushdb,keys (and --read-from replica)', () => {
  let env: ProxyCluster;
  let masters: LocalClusterNode[];
  const RULES = '~* &* +@all +asking +script|load -flushall -flushdb -keys';
  before(async () => {
    env = await startProxyCluster({ denyCommands: ['flushall', 'flushdb', 'keys'], readFrom: 'replica' });
    masters = await env.cluster.masters();
  });
  after(async () => {
    await env?.close();
  });

  test(
    'EVAL and FCALL that flush are refused by the node and leave every key in place; KEYS in a script too',
    { timeout: 60000 },
    async () => {
      const client = env.client();
      const keys = Array.from({ length: 100 }, (_, i) => `sr:${i}`);
      for (const key of keys) assert.equal(await client.set(key, 'v'), 'OK');
      assert.equal(await keysOnMasters(masters), 100);
      const slots = new Set((await Promise.all(keys.map((key) => client.call('CLUSTER', 'KEYSLOT', key)))).map(String));
      assert.ok(slots.size > 50, 'the keys are spread over many slots');

      // FLUSHALL itself is refused by Slotway, as before.
      assert.match(await errorOf(client.call('FLUSHALL')), /FLUSHALL command is disabled on this Slotway/);
      assert.match(await errorOf(client.eval(FLUSH, 1, 'sr:0')), NOT_ALLOWED);
      assert.match(await errorOf(client.eval(FLUSH, 0)), NOT_ALLOWED);
      assert.match(await errorOf(client.eval("return redis.call('flushdb')", 1, 'sr:1')), NOT_ALLOWED);
      assert.match(await errorOf(client.eval(KEYS, 1, 'sr:0')), NOT_ALLOWED);

      // FUNCTION LOAD goes to every master; its top-level code cannot call Redis, so loading is harmless.
      assert.equal(await client.call('FUNCTION', 'LOAD', LIBRARY), 'slotwaytest');
      assert.match(await errorOf(client.call('FCALL', 'flushit', '1', 'sr:2')), NOT_ALLOWED);
      assert.match(await errorOf(client.call('FCALL', 'flushit', '0')), NOT_ALLOWED);
      assert.equal(await keysOnMasters(masters), 100, 'every key is still there');
      for (const key of keys.slice(0, 10)) assert.equal(await client.get(key), 'v');

      // The scripts ran as the script user, on every master they reached.
      const name = scriptUserName(RULES);
      let withUser = 0;
      for (const master of masters)
        if ((await clientList(master)).some((line) => line.includes(` user=${name} `))) withUser++;
      assert.ok(withUser >= 1, `connections of ${name} on the masters`);
      const acl = (await call(masters[0] as LocalClusterNode, 'ACL', 'LIST')) as string[];
      const entry = acl.find((line) => line.startsWith(`user ${name} on `));
      assert.ok(entry !== undefined, acl.join('\n'));
      assert.match(entry, / #[0-9a-f]{64} /, 'the script user has a password');
      assert.ok(!entry.includes('nopass'));
      for (const denied of ['-flushall', '-flushdb', '-keys']) assert.ok(entry.includes(` ${denied}`), entry);
    },
  );

  test('ordinary EVAL, EVALSHA and FCALL that SET and GET still work', { timeout: 30000 }, async () => {
    const client = env.client();
    assert.equal(await client.eval(SET_GET, 1, 'sr:eval', 'one'), 'one');
    const sha = String(await client.script('LOAD', SET_GET));
    assert.equal(await client.evalsha(sha, 1, 'sr:evalsha', 'two'), 'two');
    assert.equal(await client.call('FCALL', 'setget', '1', 'sr:fcall', 'three'), 'three');
    assert.equal(await env.direct().get('sr:fcall'), 'three');
    // In a pipeline, interleaved with ordinary commands (which keep their connection): replies in order.
    // GET is a read: under --read-from replica (this suite) a replica answers it, and may lag a write.
    const replies =
      (await client
        .pipeline()
        .set('sr:p', 'a')
        .eval(SET_GET, 1, 'sr:p', 'b')
        .get('sr:p')
        .evalsha(sha, 1, 'sr:p', 'c')
        .get('sr:p')
        .exec()) ?? [];
    assert.deepEqual(
      [replies[0], replies[1], replies[3]],
      [
        [null, 'OK'],
        [null, 'b'],
        [null, 'c'],
      ],
    );
    assert.ok(
      ['a', 'b', 'c'].includes(String(replies[2]?.[1])) && ['a', 'b', 'c'].includes(String(replies[4]?.[1])),
      JSON.stringify(replies),
    );
    // A long interleaved pipeline: commands after a script ride the script user's connections while
    // replies are owed there, so every reply sees every earlier write.
    await client.del('sr:n');
    const long = client.pipeline();
    for (let i = 0; i < 300; i++) long.incr('sr:n').eval("return redis.call('get', KEYS[1])", 1, 'sr:n').get('sr:n');
    const got = (await long.exec()) ?? [];
    // INCR and the script run on the master (the script reads what INCR wrote just before); GET may be a replica's, a little behind.
    let lastRead = 0;
    for (let i = 0; i < 300; i++) {
      assert.deepEqual(
        [got[3 * i], got[3 * i + 1]],
        [
          [null, i + 1],
          [null, String(i + 1)],
        ],
        `round ${i}`,
      );
      // A replica's GET is ordered with this client's other GETs (one replica connection), not with the master's writes.
      const read = Number(got[3 * i + 2]?.[1]);
      assert.ok(read <= 300 && read >= lastRead, `round ${i}: GET read ${read} after ${lastRead}`);
      lastRead = read;
    }
  });

  test(
    'EVAL_RO / FCALL_RO / EVALSHA_RO read on replicas as the script user; KEYS there refused too',
    { timeout: 30000 },
    async () => {
      const client = env.client();
      const direct = env.direct();
      await direct.set('sr:ro', 'replicated');
      const master = (await ownerOfSlot(env.cluster, Number(await client.call('CLUSTER', 'KEYSLOT', 'sr:ro')))).owner;
      await call(master, 'WAIT', '1', '1000');
      const before = env.proxy.router.stats.replicaReads;
      assert.equal(await client.call('EVAL_RO', "return redis.call('get', KEYS[1])", '1', 'sr:ro'), 'replicated');
      assert.equal(await client.call('FCALL_RO', 'getro', '1', 'sr:ro'), 'replicated');
      assert.ok(env.proxy.router.stats.replicaReads >= before + 2, 'the reads went to replicas');
      assert.match(await errorOf(client.call('EVAL_RO', KEYS, '1', 'sr:ro')), NOT_ALLOWED);
      // SCRIPT LOAD goes to masters only (Redis 7 does not replicate it): the replica answers NOSCRIPT and
      // Slotway loads the script there, on the script user's READONLY connection, then runs it.
      const sha = String(await client.script('LOAD', "return redis.call('get', KEYS[1])"));
      assert.equal(await client.call('EVALSHA_RO', sha, '1', 'sr:ro'), 'replicated');
      const name = scriptUserName(RULES);
      let onReplicas = 0;
      for (const replica of await env.cluster.replicas()) {
        onReplicas += (await clientList(replica)).filter(
          (line) => line.includes(` user=${name} `) && line.includes('flags=r'),
        ).length;
      }
      assert.ok(onReplicas >= 1, 'READONLY connections of the script user on replicas');
    },
  );

  test(
    'EVALSHA after NOSCRIPT: the script is reloaded on the same script-user connection, then runs',
    { timeout: 30000 },
    async () => {
      const client = env.client();
      const script = "redis.call('set', KEYS[1], ARGV[1]); return 'reloaded'";
      const sha = String(await client.script('LOAD', script));
      const slot = Number(await client.call('CLUSTER', 'KEYSLOT', 'sr:reload'));
      const { owner } = await ownerOfSlot(env.cluster, slot);
      assert.equal(await call(owner, 'SCRIPT', 'FLUSH'), 'OK');
      assert.deepEqual(await call(owner, 'SCRIPT', 'EXISTS', sha), [0]);

      const monitor = new Redis({ host: owner.host, port: owner.port });
      const seen: { command: string; source: string }[] = [];
      try {
        const stream = await monitor.monitor();
        stream.on('monitor', (_time: string, args: string[], source: string) =>
          seen.push({ command: args.slice(0, 2).join(' ').toLowerCase(), source }),
        );
        await sleep(100);
        assert.equal(await client.evalsha(sha, 1, 'sr:reload', 'x'), 'reloaded');
        await eventually(() => seen.some((entry) => entry.command.startsWith('evalsha')), 'EVALSHA in MONITOR');
        stream.disconnect();
      } finally {
        monitor.disconnect();
      }
      assert.equal(await env.direct().get('sr:reload'), 'x');
      const load = seen.find((entry) => entry.command === 'script load');
      const runs = seen.filter((entry) => entry.command.startsWith('evalsha'));
      assert.ok(load !== undefined, 'Slotway loaded the script on the node');
      assert.equal(runs.length, 2, 'EVALSHA (NOSCRIPT) then EVALSHA again');
      for (const run of runs) assert.equal(run.source, load.source, 'SCRIPT LOAD and both EVALSHA on one connection');
      const line = (await clientList(owner)).find((entry) => entry.includes(`addr=${load.source} `));
      assert.ok(
        line?.includes(` user=${scriptUserName(RULES)} `),
        `the reload connection is the script user's: ${line}`,
      );
    },
  );

  test(
    'MULTI with a script: runs as the script user (flush refused inside, SET applied); a script after the pin is refused',
    { timeout: 30000 },
    async () => {
      const socket = await RespSocket.connect(env.port);
      try {
        const keysBefore = await keysOnMasters(masters);
        assert.equal(await socket.call('MULTI'), '+OK\r\n');
        assert.equal(await socket.call('EVAL', SET_GET, '1', '{tx}a', 'in-tx'), '+QUEUED\r\n');
        assert.equal(await socket.call('EVAL', FLUSH, '1', '{tx}a'), '+QUEUED\r\n');
        assert.equal(await socket.call('SET', '{tx}b', '2'), '+QUEUED\r\n');
        const exec = await socket.call('EXEC');
        assert.match(
          exec,
          /^\*3\r\n\$5\r\nin-tx\r\n-ERR The user executing the script can't run this command or subcommand/,
        );
        assert.match(exec, /\+OK\r\n$/);
        assert.equal(await env.direct().get('{tx}b'), '2');
        assert.equal(leasedConnections(env.proxy), 0, "the script user's lease went back after EXEC");
        assert.equal(await keysOnMasters(masters), keysBefore + 2);

        // Pinned on Slotway's own connection by an earlier keyed command: the script cannot switch users.
        assert.equal(await socket.call('MULTI'), '+OK\r\n');
        assert.equal(await socket.call('SET', '{tx}c', '3'), '+QUEUED\r\n');
        assert.match(
          await socket.call('EVAL', SET_GET, '1', '{tx}c', 'x'),
          /^-ERR EVAL inside MULTI must come before any other keyed command or WATCH/,
        );
        assert.match(await socket.call('EXEC'), /^-EXECABORT /);
        assert.equal(await env.direct().get('{tx}c'), null);
      } finally {
        socket.close();
      }
    },
  );
});

describe("a users-file user with -@dangerous: its scripts get its own rules, the default user's others", () => {
  let env: ProxyCluster;
  const dir = mkdtempSync(join(tmpdir(), 'slotway-script-rights-'));
  const usersFile = join(dir, 'users.acl');
  before(async () => {
    writeFileSync(usersFile, 'user app on >app-Secret-1 ~* &* +@all -@dangerous\n');
    env = await startProxyCluster({ denyCommands: ['flushall'], usersFile }, { replicasPerMaster: 0 });
  });
  after(async () => {
    await env?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test(
    'INFO and SORT (@dangerous) in a script: refused for app, allowed for the default user; FLUSHALL for both refused',
    { timeout: 30000 },
    async () => {
      const info = "return redis.call('info', 'server') ~= nil and 'ran' or 'no'";
      const app = env.client();
      assert.equal(await app.call('AUTH', 'app', 'app-Secret-1'), 'OK');
      // SORT is @dangerous: sent as a command, Slotway refuses it to app; in a script, the node does.
      assert.match(
        await errorOf(app.call('SORT', 'sr:list')),
        /^NOPERM this user has no permissions to run the 'sort' command/,
      );
      assert.match(await errorOf(app.eval(info, 1, 'sr:u')), NOT_ALLOWED);
      assert.match(await errorOf(app.eval("return redis.call('sort', KEYS[1])", 1, 'sr:list')), NOT_ALLOWED);
      assert.match(await errorOf(app.eval(FLUSH, 1, 'sr:u')), NOT_ALLOWED);
      assert.equal(await app.eval(SET_GET, 1, 'sr:u', 'app'), 'app');

      const anonymous = env.client();
      assert.equal(await anonymous.eval(info, 1, 'sr:u'), 'ran');
      assert.deepEqual(await anonymous.eval("return redis.call('sort', KEYS[1])", 1, 'sr:list'), []);
      assert.match(await errorOf(anonymous.eval(FLUSH, 1, 'sr:u')), NOT_ALLOWED);

      // Two rule sets, two script users on the node that owns sr:u.
      const slot = Number(await anonymous.call('CLUSTER', 'KEYSLOT', 'sr:u'));
      const { owner } = await ownerOfSlot(env.cluster, slot);
      const users = new Set(
        (await clientList(owner))
          .map((line) => / user=(slotway-script-[0-9a-f]{12}) /.exec(line)?.[1])
          .filter((name) => name !== undefined),
      );
      assert.equal(users.size, 2, [...users].join(', '));
      assert.ok(users.has(scriptUserName('~* &* +@all -@dangerous +asking +script|load -flushall')));
      assert.ok(users.has(scriptUserName('~* &* +@all +asking +script|load -flushall')));
    },
  );
});

describe('with nothing denied: scripts stay on the ordinary shared connections', () => {
  let env: ProxyCluster;
  before(async () => {
    env = await startProxyCluster({ denyCommands: [] }, { replicasPerMaster: 0 });
  });
  after(async () => {
    await env?.close();
  });

  test('EVAL, EVALSHA, FCALL open no extra node connection and create no script user', { timeout: 30000 }, async () => {
    const client = env.client();
    const masters = await env.cluster.masters();
    // Keys first: each direct() is a new cluster client, with connections of its own.
    const keys = (await keysPerMaster(env.direct(), 3, 'plain-s')).flat();
    // Every master's shared connection is open before counting (a command to each).
    for (const key of keys) assert.equal(await client.set(key, 'v'), 'OK');
    const counts = async (): Promise<number[]> =>
      Promise.all(masters.map(async (master) => (await clientList(master)).length));
    const before = await counts();
    {
      for (const key of keys) {
        assert.equal(await client.eval(SET_GET, 1, key, 'e'), 'e');
        assert.equal(await client.evalsha(String(await client.script('LOAD', SET_GET)), 1, key, 's'), 's');
      }
    }
    assert.equal(await client.call('FUNCTION', 'LOAD', LIBRARY), 'slotwaytest');
    assert.equal(await client.call('FCALL', 'setget', '1', 'plain-f', 'f'), 'f');
    assert.deepEqual(await counts(), before, 'no new connection on any master');
    for (const master of masters) {
      assert.ok(!(await clientList(master)).some((line) => line.includes('user=slotway-script-')));
      assert.ok(!String(await call(master, 'ACL', 'LIST')).includes('slotway-script-'));
    }
  });
});

describe('a node user that may not run ACL SETUSER', () => {
  let env: ProxyCluster;
  const logs = capturedLogger();
  before(async () => {
    env = await startProxyCluster(
      {
        clusterUser: 'slotway',
        clusterPassword: 'slotway-Secret-9',
        denyCommands: ['flushall', 'keys'],
        reconnectMaxMs: 200,
      },
      { replicasPerMaster: 0, aclUsers: ['user slotway on >slotway-Secret-9 ~* &* +@all -acl'] },
      { logger: logs.logger },
    );
  });
  after(async () => {
    await env?.close();
  });

  test(
    'scripts get the clear error (no retries), commands still work, one warning per node',
    { timeout: 30000 },
    async () => {
      const client = env.client();
      assert.equal(await client.set('nr:a', '1'), 'OK');
      const started = Date.now();
      const error = await errorOf(client.eval(SET_GET, 1, 'nr:a', '2'));
      assert.match(
        error,
        /^ERR scripts are disabled on this Slotway: its node user cannot create the ACL user that enforces --deny-commands on scripts \(ACL SETUSER: NOPERM this user has no permissions to run the 'acl\|setuser' command\)$/,
      );
      assert.ok(Date.now() - started < 2000, 'answered at once, not after the retry budget');
      assert.equal(await client.get('nr:a'), '1', 'the script did not run');
      // Again, on a pool that already knows, and with FCALL: the same error.
      for (let i = 0; i < 5; i++)
        assert.match(await errorOf(client.eval(SET_GET, 1, 'nr:a', '3')), /^ERR scripts are disabled on this Slotway/);
      assert.match(
        await errorOf(client.call('FCALL', 'nothing', '1', 'nr:a')),
        /^ERR scripts are disabled on this Slotway/,
      );
      assert.equal(await client.get('nr:a'), '1');
      assert.equal(await client.set('nr:b', '2'), 'OK');
      // In a transaction (leased as the script user): the script gets the same error, EXEC aborts, nothing applied.
      const socket = await RespSocket.connect(env.port);
      try {
        assert.equal(await socket.call('MULTI'), '+OK\r\n');
        assert.match(
          await socket.call('EVAL', SET_GET, '1', 'nr:a', '4'),
          /^-ERR scripts are disabled on this Slotway/,
        );
        assert.match(await socket.call('EXEC'), /^-EXECABORT /);
        assert.equal(await socket.call('GET', 'nr:a'), '$1\r\n1\r\n');
      } finally {
        socket.close();
      }

      await sleep(1000); // several reconnects of the refused pool (--reconnect-max-ms 200)
      const warnings = logs.lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((entry) => entry.msg === 'node refused the ACL user for scripts: scripts of its clients are refused');
      assert.equal(warnings.length, 1, 'one warning: the slot of nr:a has one master');
      const [warning] = warnings;
      assert.equal(warning?.level, 40);
      assert.match(String(warning?.node), /^127\.0\.0\.1:\d+$/);
      assert.match(String(warning?.reason), /^ACL SETUSER: NOPERM /);
      assert.ok(!logs.lines.some((line) => line.includes('slotway-Secret-9')), 'no password in the log');
      assert.ok(
        !logs.lines.some((line) => /"msg":"command failed"/.test(line) && line.includes('script')),
        'no line per command',
      );
    },
  );
});

describe('a cluster with requirepass, Slotway as an ACL user, the default --deny-commands', () => {
  let env: ProxyCluster;
  before(async () => {
    env = await startProxyCluster(
      { clusterUser: 'slotway', clusterPassword: 'slotway-Secret-8' },
      {
        replicasPerMaster: 0,
        password: 'default-Secret-7',
        aclUsers: ['user slotway on >slotway-Secret-8 ~* &* +@all'],
      },
    );
  });
  after(async () => {
    await env?.close();
  });

  test(
    'RESP2 and RESP3 clients: scripts run as the script user (AUTH behind HELLO 3 AUTH), FLUSHALL, FLUSHDB and KEYS refused',
    { timeout: 30000 },
    async () => {
      const client = env.client();
      assert.equal(await client.eval(SET_GET, 1, 'pw:a', 'two'), 'two');
      assert.match(await errorOf(client.eval(FLUSH, 1, 'pw:a')), NOT_ALLOWED);
      assert.match(await errorOf(client.eval("return redis.call('flushdb')", 1, 'pw:a')), NOT_ALLOWED);
      // The default list denies CONFIG, DEBUG, SHUTDOWN too: the node took them in ACL SETUSER (scripts run above).
      const resp3 = await RespSocket.connect(env.port);
      try {
        assert.match(await resp3.call('HELLO', '3'), /^%7\r\n/);
        assert.equal(await resp3.call('EVAL', SET_GET, '1', 'pw:b', 'three'), '$5\r\nthree\r\n');
        assert.match(
          await resp3.call('EVAL', KEYS, '1', 'pw:b'),
          /^-ERR The user executing the script can't run this command or subcommand/,
        );
        assert.equal(await resp3.call('GET', 'pw:b'), '$5\r\nthree\r\n');
      } finally {
        resp3.close();
      }
      const masters = await env.cluster.masters();
      let scriptConnections = 0;
      for (const master of masters) {
        const lines = await env.cluster.ask(master, async (node) =>
          String(await node.call('CLIENT', 'LIST')).split('\n'),
        );
        scriptConnections += lines.filter((line) => / user=slotway-script-[0-9a-f]{12} /.test(line)).length;
        assert.ok(
          lines.filter((line) => line.includes(' user=slotway ')).length >= 1,
          "Slotway's own connections stay as slotway",
        );
      }
      assert.ok(scriptConnections >= 2, 'RESP2 and RESP3 script connections');
      assert.equal(await env.direct().get('pw:a'), 'two');
    },
  );
});
