// Every field of `INFO everything` as Slotway answers it for the whole
// cluster, section by section, with the rule that gives it a value: merged
// from every master's own INFO (info-merge.ts) or Slotway's own
// (server/info-text.ts). The one place of truth: the merge follows it, the
// README's INFO table is made from it (infoFieldTable) and a unit test keeps
// the two equal.
//
//   section ─┬─ field rule ─ 'sum' | 'max' | ... : from the masters' replies
//            └─ field rule ─ 'own'              : Slotway fills it in
//
// A name ending in `*` stands for a family (`cmdstat_get`, `db0` ...). A
// field a master reports that no rule names is left out: a value without a
// decided meaning would mislead more than a missing one.

/** How a field's value is made, and what the README says of each rule. */
export const INFO_RULES = {
  sum: "added up over the masters (integers stay integers; decimals keep the masters' precision)",
  max: "the largest of the masters' values: the worst master speaks for the cluster",
  min: "the smallest of the masters' values",
  first: "the first master's (by address): a fact of the build or the host, alike on every master",
  'worst-status': '`ok` unless some master says otherwise (`err`): the worst status wins',
  'lowest-version': 'the lowest version any master runs: the cluster offers what all of them offer',
  'most-evicting':
    'the policy that evicts the most keys (allkeys-* > volatile-* > volatile-ttl > noeviction): one evicting master makes the cluster evict',
  'failover-state': '`no-failover` unless some master is in a failover',
  'smallest-limit-times-masters':
    'the smallest non-zero limit times the number of masters (0 when no master has one): the cluster is full when its smallest master is',
  human: 'the human form (`894.84K`) of the field without `_human`, recomputed from its merged value',
  derived: 'recomputed from the merged fields (see the note)',
  parts: 'a family of `key=value,...` lines: each part merged as the note says',
  'first-lines': "the first master's lines as they are (the modules loaded: alike on every master)",
  own: "Slotway's own value: it is the server its clients talk to",
  'left-out': "not listed: the masters' value would describe something Slotway is not",
} as const;

export type InfoRule = keyof typeof INFO_RULES;

export interface InfoField {
  readonly name: string;
  readonly rule: InfoRule;
  /** Why, or how, when the rule alone does not say. */
  readonly note?: string;
}

export interface InfoSection {
  /** The name INFO takes (lowercase). */
  readonly name: string;
  /** The title line: `# <title>`. */
  readonly title: string;
  /** Listed by INFO without an argument and by `INFO default`. */
  readonly inDefault: boolean;
  readonly fields: readonly InfoField[];
}

const f = (name: string, rule: InfoRule, note?: string): InfoField =>
  note === undefined ? { name, rule } : { name, rule, note };
const sums = (...names: string[]): InfoField[] => names.map((name) => f(name, 'sum'));
const maxes = (...names: string[]): InfoField[] => names.map((name) => f(name, 'max'));
const firsts = (...names: string[]): InfoField[] => names.map((name) => f(name, 'first'));
const humans = (...names: string[]): InfoField[] => names.map((name) => f(name, 'human'));

