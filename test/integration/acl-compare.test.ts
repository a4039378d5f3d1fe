// THE COMPARISON TEST: the same ACL users in a plain redis-server (7.0.15)
// and in a Slotway users file (in front of a real cluster); for every (user,
// command) pair of the table both must give the same outcome: a reply, the
// same NOPERM line, or (for the few pairs ACL allows and the command itself
// refuses, like CLIENT KILL of no client) some other error on both.
// Keys carry the hash tag {t} where a command takes several, so the cluster
// can run them; MGET/MSET/DEL/EXISTS without tags are split by Slotway, and
// their verdict must still be Redis's. Also compares the glob matcher with
// the server's KEYS on the same patterns.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { findFreePorts } from '../../src/demo/loopback-ports.js';
import { stringMatch } from '../../src/util/stringmatch.js';
import { sleep, startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';
import { RespSocket } from '../helpers/resp-socket.js';

/** name -> rules; every user's password is "pw". */
const USERS: Record<string, string> = {
  prefix: 'on >pw ~app:* &app:* +@all -@dangerous',
  rw: 'on >pw %R~ro:* %W~wo:* ~both:* resetchannels +@all -@dangerous',
  nokeys: 'on >pw resetkeys resetchannels +@all',
  chan: 'on >pw ~* resetchannels &news:* &alerts +@all -@dangerous',
  getonly: 'on >pw ~* &* -@all +get',
  clientid: 'on >pw ~* &* -@all +client|id +ping +acl|whoami',
  reader: 'on >pw ~* &* -@all +@read +@connection -info',
  nodanger: 'on >pw ~* &* +@all -@dangerous -@scripting',
  admin: 'on >pw ~* &* +@all',
  tagged: 'on >pw ~app:{t}* %R~ro:{t}* resetchannels &app:* +@all -@dangerous +sort -flushall',
  writer: 'on >pw %W~* %R~ro:* allchannels -@all +@write +@read +@pubsub -publish',
};

/** Slotway only: may run ACL GETUSER and ACL LIST by its command rules, but is no admin. */
const SELF = 'on >pw ~* &* -@all +acl|getuser +acl|list +acl|dryrun +acl|users';

/** Commands run by every user; `$USER` is replaced by the user's name. */
const COMMANDS: string[][] = [
  ['GET', 'app:{t}1'],
  ['GET', 'other:{t}1'],
  ['SET', 'app:{t}1', 'v'],
  ['SET', 'wo:{t}1', 'v'],
  ['SET', 'wo:{t}1', 'v', 'GET'],
  ['GET', 'ro:{t}1'],
  ['SET', 'ro:{t}1', 'v'],
  ['GET', 'wo:{t}1'],
  ['EXISTS', 'wo:{t}1'],
  ['TYPE', 'ro:{t}1'],
  ['GETDEL', 'wo:{t}2'],
  ['COPY', 'ro:{t}1', 'wo:{t}c', 'REPLACE'],
  ['INCR', 'app:{t}n'],
  ['HSET', 'wo:{t}h', 'f', 'v'],
  ['HGET', 'ro:{t}h', 'f'],
  ['BITFIELD', 'ro:{t}b', 'GET', 'u8', '0'],
  ['BITFIELD', 'ro:{t}b', 'SET', 'u8', '0', '1'],
  ['LMOVE', 'app:{t}l', 'ro:{t}l', 'LEFT', 'RIGHT'],
  ['LMOVE', 'app:{t}l', 'app:{t}l2', 'LEFT', 'RIGHT'],
  ['MGET', 'app:1', 'app:2', 'app:3'], // three slots: split by Slotway
  ['MGET', 'app:1', 'other:2'],
  ['MGET', 'ro:1', 'both:2'],
  ['MSET', 'app:1', 'a', 'app:2', 'b'],
  ['MSET', 'wo:1', 'a', 'wo:2', 'b'],
  ['DEL', 'wo:1', 'wo:2', 'wo:3'],
  ['DEL', 'app:1', 'ro:2'],
  ['EXISTS', 'ro:1', 'app:2', 'other:3'],
  ['EVAL', 'return 1', '1', 'app:{t}1'],
  ['EVAL', 'return 1', '1', 'other:{t}1'],
  ['EVAL', 'return 1', '2', 'ro:{t}1', 'wo:{t}1'],
  ['EVAL', 'return 1', '0'],
  ['SORT', 'app:{t}l', 'BY', 'nosort'],
  ['SORT', 'ro:{t}l', 'STORE', 'app:{t}s'],
  ['SORT', 'ro:{t}l', 'STORE', 'ro:{t}s'],
  ['PUBLISH', 'news:1', 'hi'],
  ['PUBLISH', 'app:1', 'hi'],
  ['PUBLISH', 'other', 'hi'],
  ['SPUBLISH', 'news:1', 'hi'],
  ['SUBSCRIBE', 'news:1'],
  ['SUBSCRIBE', 'alerts', 'other'],
  ['SUBSCRIBE', 'app:x'],
  ['PSUBSCRIBE', 'news:*'],
  ['PSUBSCRIBE', '*'],
  ['PSUBSCRIBE', 'app:*'],
  ['PSUBSCRIBE', 'news:1*'],
  ['SSUBSCRIBE', 'news:1'],
  ['ACL', 'WHOAMI'],
  ['ACL', 'CAT', 'pubsub'],
  ['ACL', 'GETUSER', '$USER'],
  ['ACL', 'LIST'],
  ['ACL', 'USERS'],
  ['CLIENT', 'ID'],
  ['CLIENT', 'KILL', '192.0.2.1:1'], // no such client: an error on both when ACL allows it
  ['PING'],
  ['DBSIZE'],
  ['KEYS', 'nomatch:*'],
  ['CONFIG', 'GET', 'maxmemory'],
  ['XADD', 'wo:{t}x', '*', 'f', 'v'],
  ['ZUNIONSTORE', 'wo:{t}z', '2', 'ro:{t}z1', 'ro:{t}z2'],
  ['ZUNIONSTORE', 'ro:{t}z', '1', 'ro:{t}z1'],
];

let env: ProxyCluster;
let redis: ChildProcess;
let redisPort = 0;
const dir = mkdtempSync(join(tmpdir(), 'slotway-acl-compare-'));

before(async () => {
  [redisPort] = (await findFreePorts(1)) as [number];
  redis = spawn(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: 'ignore',
    },
  );
  const usersFile = join(dir, 'users.acl');
  // One more user, not in the table: what Slotway adds to Redis (admin-only views) is tested apart.
  const lines = [...Object.entries(USERS).map(([name, rules]) => `user ${name} ${rules}`), `user self ${SELF}`];
  writeFileSync(usersFile, lines.join('\n'));
  env = await startProxyCluster({ usersFile, denyCommands: [] });
  for (let i = 0; ; i++) {
    try {
      const admin = await RespSocket.connect(redisPort);
      for (const [name, rules] of [...Object.entries(USERS), ['self', SELF]] as const) {
        assert.equal(
          await admin.call('ACL', 'SETUSER', name, ...rules.split(' ')),
          '+OK\r\n',
          `${name} on redis-server`,
        );
      }
      admin.close();
      break;
    } catch (error) {
      if (i >= 50) throw error;
      await sleep(100);
    }
  }
});

