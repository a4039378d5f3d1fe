// Decides what happens to one framed command, following its policy row
// (commands/policy-table.ts): refused, answered here, a mode change, sent to
// every master, split across slots, or routed by its slot. The session only
// frames, keeps reply order and writes; it knows no command names, and
// neither does this file: it reads the spec's policy fields.
//
//   Session ──framer──> CommandDispatcher.dispatch(host, framer)
//                          ├─ access (AUTH owed, user rules, admin only)
//                          ├─ host.modes.intercept (MULTI, SUBSCRIBE, MONITOR in progress)
//                          └─ by route: Local / Session / EveryMaster / OutOfBand / Scan / Refused / ByKey
//
// One dispatcher serves every session (it keeps no per-client state): the
// host interface below is all it sees of a session.
import type { Logger } from 'pino';
import type { ScriptUser } from '../cluster/script-user.js';
import { CROSS_SLOT, argumentText, commandSlot, hasArgument } from '../commands/command-args.js';
import { Route, type CommandSpec, type KeyIndices, type SplitPolicy } from '../commands/command-spec.js';
import { UNKNOWN_COMMAND, type CommandTable } from '../commands/command-table.js';
import { LocalAnswer, ScriptEffect } from '../commands/policy.js';
import type { CommandFramer } from '../protocol/command-framer.js';
import * as errors from '../protocol/errors.js';
import { encodeCommand, errorReply } from '../protocol/resp-writer.js';
import { parseInteger } from '../protocol/stream-framer.js';
import { FanOut } from '../router/fan-out.js';
import type { MasterInfo } from '../router/master-info.js';
import { Request } from '../router/request.js';
import type { Router } from '../router/router.js';
import { infoReply, infoSelection, infoText } from './info-text.js';
import { clientUnblock } from './client-command.js';
import { PauseMode, type ClientRegistry } from './client-registry.js';
import type { HotKeys } from './hot-keys.js';
import { answerLocally, type LocalHost } from './local-commands.js';
import type { LocalFacts } from './local-facts.js';
import { refusedWhenExhausted, type BufferBudget } from './buffer-budget.js';
import type { SessionModes } from './session-modes.js';

/** What the dispatcher needs of a client session. */
export interface DispatchHost extends LocalHost {
  readonly modes: SessionModes;
  /** modes.intercept without making the modes of a client that never entered one. */
  intercept(spec: CommandSpec, framer: CommandFramer): boolean;
  /** AUTH is owed, or the user's rules may refuse a command: check each one. */
  readonly checksAccess: boolean;
  /** The previous command ran on a connection of its own: the next waits for it. */
  barrier: boolean;
  /** The node ACL user this client's scripts run as; null: Slotway's own. */
  readonly scriptUser: ScriptUser | null;
  /** Its commands travel on its script user's connections for now (see chooseLane). */
  onScriptLane: boolean;
  /** The command at hand stalled before and is dispatched again (what it noted once is not noted twice). */
  readonly resuming: boolean;
  /** No reply is owed to it: nothing queued, no pub/sub confirmation on its way. */
  readonly idle: boolean;
  /** Holds the command at hand until every earlier reply is settled; false when it may run now. */
  waitForIdle(): boolean;
  /** Queues a reply Slotway gives itself, in order with the others. */
  answer(spec: CommandSpec, reply: Buffer): void;
  /** Queues a request in order and sends it (or settles it, when it is answered already). */
  enqueue(request: Request): void;
  /** Queues a request in order without sending it (a fan-out's parent, a reply Slotway waits for). */
  queue(request: Request): void;
  /** The last command it sent (CLIENT LIST's cmd): the spec itself, no string made per command. */
  lastCommand: CommandSpec | null;
  /** CLIENT PAUSE covers the command at hand: stall at it until the pause ends (client-registry.ts). */
  holdForPause(): void;
}

export interface DispatchContext {
  readonly table: CommandTable;
  /** Bytes held for all clients, against --max-buffer-memory. */
  readonly buffers: BufferBudget;
  readonly log: Logger;
  readonly router: Router;
  readonly facts: LocalFacts;
  readonly maxWaitMs: number;
  /** Every master's INFO, shared by INFO readers for --info-cache-ms. */
  readonly masterInfo: MasterInfo;
  /** Scratch list of key indices; sessions run one at a time, so one suffices. */
  readonly keys: KeyIndices;
  /** Slotway's clients and CLIENT PAUSE's state. */
  readonly clients: ClientRegistry;
}

export class CommandDispatcher {
  readonly #context: DispatchContext;
  readonly #hotKeys: HotKeys;

  constructor(context: DispatchContext) {
    this.#context = context;
    this.#hotKeys = context.facts.stats.hotKeys;
  }

