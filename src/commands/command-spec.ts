// A command as Slotway uses it at run time: what Redis told us (arity, flags,
// key specs) plus its row of the policy table (policy-table.ts).
import type { NameIndex } from '../protocol/name-index.js';
import type { CommandData, KeySpecData } from './command-data.js';
import { LocalAnswer, ModeCommand, ScriptEffect } from './policy.js';

/** How a command is routed: the "routing shape". */
export const enum Route {
  /** To the master owning the slot of its keys; keyless: to any master. */
  ByKey = 0,
  /** Answered by Slotway itself (see server/local-commands.ts); `local` says how. */
  Local = 1,
  /** Never forwarded: `refusal` is the error the client gets. */
  Refused = 2,
  /** To every master, replies merged by `everyMaster` (DBSIZE, KEYS, FLUSHALL ...). */
  EveryMaster = 3,
  /** SCAN: one master at a time, the cursor names the master. */
  Scan = 4,
  /** Changes the session's mode: MULTI/EXEC/WATCH, (P|S)SUBSCRIBE, MONITOR; `mode` says which. */
  Session = 5,
  /** SCRIPT KILL, FUNCTION KILL: every master at once, each on a fresh connection of its own (router/out-of-band.ts). */
  OutOfBand = 6,
}

/** How replies of every master combine (see router/fan-out.ts). */
export type EveryMasterMerge =
  | 'sum'
  | 'all-ok'
  | 'concat'
  | 'first'
  | 'and'
  | 'min'
  | 'any-value'
  | 'slowlog'
  /** PUBSUB NUMSUB, CHANNELS (and SHARDCHANNELS), NUMPAT: router/pubsub-merge.ts. */
  | 'numsub'
  | 'union'
  | 'max'
  /** PUBSUB SHARDNUMSUB: not every master but each channel's slot owner, pairs merged back in order. */
  | 'shard-pairs'
  /** SLOWLOG LEN and RESET: the masters' and Slotway's own slow log (server/proxy-slowlog.ts). */
  | 'slowlog-len'
  | 'slowlog-reset'
  /** LATENCY LATEST/HISTORY/HISTOGRAM, MEMORY STATS: router/node-wide-merge.ts. */
  | 'latency-latest'
  | 'latency-history'
  | 'latency-histogram'
  | 'memory-stats'
  /** LATENCY DOCTOR/GRAPH, MEMORY DOCTOR/MALLOC-STATS: each master's text under its address. */
  | 'by-node'
  /** CONFIG GET: one master's answer; secrets emptied for a non-admin. */
  | 'config-get';

export interface SplitPolicy {
  /** Arguments per key (MSET: key and value). */
  readonly step: number;
  /** values: an array in key order (MGET); all-ok: +OK when all are (MSET); sum: integers added (DEL). */
  readonly merge: 'values' | 'all-ok' | 'sum';
}

/** Finds key argument indices for commands whose key specs cannot. */
export type CustomKeyFinder = (args: CommandArgs, keys: KeyIndices) => number;

/** The framed arguments of one command (CommandFramer fits this shape). */
export interface CommandArgs {
  readonly frameBuffer: Buffer;
  readonly argc: number;
  readonly argStart: Int32Array;
  readonly argEnd: Int32Array;
}

/** A reusable list of key argument indices. */
export class KeyIndices {
  count = 0;
  indices = new Int32Array(64);

  push(index: number): void {
    if (this.count === this.indices.length) {
      const grown = new Int32Array(this.count * 2);
      grown.set(this.indices);
      this.indices = grown;
    }
    this.indices[this.count++] = index;
  }
}

export class CommandSpec {
  readonly name: string;
  readonly arity: number;
  readonly readonly: boolean;
  readonly write: boolean;
  readonly blocking: boolean;
  /** Redis runs it while a script is busy (SCRIPT KILL, AUTH ...); others get -BUSY then. */
  readonly allowBusy: boolean;
  /** May run before AUTH (AUTH, HELLO, QUIT, RESET). */
  readonly noAuth: boolean;
  readonly keySpecs: readonly KeySpecData[];
  readonly categories: readonly string[];
  route: Route;
  /** False until the policy table gives it a row: such a command is refused, never forwarded. */
  classified: boolean;
  /** The error line (without `-`) for Route.Refused. */
  refusal: string;
  /** For Route.Local: which answer. */
  local: LocalAnswer;
  /** For Route.Session: which mode command. */
  mode: ModeCommand;
  /** What it does to the scripts Slotway remembers. */
  scripts: ScriptEffect;
  /** Runs only for an admin of the users file (node administration on every master). */
  adminOnly: boolean;
  /** Every earlier reply must be settled before it runs (HELLO switches the protocol). */
  waitsForIdle: boolean;
  /** Answered by Slotway but queued like a keyless command inside MULTI (PING, ECHO). */
  queuesInTransaction: boolean;
  /** Argument index of a timeout capped at --max-wait (WAIT); -1: none. */
  cappedTimeout: number;
  customKeys: CustomKeyFinder | null;
  /** For Route.EveryMaster: how the replies merge. */
  everyMaster: EveryMasterMerge;
  /** WAIT: paced per master, one at a time and in slices, on the shared connections (router/replica-waits.ts). */
  waitsForReplicas: boolean;
  /** How to split across slots and merge back, for commands that allow it. */
  split: SplitPolicy | null;
  /** An option that makes this command block (XREAD BLOCK); without it the command does not block. */
  blockOption: string | null;
  subcommands: NameIndex<CommandSpec> | null;
  /** Runs client code on the node (EVAL, FCALL ...): sent as the client's script user (commands/script-commands.ts). */
  runsScript: boolean;
  /** A CLIENT subcommand: CLIENT CACHING's flag outlives it, for the command after (as in Redis). */
  readonly keepsCachingFlag: boolean;

  constructor(data: CommandData) {
    this.name = data.name;
    this.arity = data.arity;
    this.readonly = data.flags.includes('readonly');
    this.write = data.flags.includes('write');
    this.blocking = data.flags.includes('blocking');
    this.allowBusy = data.flags.includes('allow_busy');
    this.noAuth = data.flags.includes('no_auth');
    this.keySpecs = data.keySpecs;
    this.categories = data.categories;
    this.route = Route.ByKey;
    this.classified = false;
    this.refusal = '';
    this.local = LocalAnswer.None;
    this.mode = ModeCommand.None;
    this.scripts = ScriptEffect.None;
    this.adminOnly = false;
    this.waitsForIdle = false;
    this.queuesInTransaction = false;
    this.cappedTimeout = -1;
    this.customKeys = null;
    this.blockOption = null;
    this.split = null;
    this.everyMaster = 'first';
    this.waitsForReplicas = false;
    this.subcommands = null;
    this.runsScript = false;
    this.keepsCachingFlag = data.name.startsWith('client|');
  }

  refuse(message: string): void {
    this.route = Route.Refused;
    this.refusal = message;
  }
}
