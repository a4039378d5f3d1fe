// `PROXY ...`: Slotway's own admin command over RESP, answered by Slotway.
//   PROXY INFO                  bulk string of `# Section` and field:value lines, as INFO
//   PROXY NODES                 one entry per node: address, id, role, master, slots, state ...
//   PROXY CONFIG GET <pattern>  name/value pairs of the options (secrets hidden), as CONFIG GET
//   PROXY REFRESH               +OK once a topology read that began after the command succeeded
//   PROXY HOTKEYS|BIGKEYS [n]   sampled most read / largest keys (hot-keys-reply.ts)
//   PROXY HELP
// Who may run it is the ACL's business (it is flagged admin/dangerous like CONFIG).
import { argumentText } from '../commands/command-args.js';
import type { CommandArgs } from '../commands/command-spec.js';
import { NO_OWNER, SLOT_COUNT } from '../cluster/slot-map.js';
import type { TopologyRefresher } from '../cluster/topology-refresher.js';
import { OPTION_DEFINITIONS, type OptionDefinition, type ProxyOptions } from '../config/options.js';
import { unknownSubcommand, wrongArity } from '../protocol/errors.js';
import {
  OK,
  arrayReply,
  bulkString,
  errorReply,
  integerReply,
  mapReply,
  simpleString,
} from '../protocol/resp-writer.js';
import type { Router } from '../router/router.js';
import { COMMAND_CLASSES, COMMAND_RESULTS, type ServerStats } from '../server/server-stats.js';
import { globMatches } from './glob.js';
import { hotKeysReply } from './hot-keys-reply.js';
import type { Readiness } from './readiness.js';

export interface AdminFacts {
  readonly version: string;
  readonly options: ProxyOptions;
  readonly stats: ServerStats;
  readonly router: Router;
  readonly refresher: Pick<TopologyRefresher, 'refresh' | 'refreshing' | 'stats'>;
  readonly readiness: () => Readiness;
  /** Why the foreign-cluster guard refused the last topology read, or null. */
  readonly topologyRefusal: () => string | null;
  readonly tcpPort: () => number;
  /** The bound metrics port; 0 when this process serves no HTTP (a --threads worker). */
  readonly metricsPort: () => number;
}

/** What an option shows in PROXY CONFIG GET instead of a secret's value. */
export const HIDDEN = '(hidden)';

const HELP = [
  'PROXY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'INFO',
  "    Slotway's state: version, uptime, readiness, clients, slot map, counters by command class.",
  'NODES',
  '    One entry per cluster node: address, id, role, master, slots, connection state, in-flight',
  '    commands, leased connections, redirects it answered.',
  'CONFIG GET <pattern> [<pattern> ...]',
  '    Options whose name matches a glob pattern, as name/value pairs; secrets show as (hidden).',
  'REFRESH',
  '    Re-read the cluster topology now; +OK once it was read.',
  'HOTKEYS [<count>|RESET]',
  '    The most read keys (sampled, --hotkeys-sample-rate): key, estimated reads, slot, master.',
  'BIGKEYS [<count>|RESET]',
  '    The keys with the largest values seen (sampled): key, bytes, slot, master.',
  'HELP',
  '    Print this help.',
];

/** Answers `PROXY ...`; a Promise only for REFRESH. */
export function proxyCommand(args: CommandArgs, resp3: boolean, facts: AdminFacts): Buffer | Promise<Buffer> {
  if (args.argc < 2) return errorReply(wrongArity('proxy'));
  const sub = argumentText(args, 1, 'utf8').toLowerCase();
  switch (sub) {
    case 'info':
      return args.argc === 2 ? bulkString(infoText(facts)) : errorReply(wrongArity('proxy|info'));
    case 'nodes':
      return args.argc === 2 ? nodesReply(facts, resp3) : errorReply(wrongArity('proxy|nodes'));
    case 'config':
      if (args.argc < 3) return errorReply(wrongArity('proxy|config'));
      if (argumentText(args, 2, 'utf8').toLowerCase() !== 'get')
        return errorReply(unknownSubcommand('proxy', `config ${argumentText(args, 2, 'utf8')}`));
      if (args.argc < 4) return errorReply(wrongArity('proxy|config|get'));
      return configGet(facts.options, argTexts(args, 3), resp3);
    case 'refresh':
      return args.argc === 2 ? refresh(facts) : errorReply(wrongArity('proxy|refresh'));
    case 'hotkeys':
    case 'bigkeys':
      return hotKeysReply(args, sub, facts.stats.hotKeys, facts.router);
    case 'help':
      return arrayReply(HELP.map((line) => simpleString(line)));
    default:
      return errorReply(unknownSubcommand('proxy', argumentText(args, 1, 'utf8')));
  }
}

