// INFO as Slotway answers it: one Redis server for the whole cluster. The
// sections a client asks for (as Redis 7 selects them), each field by its
// rule in router/info-fields.ts: merged from every master's INFO
// (router/info-merge.ts, replies shared through router/master-info.ts) or
// Slotway's own, made here, always fresh.
import { randomBytes } from 'node:crypto';
import { cacheInfoFields } from '../cache/cache-info.js';
import { argumentText } from '../commands/command-args.js';
import type { CommandArgs } from '../commands/command-spec.js';
import { bulkString } from '../protocol/resp-writer.js';
import { INFO_SECTIONS, INFO_SECTION_ALIASES, type InfoSection } from '../router/info-fields.js';
import { mergeInfo, renderInfo, type OwnInfo } from '../router/info-merge.js';
import { infoRates } from './info-rates.js';
import type { LocalFacts } from './local-facts.js';

/** The sections one INFO asks for, in Redis's order; whether any needs the masters. */
export interface InfoSelection {
  readonly sections: readonly InfoSection[];
  readonly needsMasters: boolean;
}

/**
 * Redis 7's choice: no argument or `default`: the default sections; `all`:
 * every section; `everything`: the same (Slotway has no module sections);
 * otherwise the sections named (several may be), unknown names ignored.
 */
export function infoSelection(args: CommandArgs): InfoSelection {
  const names = new Set<string>();
  for (let i = 1; i < args.argc; i++) {
    const name = argumentText(args, i).toLowerCase();
    names.add(INFO_SECTION_ALIASES.get(name) ?? name);
  }
  const everything = names.has('all') || names.has('everything');
  const byDefault = names.size === 0 || names.has('default');
  const sections = INFO_SECTIONS.filter(
    (section) => everything || (byDefault && section.inDefault) || names.has(section.name),
  );
  return { sections, needsMasters: sections.some((s) => s.fields.some((field) => field.rule !== 'own')) };
}

/** The INFO text of `selection`, from the masters' INFO texts (empty: only Slotway's own fields). */
export function infoText(selection: InfoSelection, facts: LocalFacts, masters: readonly string[]): string {
  if (selection.sections.length === 0) return '';
  const merged = mergeInfo(masters, selection.sections, ownInfo(selection.sections, facts));
  return renderInfo(merged, selection.sections);
}

/** INFO's reply: a bulk string, or in RESP3 a verbatim string (`=<len>\r\ntxt:...`) as Redis 7 sends. */
export function infoReply(text: string, resp3: boolean): Buffer {
  if (!resp3) return bulkString(text);
  const body = Buffer.from(`txt:${text}`, 'utf8');
  return Buffer.concat([Buffer.from(`=${body.length}\r\n`), body, CRLF]);
}

const CRLF = Buffer.from('\r\n');

/** Slotway's own fields of the sections asked (only those: the Slotway section walks the topology). */
function ownInfo(sections: readonly InfoSection[], facts: LocalFacts): OwnInfo {
  const own = new Map<string, ReadonlyMap<string, string>>();
  for (const section of sections) {
    const fields = OWN[section.name]?.(facts);
    if (fields !== undefined) own.set(section.name, new Map(fields.map(([k, v]) => [k, String(v)])));
  }
  return own;
}

type Fields = [string, string | number][];