  dispatch(host: DispatchHost, framer: CommandFramer): void {
    const context = this.#context;
    const spec = context.table.lookup(framer);
    // Redis names an unknown command or subcommand before it asks for AUTH or checks ACL rules.
    if (spec === UNKNOWN_COMMAND || spec.local === LocalAnswer.Container) {
      host.modes.noteRefused();
      return host.answer(
        spec,
        spec === UNKNOWN_COMMAND
          ? errorReply(errors.unknownCommand(quoted(argumentText(framer, 0, 'utf8'), 128), unknownCommandArgs(framer)))
          : answerLocally(host, spec, framer, context.facts),
      );
    }
    // Client-side caching: a read's keys are noted before it can be sent, once (tracking-table.ts).
    if (host.tracking !== null && !host.resuming) context.facts.tracking.noteCommand(host, spec, framer, context.keys);
    // --cache: a write's keys leave the cache as it is sent (inside MULTI too: at queue time; cache/read-cache.ts).
    context.facts.cache?.noteCommand(spec, framer);
    host.lastCommand = spec;
    if (host.checksAccess && !spec.noAuth) {
      const refusal = accessRefusal(host, spec, framer, context.keys);
      if (refusal !== null) {
        // Pub/sub confirmations bypass the reply queue: a refusal must not overtake one still owed.
        if (!host.modes.subscriptionsSettled && host.waitForIdle()) return;
        host.modes.noteRefused();
        return host.answer(spec, errorReply(refusal));
      }
    }
    // --max-buffer-memory spent: new work for the nodes is refused instead of growing (buffer-budget.ts).
    const buffers = context.buffers;
    if (
      buffers.used > buffers.limit &&
      host.user !== null &&
      !host.modes.holdsConnection &&
      refusedWhenExhausted(spec)
    ) {
      host.modes.noteRefused(); // inside MULTI: EXEC aborts, as in Redis
      buffers.refused(context.log);
      return host.answer(spec, OOM_REPLY);
    }
    // CLIENT PAUSE holds Slotway's clients, after the checks Redis makes first (as Redis postpones a command).
    const clients = context.clients;
    if (clients.pauseMode !== PauseMode.None && clients.pauses(spec, host.modes.transaction?.writes === true))
      return host.holdForPause();
    if (host.barrier) {
      if (host.waitForIdle()) return;
      host.barrier = false;
    }
    if (host.intercept(spec, framer)) return;
    if (!chooseLane(host, spec)) return;
    switch (spec.route) {
      case Route.Session:
        return host.modes.enter(spec, framer);
      case Route.Local:
        return this.#local(host, spec, framer);
      case Route.Refused:
        return host.answer(spec, errorReply(spec.refusal));
      case Route.EveryMaster:
        return this.#everyMaster(host, spec, framer);
      case Route.Scan: {
        if (framer.argc < 2) return host.answer(spec, errorReply(errors.wrongArity('scan')));
        const scan = FanOut.scan(host, spec, framer, context.router.masterAddresses());
        if (scan instanceof FanOut) this.#queueFanOut(host, scan);
        else host.answer(spec, scan);
        return;
      }
      // OutOfBand is one keyless request: the router sends it to every master at once, each on a connection of its own.
      case Route.OutOfBand:
      case Route.ByKey:
        return this.#byKey(host, spec, framer);
    }
  }

