// Commands Slotway answers itself: connection state (PING, ECHO, SELECT 0,
// HELLO, CLIENT SETNAME ...), the emulated one-node cluster (CLUSTER SLOTS,
// INFO ...) and, from info-text.ts, INFO. Replies follow Redis's shapes and
// error words.
import { randomBytes } from 'node:crypto';
import { argument, argumentText, hasArgument } from '../commands/command-args.js';
import type { CommandArgs, CommandSpec } from '../commands/command-spec.js';
import { keySlot } from '../commands/key-slot.js';
import { LocalAnswer } from '../commands/policy.js';
import * as errors from '../protocol/errors.js';
import {
  OK,
  PONG,
  NULL_BULK,
  arrayReply,
  bulkString,
  errorReply,
  integerReply,
  mapReply,
  NULL_RESP3,
  simpleString,
} from '../protocol/resp-writer.js';
import { parseInteger } from '../protocol/stream-framer.js';
import type { RequestOwner } from '../router/request.js';
import { aclCat, aclDryRun, aclGenPass, aclGetUser, aclHelp, aclList, aclUsers, aclWhoAmI } from './acl-command.js';
import type { User, UserDirectory } from './client-auth.js';
import {
  clientInfo,
  clientKill,
  clientList,
  clientPause,
  clientReply,
  clientUnpause,
  type ClientCommandHost,
} from './client-command.js';
import { infoReply, infoSelection, infoText } from './info-text.js';
import type { ClusterFacts, LocalFacts } from './local-facts.js';
import {
  clientCaching,
  clientGetRedir,
  clientTracking,
  clientTrackingInfo,
  type TrackingHost,
} from './tracking-command.js';

/** What a local answer may read or change of its client: the connection's own state, never a node's. */
export interface LocalHost extends RequestOwner, TrackingHost, ClientCommandHost {
  resp3: boolean;
  /** CLIENT SETNAME's value, CLIENT SETINFO's. */
  name: string;
  libName: string;
  libVersion: string;
  /** Who the client is: null until it authenticates, when a password is required. */
  readonly user: User | null;
  /** Every user of the users file (ACL GETUSER, LIST ...). */
  readonly users: UserDirectory;
  /** No password is configured: AUTH with a password alone is a configuration mistake, as Redis says. */
  readonly anonymousAllowed: boolean;
  /** The address and port this client reached Slotway at (what cluster-mode clients are told to use). */
  readonly localAddress: string;
  readonly localPort: number;
  /** AUTH / HELLO AUTH: true and the client is `name` from now on, or false (WRONGPASS). */
  authenticate(name: string, password: string): boolean;
  closeAfterReplies(): void;
  /** RESET: leaves every mode, forgets the name, and is the anonymous user again. */
  resetConnection(): void;
}

/** Slotway's node id in its emulated one-node cluster: fixed for the process. */
const PROXY_NODE_ID = randomBytes(20).toString('hex');

function argInteger(args: CommandArgs, index: number): number {
  return parseInteger(args.frameBuffer, args.argStart[index] as number, args.argEnd[index] as number);
}

