// Split and merge of multi-key commands whose keys span slots (MGET, MSET,
// DEL, UNLINK, EXISTS, TOUCH): one sub-command per slot, sent in parallel,
// each following MOVED/ASK like any request; the parent settles when the
// last child does.
//
//   session queue:  [ ... | parent MGET a b c | ... ]
//                            │ children (owner = parent)
//                            ├─ MGET a c   (slot 1)   ─┐
//                            └─ MGET b     (slot 2)   ─┴─> merge in key order
//
// A child that fails fails the whole reply with its error, as the issue asks.
import type { CommandArgs, CommandSpec, EveryMasterMerge, KeyIndices, SplitPolicy } from '../commands/command-spec.js';
import { arrayElements } from '../protocol/reply-elements.js';
import { OK, encodeCommand, integerReply } from '../protocol/resp-writer.js';
import { parseInteger } from '../protocol/stream-framer.js';
import { mergeMax, mergeNumsub, mergePairs, mergeUnion } from './pubsub-merge.js';
import * as nodeWide from './node-wide-merge.js';
import { Request, type RequestOwner } from './request.js';
import { splitBySlot } from './split-parts.js';
import { mergeValues } from './values-merge.js';

/** How children's replies combine; see #merged. */
export type MergeKind = SplitPolicy['merge'] | EveryMasterMerge | 'scan';

interface Child {
  readonly request: Request;
  /** Positions, in the client's key order, of the keys this child carries. */
  readonly positions: number[];
}

export class FanOut implements RequestOwner {
  readonly id: number;
  readonly resp3: boolean;
  readonly parent: Request;
  readonly #merge: MergeKind;
  readonly #children: Child[];
  readonly #keyCount: number;
  #pending: number;
  /** For SCAN: how many masters there are. */
  #masters = 0;
  /** For SLOWLOG GET: how many entries the client asked for (-1: all). */
  limit = -1;
  /** For SLOWLOG GET and LEN: Slotway's own slow log entries, newest first. */
  ownEntries: readonly Buffer[] = [];
  /** For CONFIG GET: empty the values of secrets (a non-admin asks). */
  redactSecrets = false;

  private constructor(parent: Request, merge: MergeKind, children: Child[], keyCount: number) {
    this.id = parent.owner.id;
    this.resp3 = parent.owner.resp3;
    this.parent = parent;
    parent.fanOut = true;
    this.#merge = merge;
    this.#children = children;
    this.#keyCount = keyCount;
    this.#pending = children.length;
  }

  /**
   * Builds the parent (to queue in the session) and its children (to dispatch).
   * `keys` holds the key argument indices; each key carries `step - 1` more
   * arguments after it (MSET's value). Each part starts with the first `head`
   * arguments (2 for PUBSUB SHARDNUMSUB).
   */
  static split(
    owner: RequestOwner,
    spec: CommandSpec,
    args: CommandArgs,
    keys: KeyIndices,
    step: number,
    merge: MergeKind,
    head = 1,
  ): FanOut {
    const parent = new Request(owner, spec, EMPTY, -1);
    const children: Child[] = [];
    const fanOut = new FanOut(parent, merge, children, keys.count);
    // Each part's payload is encoded straight from the client's bytes (split-parts.ts).
    for (const part of splitBySlot(args, keys, step, head))
      children.push({ request: new Request(fanOut, spec, part.payload, part.slot), positions: part.positions });
    fanOut.#pending = children.length;
    return fanOut;
  }

  /** The same command to every master; `addresses` from Router.masterAddresses(). */
  static toMasters(
    owner: RequestOwner,
    spec: CommandSpec,
    payload: Buffer,
    addresses: readonly string[],
    merge: EveryMasterMerge,
  ): FanOut {
    const parent = new Request(owner, spec, EMPTY, -1);
    const children: Child[] = [];
    const fanOut = new FanOut(parent, merge, children, addresses.length);
    addresses.forEach((address, i) => {
      const child = new Request(fanOut, spec, payload, -1);
      child.target = address;
      children.push({ request: child, positions: [i] });
    });
    fanOut.#pending = children.length;
    return fanOut;
  }