after(async () => {
  await env?.close();
  if (redis !== undefined && redis.exitCode === null) {
    const exited = new Promise((resolve) => redis.once('exit', resolve));
    redis.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A reply's outcome: OK, the NOPERM line itself, or ERROR for any other error. */
function outcome(reply: string): string {
  if (reply.startsWith('-NOPERM')) return reply.trimEnd();
  if (reply.startsWith('-')) return 'ERROR';
  return 'OK';
}

async function run(port: number, user: string, command: string[]): Promise<{ outcome: string; reply: string }> {
  const socket = await RespSocket.connect(port);
  try {
    const auth = await socket.call('AUTH', user, 'pw');
    assert.equal(auth, '+OK\r\n', `AUTH ${user} on port ${port}`);
    const reply = await socket.call(...command.map((word) => (word === '$USER' ? user : word)));
    return { outcome: outcome(reply), reply: reply.trimEnd().slice(0, 200) };
  } finally {
    socket.close();
  }
}

test('Slotway and redis-server give the same ACL verdict on every (user, command) pair', async () => {
  const differences: string[] = [];
  let pairs = 0;
  const seen = new Set<string>();
  for (const user of Object.keys(USERS)) {
    for (const command of COMMANDS) {
      const direct = await run(redisPort, user, command);
      const proxied = await run(env.port, user, command);
      pairs++;
      seen.add(direct.outcome === 'OK' || direct.outcome === 'ERROR' ? direct.outcome : 'NOPERM');
      if (direct.outcome !== proxied.outcome) {
        differences.push(`${user}: ${command.join(' ')}\n    redis:   ${direct.reply}\n    slotway: ${proxied.reply}`);
      }
    }
  }
  console.log(
    `ACL comparison: ${pairs} pairs, ${differences.length} differences${differences.length > 0 ? `\n  ${differences.join('\n  ')}` : ''}`,
  );
  assert.ok(pairs >= 100);
  assert.ok(seen.has('OK') && seen.has('NOPERM'), 'the table exercises both verdicts');
  assert.deepEqual(differences, []);
});

test('the glob matcher agrees with redis-server KEYS on the same keys and patterns', async () => {
  const keys = ['a', 'ab', 'abc', 'b', '[', ']', 'a]', '*', '?', 'a\\', 'app:{t}1', 'APP:1', 'x-y', 'é', 'a*b', ''];
  const patterns = [
    'a*',
    '*b*',
    '?',
    '??',
    '[ab]',
    '[^a]',
    '[a-b]*',
    '[b-a]',
    '[',
    '[ab',
    '[]',
    '[\\]]',
    '\\*',
    'a\\',
    'a\\*',
    '*\\]',
    'app:{t}*',
    'APP:*',
    '[A-Z]*',
    'x[--z]y',
    '*?*',
    '**',
    'a*b*c',
    '[é]',
    'é',
    '*[',
    '[^]',
    'a]',
  ];
  const socket = await RespSocket.connect(redisPort);
  try {
    assert.equal(await socket.call('FLUSHALL'), '+OK\r\n');
    for (const key of keys) assert.equal(await socket.call('SET', key, '1'), '+OK\r\n');
    let compared = 0;
    for (const pattern of patterns) {
      const reply = await socket.call('KEYS', pattern);
      // The reply is an array of bulk strings: take them back out.
      const found = new Set<string>();
      const lines = reply.split('\r\n');
      for (let i = 1; i < lines.length - 1; i += 2) found.add(lines[i + 1] as string);
      for (const key of keys) {
        const bytes = Buffer.from(key);
        const ours = stringMatch(Buffer.from(pattern), bytes, 0, bytes.length);
        assert.equal(ours, found.has(key), `pattern ${JSON.stringify(pattern)} vs key ${JSON.stringify(key)}`);
        compared++;
      }
    }
    console.log(`glob comparison: ${compared} (pattern, key) pairs agree with KEYS`);
  } finally {
    socket.close();
  }
});

/** The same command as `admin` on both, exact bytes (after HELLO 3 when `resp3`). */
async function asAdmin(port: number, command: string[], resp3 = false): Promise<string> {
  const socket = await RespSocket.connect(port);
  try {
    assert.equal(await socket.call('AUTH', 'admin', 'pw'), '+OK\r\n');
    if (resp3) assert.match(await socket.call('HELLO', '3'), /^%/);
    return await socket.call(...command);
  } finally {
    socket.close();
  }
}

test("ACL GETUSER, ACL DRYRUN, ACL WHOAMI, ACL CAT and ACL USERS answer with redis-server's bytes", async () => {
  let compared = 0;
  const differences: string[] = [];
  const compare = async (command: string[], resp3 = false): Promise<void> => {
    const direct = await asAdmin(redisPort, command, resp3);
    const proxied = await asAdmin(env.port, command, resp3);
    compared++;
    if (direct !== proxied)
      differences.push(
        `${command.join(' ')}\n    redis:   ${JSON.stringify(direct)}\n    slotway: ${JSON.stringify(proxied)}`,
      );
  };
  // Users whose rules Redis 7.0 prints as written (it re-derives command rules from a bitmap).
  for (const user of ['prefix', 'rw', 'nokeys', 'chan', 'admin', 'getonly', 'nosuchuser'])
    await compare(['ACL', 'GETUSER', user]);
  for (const user of Object.keys(USERS)) {
    for (const command of COMMANDS)
      await compare(['ACL', 'DRYRUN', user, ...command.map((word) => (word === '$USER' ? user : word))]);
  }
  for (const user of ['prefix', 'nokeys', 'nosuchuser']) await compare(['ACL', 'GETUSER', user], true);
  await compare(['ACL', 'DRYRUN', 'nosuchuser', 'GET', 'x']);
  await compare(['ACL', 'DRYRUN', 'prefix', 'NOSUCHCOMMAND']);
  await compare(['ACL', 'DRYRUN', 'prefix', 'GET']);
  await compare(['ACL', 'WHOAMI']);
  await compare(['ACL', 'CAT']);
  await compare(['ACL', 'CAT', 'nosuchcategory']);
  await compare(['ACL', 'USERS']);
  await compare(['ACL', 'NOSUCH']);
  await compare(['ACL', 'GETUSER']);
  console.log(
    `ACL replies: ${compared} commands compared, ${differences.length} differences${differences.length > 0 ? `\n  ${differences.join('\n  ')}` : ''}`,
  );
  assert.deepEqual(differences, []);
});

test("ACL changes are refused with a pointer to the users file; other users' rules are an admin's to read", async () => {
  assert.match(
    await asAdmin(env.port, ['ACL', 'SETUSER', 'x', 'on']),
    /^-ERR ACL SETUSER is not available through Slotway: users and their rules come from its --users-file/,
  );
  assert.match(
    await asAdmin(env.port, ['ACL', 'DELUSER', 'prefix']),
    /^-ERR ACL DELUSER is not available through Slotway/,
  );
  assert.match(
    await asAdmin(env.port, ['ACL', 'LOG']),
    /^-ERR ACL LOG is not available through Slotway: it keeps no ACL log/,
  );
  const socket = await RespSocket.connect(env.port);
  try {
    assert.equal(await socket.call('AUTH', 'clientid', 'pw'), '+OK\r\n');
    assert.equal(await socket.call('ACL', 'WHOAMI'), '$8\r\nclientid\r\n');
    assert.equal(
      await socket.call('ACL', 'GETUSER', 'clientid'),
      "-NOPERM this user has no permissions to run the 'acl|getuser' command\r\n",
    );
  } finally {
    socket.close();
  }
  const self = await RespSocket.connect(env.port);
  try {
    assert.equal(await self.call('AUTH', 'self', 'pw'), '+OK\r\n');
    assert.match(await self.call('ACL', 'GETUSER', 'self'), /^\*12\r\n\$5\r\nflags\r\n/, 'its own rules');
    for (const command of [['GETUSER', 'admin'], ['LIST'], ['USERS'], ['DRYRUN', 'admin', 'GET', 'x']]) {
      assert.match(
        await self.call('ACL', ...command),
        /^-NOPERM ACL .* through Slotway needs an admin user/,
        command.join(' '),
      );
    }
  } finally {
    self.close();
  }
  const list = await asAdmin(env.port, ['ACL', 'LIST']);
  assert.ok(list.includes('user prefix on #'), list);
  assert.ok(list.includes(' ~app:* resetchannels &app:* +@all -@dangerous\r\n'), list);
});

test('pipelined subscriptions with refused channels: the same frames, in the same order, as redis-server', async () => {
  const frames = async (port: number): Promise<string[]> => {
    const socket = await RespSocket.connect(port);
    try {
      assert.equal(await socket.call('AUTH', 'chan', 'pw'), '+OK\r\n');
      const out: string[] = [];
      const round = async (commands: string[][]): Promise<void> => {
        for (const command of commands) socket.send(...command);
        for (let i = 0; i < commands.length; i++) out.push((await socket.next()).toString());
      };
      await round([
        ['SUBSCRIBE', 'news:1'],
        ['SUBSCRIBE', 'other'],
        ['PSUBSCRIBE', 'news:*'],
        ['PSUBSCRIBE', '*'],
        ['PING'],
      ]);
      // Subscribed now (RESP2): refusals keep their place among confirmations.
      await round([
        ['SUBSCRIBE', 'news:2'],
        ['SUBSCRIBE', 'alerts', 'nope'],
        ['SUBSCRIBE', 'news:3'],
        ['UNSUBSCRIBE', 'other'],
        ['PING'],
      ]);
      return out;
    } finally {
      socket.close();
    }
  };
  const direct = await frames(redisPort);
  assert.ok(
    direct.some((frame) => frame.startsWith('-NOPERM')),
    'the sequence has refusals',
  );
  assert.deepEqual(await frames(env.port), direct);
});
