// CLIENT over Slotway's own clients, in Redis's formats: LIST and INFO lines
// with a node's fields in a node's order, KILL with its filters and who may
// use them, UNBLOCK of a client blocked on a lease (the node answers the
// blocked command itself), PAUSE that holds writes but not reads, REPLY
// OFF/SKIP/ON, and BullMQ's getWorkers, which reads CLIENT LIST.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { RespSocket } from '../helpers/resp-socket.js';
import { sleep, startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';

const dir = mkdtempSync(join(tmpdir(), 'slotway-client-command-'));
const usersFile = join(dir, 'users.acl');
// default and ops are admins of the users file; app may use CLIENT KILL and UNBLOCK but is no admin.
writeFileSync(
  usersFile,
  [
    'user default on nopass ~* &* +@all',
    'user ops on >ops ~* &* +@all',
    'user app on >app ~* &* +@all -@admin +client|kill +client|unblock +client|pause +client|info',
    '',
  ].join('\n'),
);

let env: ProxyCluster;
let node: Redis;

before(async () => {
  env = await startProxyCluster({ usersFile, denyCommands: [] }, { replicasPerMaster: 0 });
  const [master] = await env.cluster.masters();
  assert.ok(master !== undefined);
  node = new Redis({ host: master.host, port: master.port });
});

after(async () => {
  node?.disconnect();
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A CLIENT LIST line as name/value pairs, in order. */
function fields(line: string): [string, string][] {
  return line
    .trim()
    .split(' ')
    .map((pair): [string, string] => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]);
}

function lineOf(list: string, id: number): Map<string, string> | undefined {
  const line = list.split('\n').find((l) => l.startsWith(`id=${id} `));
  return line === undefined ? undefined : new Map(fields(line));
}

async function connect(user?: string, password?: string): Promise<RespSocket> {
  const socket = await RespSocket.connect(env.port);
  if (user !== undefined) assert.equal(await socket.call('AUTH', user, password ?? ''), '+OK\r\n');
  return socket;
}

/** A bulk string or RESP3 verbatim reply's text. */
function text(reply: string): string {
  const body = reply.slice(reply.indexOf('\r\n') + 2, -2);
  return reply.startsWith('=') ? body.slice(4) : body;
}

async function idOf(socket: RespSocket): Promise<number> {
  return Number((await socket.call('CLIENT', 'ID')).slice(1, -2));
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test("CLIENT INFO and LIST: a node's fields in a node's order (plus 7.2's lib-name, lib-ver), with Slotway's values", async () => {
  const nodeLine = String(await node.call('CLIENT', 'INFO'));
  const nodeNames = fields(nodeLine).map(([name]) => name);
  const client = await connect();
  try {
    assert.equal(await client.call('CLIENT', 'SETNAME', 'lister'), '+OK\r\n');
    assert.equal(await client.call('CLIENT', 'SETINFO', 'lib-name', 'mylib'), '+OK\r\n');
    const id = await idOf(client);
    const info = text(await client.call('CLIENT', 'INFO'));
    assert.ok(info.endsWith('\n'));
    const own = fields(info);
    assert.deepEqual(
      own.map(([name]) => name),
      [...nodeNames, 'lib-name', 'lib-ver'],
    );
    const values = new Map(own);
    assert.equal(values.get('id'), String(id));
    assert.equal(values.get('name'), 'lister');
    assert.equal(values.get('laddr'), `127.0.0.1:${env.port}`);
    assert.equal(values.get('flags'), 'N');
    assert.equal(values.get('db'), '0');
    assert.equal(values.get('multi'), '-1');
    assert.equal(values.get('cmd'), 'client|info');
    assert.equal(values.get('user'), 'default');
    assert.equal(values.get('resp'), '2');
    assert.equal(values.get('lib-name'), 'mylib');
    assert.match(values.get('addr') ?? '', /^127\.0\.0\.1:\d+$/);

    // A subscriber, a client in MULTI and a blocked one, each with its flags and counts.
    const subscriber = await connect();
    const inMulti = await connect();
    const blocked = await connect();
    try {
      // Ids first: a RESP2 subscriber may only (un)subscribe, PING and QUIT.
      const subId = await idOf(subscriber);
      const multiId = await idOf(inMulti);
      subscriber.send('SUBSCRIBE', 'ch:a', 'ch:b');
      await subscriber.next();
      await subscriber.next();
      subscriber.send('PSUBSCRIBE', 'pat:*');
      await subscriber.next();
      assert.equal(await inMulti.call('MULTI'), '+OK\r\n');
      assert.equal(await inMulti.call('SET', 'client:multi', '1'), '+QUEUED\r\n');
      assert.equal(await inMulti.call('GET', 'client:multi'), '+QUEUED\r\n');
      blocked.send('BLPOP', 'client:list:blocked', '0');
      let list = '';
      await waitFor('the blocked client', async () => {
        list = text(await client.call('CLIENT', 'LIST'));
        return /flags=b /.test(list);
      });
      const sub = lineOf(list, subId);
      assert.equal(sub?.get('flags'), 'P');
      assert.equal(sub?.get('sub'), '2');
      assert.equal(sub?.get('psub'), '1');
      assert.equal(sub?.get('cmd'), 'psubscribe');
      const multi = lineOf(list, multiId);
      assert.equal(multi?.get('flags'), 'x');
      assert.equal(multi?.get('multi'), '2');
      assert.equal(lineOf(list, id)?.get('cmd'), 'client|list');
      assert.ok(
        list.split('\n').some((line) => line.includes(' flags=b ') && line.includes(' cmd=blpop ')),
        'the blocked client is listed with b and its command',
      );

      // Filters: TYPE pubsub lists the subscriber only; ID lists those asked, in the order asked.
      const pubsub = text(await client.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
      assert.deepEqual(
        pubsub
          .trim()
          .split('\n')
          .map((line) => line.split(' ')[0]),
        [`id=${subId}`],
      );
      assert.equal(text(await client.call('CLIENT', 'LIST', 'TYPE', 'master')), '');
      const byId = text(await client.call('CLIENT', 'LIST', 'ID', String(multiId), String(id), '999999'));
      assert.deepEqual(
        byId
          .trim()
          .split('\n')
          .map((line) => line.split(' ')[0]),
        [`id=${multiId}`, `id=${id}`],
      );
      // Redis's errors.
      assert.equal(await client.call('CLIENT', 'LIST', 'TYPE', 'bogus'), "-ERR Unknown client type 'bogus'\r\n");
      assert.equal(await client.call('CLIENT', 'LIST', 'ID', 'abc'), '-ERR Invalid client ID\r\n');
      assert.equal(await client.call('CLIENT', 'LIST', 'ID'), '-ERR syntax error\r\n');
    } finally {
      subscriber.close();
      inMulti.close();
      blocked.close();
    }
    // RESP3: a verbatim string, as Redis sends it.
    await client.call('HELLO', '3');
    const verbatim = await client.call('CLIENT', 'INFO');
    assert.match(verbatim, /^=\d+\r\ntxt:id=/);
    assert.equal(new Map(fields(text(verbatim))).get('resp'), '3');
  } finally {
    client.close();
  }
});

test('CLIENT GETNAME, SETNAME, ID, NO-EVICT, NO-TOUCH are per client', async () => {
  const a = await connect();
  const b = await connect();
  try {
    assert.equal(await a.call('CLIENT', 'SETNAME', 'alpha'), '+OK\r\n');
    assert.equal(await a.call('CLIENT', 'GETNAME'), '$5\r\nalpha\r\n');
    assert.equal(await b.call('CLIENT', 'GETNAME'), '$-1\r\n');
    assert.notEqual(await idOf(a), await idOf(b));
    // Nothing that would break a CLIENT LIST line apart (Redis 7.2's SETINFO check, SETNAME's).
    assert.equal(
      await a.call('CLIENT', 'SETINFO', 'lib-name', 'my lib'),
      '-ERR lib-name cannot contain spaces, newlines or special characters.\r\n',
    );
    assert.match(await a.call('CLIENT', 'SETNAME', 'two words'), /^-ERR Client names cannot contain spaces/);
    assert.equal(await a.call('CLIENT', 'NO-EVICT', 'on'), '+OK\r\n');
    assert.equal(await a.call('CLIENT', 'NO-TOUCH', 'on'), '+OK\r\n');
  } finally {
    a.close();
    b.close();
  }
});

test('CLIENT KILL: by ID, ADDR (old and new forms), USER, SKIPME; a non-admin only kills its own user', async () => {
  const admin = await connect();
  try {
    // ID: the count, and the victim is closed.
    const victim = await connect();
    assert.equal(await admin.call('CLIENT', 'KILL', 'ID', String(await idOf(victim))), ':1\r\n');
    await waitFor('the killed client to close', () => victim.closed);
    assert.equal(await admin.call('CLIENT', 'KILL', 'ID', '999999'), ':0\r\n');

    // The old form by address: +OK, or Redis's error when nobody has it.
    const byAddr = await connect();
    const addr = new Map(fields(text(await byAddr.call('CLIENT', 'INFO')))).get('addr') ?? '';
    assert.equal(await admin.call('CLIENT', 'KILL', addr), '+OK\r\n');
    await waitFor('the client killed by address', () => byAddr.closed);
    assert.equal(await admin.call('CLIENT', 'KILL', addr), '-ERR No such client\r\n');
    const byNewAddr = await connect();
    const addr2 = new Map(fields(text(await byNewAddr.call('CLIENT', 'INFO')))).get('addr') ?? '';
    assert.equal(await admin.call('CLIENT', 'KILL', 'ADDR', addr2, 'SKIPME', 'yes'), ':1\r\n');
    await waitFor('the client killed by ADDR', () => byNewAddr.closed);

    // USER: every client of that user; the sender is skipped unless SKIPME no.
    const apps = [await connect('app', 'app'), await connect('app', 'app')];
    const other = await connect('ops', 'ops');
    assert.equal(await admin.call('CLIENT', 'KILL', 'USER', 'app'), ':2\r\n');
    await waitFor('both app clients to close', () => apps.every((socket) => socket.closed));
    assert.equal(other.closed, false);
    assert.equal(await other.call('PING'), '+PONG\r\n');
    assert.equal(await admin.call('CLIENT', 'KILL', 'USER', 'nosuch'), "-ERR No such user 'nosuch'\r\n");

    // A non-admin: clients of other users are not counted (nor killed), its own user's are.
    const app = await connect('app', 'app');
    const appPeer = await connect('app', 'app');
    const opsId = await idOf(other);
    assert.equal(await app.call('CLIENT', 'KILL', 'ID', String(opsId)), ':0\r\n');
    const opsAddr = new Map(fields(text(await other.call('CLIENT', 'INFO')))).get('addr') ?? '';
    assert.equal(await app.call('CLIENT', 'KILL', opsAddr), '-ERR No such client\r\n');
    assert.equal(await other.call('PING'), '+PONG\r\n', 'the ops client lives on');
    assert.equal(await app.call('CLIENT', 'KILL', 'USER', 'app'), ':1\r\n', 'its peer, not itself (SKIPME yes)');
    await waitFor('the app peer to close', () => appPeer.closed);
    assert.equal(app.closed, false);
    // SKIPME no: itself too, after the reply.
    assert.equal(await app.call('CLIENT', 'KILL', 'USER', 'app', 'SKIPME', 'no'), ':1\r\n');
    await waitFor('the app client to close itself', () => app.closed);
    // Redis's errors.
    assert.equal(await admin.call('CLIENT', 'KILL', 'ID', '0'), '-ERR client-id should be greater than 0\r\n');
    assert.equal(await admin.call('CLIENT', 'KILL', 'TYPE', 'bogus'), "-ERR Unknown client type 'bogus'\r\n");
    assert.equal(await admin.call('CLIENT', 'KILL', 'SKIPME', 'maybe'), '-ERR syntax error\r\n');
    assert.equal(await admin.call('CLIENT', 'KILL', 'ID', '1', 'TYPE'), '-ERR syntax error\r\n');
    other.close();
  } finally {
    admin.close();
  }
});

test('CLIENT KILL of a blocked client gives its lease back: the node drops the connection', async () => {
  const admin = await connect();
  try {
    // Blocked clients of the tests before have gone (their leases closed) before this one counts.
    await waitFor('no client blocked on the node', async () => (await blockedOnNode()) === 0);
    const before = 0;
    const blocked = await connect();
    // A key of the node `node` is: the cluster's first master.
    const key = await keyOnNode();
    blocked.send('BLPOP', key, '0');
    await waitFor('BLPOP to block on the node', async () => (await blockedOnNode()) > before);
    assert.equal(await admin.call('CLIENT', 'KILL', 'ID', String(await idOfBlocked())), ':1\r\n');
    await waitFor('the node to drop the lease', async () => (await blockedOnNode()) === before);
  } finally {
    admin.close();
  }
});

async function blockedOnNode(): Promise<number> {
  const info = String(await node.call('INFO', 'clients'));
  return Number(
    info
      .split('\r\n')
      .find((line) => line.startsWith('blocked_clients:'))
      ?.split(':')[1],
  );
}

/** The id of the (one) client Slotway lists as blocked. */
async function idOfBlocked(): Promise<number> {
  const list = String(await env.client().call('CLIENT', 'LIST'));
  const line = list.split('\n').find((l) => l.includes(' flags=b '));
  assert.ok(line !== undefined, 'a blocked client is listed');
  return Number(new Map(fields(line)).get('id'));
}

/** A key whose slot the node `node` serves. */
async function keyOnNode(prefix = 'client:blocked'): Promise<string> {
  const { default: calculateSlot } = await import('cluster-key-slot');
  const slots = (await node.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  const port = Number(node.options.port);
  const own = slots.filter(([, , [, p]]) => p === port);
  for (let i = 0; ; i++) {
    const key = `${prefix}:${i}`;
    const slot = calculateSlot(key);
    if (own.some(([first, last]) => slot >= first && slot <= last)) return key;
  }
}

test('CLIENT UNBLOCK: TIMEOUT gives the blocked client nil, ERROR -UNBLOCKED; nothing pushed meanwhile is lost', async () => {
  const admin = await connect();
  const blocked = await connect();
  try {
    const key = await keyOnNode('client:unblock');
    const blockedId = await idOf(blocked);
    assert.equal(await admin.call('CLIENT', 'UNBLOCK', String(blockedId)), ':0\r\n', 'not blocked: 0');

    for (const [reason, expected] of [
      ['TIMEOUT', '*-1\r\n'],
      ['ERROR', '-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n'],
    ] as const) {
      const before = await blockedOnNode();
      blocked.send('BLPOP', key, '0');
      await waitFor('BLPOP to block on the node', async () => (await blockedOnNode()) > before);
      // A user that is no admin may not unblock another user's client: not counted.
      const app = await connect('app', 'app');
      assert.equal(await app.call('CLIENT', 'UNBLOCK', String(blockedId), reason), ':0\r\n');
      app.close();
      assert.equal(blocked.buffered, 0, 'still blocked');
      assert.equal(await admin.call('CLIENT', 'UNBLOCK', String(blockedId), reason), ':1\r\n');
      assert.equal((await blocked.next()).toString(), expected, reason);
      assert.equal(await blocked.call('PING'), '+PONG\r\n', 'the client goes on');
    }

    // A push and an UNBLOCK at once: the element is either served to the blocked client or still in the list.
    const pusher = env.client();
    const outcomes = { unblockedFirst: 0, servedFirst: 0 };
    for (let round = 0; round < 20; round++) {
      const before = await blockedOnNode();
      blocked.send('BLPOP', key, '0');
      await waitFor('BLPOP to block on the node', async () => (await blockedOnNode()) > before);
      const value = `v${round}`;
      // Sent together, or the push first (the node serves the element; Slotway may not have its reply yet).
      const unblock = (): Promise<string> => admin.call('CLIENT', 'UNBLOCK', String(blockedId), 'TIMEOUT');
      const [unblocked] =
        round % 2 === 0
          ? await Promise.all([unblock(), pusher.rpush(key, value)])
          : [await pusher.rpush(key, value).then(unblock)];
      const reply = (await blocked.next()).toString();
      const left = await pusher.lrange(key, 0, -1);
      if (reply === '*-1\r\n') {
        assert.deepEqual(left, [value], `round ${round}: unblocked first, the element is still there`);
        assert.equal(unblocked, ':1\r\n');
        await pusher.del(key);
        outcomes.unblockedFirst++;
      } else {
        outcomes.servedFirst++;
        assert.equal(reply, `*2\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n${value}\r\n`, `round ${round}`);
        assert.deepEqual(left, []);
        assert.equal(unblocked, ':0\r\n', `round ${round}: nothing left blocked to unblock`);
      }
    }
    console.log(`UNBLOCK racing a push, 20 rounds: ${JSON.stringify(outcomes)}`);
    assert.equal(await admin.call('CLIENT', 'UNBLOCK', 'abc'), '-ERR value is not an integer or out of range\r\n');
    assert.equal(
      await admin.call('CLIENT', 'UNBLOCK', '1', 'NOW'),
      '-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n',
    );
  } finally {
    admin.close();
    blocked.close();
  }
});

test('CLIENT PAUSE WRITE holds a SET but not a GET, until its timeout; admins of the users file only', async () => {
  const admin = await connect();
  const writer = await connect();
  const writerId = await idOf(writer);
  const reader = await connect();
  const app = await connect('app', 'app');
  try {
    assert.match(await app.call('CLIENT', 'PAUSE', '100'), /^-NOPERM CLIENT PAUSE /);
    assert.equal(await writer.call('SET', 'client:pause', 'before'), '+OK\r\n');
    const pausedAt = Date.now();
    assert.equal(await admin.call('CLIENT', 'PAUSE', '1000', 'WRITE'), '+OK\r\n');
    writer.send('SET', 'client:pause', 'during');
    assert.equal(await reader.call('GET', 'client:pause'), '$6\r\nbefore\r\n', 'reads go on, the SET waits');
    assert.ok(Date.now() - pausedAt < 600, 'the GET was not held');
    assert.equal(await env.direct().get('client:pause'), 'before', 'the SET has not reached the node');
    // The held client is not read from (no r in events): what waits is bounded by its socket.
    const writerLine = lineOf(text(await admin.call('CLIENT', 'LIST')), writerId);
    assert.equal(writerLine?.get('events'), '');
    assert.equal(writerLine?.get('cmd'), 'set');
    // Redis counts a client held by a pause in blocked_clients (Redis's own tests wait on it).
    assert.match(text(await admin.call('INFO', 'clients')), /\r\nblocked_clients:1\r\n/);
    assert.equal((await writer.next(3000)).toString(), '+OK\r\n');
    const heldMs = Date.now() - pausedAt;
    assert.ok(heldMs >= 950, `the SET was held until the timeout (${heldMs} ms)`);
    assert.equal(await env.direct().get('client:pause'), 'during');

    // Transactions, as Redis: a write queued in MULTI is held, and EXEC of a transaction that queued one;
    // a read-only transaction goes through.
    const queuedBefore = await connect();
    const queuingDuring = await connect();
    const readOnly = await connect();
    try {
      assert.equal(await queuedBefore.call('MULTI'), '+OK\r\n');
      assert.equal(await queuedBefore.call('SET', 'client:pause:tx', '1'), '+QUEUED\r\n');
      assert.equal(await queuingDuring.call('MULTI'), '+OK\r\n');
      const txAt = Date.now();
      assert.equal(await admin.call('CLIENT', 'PAUSE', '800', 'WRITE'), '+OK\r\n');
      queuedBefore.send('EXEC');
      queuingDuring.send('SET', 'client:pause:tx2', '1');
      assert.equal(await readOnly.call('MULTI'), '+OK\r\n');
      assert.equal(await readOnly.call('GET', 'client:pause:tx'), '+QUEUED\r\n');
      assert.equal(await readOnly.call('EXEC'), '*1\r\n$-1\r\n');
      assert.ok(Date.now() - txAt < 500, 'the read-only transaction was not held');
      assert.equal(queuedBefore.buffered + queuingDuring.buffered, 0, 'EXEC and the queued SET are held');
      assert.equal((await queuedBefore.next(3000)).toString(), '*1\r\n+OK\r\n');
      assert.equal((await queuingDuring.next(3000)).toString(), '+QUEUED\r\n');
      assert.ok(Date.now() - txAt >= 750, 'held until the timeout');
    } finally {
      queuedBefore.close();
      queuingDuring.close();
      readOnly.close();
    }

    // ALL holds reads too; UNPAUSE is held with everything else, as in Redis, so the pause ends at its timeout.
    const allAt = Date.now();
    assert.equal(await admin.call('CLIENT', 'PAUSE', '300', 'ALL'), '+OK\r\n');
    assert.equal(await reader.call('GET', 'client:pause'), '$6\r\nduring\r\n');
    assert.ok(Date.now() - allAt >= 250, 'the GET was held under ALL');
    // UNPAUSE ends a WRITE pause at once.
    assert.equal(await admin.call('CLIENT', 'PAUSE', '5000', 'WRITE'), '+OK\r\n');
    writer.send('SET', 'client:pause', 'unpaused');
    await sleep(100);
    assert.equal(writer.buffered, 0, 'held');
    const unpauseAt = Date.now();
    assert.equal(await admin.call('CLIENT', 'UNPAUSE'), '+OK\r\n');
    assert.equal((await writer.next(3000)).toString(), '+OK\r\n');
    assert.ok(Date.now() - unpauseAt < 1000);
    assert.equal(await admin.call('CLIENT', 'PAUSE', '10', 'SOME'), '-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n');
    assert.equal(await admin.call('CLIENT', 'PAUSE', '-1'), '-ERR timeout is negative\r\n');
  } finally {
    await admin.call('CLIENT', 'UNPAUSE').catch(() => '');
    admin.close();
    writer.close();
    reader.close();
    app.close();
  }
});

test('CLIENT REPLY OFF, SKIP, ON: the commands run, their replies are dropped as Redis drops them', async () => {
  const client = await connect();
  try {
    client.send('CLIENT', 'REPLY', 'OFF');
    client.send('SET', 'client:reply', 'off');
    client.send('CLIENT', 'REPLY', 'SKIP');
    client.send('PING', 'dropped');
    client.send('CLIENT', 'REPLY', 'ON');
    assert.equal((await client.next()).toString(), '+OK\r\n', 'only ON answers');
    assert.equal(await env.direct().get('client:reply'), 'off', 'the SET ran');
    client.send('CLIENT', 'REPLY', 'SKIP');
    client.send('SET', 'client:reply', 'skipped');
    client.send('PING', 'seen');
    assert.equal((await client.next()).toString(), '$4\r\nseen\r\n');
    assert.equal(await env.direct().get('client:reply'), 'skipped');
    // Two SKIPs: the second is the one skipped, the command after it is answered.
    client.send('CLIENT', 'REPLY', 'SKIP');
    client.send('CLIENT', 'REPLY', 'SKIP');
    client.send('PING', 'x');
    client.send('PING', 'y');
    assert.equal((await client.next()).toString(), '$1\r\ny\r\n');
    assert.equal(await client.call('CLIENT', 'REPLY', 'MAYBE'), '-ERR syntax error\r\n');
    assert.equal(client.buffered, 0);
  } finally {
    client.close();
  }
});

test(
  "BullMQ's getWorkers and getWorkersCount list a Worker connected through Slotway",
  { timeout: 30_000 },
  async () => {
    const connection = { host: '127.0.0.1', port: env.port, maxRetriesPerRequest: null };
    // BullMQ's scripts take several keys of a queue: a hash tag keeps them in one slot, as its docs ask for a cluster.
    const prefix = '{bullmq}';
    const queue = new Queue('client-list-queue', { connection, prefix });
    const worker = new Worker('client-list-queue', () => Promise.resolve('done'), { connection, prefix, name: 'w1' });
    try {
      await worker.waitUntilReady();
      // The worker really works through Slotway: a job goes round.
      const completed = new Promise<string>((resolve) =>
        worker.once('completed', (_job, result: string) => resolve(result)),
      );
      await queue.add('job', { n: 1 });
      assert.equal(await completed, 'done');
      let workers: { name: string; rawname?: string }[] = [];
      await waitFor('the worker to be listed', async () => {
        workers = (await queue.getWorkers()) as { name: string; rawname?: string }[];
        return workers.length > 0;
      });
      assert.equal(workers.length, 1);
      assert.equal(workers[0]?.name, 'client-list-queue');
      assert.match(workers[0]?.rawname ?? '', /:w:w1$/);
      assert.equal(await queue.getWorkersCount(), 1);
    } finally {
      await worker.close();
      await queue.close();
    }
  },
);