  /**
   * SCAN over every master in turn. The client's cursor encodes which master
   * and that master's own cursor: cursor = nodeCursor * 1024 + masterIndex.
   * A cursor naming a master that no longer exists ends the scan (0) rather
   * than looping when the topology changed.
   */
  static scan(
    owner: RequestOwner,
    spec: CommandSpec,
    args: CommandArgs,
    addresses: readonly string[],
  ): FanOut | Buffer {
    const text = args.frameBuffer.toString('latin1', args.argStart[1], args.argEnd[1]);
    if (!/^\d+$/.test(text)) return errorLine('ERR invalid cursor');
    const cursor = BigInt(text);
    const index = Number(cursor % SCAN_FANOUT);
    if (index >= addresses.length) return EMPTY_SCAN;
    const rest: Buffer[] = [];
    for (let i = 2; i < args.argc; i++) rest.push(args.frameBuffer.subarray(args.argStart[i], args.argEnd[i]));
    const parent = new Request(owner, spec, EMPTY, -1);
    const children: Child[] = [];
    const fanOut = new FanOut(parent, 'scan', children, 1);
    const child = new Request(fanOut, spec, encodeCommand(['SCAN', String(cursor / SCAN_FANOUT), ...rest]), -1);
    child.target = addresses[index] as string;
    children.push({ request: child, positions: [index] });
    fanOut.#masters = addresses.length;
    fanOut.#pending = 1;
    return fanOut;
  }

  get children(): readonly Request[] {
    return this.#children.map((c) => c.request);
  }

  get closed(): boolean {
    return this.parent.owner.closed;
  }

  get readsFromMasters(): boolean {
    return this.parent.owner.readsFromMasters === true;
  }

