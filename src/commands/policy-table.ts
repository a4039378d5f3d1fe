// The policy of every command and subcommand Redis 7.0 has (and of those
// 7.2, 7.4 and 8.x added), one row each: an allow-list. A command without a
// row is refused (command-table.ts), and test/unit/commands/policy-table.test.ts
// fails when Redis's table has a name this file does not classify.
//
// The isolation invariant decides the rows: every client shares each master's
// pipelined connection, so nothing here may change that connection's state
// (reply mode, debugger, user, database, protocol, transaction, subscription)
// or the node's configuration behind the operator's back. Such commands are
// answered by Slotway, leased, sent to every master, or refused with a reason.
import * as errors from '../protocol/errors.js';
import { bytesEqualIgnoreCase } from '../protocol/name-index.js';
import type { CommandArgs, CustomKeyFinder, EveryMasterMerge, KeyIndices } from './command-spec.js';
import { LocalAnswer, ModeCommand, ScriptEffect } from './policy.js';

/**
 * One row of the table. Every command and subcommand has exactly one:
 * - `key`: forwarded on the shared connection to the master of its keys' slot
 *   (keyless ones: to any master); Redis's `blocking` flag, or `blocksWith`,
 *   sends it on a lease of its own instead.
 * - `any-master`: keyless and harmless on a shared connection (COMMAND, TIME).
 * - `split`: keys may span slots; one part per slot, replies merged.
 * - `every-master`: sent to every master, replies merged; `admin` ones only
 *   for a users-file admin.
 * - `out-of-band`: sent at once to every master on a connection of its own
 *   (SCRIPT KILL: the shared one is stuck behind the script).
 * - `scan`: SCAN, one master at a time.
 * - `local`: answered by Slotway.
 * - `mode`: changes the client's connection mode (MULTI, SUBSCRIBE, MONITOR).
 * - `refuse`: never forwarded; `message` says why.
 */
export type Policy =
  | {
      readonly kind: 'key';
      readonly find?: CustomKeyFinder;
      readonly blocksWith?: string;
      readonly scripts?: ScriptEffect;
    }
  | { readonly kind: 'any-master' }
  | { readonly kind: 'split'; readonly step: number; readonly merge: 'values' | 'all-ok' | 'sum' }
  | {
      readonly kind: 'every-master';
      readonly merge: EveryMasterMerge;
      readonly admin?: boolean;
      readonly scripts?: ScriptEffect;
      /** Argument index of a timeout capped at --max-wait (WAIT). */
      readonly cappedTimeout?: number;
      /** WAIT: paced per master, one at a time and in slices, on the shared connections (router/replica-waits.ts). */
      readonly waitsForReplicas?: boolean;
    }
  /** SCRIPT KILL, FUNCTION KILL: replies merged as one Redis answers (router/out-of-band.ts). */
  | { readonly kind: 'out-of-band' }
  | { readonly kind: 'scan' }
  | {
      readonly kind: 'local';
      readonly answer: LocalAnswer;
      readonly waitsForIdle?: boolean;
      readonly inTransaction?: boolean;
    }
  | { readonly kind: 'mode'; readonly mode: ModeCommand }
  | { readonly kind: 'refuse'; readonly message: string };

/**
 * SORT key [BY p] [LIMIT o c] [GET p ...] [ASC|DESC] [ALPHA] [STORE dest]: the STORE key has no key spec.
 * As Redis's sortGetKeys: only the last STORE counts (SORT stores there), and the word after STORE is
 * still read as an option.
 */
function sortKeys(args: CommandArgs, keys: KeyIndices): number {
  if (args.argc < 2) return -1;
  keys.push(1);
  const buffer = args.frameBuffer;
  let store = -1;
  for (let i = 2; i < args.argc; i++) {
    const start = args.argStart[i] as number;
    const end = args.argEnd[i] as number;
    if (bytesEqualIgnoreCase(buffer, start, end, 'limit')) i += 2;
    else if (bytesEqualIgnoreCase(buffer, start, end, 'by') || bytesEqualIgnoreCase(buffer, start, end, 'get')) i += 1;
    else if (bytesEqualIgnoreCase(buffer, start, end, 'store') && i + 1 < args.argc) store = i + 1;
  }
  if (store >= 0) keys.push(store);
  return keys.count;
}

/** SORT_RO key ...: one key (Redis's sortROGetKeys); a STORE in it is a syntax error for the node to give. */
function sortReadOnlyKeys(args: CommandArgs, keys: KeyIndices): number {
  if (args.argc < 2) return -1;
  keys.push(1);
  return keys.count;
}

