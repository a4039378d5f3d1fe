// Counters of the client side, read by INFO, PROXY INFO and the metrics
// (admin/metrics.ts publishes them when Prometheus scrapes). The hot path only
// adds to plain numbers and typed arrays here: no labels, no strings.
import { Route } from '../commands/command-spec.js';
import type { Logger } from 'pino';
import { Failure, type Request } from '../router/request.js';

/** What the server's bookkeeping (drain, --timeout, --maxclients, INFO) needs of a client. */
export interface ClientRecord {
  readonly id: number;
  readonly log: Logger;
  /** The coarse clock's time of its last input. */
  readonly lastActiveAt: number;
  readonly holdsConnection: boolean;
  /** Blocked on a node (BLPOP, XREAD BLOCK ...) or held by CLIENT PAUSE: INFO's blocked_clients. */
  readonly blocked?: boolean;
  readonly pendingReplies: number;
  /** Bytes held for it now (queued replies, unwritten output, what is in flight): the per-client bound's measure. */
  readonly heldBytes: number;
  /** Stops reading and closes after the last reply; false when it waits on a node (blocked, subscribed). */
  drain(): boolean;
  destroy(): void;
}
import { BufferBudget } from './buffer-budget.js';
import { HotKeys } from './hot-keys.js';
import { ProxySlowlog } from './proxy-slowlog.js';

/** Command classes (metric label `class`), by routing shape; a reply's class is commandClass(). */
export const COMMAND_CLASSES = [
  'single_slot',
  'fan_out',
  'every_master',
  'local',
  'connection_holding',
  'refused',
] as const;
/** Results (label `result`): the reply was not an error, was one, Slotway gave up, the redirect budget ran out. */
export const COMMAND_RESULTS = ['ok', 'error', 'failed', 'redirects_exhausted'] as const;
/** Upper bounds (ms) of the latency buckets; one more bucket above the last takes the rest. */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
];

const SINGLE_SLOT = 0;
const FAN_OUT = 1;
const EVERY_MASTER = 2;
const LOCAL = 3;
const CONNECTION_HOLDING = 4;
const REFUSED = 5;
const RESULT_COUNT = COMMAND_RESULTS.length;
const BOUNDS = new Float64Array(LATENCY_BOUNDS_MS);
const BUCKET_COUNT = BOUNDS.length + 1;

export class ServerStats<Client extends ClientRecord = ClientRecord> {
  readonly startedAt = Date.now();
  /** Bytes held for all clients, against --max-buffer-memory (Infinity: no bound). */
  readonly buffers: BufferBudget;
  readonly sessions = new Set<Client>();
  connectionsReceived = 0;
  commands = 0;
  protocolErrors = 0;
  /** AUTH or HELLO AUTH with a wrong user or password. */
  authFailures = 0;
  internalErrors = 0;
  /** Subscribers or monitors closed for leaving too much output unread. */
  outputLimitClosures = 0;
  /** Set once a graceful shutdown began: readiness turns false, new clients are refused. */
  draining = false;
  /** Connections refused (--maxclients) or closed while draining. */
  rejectedClients = 0;
  /** Bytes read from clients, and written to them (replies, pub/sub messages, MONITOR lines). */
  bytesIn = 0;
  bytesOut = 0;
  /** Replies written, by [class * COMMAND_RESULTS.length + result]. */
  readonly replies = new Float64Array(COMMAND_CLASSES.length * RESULT_COUNT);
  /**
   * Latency, read to reply written, per class: counts by [class * buckets +
   * bucket] (bucket i holds bounds[i-1] < ms <= bounds[i]; not cumulative),
   * and the sum in ms.
   */
  readonly latencyCounts = new Float64Array(COMMAND_CLASSES.length * BUCKET_COUNT);
  readonly latencySumsMs = new Float64Array(COMMAND_CLASSES.length);

  /** Slotway's own slow commands (--slowlog-log-slower-than), shown by SLOWLOG GET beside the masters'. */
  readonly slowlog: ProxySlowlog;
  /** Sampled hot and big keys (PROXY HOTKEYS, PROXY BIGKEYS); the dispatcher samples, onReply sizes. */
  readonly hotKeys: HotKeys;

  constructor(maxBufferMemory = Number.POSITIVE_INFINITY, slowlog = new ProxySlowlog(), hotKeys = samplingOff()) {
    this.buffers = new BufferBudget(maxBufferMemory);
    this.slowlog = slowlog;
    this.hotKeys = hotKeys;
  }

  /** Accounts one reply as it is written to its client; `now` is performance.now(). */
  onReply(request: Request, reply: Buffer, now: number): void {
    const kind = commandClass(request);
    const failure = request.failure;
    const result = failure !== Failure.None ? 1 + failure : reply[0] === 45 /* '-' */ ? 1 : 0;
    const replies = this.replies;
    const at = kind * RESULT_COUNT + result;
    replies[at] = (replies[at] as number) + 1;
    const ms = now - request.startedAt;
    let bucket = 0;
    while (bucket < BOUNDS.length && ms > (BOUNDS[bucket] as number)) bucket++;
    const counts = this.latencyCounts;
    const cell = kind * BUCKET_COUNT + bucket;
    counts[cell] = (counts[cell] as number) + 1;
    this.latencySumsMs[kind] = (this.latencySumsMs[kind] as number) + ms;
    // Local answers, refusals and connection holders (a blocked BLPOP's wait) are no work of Slotway's to log.
    if (ms >= this.slowlog.thresholdMs && kind <= EVERY_MASTER) this.slowlog.record(request, ms);
    if (request === this.hotKeys.awaiting) this.hotKeys.onReply(reply.length);
  }

  onClientOpened(session: Client): void {
    this.connectionsReceived++;
    this.sessions.add(session);
  }

  onClientClosed(session: Client): void {
    this.sessions.delete(session);
  }
}

/** Sampling off: what a ServerStats made without options keeps. */
function samplingOff(): HotKeys {
  return new HotKeys({ hotkeysSampleRate: 0, hotkeysCapacity: 1, hotkeysKeyBytes: 1 });
}

/** The class (index into COMMAND_CLASSES) of a request queued in a session. */
export function commandClass(request: Request): number {
  if (request.pinned || request.holdsConnection) return CONNECTION_HOLDING;
  switch (request.spec.route) {
    case Route.Local:
      return LOCAL;
    case Route.Refused:
      return REFUSED;
    case Route.EveryMaster:
    case Route.Scan:
    case Route.OutOfBand:
      return EVERY_MASTER;
    case Route.Session:
      return CONNECTION_HOLDING;
    default:
      return request.fanOut ? FAN_OUT : SINGLE_SLOT;
  }
}
