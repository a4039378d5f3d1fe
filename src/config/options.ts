// Every option of Slotway in one table: its flag, environment variable,
// default and meaning. `--help` and the README's option list come from here,
// and parsing validates against it.
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';

export interface ProxyOptions {
  readonly seeds: readonly string[];
  readonly port: number;
  readonly bind: string;
  readonly metricsPort: number;
  readonly metricsBind: string;
  readonly logLevel: string;
  readonly announceHost: string;
  readonly announcePort: number;
  readonly connectionsPerNode: number;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly refreshIntervalMs: number;
  readonly minRefreshIntervalMs: number;
  readonly maxRedirects: number;
  readonly retryAttempts: number;
  readonly retryDelayMs: number;
  readonly retryMaxDelayMs: number;
  readonly retiredNodeGraceMs: number;
  readonly maxPipeline: number;
  readonly scriptCacheSize: number;
  readonly trackingTableMaxKeys: number;
  readonly cache: boolean;
  readonly cacheMaxMemory: number;
  readonly cacheCommands: readonly string[];
  readonly slowlogLogSlowerThan: number;
  readonly slowlogMaxLen: number;
  readonly hotkeysSampleRate: number;
  readonly hotkeysCapacity: number;
  readonly hotkeysKeyBytes: number;
  readonly hotkeysMetricKeys: number;
  readonly maxWaitMs: number;
  readonly infoCacheMs: number;
  readonly waitSliceMs: number;
  readonly killTimeoutMs: number;
  readonly stallTimeoutMs: number;
  readonly maxBulkLength: number;
  readonly maxArguments: number;
  readonly maxInlineLength: number;
  readonly maxQueryBuffer: number;
  readonly maxLeasesPerNode: number;
  readonly idleLeasesPerNode: number;
  readonly pubsubOutputLimit: number;
  readonly allowMonitor: boolean;
  readonly threads: number | 'auto';
  readonly tlsPort: number;
  readonly tlsCert: string;
  readonly tlsKey: string;
  readonly tlsCa: string;
  readonly clusterUser: string;
  readonly clusterPassword: string;
  readonly clusterTls: boolean;
  readonly clusterTlsCa: string;
  readonly clusterTlsCert: string;
  readonly clusterTlsKey: string;
  readonly clusterTlsServername: string;
  readonly requirepass: string;
  readonly usersFile: string;
  readonly denyCommands: readonly string[];
  readonly maxAuthFailures: number;
  readonly closeLingerMs: number;
  readonly maxClients: number;
  readonly idleTimeoutSeconds: number;
  readonly clientOutputLimit: number;
  readonly clientBufferLimit: number;
  readonly maxBufferMemory: number;
  readonly shutdownTimeoutMs: number;
  readonly trustedNodes: readonly string[];
  readonly natMap: readonly string[];
  readonly readFrom: ReadFrom;
}

/** --read-from: where read-only single-slot commands go (README: "Reading from replicas"). */
export type ReadFrom = 'master' | 'replica' | 'prefer-replica';
export const READ_FROM: readonly ReadFrom[] = ['master', 'replica', 'prefer-replica'];

/**
 * How an option's text is read. 'file': a path that must name a readable
 * file when given ('' = not set); 'secret': a string that may instead come
 * from a file with --<flag>-file (Kubernetes Secrets mount as files).
 */
type Kind = 'list' | 'string' | 'secret' | 'file' | 'integer' | 'boolean' | 'level' | 'threads' | 'choice';

export interface OptionDefinition {
  readonly key: keyof ProxyOptions;
  readonly flag: string;
  readonly kind: Kind;
  readonly defaultValue: ProxyOptions[keyof ProxyOptions];
  readonly min?: number;
  readonly max?: number;
  /** For 'choice': the words accepted. */
  readonly choices?: readonly string[];
  readonly description: string;
}