function argTexts(args: CommandArgs, from: number): string[] {
  const texts: string[] = [];
  for (let i = from; i < args.argc; i++) texts.push(argumentText(args, i, 'utf8'));
  return texts;
}

function section(title: string, fields: [string, string | number][]): string {
  return `# ${title}\r\n${fields.map(([name, value]) => `${name}:${value}\r\n`).join('')}`;
}

/** Masters that own at least one slot in the current map. */
function mastersOwningSlots(router: Router): number {
  const owners = new Set<number>(router.map.owners);
  owners.delete(NO_OWNER);
  return owners.size;
}

export function infoText(facts: AdminFacts): string {
  const { stats, router } = facts;
  const readiness = facts.readiness();
  const map = router.map;
  const covered = map.coveredSlots();
  const uptime = Math.floor((Date.now() - stats.startedAt) / 1000);
  const totals = new Array<number>(COMMAND_RESULTS.length).fill(0);
  const classes: [string, string][] = COMMAND_CLASSES.map((kind, k) => {
    const counts = COMMAND_RESULTS.map((result, r) => {
      const count = stats.replies[k * COMMAND_RESULTS.length + r] as number;
      totals[r] = (totals[r] as number) + count;
      return `${result}=${count}`;
    });
    return [`class_${kind}`, counts.join(',')];
  });
  return [
    section('Slotway', [
      ['slotway_version', facts.version],
      ['node_version', process.version],
      ['process_id', process.pid],
      ['uptime_in_seconds', uptime],
      ['tcp_port', facts.tcpPort()],
      ['metrics_port', facts.metricsPort()],
      ['ready', readiness.ready ? 1 : 0],
      ['ready_reason', readiness.reason],
      ['draining', stats.draining ? 1 : 0],
    ]),
    section('Clients', [
      ['connected_clients', stats.sessions.size],
      ['total_connections_received', stats.connectionsReceived],
      ['rejected_clients', stats.rejectedClients],
      ['auth_failures', stats.authFailures],
    ]),
    section('Cluster', [
      ['cluster_state', covered === SLOT_COUNT ? 'ok' : 'fail'],
      ['slot_map_epoch', map.epoch],
      ['slots_covered', covered],
      ['masters', mastersOwningSlots(router)],
      ['replicas', map.replicas.length],
      ['topology_refreshes', facts.refresher.stats.refreshes],
      ['topology_refresh_failures', facts.refresher.stats.failures],
    ]),
    section('Stats', [
      ['total_commands_processed', stats.commands],
      ...COMMAND_RESULTS.map((result, r): [string, number] => [`commands_${result}`, totals[r] as number]),
      ['redirects_moved', router.stats.moved],
      ['redirects_ask', router.stats.ask],
      ['retries', router.stats.retries],
      ['protocol_errors', stats.protocolErrors],
      ['internal_errors', stats.internalErrors],
      ['output_limit_closures', stats.outputLimitClosures],
      ['total_net_input_bytes', stats.bytesIn],
      ['total_net_output_bytes', stats.bytesOut],
    ]),
    section('Commands', classes),
  ].join('\r\n');
}

interface NodeEntry {
  readonly address: string;
  readonly id: string;
  readonly role: string;
  readonly master: string;
  readonly slots: string;
  readonly state: string;
  readonly inflight: number;
  readonly leased: number;
  readonly moved: number;
  readonly ask: number;
}