  #local(host: DispatchHost, spec: CommandSpec, framer: CommandFramer): void {
    if (spec.waitsForIdle && host.waitForIdle()) return;
    const context = this.#context;
    if (spec.local === LocalAnswer.Info) return this.#info(host, spec, framer);
    if (spec.local === LocalAnswer.Proxy) return this.#answerLater(host, spec, context.facts.admin(framer, host.resp3));
    if (spec.local === LocalAnswer.ClientUnblock) return this.#answerLater(host, spec, clientUnblock(host, framer));
    if (spec.local === LocalAnswer.ClientTracking) return this.#clientTracking(host, spec, framer);
    host.answer(spec, answerLocally(host, spec, framer, context.facts));
  }

  /** CLIENT TRACKING ON answers once every master reports written keys: every write after its +OK is told. */
  #clientTracking(host: DispatchHost, spec: CommandSpec, framer: CommandFramer): void {
    const facts = this.#context.facts;
    const reply = answerLocally(host, spec, framer, facts);
    const ready = host.tracking === null ? null : facts.tracking.whenReady();
    if (ready === null) return host.answer(spec, reply);
    host.barrier = true; // the client's next commands wait too: a write pipelined behind it is told
    this.#answerLater(
      host,
      spec,
      ready.then(() => reply),
    );
  }

  /** INFO: Slotway's own fields and the masters' merged (info-text.ts), the masters' replies shared (master-info.ts). */
  #info(host: DispatchHost, spec: CommandSpec, framer: CommandFramer): void {
    const facts = this.#context.facts;
    const selection = infoSelection(framer);
    if (!selection.needsMasters) return host.answer(spec, infoReply(infoText(selection, facts, []), host.resp3));
    const request = new Request(host, spec, EMPTY_PAYLOAD, -1);
    // Made when the masters' replies are in, so Slotway's own fields are as fresh as can be.
    const texts = this.#context.masterInfo.read(spec, (late) =>
      request.settle(infoReply(infoText(selection, facts, late), host.resp3)),
    );
    if (texts !== null) return host.answer(spec, infoReply(infoText(selection, facts, texts), host.resp3));
    host.queue(request);
  }

  #everyMaster(host: DispatchHost, spec: CommandSpec, framer: CommandFramer): void {
    if (spec.adminOnly && host.user?.administersNodes !== true)
      return host.answer(spec, errorReply(errors.adminOnly(spec.name.replace('|', ' '))));
    if (spec.everyMaster === 'shard-pairs') return this.#byChannelSlot(host, spec, framer);
    const router = this.#context.router;
    if (spec.scripts === ScriptEffect.Remember && framer.argc === 3) {
      router.scripts.remember(framer.frameBuffer.subarray(framer.argStart[2], framer.argEnd[2]));
    } else if (spec.scripts === ScriptEffect.Forget) {
      router.scripts.clear();
    }
    const merge = spec.everyMaster;
    const slowlog = this.#context.facts.stats.slowlog;
    if (merge === 'slowlog-reset') slowlog.reset();
    // CONFIG GET: the masters share one configuration (CONFIG SET goes to all): the first answers.
    const masters = router.masterAddresses();
    const addresses = merge === 'config-get' ? masters.slice(0, 1) : masters;
    const fanOut = FanOut.toMasters(host, spec, this.#everyMasterPayload(spec, framer), addresses, merge);
    if (merge === 'slowlog') fanOut.limit = slowlogLimit(framer);
    if (merge === 'slowlog' || merge === 'slowlog-len') fanOut.ownEntries = slowlog.entries();
    if (merge === 'config-get') fanOut.redactSecrets = host.user?.administersNodes !== true;
    this.#queueFanOut(host, fanOut);
  }

  /** PUBSUB SHARDNUMSUB ch...: each channel at its slot's master (channels are no keys, so no key spec finds them). */
  #byChannelSlot(host: DispatchHost, spec: CommandSpec, framer: CommandFramer): void {
    const channels = this.#context.keys;
    channels.count = 0;
    for (let i = 2; i < framer.argc; i++) channels.push(i);
    if (channels.count === 0) return host.answer(spec, EMPTY_ARRAY);
    this.#queueFanOut(host, FanOut.split(host, spec, framer, channels, 1, 'shard-pairs', 2));
  }

  /** Routed by the slot of its keys (keyless: any master); on a lease of its own when it blocks. */
  #byKey(host: DispatchHost, spec: CommandSpec, framer: CommandFramer): void {
    const blocks = spec.blockOption !== null ? hasArgument(framer, spec.blockOption) : spec.blocking;
    // A blocking command runs on a connection of its own, after every earlier
    // command of this client (LPUSH then BLPOP must see the push).
    if (blocks && host.waitForIdle()) return;
    const slot = commandSlot(spec, framer, this.#context.keys);
    const hotKeys = this.#hotKeys; // hot-keys.ts: one decrement and a branch per command
    if (slot === CROSS_SLOT) {
      if (spec.split === null) return host.answer(spec, errorReply(errors.CROSSSLOT));
      // The parts go out on Slotway's own connections: after what this client sent on its script lane.
      if (!leaveScriptLane(host)) return;
      if (--hotKeys.countdown === 0) hotKeys.sample(spec, framer, this.#context.keys, slot, null);
      return this.#split(host, spec, framer);
    }
    const payload = framer.frameBuffer.subarray(framer.frameStart, framer.frameEnd);
    const cache = this.#context.facts.cache ?? null;
    const request =
      cache === null
        ? new Request(host, spec, payload, slot)
        : cache.read(host, spec, framer, this.#context.keys, payload, slot);
    // Sampled on a cache hit too (request null: no reply size to wait for): a hot key stays visible when cached.
    if (--hotKeys.countdown === 0) hotKeys.sample(spec, framer, this.#context.keys, slot, request);
    if (request === null) return; // --cache answered it
    if (blocks) {
      host.modes.block(request);
      host.barrier = true;
    }
    host.enqueue(request);
  }

  /** Keys span slots and the command allows it: one child per slot, merged in the parent. */
  #split(host: DispatchHost, spec: CommandSpec, framer: CommandFramer): void {
    const split = spec.split as SplitPolicy;
    if ((framer.argc - 1) % split.step !== 0) return host.answer(spec, errorReply(errors.wrongArity(spec.name)));
    this.#queueFanOut(host, FanOut.split(host, spec, framer, this.#context.keys, split.step, split.merge));
  }

  /** The command as sent to each master: as received, but a capped timeout (WAIT's) lowered to --max-wait. */
  #everyMasterPayload(spec: CommandSpec, framer: CommandFramer): Buffer {
    const payload = framer.frameBuffer.subarray(framer.frameStart, framer.frameEnd);
    const at = spec.cappedTimeout;
    if (at < 0 || framer.argc !== at + 1) return payload;
    const timeout = parseInteger(framer.frameBuffer, framer.argStart[at] as number, framer.argEnd[at] as number);
    const cap = this.#context.maxWaitMs;
    if (!(timeout === 0 || timeout > cap)) return payload;
    const parts: (string | Buffer)[] = [];
    for (let i = 0; i < at; i++) parts.push(framer.frameBuffer.subarray(framer.argStart[i], framer.argEnd[i]));
    parts.push(String(cap));
    return encodeCommand(parts);
  }

  #queueFanOut(host: DispatchHost, fanOut: FanOut): void {
    const children = fanOut.children; // a new array per read: read once
    if (children.length === 0) return host.answer(fanOut.parent.spec, errorReply(errors.SLOT_NOT_SERVED)); // no master known yet
    host.queue(fanOut.parent);
    for (const child of children) this.#context.router.dispatch(child);
  }

  /** A reply Slotway may have to wait for (PROXY REFRESH): queued now, in order, settled when it comes. */
  #answerLater(host: DispatchHost, spec: CommandSpec, reply: Buffer | Promise<Buffer>): void {
    if (!(reply instanceof Promise)) return host.answer(spec, reply);
    const request = new Request(host, spec, EMPTY_PAYLOAD, -1);
    host.queue(request);
    void reply.then((bytes) => request.settle(bytes));
  }
}

