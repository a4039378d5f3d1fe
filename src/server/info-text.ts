// INFO as Slotway answers it: the cluster's server facts, the proxy's own
// sections and its clients; `# Keyspace` is merged from every master by the
// dispatcher (command-dispatcher.ts).
import { argumentText } from '../commands/command-args.js';
import type { CommandArgs } from '../commands/command-spec.js';
import type { LocalFacts } from './local-facts.js';

function section(title: string, fields: [string, string | number][]): string {
  return `# ${title}\r\n${fields.map(([k, v]) => `${k}:${v}`).join('\r\n')}\r\n`;
}

function infoSections(args: CommandArgs): { wanted: Set<string>; all: boolean } {
  const wanted = new Set<string>();
  for (let i = 1; i < args.argc; i++) wanted.add(argumentText(args, i).toLowerCase());
  return { wanted, all: wanted.size === 0 || wanted.has('all') || wanted.has('everything') || wanted.has('default') };
}

/** True when INFO asks for `# Keyspace`, which needs every master's numbers. */
export function infoWantsKeyspace(args: CommandArgs): boolean {
  const { wanted, all } = infoSections(args);
  return all || wanted.has('keyspace');
}

/** INFO [section ...]: the cluster's server facts, the proxy's own, its clients (`# Keyspace` is merged by the caller). */
export function infoText(args: CommandArgs, facts: LocalFacts): string {
  const { wanted, all } = infoSections(args);
  const stats = facts.stats;
  const cluster = facts.cluster();
  const node = facts.nodeServerInfo();
  const uptime = Math.floor((Date.now() - stats.startedAt) / 1000);
  const parts: string[] = [];
  if (all || wanted.has('server')) {
    parts.push(
      section('Server', [
        ['redis_version', node.get('redis_version') ?? ''],
        ['redis_mode', 'standalone'], // as HELLO says: clients see one server; # Proxy describes the cluster
        ['os', node.get('os') ?? ''],
        ['arch_bits', node.get('arch_bits') ?? '64'],
        ['process_id', process.pid],
        ['tcp_port', facts.tcpPort()],
        ['uptime_in_seconds', uptime],
        ['uptime_in_days', Math.floor(uptime / 86400)],
      ]),
    );
  }
  if (all || wanted.has('clients')) {
    parts.push(section('Clients', [['connected_clients', stats.sessions.size]]));
  }
  if (all || wanted.has('stats')) {
    parts.push(
      section('Stats', [
        ['total_connections_received', stats.connectionsReceived],
        ['total_commands_processed', stats.commands],
      ]),
    );
  }
  if (all || wanted.has('cluster')) {
    // Cluster-mode clients (redis-py RedisCluster) check this before CLUSTER SLOTS.
    parts.push(section('Cluster', [['cluster_enabled', 1]]));
  }
  if (all || wanted.has('proxy')) {
    parts.push(
      section('Proxy', [
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
        ...cluster.nodes.map((n, i): [string, string] => [
          `node${i}`,
          `address=${n.address},role=${n.role},state=${n.state},inflight=${n.inflight},leased=${n.leased}`,
        ]),
      ]),
    );
  }
  return parts.join('\r\n');
}