/** Masters of the slot map (with their slots), replicas, then nodes that left but still have connections. */
export function nodeEntries(router: Router): NodeEntry[] {
  const map = router.map;
  const pools = new Map(router.nodeStates().map((node) => [node.address, node]));
  const idToAddress = new Map(map.nodes.map((node) => [node.id, node.address]));
  const entries: NodeEntry[] = [];
  const listed = new Set<string>();
  const entry = (address: string, id: string, role: string, master: string, slots: string): NodeEntry => {
    listed.add(address);
    const pool = pools.get(address);
    return {
      address,
      id,
      role,
      master,
      slots,
      state: pool?.state ?? 'none',
      inflight: pool?.inflight ?? 0,
      leased: pool?.leased ?? 0,
      moved: pool?.moved ?? 0,
      ask: pool?.ask ?? 0,
    };
  };
  map.nodes.forEach((node, index) => {
    const slots = map.rangesOf(index).map(([first, last]) => (first === last ? `${first}` : `${first}-${last}`));
    entries.push(entry(node.address, node.id, 'master', '', slots.join(',')));
  });
  for (const replica of map.replicas)
    entries.push(entry(replica.address, replica.id, 'replica', idToAddress.get(replica.masterId) ?? '', ''));
  for (const address of pools.keys()) if (!listed.has(address)) entries.push(entry(address, '', 'unknown', '', ''));
  return entries;
}

function nodesReply(facts: AdminFacts, resp3: boolean): Buffer {
  const encode = resp3 ? mapReply : arrayReply;
  return arrayReply(
    nodeEntries(facts.router).map((node) =>
      encode([
        bulkString('address'),
        bulkString(node.address),
        bulkString('id'),
        bulkString(node.id),
        bulkString('role'),
        bulkString(node.role),
        bulkString('master'),
        bulkString(node.master),
        bulkString('slots'),
        bulkString(node.slots),
        bulkString('state'),
        bulkString(node.state),
        bulkString('inflight'),
        integerReply(node.inflight),
        bulkString('leased'),
        integerReply(node.leased),
        bulkString('redirects-moved'),
        integerReply(node.moved),
        bulkString('redirects-ask'),
        integerReply(node.ask),
      ]),
    ),
  );
}

/** A secret's value is never shown, only whether it is set. */
export function isSecret(definition: Pick<OptionDefinition, 'flag' | 'kind'>): boolean {
  return definition.kind === 'secret' || /pass|secret|token/i.test(definition.flag);
}

/** Option name/value pairs whose flag name matches any of `patterns`, in --help order. */
export function configPairs(options: ProxyOptions, patterns: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (const definition of OPTION_DEFINITIONS) {
    if (!patterns.some((pattern) => globMatches(pattern, definition.flag))) continue;
    const value = options[definition.key];
    const text = Array.isArray(value) ? value.join(',') : String(value);
    pairs.push([definition.flag, isSecret(definition) && text !== '' ? HIDDEN : text]);
  }
  return pairs;
}

function configGet(options: ProxyOptions, patterns: readonly string[], resp3: boolean): Buffer {
  const items = configPairs(options, patterns).flatMap(([name, value]) => [bulkString(name), bulkString(value)]);
  return (resp3 ? mapReply : arrayReply)(items);
}

/**
 * A refresh already under way may have asked the nodes before this command
 * came: wait for it, then read again, so +OK means the map is at least as new
 * as the command.
 */
async function refresh(facts: AdminFacts): Promise<Buffer> {
  try {
    if (facts.refresher.refreshing) await facts.refresher.refresh('PROXY REFRESH');
    const ok = await facts.refresher.refresh('PROXY REFRESH');
    if (!ok) return errorReply('ERR topology refresh failed: no node of the cluster answered (see the log)');
    const refusal = facts.topologyRefusal();
    return refusal === null ? OK : errorReply(`ERR topology refused, the last good slot map stays: ${refusal}`);
  } catch (error) {
    return errorReply(`ERR topology refresh failed: ${(error as Error).message}`);
  }
}