type Row = readonly [string, Policy];

function rows(policy: Policy, names: readonly string[]): Row[] {
  return names.map((name): Row => [name, policy]);
}

function local(answer: LocalAnswer, extra: { waitsForIdle?: boolean; inTransaction?: boolean } = {}): Policy {
  return { kind: 'local', answer, ...extra };
}

function refused(message: string): Policy {
  return { kind: 'refuse', message };
}

/** Refusals whose message names the command: one policy object per name. */
function refusedEach(message: (name: string) => string, names: readonly string[]): Row[] {
  return names.map((name): Row => [name, refused(message(name.replace('|', ' ')))]);
}

const BY_KEY: Policy = { kind: 'key' };
const ANY_MASTER: Policy = { kind: 'any-master' };
const CONTAINER: Policy = local(LocalAnswer.Container);

/** Data commands: the master of their keys' slot, on the shared connection (blocking ones on a lease). */
const KEYED_COMMANDS = [
  'append',
  'bitcount',
  'bitfield',
  'bitfield_ro',
  'bitop',
  'bitpos',
  'copy',
  'decr',
  'decrby',
  'dump',
  'expire',
  'expireat',
  'expiretime',
  'get',
  'getbit',
  'getdel',
  'getex',
  'getrange',
  'getset',
  'incr',
  'incrby',
  'incrbyfloat',
  'lcs',
  'msetnx',
  'persist',
  'pexpire',
  'pexpireat',
  'pexpiretime',
  'psetex',
  'pttl',
  'rename',
  'renamenx',
  'restore',
  'set',
  'setbit',
  'setex',
  'setnx',
  'setrange',
  'strlen',
  'substr',
  'ttl',
  'type',
  'pfadd',
  'pfcount',
  'pfmerge',
  'geoadd',
  'geodist',
  'geohash',
  'geopos',
  'georadius',
  'georadius_ro',
  'georadiusbymember',
  'georadiusbymember_ro',
  'geosearch',
  'geosearchstore',
  'hdel',
  'hexists',
  'hget',
  'hgetall',
  'hincrby',
  'hincrbyfloat',
  'hkeys',
  'hlen',
  'hmget',
  'hmset',
  'hrandfield',
  'hscan',
  'hset',
  'hsetnx',
  'hstrlen',
  'hvals',
  'blmove',
  'blmpop',
  'blpop',
  'brpop',
  'brpoplpush',
  'lindex',
  'linsert',
  'llen',
  'lmove',
  'lmpop',
  'lpop',
  'lpos',
  'lpush',
  'lpushx',
  'lrange',
  'lrem',
  'lset',
  'ltrim',
  'rpop',
  'rpoplpush',
  'rpush',
  'rpushx',
  'sadd',
  'scard',
  'sdiff',
  'sdiffstore',
  'sinter',
  'sintercard',
  'sinterstore',
  'sismember',
  'smembers',
  'smismember',
  'smove',
  'spop',
  'srandmember',
  'srem',
  'sscan',
  'sunion',
  'sunionstore',
  'bzmpop',
  'bzpopmax',
  'bzpopmin',
  'zadd',
  'zcard',
  'zcount',
  'zdiff',
  'zdiffstore',
  'zincrby',
  'zinter',
  'zintercard',
  'zinterstore',
  'zlexcount',
  'zmpop',
  'zmscore',
  'zpopmax',
  'zpopmin',
  'zrandmember',
  'zrange',
  'zrangebylex',
  'zrangebyscore',
  'zrangestore',
  'zrank',
  'zrem',
  'zremrangebylex',
  'zremrangebyrank',
  'zremrangebyscore',
  'zrevrange',
  'zrevrangebylex',
  'zrevrangebyscore',
  'zrevrank',
  'zscan',
  'zscore',
  'zunion',
  'zunionstore',
  'xack',
  'xadd',
  'xautoclaim',
  'xclaim',
  'xdel',
  'xlen',
  'xpending',
  'xrange',
  'xrevrange',
  'xsetid',
  'xtrim',
  'xgroup|create',
  'xgroup|createconsumer',
  'xgroup|delconsumer',
  'xgroup|destroy',
  'xgroup|setid',
  'xinfo|consumers',
  'xinfo|groups',
  'xinfo|stream',
  'object|encoding',
  'object|freq',
  'object|idletime',
  'object|refcount',
  'memory|usage',
  // A shard channel lives on its slot's master.
  'spublish',
  // Scripts run with the rights of the node user they are sent as (see README, scripts).
  'eval',
  'eval_ro',
  'fcall',
  'fcall_ro',
];