/**
 * Which connections the command travels on: Slotway's shared ones, or the
 * client's script user's (when its rights are narrower than Slotway's, its
 * scripts must run as that user). The two keep no order between them, so
 *
 *   - a script enters the script lane once every earlier reply is in;
 *   - a single-slot command may ride the script lane while the client still
 *     waits for replies there (the script user may run all the client may),
 *     and goes back to the shared connections once the client is idle, at
 *     no cost: a pipeline of SET, EVALSHA, SET ... waits once, not per switch;
 *   - everything else (fan-out, every master, modes, blocking) waits to leave it.
 *
 * False when the command must wait (it is resumed later).
 */
function chooseLane(host: DispatchHost, spec: CommandSpec): boolean {
  if (host.scriptUser === null || spec.route === Route.Local || spec.route === Route.Refused) return true;
  if (spec.runsScript) {
    if (host.onScriptLane) return true;
    if (host.waitForIdle()) return false;
    host.onScriptLane = true;
    return true;
  }
  if (!host.onScriptLane) return true;
  if (spec.route === Route.ByKey && spec.split === null && !spec.blocking && spec.blockOption === null) {
    if (host.idle) host.onScriptLane = false;
    return true;
  }
  return leaveScriptLane(host);
}

/** Back to Slotway's shared connections once every reply on the script lane is in; false while waiting. */
function leaveScriptLane(host: DispatchHost): boolean {
  if (!host.onScriptLane) return true;
  if (host.waitForIdle()) return false;
  host.onScriptLane = false;
  return true;
}

/** -NOAUTH before AUTH, -NOPERM for what the user's rules refuse (command, keys, channels); null when the command may run. */
function accessRefusal(host: DispatchHost, spec: CommandSpec, framer: CommandFramer, keys: KeyIndices): string | null {
  const user = host.user;
  if (user === null) return errors.NOAUTH;
  return user.check(spec, framer, keys);
}

/** Redis quotes the first arguments of an unknown command, up to 128 characters in all. */
function unknownCommandArgs(framer: CommandFramer): string {
  let args = '';
  for (let i = 1; i < framer.argc && args.length < 128; i++)
    args += `'${quoted(argumentText(framer, i, 'utf8'), 128 - args.length)}' `;
  return args;
}

/** At most `max` characters, newlines as spaces (a reply line must not break). */
function quoted(text: string, max: number): string {
  return text.slice(0, max).replace(/[\r\n]/g, ' ');
}

/** SLOWLOG GET [count]: 10 by default, every entry for a negative count, as Redis. */
function slowlogLimit(framer: CommandFramer): number {
  if (framer.argc < 3) return 10;
  const count = parseInteger(framer.frameBuffer, framer.argStart[2] as number, framer.argEnd[2] as number);
  return Number.isNaN(count) || count < 0 ? -1 : count;
}

const OOM_REPLY = errorReply(errors.OOM_BUFFER_MEMORY);
const EMPTY_PAYLOAD = Buffer.alloc(0);
const EMPTY_ARRAY = Buffer.from('*0\r\n');