/** Slotway's own fields, by section: each must match an 'own' rule of info-fields.ts (a unit test checks). */
const OWN: Readonly<Record<string, (facts: LocalFacts) => Fields>> = {
  server(facts) {
    const uptime = Math.floor((Date.now() - facts.stats.startedAt) / 1000);
    return [
      ['redis_mode', 'standalone'], // as HELLO says: clients see one server; # Slotway describes the cluster
      ['process_id', process.pid],
      ['process_supervised', 'no'],
      ['run_id', RUN_ID],
      ['tcp_port', facts.tcpPort()],
      ['server_time_usec', Date.now() * 1000],
      ['uptime_in_seconds', uptime],
      ['uptime_in_days', Math.floor(uptime / 86400)],
      ['executable', process.argv[1] ?? ''],
      ['config_file', ''],
    ];
  },
  clients(facts) {
    let blocked = 0;
    let maxOutput = 0;
    // Walked at INFO time: nothing is counted on the hot path.
    for (const session of facts.stats.sessions) {
      if (session.blocked === true) blocked++;
      if (session.heldBytes > maxOutput) maxOutput = session.heldBytes;
    }
    return [
      ['connected_clients', facts.stats.sessions.size],
      ['maxclients', facts.maxClients ?? 0],
      ['client_recent_max_input_buffer', 0],
      ['client_recent_max_output_buffer', maxOutput],
      ['blocked_clients', blocked],
      ['tracking_clients', facts.tracking.clientCount],
    ];
  },
  stats(facts) {
    const stats = facts.stats;
    const rates = infoRates(stats).read(stats, Date.now());
    return [
      ['total_connections_received', stats.connectionsReceived],
      ['total_commands_processed', stats.commands],
      ['instantaneous_ops_per_sec', rates.opsPerSec],
      ['total_net_input_bytes', stats.bytesIn],
      ['total_net_output_bytes', stats.bytesOut],
      ['instantaneous_input_kbps', rates.inputKbps.toFixed(2)],
      ['instantaneous_output_kbps', rates.outputKbps.toFixed(2)],
      ['rejected_connections', stats.rejectedClients],
      ['tracking_total_keys', facts.tracking.keyCount],
      ['tracking_total_items', facts.tracking.itemCount],
      ['tracking_total_prefixes', facts.tracking.prefixCount],
    ];
  },
  replication: () => [
    ['role', 'master'],
    ['connected_slaves', 0],
    ['master_replid', REPLICATION_ID],
    ['master_replid2', '0'.repeat(40)],
    ['second_repl_offset', -1],
  ],
  // Cluster-mode clients (redis-py RedisCluster) check this before CLUSTER SLOTS.
  cluster: () => [['cluster_enabled', 1]],
  slotway(facts) {
    const stats = facts.stats;
    const cluster = facts.cluster();
    return [
      ['slotway_version', facts.slotwayVersion],
      ['node_version', process.version],
      // With --threads each worker answers for itself: its pid tells which one.
      ['process_id', process.pid],
      ['cluster_state', cluster.slotsCovered === 16384 ? 'ok' : 'fail'],
      ['cluster_slots_covered', cluster.slotsCovered],
      ['cluster_masters', cluster.masters],
      ['cluster_replicas', cluster.replicas],
      ['topology_epoch', cluster.epoch],
      ['topology_refreshes', cluster.refreshes],
      ['redirects_moved', cluster.moved],
      ['redirects_ask', cluster.ask],
      ['retries', cluster.retries],
      ['failed_commands', cluster.failures],
      ['replica_reads', cluster.replicaReads],
      ['replica_read_fallbacks', cluster.replicaFallbacks],
      ['protocol_errors', stats.protocolErrors],
      // Bytes held for clients (in flight, waiting, unwritten) against --max-buffer-memory.
      ['buffer_memory', stats.buffers.used],
      ['buffer_memory_limit', stats.buffers.limit],
      ['buffer_memory_refusals', stats.buffers.refusals],
      ...cacheInfoFields(facts.cache), // --cache (cache/cache-info.ts)
      ...cluster.nodes.map((n, i): [string, string] => [
        `node${i}`,
        `address=${n.address},role=${n.role},state=${n.state},inflight=${n.inflight},leased=${n.leased}`,
      ]),
    ];
  },
};

/** Slotway's run id and replication id: random per process, 40 hex characters as Redis's. */
const RUN_ID = randomBytes(20).toString('hex');
const REPLICATION_ID = randomBytes(20).toString('hex');
