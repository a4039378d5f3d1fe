// Routing policy Redis's own command table cannot tell us. Every command not
// named here is routed by its key specs to the owning master (keyless: to any
// master). Names are `command` or `container|subcommand`; a policy on a
// container applies to all its subcommands unless one is named itself.
import { bytesEqualIgnoreCase } from '../protocol/name-index.js';
import { notAllowedInClusterMode, notSupportedYet, notThroughProxy as notThroughProxyMessage } from '../protocol/errors.js';
import type { CommandData } from './command-data.js';
import type { CommandArgs, EveryMasterMerge, KeyIndices } from './command-spec.js';

export type Policy =
  | { readonly kind: 'local' }
  | { readonly kind: 'refuse'; readonly message: string }
  | { readonly kind: 'keys'; readonly find: (args: CommandArgs, keys: KeyIndices) => number }
  /** Keys may span slots: split per slot, merge the replies (see router/fan-out.ts). */
  | { readonly kind: 'split'; readonly step: number; readonly merge: 'values' | 'all-ok' | 'sum' }
  /** waitsForReplicas: WAIT's pacing on the shared connections (router/replica-waits.ts). */
  | { readonly kind: 'every-master'; readonly merge: EveryMasterMerge; readonly waitsForReplicas?: true }
  /** Every master at once, each on a fresh connection past the shared one a busy script holds; kill replies merged. */
  | { readonly kind: 'out-of-band' }
  | { readonly kind: 'scan' }
  /** Blocks only when the option is given (XREAD ... BLOCK ms): then it gets a connection of its own. */
  | { readonly kind: 'blocks-with'; readonly option: string }
  /** Changes what the client's connection is (transaction, subscriber, monitor): the session handles it. */
  | { readonly kind: 'session' };

const LOCAL: Policy = { kind: 'local' };
const SESSION: Policy = { kind: 'session' };

function notInClusterMode(name: string): Policy {
  return { kind: 'refuse', message: notAllowedInClusterMode(name) };
}

/** Commands that would act on one node behind the proxy, not on "the server". */
function notThroughProxy(name: string): Policy {
  return { kind: 'refuse', message: notThroughProxyMessage(name) };
}

/** Commands whose proxy support is not built yet; they must not reach a shared connection. */
function notYet(name: string): Policy {
  return { kind: 'refuse', message: notSupportedYet(name) };
}

/** SORT key [BY p] [LIMIT o c] [GET p ...] [ASC|DESC] [ALPHA] [STORE dest]: the STORE key has no key spec. */
function sortKeys(args: CommandArgs, keys: KeyIndices): number {
  if (args.argc < 2) return -1;
  keys.push(1);
  const buffer = args.frameBuffer;
  for (let i = 2; i < args.argc; i++) {
    const start = args.argStart[i] as number;
    const end = args.argEnd[i] as number;
    if (bytesEqualIgnoreCase(buffer, start, end, 'limit')) i += 2;
    else if (bytesEqualIgnoreCase(buffer, start, end, 'by') || bytesEqualIgnoreCase(buffer, start, end, 'get')) i += 1;
    else if (bytesEqualIgnoreCase(buffer, start, end, 'store') && i + 1 < args.argc) keys.push(++i);
  }
  return keys.count;
}

/** Unknown (module) commands: by their first argument if there is one. */
export function firstArgumentKey(args: CommandArgs, keys: KeyIndices): number {
  if (args.argc > 1) keys.push(1);
  return keys.count;
}

/**
 * Commands of Slotway's own, absent from Redis's table: `PROXY INFO|NODES|
 * CONFIG GET|REFRESH|HELP` (admin/proxy-command.ts). Flagged and categorised
 * as Redis flags its admin commands, so ACL rules (+@admin, -@dangerous) and
 * the AUTH requirement treat it as CONFIG.
 */
export const SLOTWAY_COMMANDS: readonly CommandData[] = [
  { name: 'proxy', arity: -2, flags: ['admin', 'noscript', 'loading', 'stale'], categories: ['admin', 'slow', 'dangerous'], keySpecs: [], subcommands: [] },
];