/** Keyed commands Redis 7.2, 7.4 and 8.x added (hash field expiry, HGETDEL ..., stream deletion policies). */
const NEWER_KEYED_COMMANDS = [
  'hexpire',
  'hexpireat',
  'hexpiretime',
  'hpersist',
  'hpexpire',
  'hpexpireat',
  'hpexpiretime',
  'hpttl',
  'httl',
  'hgetdel',
  'hgetex',
  'hsetex',
  'xackdel',
  'xdelex',
];

/** Keyless commands that read nothing of a connection's or node's state worth a merge, and change none. */
const ANY_MASTER_COMMANDS = [
  'time',
  'lolwut',
  'publish',
  'command',
  'command|count',
  'command|docs',
  'command|getkeys',
  'command|getkeysandflags',
  'command|help',
  'command|info',
  'command|list',
  'client|help',
  'cluster|help',
  'config|help',
  'latency|help',
  'memory|help',
  'module|help',
  'module|list',
  'object|help',
  'script|help',
  'slowlog|help',
  'xgroup|help',
  'xinfo|help',
  'function|help',
  // Functions are loaded on every master alike (FUNCTION LOAD goes to all).
  'function|dump',
  'function|list',
  'function|stats',
  'pubsub|help',
];

/** Containers: their subcommands have rows of their own; the bare name (or an unknown subcommand) is answered here. */
const CONTAINERS = [
  'acl',
  'client',
  'cluster',
  'config',
  'function',
  'latency',
  'memory',
  'module',
  'object',
  'pubsub',
  'script',
  'slowlog',
  'xgroup',
  'xinfo',
];