/** Answers `spec` for `session`; the returned bytes are the whole reply. */
export function answerLocally(session: LocalHost, spec: CommandSpec, args: CommandArgs, facts: LocalFacts): Buffer {
  const argc = args.argc;
  if (spec.local === LocalAnswer.Container) return container(spec, args);
  if ((spec.arity > 0 && argc !== spec.arity) || argc < -spec.arity) return errorReply(errors.wrongArity(spec.name));
  switch (spec.local) {
    case LocalAnswer.Ping:
      if (argc > 2) return errorReply(errors.wrongArity('ping'));
      return argc === 2 ? bulkString(argument(args, 1)) : PONG;
    case LocalAnswer.Echo:
      return bulkString(argument(args, 1));
    case LocalAnswer.Quit:
      session.closeAfterReplies();
      return OK;
    case LocalAnswer.Select:
      return select(args);
    case LocalAnswer.Auth:
      return auth(session, args, 1);
    case LocalAnswer.Hello:
      return hello(session, args, facts);
    case LocalAnswer.Reset:
      session.resetConnection();
      return simpleString('RESET');
    case LocalAnswer.ReadMode:
    case LocalAnswer.ClientFlag:
      return OK;
    case LocalAnswer.ClientTracking:
      return clientTracking(session, args, facts.tracking);
    case LocalAnswer.ClientTrackingInfo:
      return clientTrackingInfo(session);
    case LocalAnswer.ClientCaching:
      return clientCaching(session, args);
    case LocalAnswer.ClientGetRedir:
      return clientGetRedir(session);
    case LocalAnswer.Info:
      return infoReply(infoText(infoSelection(args), facts, []), session.resp3); // the dispatcher answers INFO with the masters' numbers
    case LocalAnswer.ClientSetName:
      return setName(session, argument(args, 2).toString());
    case LocalAnswer.ClientGetName:
      return session.name === '' ? (session.resp3 ? NULL_RESP3 : NULL_BULK) : bulkString(session.name);
    case LocalAnswer.ClientId:
      return integerReply(session.id);
    case LocalAnswer.ClientSetInfo:
      return setInfo(session, argumentText(args, 2), argumentText(args, 3));
    case LocalAnswer.ClusterKeyslot:
      return integerReply(keySlot(args.frameBuffer, args.argStart[2] as number, args.argEnd[2] as number));
    case LocalAnswer.ClusterInfo:
      return bulkString(clusterInfo(facts.cluster()));
    case LocalAnswer.ClusterMyId:
      return bulkString(PROXY_NODE_ID);
    case LocalAnswer.ClusterSlots:
      return clusterSlots(announced(session, facts));
    case LocalAnswer.ClusterShards:
      return clusterShards(announced(session, facts));
    case LocalAnswer.ClusterNodes:
      return clusterNodes(announced(session, facts));
    case LocalAnswer.AclWhoAmI:
      return aclWhoAmI(session.user);
    case LocalAnswer.AclCat:
      return aclCat(args);
    case LocalAnswer.AclUsers:
      return aclUsers(session.user, session.users);
    case LocalAnswer.AclGetUser:
      return aclGetUser(session.user, session.users, args, session.resp3);
    case LocalAnswer.AclList:
      return aclList(session.user, session.users);
    case LocalAnswer.AclDryRun:
      return aclDryRun(session.user, session.users, args);
    case LocalAnswer.AclGenPass:
      return aclGenPass(args);
    case LocalAnswer.AclHelp:
      return aclHelp();
    case LocalAnswer.ClientList:
      return clientList(session, args);
    case LocalAnswer.ClientInfo:
      return clientInfo(session);
    case LocalAnswer.ClientKill:
      return clientKill(session, args);
    case LocalAnswer.ClientPause:
      return clientPause(session, args);
    case LocalAnswer.ClientUnpause:
      return clientUnpause(session);
    case LocalAnswer.ClientReply:
      return clientReply(session, args);
    default:
      return errorReply(errors.notSupportedYet(spec.name.replace('|', ' ')));
  }
}

/** A container without a subcommand, or with one this Redis does not have: Redis's own errors. */
function container(spec: CommandSpec, args: CommandArgs): Buffer {
  if (args.argc < 2) return errorReply(errors.wrongArity(spec.name));
  const sub = argumentText(args, 1, 'utf8')
    .slice(0, 128)
    .replace(/[\r\n]/g, ' ');
  return errorReply(errors.unknownSubcommand(spec.name, sub));
}

function select(args: CommandArgs): Buffer {
  const index = argInteger(args, 1);
  if (Number.isNaN(index)) return errorReply(errors.NOT_INTEGER);
  return index === 0 ? OK : errorReply(errors.SELECT_IN_CLUSTER);
}

/** AUTH [user] password, at `first`: `password` alone is the default user's, as in Redis. */
function auth(session: LocalHost, args: CommandArgs, first: number): Buffer {
  const count = args.argc - first;
  if (count !== 1 && count !== 2) return errorReply(errors.SYNTAX);
  const anonymous = session.anonymousAllowed;
  if (count === 1 && anonymous) return errorReply(errors.AUTH_WITHOUT_PASSWORD);
  const name = count === 1 ? 'default' : argumentText(args, first);
  const password = argumentText(args, first + count - 1);
  return session.authenticate(name, password) ? OK : errorReply(errors.WRONGPASS);
}

function setName(session: LocalHost, name: string): Buffer {
  if (!printable(name)) return errorReply(errors.BAD_CLIENT_NAME);
  session.name = name;
  return OK;
}

function setInfo(session: LocalHost, attribute: string, value: string): Buffer {
  const lower = attribute.toLowerCase();
  if (lower !== 'lib-name' && lower !== 'lib-ver') return errorReply(`ERR Unrecognized option '${attribute}'`);
  // As Redis 7.2: a space or newline would break CLIENT LIST's line apart.
  if (!printable(value)) return errorReply(`ERR ${attribute} cannot contain spaces, newlines or special characters.`);
  if (lower === 'lib-name') session.libName = value;
  else session.libVersion = value;
  return OK;
}

/** Only characters '!' to '~': what CLIENT LIST can show without breaking its line apart. */
function printable(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 33 || code > 126) return false;
  }
  return true;
}