function isReadableFile(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export const TRUE_WORDS = ['true', 'yes', 'on', '1'];
export const FALSE_WORDS = ['false', 'no', 'off', '0'];
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const MB = 1024 * 1024;

export const OPTION_DEFINITIONS: readonly OptionDefinition[] = [
  {
    key: 'seeds',
    flag: 'cluster',
    kind: 'list',
    defaultValue: [],
    description: 'seed nodes, host:port[,host:port...] (positional seeds work too)',
  },
  {
    key: 'port',
    flag: 'port',
    kind: 'integer',
    defaultValue: 7777,
    min: 0,
    max: 65535,
    description: 'port clients connect to',
  },
  { key: 'bind', flag: 'bind', kind: 'string', defaultValue: '0.0.0.0', description: 'address to listen on' },
  {
    key: 'metricsPort',
    flag: 'metrics-port',
    kind: 'integer',
    defaultValue: 9121,
    min: 0,
    max: 65535,
    description: 'HTTP port of /metrics (Prometheus), /healthz and /readyz (0: any free port)',
  },
  {
    key: 'metricsBind',
    flag: 'metrics-bind',
    kind: 'string',
    defaultValue: '0.0.0.0',
    description: 'address the metrics and health HTTP server listens on',
  },
  {
    key: 'announceHost',
    flag: 'announce-host',
    kind: 'string',
    defaultValue: '',
    description:
      'host CLUSTER SLOTS/SHARDS/NODES announce to cluster-mode clients (default: the address the client connected to)',
  },
  {
    key: 'announcePort',
    flag: 'announce-port',
    kind: 'integer',
    defaultValue: 0,
    min: 0,
    max: 65535,
    description: 'port announced likewise (0: the port the client connected to, plain or TLS)',
  },
  {
    key: 'threads',
    flag: 'threads',
    kind: 'threads',
    defaultValue: 1,
    description:
      'worker processes sharing the listener (node:cluster), each with its own node connections; auto = one per CPU core',
  },
  {
    key: 'logLevel',
    flag: 'log-level',
    kind: 'level',
    defaultValue: 'info',
    description: `log level: ${LEVELS.join(', ')}`,
  },
  {
    key: 'connectionsPerNode',
    flag: 'connections-per-node',
    kind: 'integer',
    defaultValue: 1,
    min: 1,
    max: 64,
    description:
      'pipelined connections to each master, shared by all clients (one batches best: fewer system calls here and on the node)',
  },
  {
    key: 'connectTimeoutMs',
    flag: 'connect-timeout',
    kind: 'integer',
    defaultValue: 2000,
    min: 1,
    description: 'ms to establish a node connection',
  },
  {
    key: 'commandTimeoutMs',
    flag: 'topology-timeout',
    kind: 'integer',
    defaultValue: 2000,
    min: 1,
    description: 'ms a node has to answer a topology query',
  },
  {
    key: 'reconnectMinMs',
    flag: 'reconnect-min',
    kind: 'integer',
    defaultValue: 50,
    min: 1,
    description: 'first delay (ms) before reconnecting to a node; doubles per failure',
  },
  {
    key: 'reconnectMaxMs',
    flag: 'reconnect-max',
    kind: 'integer',
    defaultValue: 2000,
    min: 1,
    description: 'longest delay (ms) between reconnect attempts',
  },
  {
    key: 'refreshIntervalMs',
    flag: 'refresh-interval',
    kind: 'integer',
    defaultValue: 5000,
    min: 100,
    description: 'ms between periodic topology refreshes',
  },
  {
    key: 'minRefreshIntervalMs',
    flag: 'refresh-min-interval',
    kind: 'integer',
    defaultValue: 100,
    min: 0,
    description: 'least ms between two refreshes triggered by MOVED or errors',
  },
  {
    key: 'maxRedirects',
    flag: 'max-redirects',
    kind: 'integer',
    defaultValue: 5,
    min: 0,
    description: 'MOVED/ASK redirects followed per command',
  },
  {
    key: 'retryAttempts',
    flag: 'retry-attempts',
    kind: 'integer',
    defaultValue: 8,
    min: 0,
    description: 'resends per command after TRYAGAIN, CLUSTERDOWN, LOADING or an unreachable node',
  },
  {
    key: 'retryDelayMs',
    flag: 'retry-delay',
    kind: 'integer',
    defaultValue: 25,
    min: 1,
    description: 'first retry delay (ms); doubles per attempt',
  },
  {
    key: 'retryMaxDelayMs',
    flag: 'retry-max-delay',
    kind: 'integer',
    defaultValue: 1000,
    min: 1,
    description: 'longest retry delay (ms)',
  },
  {
    key: 'retiredNodeGraceMs',
    flag: 'retired-node-grace',
    kind: 'integer',
    defaultValue: 10000,
    min: 0,
    description: 'ms a node that left the topology keeps its connections for replies in flight',
  },
  {
    key: 'scriptCacheSize',
    flag: 'script-cache-size',
    kind: 'integer',
    defaultValue: 1000,
    min: 0,
    description: 'scripts remembered from SCRIPT LOAD, reloaded on a node that answers NOSCRIPT (0: off)',
  },
  {
    key: 'trackingTableMaxKeys',
    flag: 'tracking-table-max-keys',
    kind: 'integer',
    defaultValue: 1_000_000,
    min: 1,
    description:
      'keys remembered for clients with CLIENT TRACKING on (as tracking-table-max-keys); the oldest are invalidated past it',
  },
  {
    key: 'cache',
    flag: 'cache',
    kind: 'boolean',
    defaultValue: false,
    description:
      "answer repeated reads from Slotway's own coherent cache, invalidated by the masters' key tracking (README: Cache)",
  },
  {
    key: 'cacheMaxMemory',
    flag: 'cache-max-memory',
    kind: 'integer',
    defaultValue: 64 * MB,
    min: 1024,
    description:
      'bytes the --cache may hold (keys, replies and an estimate of per-entry overhead); least recently used go first',
  },
  {
    key: 'cacheCommands',
    flag: 'cache-commands',
    kind: 'list',
    defaultValue: ['get', 'hget', 'hgetall', 'hmget', 'exists', 'strlen', 'type'],
    description:
      'read commands --cache answers (comma-separated): pure reads of one key whose reply does not depend on time (TTL, PTTL and the like are refused at start)',
  },
  {
    key: 'infoCacheMs',
    flag: 'info-cache-ms',
    kind: 'integer',
    defaultValue: 1000,
    min: 0,
    description:
      "how long (ms) INFO reuses the masters' INFO replies: pollers (exporters, redis-cli --stat) share one fetch per interval (0: a fetch per INFO, concurrent ones still shared)",
  },
  {
    key: 'slowlogLogSlowerThan',
    flag: 'slowlog-log-slower-than',
    kind: 'integer',
    defaultValue: 10000,
    description:
      "µs a command may spend in Slotway (read to reply written) before SLOWLOG GET lists it beside the masters' entries, client name `slotway` (negative: never, 0: every command; as Redis's slowlog-log-slower-than)",
  },
  {
    key: 'slowlogMaxLen',
    flag: 'slowlog-max-len',
    kind: 'integer',
    defaultValue: 128,
    min: 0,
    description: "Slotway's own slow log entries kept, the oldest dropped first (as Redis's slowlog-max-len)",
  },
  {
    key: 'hotkeysSampleRate',
    flag: 'hotkeys-sample-rate',
    kind: 'integer',
    defaultValue: 100,
    min: 0,
    description:
      'PROXY HOTKEYS/BIGKEYS sample 1 in this many commands routed by key, at random gaps (0: off; 1: every command)',
  },
  {
    key: 'hotkeysCapacity',
    flag: 'hotkeys-capacity',
    kind: 'integer',
    defaultValue: 128,
    min: 1,
    max: 100_000,
    description: 'keys kept by each of the hot-key (reads, space-saving) and big-key (bytes) top lists',
  },
  {
    key: 'hotkeysKeyBytes',
    flag: 'hotkeys-key-bytes',
    kind: 'integer',
    defaultValue: 256,
    min: 1,
    max: 65536,
    description: 'bytes of a key the hot/big key lists keep and show (longer keys are cut; metric labels too)',
  },
  {
    key: 'hotkeysMetricKeys',
    flag: 'hotkeys-metric-keys',
    kind: 'integer',
    defaultValue: 10,
    min: 0,
    max: 100,
    description: 'keys (labels) slotway_hot_key_reads and slotway_big_key_bytes export, the top ones (0: none)',
  },
  {
    key: 'maxWaitMs',
    flag: 'max-wait',
    kind: 'integer',
    defaultValue: 1000,
    min: 1,
    description: "cap (ms) on WAIT's timeout, 0 included: WAIT holds a connection other clients share",
  },
  {
    key: 'waitSliceMs',
    flag: 'wait-slice',
    kind: 'integer',
    defaultValue: 20,
    min: 1,
    description:
      "longest time (ms) one WAIT may hold a master's shared connection; a WAIT not yet satisfied is sent again after the commands queued behind it, until its own timeout",
  },
  {
    key: 'killTimeoutMs',
    flag: 'kill-timeout',
    kind: 'integer',
    defaultValue: 6000,
    min: 1,
    description:
      'ms each master has to answer SCRIPT KILL / FUNCTION KILL on a connection of its own (a node reads it only once the script ran busy-reply-threshold, 5000 by default)',
  },
  {
    key: 'stallTimeoutMs',
    flag: 'stall-timeout',
    kind: 'integer',
    defaultValue: 5000,
    min: 0,
    description:
      "ms a master's shared connection may have commands in flight without any reply before /readyz says not ready (0: off)",
  },
  {
    key: 'maxPipeline',
    flag: 'max-pipeline',
    kind: 'integer',
    defaultValue: 10000,
    min: 1,
    description: 'commands a client may have waiting for replies before Slotway stops reading it',
  },
  {
    key: 'maxLeasesPerNode',
    flag: 'max-leases-per-node',
    kind: 'integer',
    defaultValue: 10000,
    min: 1,
    description:
      'dedicated node connections out at once per node (blocked clients, transactions, subscribers); more are refused',
  },
  {
    key: 'idleLeasesPerNode',
    flag: 'idle-leases-per-node',
    kind: 'integer',
    defaultValue: 8,
    min: 0,
    description: 'returned dedicated connections kept open per node for the next blocking command or transaction',
  },
  {
    key: 'pubsubOutputLimit',
    flag: 'pubsub-output-limit',
    kind: 'integer',
    defaultValue: 32 * MB,
    min: 1024,
    description:
      'bytes of pub/sub or MONITOR output a client may leave unread before it is disconnected (Redis: client-output-buffer-limit pubsub 32mb)',
  },
  {
    key: 'allowMonitor',
    flag: 'allow-monitor',
    kind: 'boolean',
    defaultValue: false,
    description: 'allow MONITOR, streamed from every master (it costs every master CPU)',
  },
  {
    key: 'maxBulkLength',
    flag: 'max-bulk-length',
    kind: 'integer',
    defaultValue: 512 * MB,
    min: 1,
    description: 'longest bulk argument in bytes (Redis proto-max-bulk-len)',
  },
  {
    key: 'maxArguments',
    flag: 'max-arguments',
    kind: 'integer',
    defaultValue: 2147483647,
    min: 1,
    description: 'most arguments in one command (Redis: INT_MAX)',
  },
  {
    key: 'maxInlineLength',
    flag: 'max-inline-length',
    kind: 'integer',
    defaultValue: 64 * 1024,
    min: 16,
    description: 'longest inline command or header line in bytes (Redis: 64 KB)',
  },
  {
    key: 'maxQueryBuffer',
    flag: 'max-query-buffer',
    kind: 'integer',
    defaultValue: 1024 * MB,
    min: 1024,
    description: 'most bytes held for one incomplete command (Redis client-query-buffer-limit)',
  },
  {
    key: 'requirepass',
    flag: 'requirepass',
    kind: 'secret',
    defaultValue: '',
    description: 'password of the default user: clients must AUTH before any other command (secret)',
  },
  {
    key: 'usersFile',
    flag: 'users-file',
    kind: 'file',
    defaultValue: '',
    description:
      'users with Redis ACL rules, one per line: user <name> on|off >password|#sha256 ~keys* %R~keys* &channels* +@category -command ... (Redis 7.0 semantics)',
  },
  {
    key: 'maxAuthFailures',
    flag: 'max-auth-failures',
    kind: 'integer',
    defaultValue: 10,
    min: 0,
    description:
      'failed AUTH (or HELLO AUTH) attempts after which a connection is closed, once the last -WRONGPASS is written (0: never)',
  },
  {
    key: 'closeLingerMs',
    flag: 'close-linger-ms',
    kind: 'integer',
    defaultValue: 1000,
    min: 0,
    description:
      'ms Slotway still reads (and drops) what a client sends after a reply that ends its connection (QUIT, a protocol error, --max-auth-failures) before closing it anyway; Redis closes at once',
  },
  {
    key: 'denyCommands',
    flag: 'deny-commands',
    kind: 'list',
    defaultValue: ['flushall', 'flushdb', 'config', 'debug', 'shutdown', 'keys'],
    description: 'commands refused to every client (comma-separated; give an empty value to allow all)',
  },
  {
    key: 'maxClients',
    flag: 'maxclients',
    kind: 'integer',
    defaultValue: 10000,
    min: 1,
    description:
      'client connections at once; more are told "max number of clients reached" and closed (Redis maxclients)',
  },
  {
    key: 'idleTimeoutSeconds',
    flag: 'timeout',
    kind: 'integer',
    defaultValue: 0,
    min: 0,
    description:
      'seconds a client may stay idle before Slotway closes it; 0 never (Redis timeout; blocked and subscribed clients are exempt)',
  },
  {
    key: 'clientOutputLimit',
    flag: 'client-output-limit',
    kind: 'integer',
    defaultValue: 256 * MB,
    min: 1024,
    description:
      'bytes of replies a client may leave unread before it is disconnected (Redis client-output-buffer-limit)',
  },
  {
    key: 'clientBufferLimit',
    flag: 'client-buffer-limit',
    kind: 'integer',
    defaultValue: 8 * MB,
    min: 64 * 1024,
    description:
      'bytes Slotway may hold for one client (its commands in flight with their expected replies, replies waiting for their turn or unread) before it stops reading from that client until they drain',
  },
  {
    key: 'maxBufferMemory',
    flag: 'max-buffer-memory',
    kind: 'integer',
    defaultValue: 0,
    min: 0,
    description:
      'bytes Slotway may hold for all clients together; past it, commands for the nodes get -OOM until clients read their replies (0: a quarter of the memory available to the process, at most 1 GiB; per --threads worker)',
  },
  {
    key: 'natMap',
    flag: 'nat-map',
    kind: 'list',
    defaultValue: [],
    description:
      'addresses to dial instead of those nodes announce: announced-host:port=reachable-host:port, host=host, or 10.0.0.0/24=127.0.1.0/24 (comma-separated, first match wins)',
  },
  {
    key: 'trustedNodes',
    flag: 'trusted-nodes',
    kind: 'list',
    defaultValue: [],
    description:
      'when given, the only nodes Slotway adopts: host:port, host, CIDR or *.pattern entries; otherwise masters never seen before that claim slots are refused (foreign-cluster guard)',
  },
  {
    key: 'readFrom',
    flag: 'read-from',
    kind: 'choice',
    choices: READ_FROM,
    defaultValue: 'master',
    description:
      "where read-only single-slot commands go: master, replica (a connected replica of the slot's master, else the master with a warning) or prefer-replica (the same, falling back quietly); replicas may return stale data",
  },
  {
    key: 'shutdownTimeoutMs',
    flag: 'shutdown-timeout',
    kind: 'integer',
    defaultValue: 10000,
    min: 0,
    description:
      'ms a SIGTERM/SIGINT drain may take: in-flight replies are delivered, then clients are closed and Slotway exits',
  },
  {
    key: 'tlsPort',
    flag: 'tls-port',
    kind: 'integer',
    defaultValue: 0,
    min: 0,
    max: 65535,
    description: 'port of a TLS listener beside --port, same sessions (0: off; Redis tls-port)',
  },
  {
    key: 'tlsCert',
    flag: 'tls-cert',
    kind: 'file',
    defaultValue: '',
    description: 'PEM certificate (chain) the TLS listener presents; reloaded on SIGHUP or when the file changes',
  },
  { key: 'tlsKey', flag: 'tls-key', kind: 'file', defaultValue: '', description: 'PEM private key of --tls-cert' },
  {
    key: 'tlsCa',
    flag: 'tls-ca',
    kind: 'file',
    defaultValue: '',
    description:
      'PEM CA bundle: when given, clients of the TLS listener must present a certificate it signed (Redis tls-auth-clients yes)',
  },
  {
    key: 'clusterUser',
    flag: 'cluster-user',
    kind: 'string',
    defaultValue: '',
    description: 'ACL user Slotway authenticates as on every node connection (empty: the default user)',
  },
  {
    key: 'clusterPassword',
    flag: 'cluster-password',
    kind: 'secret',
    defaultValue: '',
    description: 'password for AUTH on every node connection and topology query (secret)',
  },
  {
    key: 'clusterTls',
    flag: 'cluster-tls',
    kind: 'boolean',
    defaultValue: false,
    description: 'connect to the nodes with TLS (nodes with tls-port and tls-cluster yes)',
  },
  {
    key: 'clusterTlsCa',
    flag: 'cluster-tls-ca',
    kind: 'file',
    defaultValue: '',
    description: "PEM CA bundle that signed the nodes' certificates (default: Node's built-in CAs)",
  },
  {
    key: 'clusterTlsCert',
    flag: 'cluster-tls-cert',
    kind: 'file',
    defaultValue: '',
    description: 'PEM client certificate for the nodes (needed when they run tls-auth-clients yes)',
  },
  {
    key: 'clusterTlsKey',
    flag: 'cluster-tls-key',
    kind: 'file',
    defaultValue: '',
    description: 'PEM private key of --cluster-tls-cert',
  },
  {
    key: 'clusterTlsServername',
    flag: 'cluster-tls-servername',
    kind: 'string',
    defaultValue: '',
    description: "name sent as SNI and checked against every node's certificate (default: the address connected to)",
  },
];

export const DEFAULT_OPTIONS: ProxyOptions = Object.freeze(
  Object.fromEntries(OPTION_DEFINITIONS.map((d) => [d.key, d.defaultValue])) as unknown as ProxyOptions,
);

/** The default as --help and README show it. */
export function shownDefault(definition: OptionDefinition): string {
  const value = definition.defaultValue;
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.join(',');
  if (definition.kind === 'secret' || definition.kind === 'file') return value === '' ? '(none)' : String(value);
  return String(value);
}

/** SLOTWAY_<FLAG> in upper snake case, e.g. SLOTWAY_MAX_PIPELINE. */
export function envName(definition: OptionDefinition): string {
  return envNameOf(definition.flag);
}

/** The environment variable of a flag name (also --config and the -file forms of secrets). */
export function envNameOf(flag: string): string {
  return `SLOTWAY_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** Parses and validates one value; returns an error sentence instead of throwing. */
export function parseValue(
  definition: OptionDefinition,
  text: string,
): { value: ProxyOptions[keyof ProxyOptions] } | { error: string } {
  const name = `--${definition.flag}`;
  switch (definition.kind) {
    case 'list': {
      const items = text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      return { value: items };
    }
    case 'string':
    case 'secret':
      return { value: text };
    case 'file':
      if (text !== '' && !isReadableFile(text)) return { error: `${name}: cannot read file "${text}"` };
      return { value: text };
    case 'threads': {
      if (text === 'auto') return { value: 'auto' };
      const count = Number(text);
      if (!/^\d+$/.test(text) || count < 1 || count > 256)
        return { error: `${name} must be auto or a number from 1 to 256 (got "${text}")` };
      return { value: count };
    }
    case 'boolean': {
      const lower = text.toLowerCase();
      if (TRUE_WORDS.includes(lower)) return { value: true };
      if (FALSE_WORDS.includes(lower)) return { value: false };
      return { error: `${name} must be true or false (got "${text}")` };
    }
    case 'choice': {
      const choices = definition.choices ?? [];
      return choices.includes(text)
        ? { value: text }
        : { error: `${name} must be one of ${choices.join(', ')} (got "${text}")` };
    }
    case 'level':
      return LEVELS.includes(text)
        ? { value: text }
        : { error: `${name} must be one of ${LEVELS.join(', ')} (got "${text}")` };
    case 'integer': {
      const value = Number(text);
      if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value))
        return { error: `${name} must be an integer (got "${text}")` };
      if (definition.min !== undefined && value < definition.min)
        return { error: `${name} must be at least ${definition.min} (got ${value})` };
      if (definition.max !== undefined && value > definition.max)
        return { error: `${name} must be at most ${definition.max} (got ${value})` };
      return { value };
    }
  }
}

/** Fills defaults for any option not given; used by createProxy. */
export function withDefaults(partial: Partial<ProxyOptions>): ProxyOptions {
  return Object.freeze({ ...DEFAULT_OPTIONS, ...partial });
}

/**
 * Problems with how options combine (each value alone parsed fine), one
 * sentence each; the CLI prints them and exits 2, createProxy throws. TLS
 * files are loaded here too, so a key that does not match its certificate
 * stops Slotway at start rather than at the first connection.
 */
export function crossCheckOptions(options: ProxyOptions): string[] {
  const problems: string[] = [];
  if (options.tlsPort !== 0) {
    if (options.tlsCert === '' || options.tlsKey === '')
      problems.push(`--tls-port ${options.tlsPort} needs --tls-cert and --tls-key`);
    else
      problems.push(
        ...pemProblems('--tls-cert/--tls-key', { cert: options.tlsCert, key: options.tlsKey, ca: options.tlsCa }),
      );
    if (options.tlsPort === options.port) problems.push(`--tls-port and --port must differ (both are ${options.port})`);
  } else {
    const given = (['tlsCert', 'tlsKey', 'tlsCa'] as const).filter((key) => options[key] !== '');
    if (given.length > 0)
      problems.push(`${given.map(flagOf).join(', ')} given but --tls-port is 0 (the TLS listener is off)`);
  }
  if (options.clusterTls) {
    if ((options.clusterTlsCert === '') !== (options.clusterTlsKey === ''))
      problems.push('--cluster-tls-cert and --cluster-tls-key go together: give both or neither');
    else
      problems.push(
        ...pemProblems('--cluster-tls-ca/--cluster-tls-cert/--cluster-tls-key', {
          cert: options.clusterTlsCert,
          key: options.clusterTlsKey,
          ca: options.clusterTlsCa,
        }),
      );
  } else {
    const given = (['clusterTlsCa', 'clusterTlsCert', 'clusterTlsKey', 'clusterTlsServername'] as const).filter(
      (key) => options[key] !== '',
    );
    if (given.length > 0) problems.push(`${given.map(flagOf).join(', ')} given but --cluster-tls is off`);
  }
  if (options.clusterUser !== '' && options.clusterPassword === '')
    problems.push('--cluster-user needs --cluster-password');
  return problems;
}

function flagOf(key: keyof ProxyOptions): string {
  return `--${OPTION_DEFINITIONS.find((d) => d.key === key)?.flag ?? key}`;
}

/** Whether PEM files (paths, '' = none) make a TLS context: parse errors, a key that does not match. */
function pemProblems(flags: string, files: { cert: string; key: string; ca: string }): string[] {
  try {
    const read = (path: string): Buffer | undefined => (path === '' ? undefined : readFileSync(path));
    const ca = read(files.ca);
    // OpenSSL skips what is not a certificate in a CA bundle; an empty or garbled one would trust nothing.
    if (ca !== undefined) new X509Certificate(ca);
    createSecureContext({ cert: read(files.cert), key: read(files.key), ca });
    return [];
  } catch (error) {
    return [`${flags}: cannot use these files (${(error as Error).message})`];
  }
}