const policies: [string, Policy][] = [
  // Answered by Slotway.
  ['proxy', LOCAL],
  ...['ping', 'echo', 'quit', 'select', 'hello', 'reset', 'auth', 'info', 'readonly', 'readwrite'].map(
    (name): [string, Policy] => [name, LOCAL],
  ),
  ['client', notThroughProxy('client')],
  ...['setname', 'getname', 'setinfo', 'id'].map((sub): [string, Policy] => [`client|${sub}`, LOCAL]),
  // Client-side caching needs invalidations from every master routed to the right client: later.
  ...['tracking', 'trackinginfo', 'caching', 'getredir'].map((sub): [string, Policy] => [`client|${sub}`, notYet(`client ${sub}`)]),
  ['cluster', notYet('cluster')],
  ...['keyslot', 'info', 'slots', 'shards', 'nodes', 'myid'].map((sub): [string, Policy] => [`cluster|${sub}`, LOCAL]),

  // Redis refuses these in cluster mode.
  ...['move', 'swapdb'].map((name): [string, Policy] => [name, notInClusterMode(name)]),

  // Node administration: meaningless behind one address.
  ...['sync', 'psync', 'replicaof', 'slaveof', 'shutdown', 'debug', 'failover', 'migrate', 'replconf', 'asking', 'module', 'role'].map(
    (name): [string, Policy] => [name, notThroughProxy(name)],
  ),

  // Connection-holding commands: the session leases a connection of its own
  // (server/transaction.ts, router/subscriber.ts, router/monitor.ts).
  // Blocking commands (BLPOP ...) need no policy: Redis flags them `blocking`.
  ...['multi', 'exec', 'discard', 'watch', 'unwatch', 'monitor'].map((name): [string, Policy] => [name, SESSION]),
  ...['subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'ssubscribe', 'sunsubscribe'].map(
    (name): [string, Policy] => [name, SESSION],
  ),

  // Whole-keyspace commands: every master, replies merged.
  ['dbsize', { kind: 'every-master', merge: 'sum' }],
  ['keys', { kind: 'every-master', merge: 'concat' }],
  ['randomkey', { kind: 'every-master', merge: 'any-value' }],
  ['lastsave', { kind: 'every-master', merge: 'min' }],
  ['flushall', { kind: 'every-master', merge: 'all-ok' }],
  ['flushdb', { kind: 'every-master', merge: 'all-ok' }],
  ['script|load', { kind: 'every-master', merge: 'first' }],
  ['script|exists', { kind: 'every-master', merge: 'and' }],
  ['script|flush', { kind: 'every-master', merge: 'all-ok' }],
  ['function|load', { kind: 'every-master', merge: 'first' }],
  ['function|delete', { kind: 'every-master', merge: 'all-ok' }],
  ['function|flush', { kind: 'every-master', merge: 'all-ok' }],
  ['function|restore', { kind: 'every-master', merge: 'all-ok' }],
  ...['script|kill', 'function|kill'].map((name): [string, Policy] => [name, { kind: 'out-of-band' }]),
  ['scan', { kind: 'scan' }],
  // WAIT runs on each master over the client's own connection to it (which
  // carried its writes), so it counts this client's writes; the smallest
  // count wins. Its timeout is capped (--max-wait): the connection is shared.
  ['wait', { kind: 'every-master', merge: 'min', waitsForReplicas: true }],

  ...['xread', 'xreadgroup'].map((name): [string, Policy] => [
    name,
    { kind: 'blocks-with', option: 'block' },
  ]),
  // Split by slot and merged. MSETNX, RENAME, SMOVE ... stay CROSSSLOT: their meaning is atomic.
  ['mget', { kind: 'split', step: 1, merge: 'values' }],
  ['mset', { kind: 'split', step: 2, merge: 'all-ok' }],
  ...['del', 'unlink', 'exists', 'touch'].map((name): [string, Policy] => [name, { kind: 'split', step: 1, merge: 'sum' }]),

  ['sort', { kind: 'keys', find: sortKeys }],
  ['sort_ro', { kind: 'keys', find: sortKeys }],
];

export const OVERLAY: ReadonlyMap<string, Policy> = new Map(policies);