  onRequestDone(_child: Request): void {
    if (--this.#pending > 0) return;
    this.parent.settle(this.#merged());
  }

  /** A child's reply could not be handled: the client that sent the parent pays for it, no one else. */
  onInternalError(error: unknown): void {
    const owner = this.parent.owner;
    if (owner.onInternalError === undefined) throw error;
    owner.onInternalError(error);
  }

  #merged(): Buffer {
    // The first error, in key order, answers for all.
    let error: Child | null = null;
    for (const child of this.#children) {
      if ((child.request.reply as Buffer)[0] !== 45 /* '-' */) continue;
      if (error === null || (child.positions[0] as number) < (error.positions[0] as number)) error = child;
    }
    // A master's error is part of a by-node text (LATENCY GRAPH of an event it never saw).
    if (error !== null && this.#merge !== 'by-node') {
      this.parent.failure = error.request.failure;
      return error.request.reply as Buffer;
    }
    // The hot one: no sorting needed; values copied from the replies' ranges (values-merge.ts).
    if (this.#merge === 'values') return mergeValues(this.#children, this.#keyCount) ?? this.#values();
    // Order-free merges (MSET, DEL, EXISTS ...): no sorted copy of the children, no array of replies.
    if (this.#merge === 'all-ok') return OK;
    if (this.#merge === 'sum') return integerReply(this.#sum(0));
    const byPosition = [...this.#children].sort((a, b) => (a.positions[0] as number) - (b.positions[0] as number));
    const replies = byPosition.map((c) => c.request.reply as Buffer);
    switch (this.#merge) {
      case 'min':
        return integerReply(Math.min(...this.#integers()));
      case 'first':
        return byPosition[0]?.request.reply as Buffer;
      case 'any-value': {
        const values = byPosition
          .map((c) => c.request.reply as Buffer)
          .filter((r) => !r.equals(NULL_ELEMENT) && !r.equals(NULL_RESP3));
        return values[Math.floor(Math.random() * values.length)] ?? NULL_ELEMENT;
      }
      case 'concat': {
        const elements = byPosition.flatMap((c) => arrayElements(c.request.reply as Buffer));
        return Buffer.concat([Buffer.from(`*${elements.length}\r\n`), ...elements]);
      }
      case 'and': {
        // SCRIPT EXISTS: a script exists only if every master has it.
        const lists = byPosition.map((c) => arrayElements(c.request.reply as Buffer).map((e) => e.toString('latin1')));
        const first = lists[0] ?? [];
        const all = first.map((_, i) => (lists.every((list) => list[i] === ':1\r\n') ? ':1\r\n' : ':0\r\n'));
        return Buffer.from(`*${all.length}\r\n${all.join('')}`);
      }
      case 'scan':
        return this.#scanReply(byPosition[0] as Child);
      case 'slowlog':
        return this.#slowlog();
      case 'numsub':
        return mergeNumsub(replies);
      case 'union':
        return mergeUnion(replies);
      case 'max':
        return mergeMax(replies);
      case 'slowlog-len':
        return integerReply(this.#sum(this.ownEntries.length));
      case 'slowlog-reset':
        return OK;
      case 'latency-latest':
        return nodeWide.mergeLatencyLatest(replies);
      case 'latency-history':
        return nodeWide.mergeLatencyHistory(replies);
      case 'latency-histogram':
        return nodeWide.mergeLatencyHistogram(replies);
      case 'memory-stats':
        return nodeWide.mergeMemoryStats(replies);
      case 'by-node':
        return nodeWide.textByNode(
          replies,
          byPosition.map((c) => c.request.target),
        );
      case 'config-get':
        return this.redactSecrets ? nodeWide.redactConfig(replies[0] as Buffer) : (replies[0] as Buffer);
      case 'shard-pairs':
        return mergePairs(
          this.#children.map((c) => c.request.reply as Buffer),
          this.#children.map((c) => c.positions),
          this.#keyCount,
        );
    }
  }

  /**
   * SLOWLOG GET of every master: their entries, newest first (by time, then
   * by id), cut to the count the client asked for. Entry ids are each
   * master's own, so two entries may share one.
   */
  #slowlog(): Buffer {
    const entries: { element: Buffer; time: number; id: number }[] = [];
    const lists = [...this.#children.map((child) => child.request.reply as Buffer), ...this.ownEntries];
    for (const [i, list] of lists.entries()) {
      // Slotway's own entries come one by one, the masters' as one array each.
      for (const element of i < this.#children.length ? arrayElements(list) : [list]) {
        const [id, time] = arrayElements(element);
        entries.push({ element, time: integerValue(time), id: integerValue(id) });
      }
    }
    entries.sort((a, b) => b.time - a.time || b.id - a.id);
    const kept = this.limit < 0 ? entries : entries.slice(0, this.limit);
    return Buffer.concat([Buffer.from(`*${kept.length}\r\n`), ...kept.map((entry) => entry.element)]);
  }

  /** `start` plus every child's integer reply. */
  #sum(start: number): number {
    let sum = start;
    for (const child of this.#children) sum += integerValue(child.request.reply as Buffer);
    return sum;
  }

  #integers(): number[] {
    return this.#children.map((child) => integerValue(child.request.reply as Buffer));
  }

  #values(): Buffer {
    const values = new Array<Buffer>(this.#keyCount);
    const header = Buffer.from(`*${this.#keyCount}\r\n`, 'latin1');
    let size = header.length;
    for (const child of this.#children) {
      const elements = arrayElements(child.request.reply as Buffer);
      const positions = child.positions;
      for (let i = 0; i < positions.length; i++) {
        const value = elements[i] ?? NULL_ELEMENT;
        values[positions[i] as number] = value;
        size += value.length;
      }
    }
    const out = Buffer.allocUnsafe(size);
    let at = header.copy(out, 0);
    for (const value of values) at += value.copy(out, at);
    return out;
  }

  /** [nodeCursor, keys] from master i becomes [client cursor, keys]. */
  #scanReply(child: Child): Buffer {
    const reply = child.request.reply as Buffer;
    const [cursorElement, keys] = arrayElements(reply);
    const nodeCursor = BigInt((cursorElement ?? Buffer.from('$1\r\n0\r\n')).toString('latin1').split('\r\n')[1] ?? '0');
    const index = BigInt(child.positions[0] as number);
    let next = 0n;
    if (nodeCursor !== 0n) next = nodeCursor * SCAN_FANOUT + index;
    else if (index + 1n < BigInt(this.#masters)) next = index + 1n;
    const cursorText = next.toString();
    return Buffer.concat([
      Buffer.from(`*2\r\n$${cursorText.length}\r\n${cursorText}\r\n`),
      keys ?? Buffer.from('*0\r\n'),
    ]);
  }
}

const EMPTY = Buffer.alloc(0);
/** Masters a SCAN cursor can name: its low part, cursor % SCAN_FANOUT. */
const SCAN_FANOUT = 1024n;
const EMPTY_SCAN = Buffer.from('*2\r\n$1\r\n0\r\n*0\r\n');

function errorLine(message: string): Buffer {
  return Buffer.from(`-${message}\r\n`);
}
const NULL_ELEMENT = Buffer.from('$-1\r\n');

/** The value of an integer reply or element (`:42\r\n`); 0 for anything else. */
function integerValue(element: Buffer | undefined): number {
  if (element === undefined || element[0] !== 58 /* ':' */) return 0;
  return parseInteger(element, 1, element.length - 2);
}
const NULL_RESP3 = Buffer.from('_\r\n');