/** Redis 7.0's sections in Redis's order, then Slotway's own. */
export const INFO_SECTIONS: readonly InfoSection[] = [
  {
    name: 'server',
    title: 'Server',
    inDefault: true,
    fields: [
      f('redis_version', 'lowest-version'),
      ...firsts('redis_git_sha1', 'redis_git_dirty', 'redis_build_id'),
      f('redis_mode', 'own', '`standalone`: clients see one server (HELLO says the same)'),
      ...firsts('os', 'arch_bits', 'monotonic_clock', 'multiplexing_api', 'atomicvar_api', 'gcc_version'),
      f('process_id', 'own', "Slotway's pid (with --threads: the worker's)"),
      f('process_supervised', 'own', '`no`'),
      f('run_id', 'own', 'random per Slotway process'),
      f('tcp_port', 'own'),
      f('server_time_usec', 'own'),
      f('uptime_in_seconds', 'own'),
      f('uptime_in_days', 'own'),
      ...firsts('hz', 'configured_hz', 'lru_clock'),
      f('executable', 'own', "Slotway's script"),
      f('config_file', 'own', 'empty: Slotway is configured by flags and environment'),
      f('io_threads_active', 'max'),
    ],
  },
  {
    name: 'clients',
    title: 'Clients',
    inDefault: true,
    fields: [
      f('connected_clients', 'own'),
      f('cluster_connections', 'sum'),
      f('maxclients', 'own', '--maxclients'),
      f(
        'client_recent_max_input_buffer',
        'own',
        '0: Slotway frames input in place and keeps no per-client query buffer',
      ),
      f(
        'client_recent_max_output_buffer',
        'own',
        'bytes held now for the client holding most (replies queued and unwritten)',
      ),
      f(
        'blocked_clients',
        'own',
        'clients whose blocking command (BLPOP, BZPOPMIN, XREAD BLOCK ...) is on a node now, and clients held by CLIENT PAUSE (as Redis counts them)',
      ),
      f(
        'tracking_clients',
        'own',
        'clients of Slotway with CLIENT TRACKING on (the masters count only its invalidation links)',
      ),
      f('clients_in_timeout_table', 'sum'),
    ],
  },
  {
    name: 'memory',
    title: 'Memory',
    inDefault: true,
    fields: [
      f('used_memory', 'sum'),
      ...humans('used_memory_human'),
      f('used_memory_rss', 'sum'),
      ...humans('used_memory_rss_human'),
      f('used_memory_peak', 'sum', "sum of each master's peak: at least the cluster's peak"),
      ...humans('used_memory_peak_human'),
      f('used_memory_peak_perc', 'derived', 'used_memory / used_memory_peak'),
      ...sums('used_memory_overhead', 'used_memory_startup', 'used_memory_dataset'),
      f('used_memory_dataset_perc', 'derived', 'used_memory_dataset / (used_memory - used_memory_startup)'),
      ...sums('allocator_allocated', 'allocator_active', 'allocator_resident'),
      f('total_system_memory', 'sum', 'masters on one host count it once each'),
      ...humans('total_system_memory_human'),
      f('used_memory_lua', 'sum'),
      f('used_memory_vm_eval', 'sum'),
      ...humans('used_memory_lua_human'),
      f('used_memory_scripts_eval', 'sum'),
      f('number_of_cached_scripts', 'max', 'SCRIPT LOAD reaches every master: the most any one holds'),
      f('number_of_functions', 'max', 'FUNCTION LOAD reaches every master'),
      f('number_of_libraries', 'max'),
      ...sums('used_memory_vm_functions', 'used_memory_vm_total'),
      ...humans('used_memory_vm_total_human'),
      ...sums('used_memory_functions', 'used_memory_scripts'),
      ...humans('used_memory_scripts_human'),
      f('maxmemory', 'smallest-limit-times-masters'),
      ...humans('maxmemory_human'),
      f('maxmemory_policy', 'most-evicting'),
      f('allocator_frag_ratio', 'max'),
      f('allocator_frag_bytes', 'sum'),
      f('allocator_rss_ratio', 'max'),
      f('allocator_rss_bytes', 'sum'),
      f('rss_overhead_ratio', 'max'),
      f('rss_overhead_bytes', 'sum'),
      f('mem_fragmentation_ratio', 'max', 'the most fragmented master, not the average that would hide it'),
      f('mem_fragmentation_bytes', 'sum'),
      ...sums(
        'mem_not_counted_for_evict',
        'mem_replication_backlog',
        'mem_total_replication_buffers',
        'mem_clients_slaves',
        'mem_clients_normal',
        'mem_cluster_links',
        'mem_aof_buffer',
      ),
      f('mem_allocator', 'first'),
      f('active_defrag_running', 'max'),
      ...sums('lazyfree_pending_objects', 'lazyfreed_objects'),
    ],
  },
  {
    name: 'persistence',
    title: 'Persistence',
    inDefault: true,
    fields: [
      f('loading', 'max', '1 while any master loads'),
      f('async_loading', 'max'),
      ...maxes('current_cow_peak', 'current_cow_size', 'current_cow_size_age', 'current_fork_perc'),
      ...sums('current_save_keys_processed', 'current_save_keys_total'),
      f('loading_start_time', 'min'),
      ...sums('loading_total_bytes', 'loading_rdb_used_mem', 'loading_loaded_bytes'),
      f('loading_loaded_perc', 'min', 'the slowest master'),
      f('loading_eta_seconds', 'max'),
      f('rdb_changes_since_last_save', 'sum'),
      f('rdb_bgsave_in_progress', 'max'),
      f('rdb_last_save_time', 'min', 'the oldest: every key was saved at least then'),
      f('rdb_last_bgsave_status', 'worst-status'),
      ...maxes('rdb_last_bgsave_time_sec', 'rdb_current_bgsave_time_sec'),
      f('rdb_saves', 'sum'),
      f('rdb_last_cow_size', 'max'),
      ...sums('rdb_last_load_keys_expired', 'rdb_last_load_keys_loaded'),
      f('aof_enabled', 'min', '1 only when every master writes an AOF'),
      ...maxes('aof_rewrite_in_progress', 'aof_rewrite_scheduled', 'aof_last_rewrite_time_sec'),
      f('aof_current_rewrite_time_sec', 'max'),
      f('aof_last_bgrewrite_status', 'worst-status'),
      f('aof_rewrites', 'sum'),
      f('aof_rewrites_consecutive_failures', 'max'),
      f('aof_last_write_status', 'worst-status'),
      f('aof_last_cow_size', 'max'),
      ...maxes('module_fork_in_progress', 'module_fork_last_cow_size'),
      ...sums('aof_current_size', 'aof_base_size'),
      f('aof_pending_rewrite', 'max'),
      ...sums('aof_buffer_length', 'aof_pending_bio_fsync', 'aof_delayed_fsync'),
    ],
  },
  {
    name: 'stats',
    title: 'Stats',
    inDefault: true,
    fields: [
      f('total_connections_received', 'own'),
      f(
        'total_commands_processed',
        'own',
        "commands its clients sent (the masters also count fan-out parts and Slotway's own)",
      ),
      f('instantaneous_ops_per_sec', 'own', 'from the previous reading, at most once a second'),
      f('total_net_input_bytes', 'own', 'bytes read from its clients'),
      f('total_net_output_bytes', 'own', 'bytes written to its clients'),
      ...sums('total_net_repl_input_bytes', 'total_net_repl_output_bytes'),
      f('instantaneous_input_kbps', 'own'),
      f('instantaneous_output_kbps', 'own'),
      ...sums('instantaneous_input_repl_kbps', 'instantaneous_output_repl_kbps'),
      f('rejected_connections', 'own', '--maxclients refusals and connections closed while draining'),
      ...sums('sync_full', 'sync_partial_ok', 'sync_partial_err', 'expired_keys'),
      f('expired_stale_perc', 'max'),
      ...sums('expired_time_cap_reached_count', 'expire_cycle_cpu_milliseconds', 'evicted_keys', 'evicted_clients'),
      f('total_eviction_exceeded_time', 'sum'),
      f('current_eviction_exceeded_time', 'max'),
      ...sums('keyspace_hits', 'keyspace_misses', 'pubsub_channels', 'pubsub_patterns', 'pubsubshard_channels'),
      f('latest_fork_usec', 'max'),
      ...sums(
        'total_forks',
        'migrate_cached_sockets',
        'slave_expires_tracked_keys',
        'active_defrag_hits',
        'active_defrag_misses',
        'active_defrag_key_hits',
        'active_defrag_key_misses',
        'total_active_defrag_time',
      ),
      f('current_active_defrag_time', 'max'),
      f('tracking_total_keys', 'own', "keys in Slotway's tracking table (--tracking-table-max-keys)"),
      f('tracking_total_items', 'own', "client ids over all keys of Slotway's tracking table"),
      f('tracking_total_prefixes', 'own', "distinct BCAST prefixes of Slotway's tracking clients"),
      ...sums('unexpected_error_replies'),
      f(
        'total_error_replies',
        'sum',
        "as the Errorstats section (the masters' errors; Slotway's own refusals are in its metrics)",
      ),
      ...sums(
        'dump_payload_sanitizations',
        'total_reads_processed',
        'total_writes_processed',
        'io_threaded_reads_processed',
        'io_threaded_writes_processed',
        'reply_buffer_shrinks',
        'reply_buffer_expands',
      ),
    ],
  },
  {
    name: 'replication',
    title: 'Replication',
    inDefault: true,
    fields: [
      f('role', 'own', '`master`: Slotway takes writes'),
      f('connected_slaves', 'own', '0: no replica replicates from Slotway'),
      f('slave*', 'left-out', "the masters' replicas replicate from them, not from Slotway"),
      f('master_failover_state', 'failover-state'),
      f('master_replid', 'own', 'random per Slotway process'),
      f('master_replid2', 'own', 'zeros'),
      f('master_repl_offset', 'sum', 'grows with every write anywhere'),
      f('second_repl_offset', 'own', '-1'),
      f('repl_backlog_active', 'max'),
      f('repl_backlog_size', 'sum'),
      f('repl_backlog_first_byte_offset', 'min'),
      f('repl_backlog_histlen', 'sum'),
    ],
  },
  {
    name: 'cpu',
    title: 'CPU',
    inDefault: true,
    fields: [
      ...sums('used_cpu_sys', 'used_cpu_user', 'used_cpu_sys_children', 'used_cpu_user_children'),
      ...sums('used_cpu_sys_main_thread', 'used_cpu_user_main_thread'),
    ],
  },
  {
    name: 'modules',
    title: 'Modules',
    inDefault: true,
    fields: [f('module', 'first-lines')],
  },
  {
    name: 'commandstats',
    title: 'Commandstats',
    inDefault: false,
    fields: [
      f(
        'cmdstat_*',
        'parts',
        "calls, usec, rejected_calls, failed_calls summed; usec_per_call recomputed. What the masters ran: fan-out parts and Slotway's own commands (INFO, CLUSTER SLOTS) included",
      ),
    ],
  },
  {
    name: 'errorstats',
    title: 'Errorstats',
    inDefault: true,
    fields: [f('errorstat_*', 'parts', 'count summed')],
  },
  {
    name: 'latencystats',
    title: 'Latencystats',
    inDefault: false,
    fields: [
      f('latency_percentiles_usec_*', 'parts', "each percentile: the largest of the masters' (the slowest master)"),
    ],
  },
  {
    name: 'cluster',
    title: 'Cluster',
    inDefault: true,
    fields: [f('cluster_enabled', 'own', '1: cluster-aware clients (redis-py) look for it before CLUSTER SLOTS')],
  },
  {
    name: 'keyspace',
    title: 'Keyspace',
    inDefault: true,
    fields: [f('db*', 'parts', 'keys and expires summed; avg_ttl averaged weighted by expires')],
  },
  {
    name: 'slotway',
    title: 'Slotway',
    inDefault: true,
    fields: [
      f(
        '*',
        'own',
        "the proxy's own state (`INFO proxy` names it too): version, topology, redirects, retries, buffer memory, each node",
      ),
    ],
  },
];

/** Other names INFO accepts for a section. */
export const INFO_SECTION_ALIASES: ReadonlyMap<string, string> = new Map([['proxy', 'slotway']]);

/** The README's INFO table, made from INFO_SECTIONS: the rules, then every field. */
export function infoFieldTable(): string {
  const lines = ['| rule | meaning |', '|---|---|'];
  for (const [rule, meaning] of Object.entries(INFO_RULES))
    lines.push(`| ${rule} | ${meaning.replace(/\|/g, '\\|')} |`);
  lines.push('', '| section | field | rule | note |', '|---|---|---|---|');
  for (const section of INFO_SECTIONS) {
    for (const field of section.fields) {
      const note = (field.note ?? '').replace(/\|/g, '\\|');
      lines.push(`| ${section.title} | \`${field.name}\` | ${field.rule} | ${note} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}
