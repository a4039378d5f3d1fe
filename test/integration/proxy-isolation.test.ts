// The isolation invariant, tried as a hostile but ordinary client would: every
// command of the policy table that is not routed by its keys (answered by
// Slotway, refused, a mode, every master, out of band, keyless) is sent by
// one client, with the arguments that would do harm where there are such,
// while two other clients pipeline SET/GET of their own keys. Every checker
// reply must be its own, and the nodes' state must not change: ACL users,
// configuration, keys that nobody touched, and the state of Slotway's own
// connections on each node (database, subscriptions, transaction, user,
// protocol, name, flags).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { Route, type CommandSpec } from '../../src/commands/command-spec.js';
import { CommandTable } from '../../src/commands/command-table.js';
import { RespSocket } from '../helpers/resp-socket.js';
import { startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';

/** Arguments that would do harm on a shared connection or a node, where a command has such. */
const HARMFUL: Readonly<Record<string, readonly string[]>> = {
  'script|debug': ['SCRIPT', 'DEBUG', 'YES'],
  'client|reply': ['CLIENT', 'REPLY', 'OFF'],
  'client|pause': ['CLIENT', 'PAUSE', '3000'],
  // LADDR of a node (filled in below): on that node it would kill every connection, Slotway's too;
  // through Slotway it names no client (Slotway's clients reach Slotway, not the node). KILL TYPE
  // normal would close the checkers: killing Slotway's clients is CLIENT KILL's job.
  'client|kill': ['CLIENT', 'KILL', 'LADDR', '(a node)'],
  'client|tracking': ['CLIENT', 'TRACKING', 'ON'],
  'client|no-evict': ['CLIENT', 'NO-EVICT', 'ON'],
  'client|setname': ['CLIENT', 'SETNAME', 'attacker'],
  'acl|setuser': ['ACL', 'SETUSER', 'default', 'resetpass', '>x'],
  'acl|deluser': ['ACL', 'DELUSER', 'someone'],
  select: ['SELECT', '1'],
  hello: ['HELLO', '3'],
  'config|set': ['CONFIG', 'SET', 'maxmemory', '1'],
  'config|resetstat': ['CONFIG', 'RESETSTAT'],
  wait: ['WAIT', '5', '0'],
  subscribe: ['SUBSCRIBE', 'iso:channel'],
  psubscribe: ['PSUBSCRIBE', 'iso:*'],
  ssubscribe: ['SSUBSCRIBE', 'iso:shard'],
  'cluster|reset': ['CLUSTER', 'RESET', 'HARD'],
  'cluster|failover': ['CLUSTER', 'FAILOVER', 'FORCE'],
  'cluster|forget': ['CLUSTER', 'FORGET', '0000000000000000000000000000000000000000'],
  replicaof: ['REPLICAOF', '127.0.0.1', '1'],
  slaveof: ['SLAVEOF', '127.0.0.1', '1'],
  shutdown: ['SHUTDOWN', 'NOSAVE'],
  debug: ['DEBUG', 'SLEEP', '2'],
  failover: ['FAILOVER'],
  flushall: ['FLUSHALL'],
  flushdb: ['FLUSHDB'],
  'memory|purge': ['MEMORY', 'PURGE'],
  'latency|reset': ['LATENCY', 'RESET'],
  'slowlog|reset': ['SLOWLOG', 'RESET'],
  'module|load': ['MODULE', 'LOAD', '/nonexistent.so'],
  migrate: ['MIGRATE', '127.0.0.1', '1', 'iso:witness:0', '0', '100'],
  swapdb: ['SWAPDB', '0', '1'],
  move: ['MOVE', 'iso:witness:0', '1'],
  save: ['SAVE'],
  bgsave: ['BGSAVE'],
  bgrewriteaof: ['BGREWRITEAOF'],
};

/** The command as sent: its harmful form, or its name with placeholder arguments enough for its arity. */
function attackFor(spec: CommandSpec): string[] {
  const harmful = HARMFUL[spec.name];
  if (harmful !== undefined) return harmful.map((word) => (word === '(a node)' ? nodeAddress : word));
  const words = spec.name.split('|').map((word) => word.toUpperCase());
  const wanted = Math.abs(spec.arity);
  while (words.length < wanted) words.push('x');
  return words;
}

/** Every command of the table that does not go by its keys to their slot's master: where isolation could break. */
function attacks(): { name: string; words: string[] }[] {
  const table = new CommandTable();
  const chosen: { name: string; words: string[] }[] = [];
  for (const spec of table.specs()) {
    const keyed = spec.route === Route.ByKey && (spec.keySpecs.length > 0 || spec.customKeys !== null);
    if (keyed || spec.split !== null) continue;
    chosen.push({ name: spec.name, words: attackFor(spec) });
  }
  // Names no Redis has, and subcommands no container has, must not reach a node either.
  chosen.push(
    { name: '(unknown)', words: ['NOSUCHCOMMAND', 'a', 'b'] },
    { name: '(unknown sub)', words: ['CLIENT', 'NOSUCH', 'x'] },
  );
  return chosen;
}

/** The per-connection state a client could change, of every connection on `node` but the observer's own. */
async function connectionStates(node: Redis): Promise<Map<string, string>> {
  const list = String(await node.call('CLIENT', 'LIST'));
  const states = new Map<string, string>();
  for (const line of list.split('\n')) {
    const fields = new Map(
      line
        .trim()
        .split(' ')
        .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
    );
    const name = fields.get('name') ?? '';
    if (!fields.has('id') || name === 'iso-observer' || name === 'slotway-topology') continue;
    const state = ['name', 'db', 'sub', 'psub', 'multi', 'user', 'resp', 'flags']
      .map((key) => `${key}=${fields.get(key) ?? ''}`)
      .join(' ');
    states.set(fields.get('id') as string, state);
  }
  return states;
}

/** What a client could change of a node: its ACL users, configuration and slow log settings. */
async function nodeState(node: Redis): Promise<string> {
  // Slotway's own script users (script-identity.ts) are Slotway's doing, not a client's; Redis
  // lists their rules in an order of its own, so they are compared as sets of words.
  const acl = ((await node.call('ACL', 'LIST')) as string[]).map((line) =>
    line.startsWith('user slotway-script-') ? line.split(' ').sort().join(' ') : line,
  );
  const config = (await node.call('CONFIG', 'GET', '*')) as string[];
  const pairs: string[] = [];
  // Fields that move on their own (the config epoch file, timers) are not a client's doing.
  for (let i = 0; i + 1 < config.length; i += 2)
    if (config[i] !== 'cluster-announce-hostname') pairs.push(`${config[i]}=${config[i + 1]}`);
  return JSON.stringify({ acl, config: pairs.sort() });
}

let env: ProxyCluster;
let observers: Redis[] = [];
/** host:port of the first master. */
let nodeAddress = '';

before(async () => {
  env = await startProxyCluster({ maxWaitMs: 200 });
  const masters = await env.cluster.masters();
  nodeAddress = `${masters[0]?.host}:${masters[0]?.port}`;
  observers = masters.map(
    (master) => new Redis({ host: master.host, port: master.port, connectionName: 'iso-observer' }),
  );
});

after(async () => {
  for (const observer of observers) observer.disconnect();
  await env?.close();
});

test('no command from one client changes what other clients see, or the nodes', { timeout: 240_000 }, async () => {
  const witness = env.client();
  const witnesses = Array.from({ length: 60 }, (_, i) => `iso:witness:${i}`);
  for (const key of witnesses) await witness.set(key, `kept:${key}`);
  // Warm every master's shared connection so its state is there to compare.
  for (const key of witnesses) await witness.get(key);
  // And the script connections (run as Slotway's script user, which it creates on each master).
  for (const key of witnesses) await witness.eval('return 1', 1, key);
  const nodesBefore = await Promise.all(observers.map(nodeState));
  const connectionsBefore = await Promise.all(observers.map(connectionStates));

  let running = true;
  let checked = 0;
  const foreign: string[] = [];
  async function checker(id: number): Promise<void> {
    const client = env.client();
    for (let round = 0; running; round++) {
      const pipeline = client.pipeline();
      // A script too: a debugger or another user on the shared connection would answer it.
      for (let i = 0; i < 20; i++) {
        const key = `iso:checker:${id}:${i}`;
        pipeline.set(key, `v:${id}:${round}:${i}`).get(key).eval('return ARGV[1]', 1, key, `e:${id}:${round}:${i}`);
      }
      const replies = (await pipeline.exec()) ?? [];
      for (let i = 0; i < 20; i++) {
        const [setError, setReply] = replies[3 * i] ?? [];
        const [getError, getReply] = replies[3 * i + 1] ?? [];
        const [evalError, evalReply] = replies[3 * i + 2] ?? [];
        checked += 3;
        if (setError !== null || setReply !== 'OK')
          foreign.push(`checker ${id} SET got ${String(setError ?? setReply)}`);
        if (getError !== null || getReply !== `v:${id}:${round}:${i}`)
          foreign.push(`checker ${id} GET got ${String(getError ?? getReply)}`);
        if (evalError !== null || evalReply !== `e:${id}:${round}:${i}`)
          foreign.push(`checker ${id} EVAL got ${String(evalError ?? evalReply)}`);
      }
    }
  }
  const checkers = [checker(1), checker(2)];

  const tried = attacks();
  const answers = new Map<string, string>();
  for (const { name, words } of tried) {
    const attacker = await RespSocket.connect(env.port);
    attacker.send(...words);
    try {
      answers.set(name, (await attacker.next(3000)).toString('latin1').split('\r\n')[0] ?? '');
    } catch (error) {
      answers.set(name, `(no reply: ${(error as Error).message})`);
    } finally {
      attacker.close();
    }
  }
  // The checkers keep going a moment after the last attack: a delayed effect would show.
  await new Promise((resolve) => setTimeout(resolve, 500));
  running = false;
  await Promise.all(checkers);

  console.log(
    `isolation: ${tried.length} commands tried, ${checked} checker replies checked, ${foreign.length} foreign`,
  );
  assert.deepEqual(foreign.slice(0, 10), [], 'every checker reply is its own');
  assert.ok(checked > 1000, `the checkers ran throughout (${checked} replies)`);
  for (const key of witnesses) assert.equal(await witness.get(key), `kept:${key}`, `${key} is untouched`);
  assert.deepEqual(
    await Promise.all(observers.map(nodeState)),
    nodesBefore,
    'ACL users and configuration of every master are unchanged',
  );
  const connectionsAfter = await Promise.all(observers.map(connectionStates));
  connectionsBefore.forEach((before, n) => {
    for (const [id, state] of before) {
      const now = connectionsAfter[n]?.get(id);
      if (now !== undefined) assert.equal(now, state, `Slotway's connection ${id} on master ${n} keeps its state`);
    }
  });
  // The harmful forms got an answer from Slotway (refused or its own), never a node's.
  for (const name of ['script|debug', 'client|pause', 'acl|setuser', 'select', 'config|set', 'debug', 'shutdown']) {
    assert.match(answers.get(name) ?? '', /^-/, `${name} is refused: ${answers.get(name)}`);
  }
  // CLIENT REPLY OFF is Slotway's (the nodes' connections keep their reply mode, checked above): no reply, as in Redis.
  assert.match(answers.get('client|reply') ?? '', /^\(no reply/, `client|reply: ${answers.get('client|reply')}`);
  assert.equal(answers.get('client|kill'), ':0', "CLIENT KILL LADDR of a node names none of Slotway's clients");
  assert.equal(answers.get('(unknown)'), "-ERR unknown command 'NOSUCHCOMMAND', with args beginning with: 'a' 'b' ");
  assert.equal(answers.get('(unknown sub)'), "-ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP.");
});