/**
 * HELLO [protover [AUTH user pass] [SETNAME name]]. HELLO 3 switches the
 * client to RESP3: its commands then travel on RESP3 node connections, so
 * replies come back as maps, sets, doubles and pushes, as from Redis.
 */
function hello(session: LocalHost, args: CommandArgs, facts: LocalFacts): Buffer {
  let resp3 = session.resp3;
  let authenticated = false;
  if (args.argc >= 2) {
    const version = argInteger(args, 1);
    if (Number.isNaN(version)) return errorReply('ERR Protocol version is not an integer or out of range');
    if (version !== 2 && version !== 3) return errorReply(errors.NOPROTO);
    resp3 = version === 3;
  }
  if (session.user === null && !hasArgument(args, 'auth', 2)) return errorReply(errors.NOAUTH_HELLO);
  for (let i = 2; i < args.argc; i++) {
    const option = argumentText(args, i).toLowerCase();
    if (option === 'auth' && i + 2 < args.argc) {
      const result = auth(session, { ...args, argc: i + 3 }, i + 1);
      if (result !== OK) return result;
      authenticated = true;
      i += 2;
    } else if (option === 'setname' && i + 1 < args.argc) {
      const result = setName(session, argumentText(args, ++i));
      if (result !== OK) return result;
    } else {
      return errorReply(`ERR Syntax error in HELLO option '${argumentText(args, i)}'`);
    }
  }
  if (!authenticated && session.user === null) return errorReply(errors.NOAUTH_HELLO);
  session.resp3 = resp3;
  return (resp3 ? mapReply : arrayReply)([
    bulkString('server'),
    bulkString('redis'),
    bulkString('version'),
    bulkString(facts.nodeServerInfo().get('redis_version') ?? '7.0.0'),
    bulkString('proto'),
    integerReply(resp3 ? 3 : 2),
    bulkString('id'),
    integerReply(session.id),
    bulkString('mode'),
    bulkString('standalone'),
    bulkString('role'),
    bulkString('master'),
    bulkString('modules'),
    arrayReply([]),
  ]);
}

interface Announced {
  readonly host: string;
  readonly port: number;
}

function announced(session: LocalHost, facts: LocalFacts): Announced {
  const host = facts.announceHost !== '' ? facts.announceHost : session.localAddress.replace(/^::ffff:/, '');
  // The listener this client used: a TLS client must be sent back to the TLS port.
  return { host, port: facts.announcePort !== 0 ? facts.announcePort : session.localPort || facts.tcpPort() };
}

/**
 * Cluster-mode clients (ioredis Cluster, redis-py RedisCluster) pointed at
 * Slotway see one master that owns every slot, at Slotway's own address, so
 * they send everything here and Slotway does the routing.
 */
function clusterSlots({ host, port }: Announced): Buffer {
  return arrayReply([
    arrayReply([
      integerReply(0),
      integerReply(16383),
      arrayReply([bulkString(host), integerReply(port), bulkString(PROXY_NODE_ID)]),
    ]),
  ]);
}

function clusterShards({ host, port }: Announced): Buffer {
  {
    const node = arrayReply(
      [
        ['id', bulkString(PROXY_NODE_ID)],
        ['port', integerReply(port)],
        ['ip', bulkString(host)],
        ['endpoint', bulkString(host)],
        ['role', bulkString('master')],
        ['replication-offset', integerReply(0)],
        ['health', bulkString('online')],
      ].flatMap(([name, value]) => [bulkString(name as string), value as Buffer]),
    );
    return arrayReply([
      arrayReply([
        bulkString('slots'),
        arrayReply([integerReply(0), integerReply(16383)]),
        bulkString('nodes'),
        arrayReply([node]),
      ]),
    ]);
  }
}

function clusterNodes({ host, port }: Announced): Buffer {
  return bulkString(`${PROXY_NODE_ID} ${host}:${port}@${port} myself,master - 0 0 1 connected 0-16383\n`);
}

function clusterInfo(cluster: ClusterFacts): string {
  const ok = cluster.slotsCovered === 16384;
  return [
    `cluster_state:${ok ? 'ok' : 'fail'}`,
    `cluster_slots_assigned:${cluster.slotsCovered}`,
    `cluster_slots_ok:${cluster.slotsCovered}`,
    'cluster_slots_pfail:0',
    'cluster_slots_fail:0',
    `cluster_known_nodes:${cluster.masters + cluster.replicas}`,
    `cluster_size:${cluster.masters}`,
    `cluster_current_epoch:${cluster.epoch}`,
    '',
  ].join('\r\n');
}