const policyRows: Row[] = [
  ...rows(BY_KEY, KEYED_COMMANDS),
  ...rows(BY_KEY, NEWER_KEYED_COMMANDS),
  ['evalsha', { kind: 'key', scripts: ScriptEffect.ReloadOnNoScript }],
  ['evalsha_ro', { kind: 'key', scripts: ScriptEffect.ReloadOnNoScript }],
  ['sort', { kind: 'key', find: sortKeys }],
  ['sort_ro', { kind: 'key', find: sortReadOnlyKeys }],
  // XREAD blocks only with BLOCK: then it gets a connection of its own.
  ['xread', { kind: 'key', blocksWith: 'block' }],
  ['xreadgroup', { kind: 'key', blocksWith: 'block' }],
  ...rows(ANY_MASTER, ANY_MASTER_COMMANDS),
  ...rows(CONTAINER, CONTAINERS),

  // Split by slot and merged. MSETNX, RENAME, SMOVE ... stay CROSSSLOT: their meaning is atomic.
  ['mget', { kind: 'split', step: 1, merge: 'values' }],
  ['mset', { kind: 'split', step: 2, merge: 'all-ok' }],
  ...rows({ kind: 'split', step: 1, merge: 'sum' }, ['del', 'unlink', 'exists', 'touch']),

  // The whole keyspace: every master, replies merged.
  ['dbsize', { kind: 'every-master', merge: 'sum' }],
  ['keys', { kind: 'every-master', merge: 'concat' }],
  ['randomkey', { kind: 'every-master', merge: 'any-value' }],
  ['lastsave', { kind: 'every-master', merge: 'min' }],
  ...rows({ kind: 'every-master', merge: 'all-ok' }, ['flushall', 'flushdb']),
  ['scan', { kind: 'scan' }],
  // Scripts and functions exist on every master alike.
  ['script|load', { kind: 'every-master', merge: 'first', scripts: ScriptEffect.Remember }],
  ['script|exists', { kind: 'every-master', merge: 'and' }],
  ['script|flush', { kind: 'every-master', merge: 'all-ok', scripts: ScriptEffect.Forget }],
  ['function|load', { kind: 'every-master', merge: 'first' }],
  ...rows({ kind: 'every-master', merge: 'all-ok' }, ['function|delete', 'function|flush', 'function|restore']),
  // A busy script holds its master's shared connection: the kill goes around it.
  ...rows({ kind: 'out-of-band' }, ['script|kill', 'function|kill']),
  // WAIT counts acknowledgements of the writes on the connection it is sent
  // on, every master's shared one; the smallest count wins. Its timeout is
  // capped (--max-wait): the connection is shared.
  ['wait', { kind: 'every-master', merge: 'min', cappedTimeout: 2, waitsForReplicas: true }],
  // The slow log of the cluster: every master's entries, newest first.
  ['slowlog|get', { kind: 'every-master', merge: 'slowlog' }],
  ['slowlog|len', { kind: 'every-master', merge: 'slowlog-len' }],
  // Node reports, the cluster's (router/node-wide-merge.ts): merged where numbers add up, else each master's text.
  ['latency|latest', { kind: 'every-master', merge: 'latency-latest' }],
  ['latency|history', { kind: 'every-master', merge: 'latency-history' }],
  ['latency|histogram', { kind: 'every-master', merge: 'latency-histogram' }],
  ['memory|stats', { kind: 'every-master', merge: 'memory-stats' }],
  ...rows({ kind: 'every-master', merge: 'by-node' }, [
    'latency|doctor',
    'latency|graph',
    'memory|doctor',
    'memory|malloc-stats',
  ]),
  // Read-only, from one master, for whoever may run it; secrets emptied for non-admins.
  ['config|get', { kind: 'every-master', merge: 'config-get' }],
  // Pub/sub introspection of the cluster: each master knows only the subscriptions
  // made on it (router/pubsub-merge.ts says how the counts combine).
  ['pubsub|numsub', { kind: 'every-master', merge: 'numsub' }],
  ...rows({ kind: 'every-master', merge: 'union' }, ['pubsub|channels', 'pubsub|shardchannels']),
  ['pubsub|numpat', { kind: 'every-master', merge: 'max' }],
  // A shard channel lives on its slot's master: each one asked there, split by slot like MGET.
  ['pubsub|shardnumsub', { kind: 'every-master', merge: 'shard-pairs' }],

  // Node administration the operator may run through Slotway: every master alike, users-file admins only.
  ...rows({ kind: 'every-master', merge: 'all-ok', admin: true }, [
    'config|set',
    'config|rewrite',
    'config|resetstat',
    'memory|purge',
    'save',
  ]),
  ...rows({ kind: 'every-master', merge: 'first', admin: true }, ['bgsave', 'bgrewriteaof']),
  // Slotway's own slow log is emptied with the masters'.
  ['slowlog|reset', { kind: 'every-master', merge: 'slowlog-reset', admin: true }],
  ['latency|reset', { kind: 'every-master', merge: 'sum', admin: true }],

  // Answered by Slotway.
  ['ping', local(LocalAnswer.Ping, { inTransaction: true })],
  ['echo', local(LocalAnswer.Echo, { inTransaction: true })],
  ['quit', local(LocalAnswer.Quit)],
  ['select', local(LocalAnswer.Select)],
  // AUTH, HELLO and RESET change who the client is (and so the connections its commands take)
  // or how replies are encoded: earlier replies first.
  ['auth', local(LocalAnswer.Auth, { waitsForIdle: true })],
  ['hello', local(LocalAnswer.Hello, { waitsForIdle: true })],
  ['reset', local(LocalAnswer.Reset, { waitsForIdle: true })],
  ...rows(local(LocalAnswer.ReadMode), ['readonly', 'readwrite']),
  ['info', local(LocalAnswer.Info)],
  ['proxy', local(LocalAnswer.Proxy)],
  ['client|setname', local(LocalAnswer.ClientSetName)],
  ['client|getname', local(LocalAnswer.ClientGetName)],
  ['client|id', local(LocalAnswer.ClientId)],
  ['client|setinfo', local(LocalAnswer.ClientSetInfo)],
  ...rows(local(LocalAnswer.ClientFlag), ['client|no-evict', 'client|no-touch']),
  // Client-side caching: Slotway tracks what each client reads, the masters tell it what changed.
  ['client|tracking', local(LocalAnswer.ClientTracking)],
  ['client|trackinginfo', local(LocalAnswer.ClientTrackingInfo)],
  ['client|caching', local(LocalAnswer.ClientCaching)],
  ['client|getredir', local(LocalAnswer.ClientGetRedir)],
  // Over Slotway's own clients, never the nodes' (server/client-command.ts).
  ['client|list', local(LocalAnswer.ClientList)],
  ['client|info', local(LocalAnswer.ClientInfo)],
  ['client|kill', local(LocalAnswer.ClientKill)],
  ['client|pause', local(LocalAnswer.ClientPause)],
  ['client|unpause', local(LocalAnswer.ClientUnpause)],
  ['client|unblock', local(LocalAnswer.ClientUnblock)],
  ['client|reply', local(LocalAnswer.ClientReply)],
  ['cluster|keyslot', local(LocalAnswer.ClusterKeyslot)],
  ['cluster|info', local(LocalAnswer.ClusterInfo)],
  ...rows(local(LocalAnswer.ClusterMyId), ['cluster|myid', 'cluster|myshardid']),
  ['cluster|slots', local(LocalAnswer.ClusterSlots)],
  ['cluster|shards', local(LocalAnswer.ClusterShards)],
  ['cluster|nodes', local(LocalAnswer.ClusterNodes)],
  ['acl|whoami', local(LocalAnswer.AclWhoAmI)],
  ['acl|cat', local(LocalAnswer.AclCat)],
  ['acl|getuser', local(LocalAnswer.AclGetUser)],
  ['acl|list', local(LocalAnswer.AclList)],
  ['acl|users', local(LocalAnswer.AclUsers)],
  ['acl|dryrun', local(LocalAnswer.AclDryRun)],
  ['acl|genpass', local(LocalAnswer.AclGenPass)],
  ['acl|help', local(LocalAnswer.AclHelp)],

  // Connection modes: the session leases a connection of its own.
  ['multi', { kind: 'mode', mode: ModeCommand.Multi }],
  ['exec', { kind: 'mode', mode: ModeCommand.Exec }],
  ['discard', { kind: 'mode', mode: ModeCommand.Discard }],
  ['watch', { kind: 'mode', mode: ModeCommand.Watch }],
  ['unwatch', { kind: 'mode', mode: ModeCommand.Unwatch }],
  ['monitor', { kind: 'mode', mode: ModeCommand.Monitor }],
  ['subscribe', { kind: 'mode', mode: ModeCommand.Subscribe }],
  ['psubscribe', { kind: 'mode', mode: ModeCommand.Psubscribe }],
  ['unsubscribe', { kind: 'mode', mode: ModeCommand.Unsubscribe }],
  ['punsubscribe', { kind: 'mode', mode: ModeCommand.Punsubscribe }],
  ['ssubscribe', { kind: 'mode', mode: ModeCommand.Ssubscribe }],
  ['sunsubscribe', { kind: 'mode', mode: ModeCommand.Sunsubscribe }],

  // Refused: Redis refuses these in cluster mode.
  ...refusedEach(errors.notAllowedInClusterMode, ['move', 'swapdb']),
  // Refused: they would change a connection other clients share.
  ...refusedEach(errors.changesSharedConnection, ['script|debug']),
  // Refused: client tracking and the cluster's key listings come in a later version.
  ...refusedEach(errors.notSupportedYet, ['cluster|countkeysinslot', 'cluster|getkeysinslot', 'waitaof']),
  // Refused: ACL users of Slotway live in its users file; the nodes' ACLs are the operator's.
  ...['acl|setuser', 'acl|deluser', 'acl|save', 'acl|load'].map((name): Row => [
    name,
    refused(errors.aclChangeRefused(name.slice(4))),
  ]),
  ['acl|log', refused(errors.ACL_LOG_NOT_KEPT)],
  // Refused: they act on one node behind one address, or administer the cluster itself.
  ...refusedEach(errors.notThroughProxy, [
    'sync',
    'psync',
    'replconf',
    'replicaof',
    'slaveof',
    'shutdown',
    'debug',
    'failover',
    'migrate',
    'asking',
    'restore-asking',
    'role',
    'pfdebug',
    'pfselftest',
    'sflush',
    'module|load',
    'module|loadex',
    'module|unload',
    'cluster|links',
    'cluster|count-failure-reports',
    'cluster|replicas',
    'cluster|slaves',
    'cluster|addslots',
    'cluster|addslotsrange',
    'cluster|bumpepoch',
    'cluster|delslots',
    'cluster|delslotsrange',
    'cluster|failover',
    'cluster|flushslots',
    'cluster|forget',
    'cluster|meet',
    'cluster|replicate',
    'cluster|reset',
    'cluster|saveconfig',
    'cluster|set-config-epoch',
    'cluster|setslot',
  ]),
];

function buildTable(): ReadonlyMap<string, Policy> {
  const table = new Map<string, Policy>();
  for (const [name, policy] of policyRows) {
    if (table.has(name)) throw new Error(`policy table: ${name} has two rows`);
    table.set(name, policy);
  }
  return table;
}

/** Every command's and subcommand's policy, by `name` or `container|subcommand`. */
export const POLICY_TABLE: ReadonlyMap<string, Policy> = buildTable();

/** Names of the table that a Redis newer than the one the generated table was read from has. */
export const NEWER_REDIS_NAMES: ReadonlySet<string> = new Set([
  ...NEWER_KEYED_COMMANDS,
  'client|no-touch',
  'client|setinfo',
  'cluster|myshardid',
  'waitaof',
  'sflush',
]);
