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
import calculateSlot from 'cluster-key-slot';
import type { CommandArgs, CommandSpec, KeyIndices, SplitPolicy } from '../commands/command-spec.js';
import { Frame } from '../protocol/stream-framer.js';
import { ReplyFramer } from '../protocol/reply-framer.js';
import { OK, encodeCommand, integerReply } from '../protocol/resp-writer.js';
import { Request, type RequestOwner } from './request.js';

type MergeKind = SplitPolicy['merge'];

interface Child {
  readonly request: Request;
  /** Positions, in the client's key order, of the keys this child carries. */
  readonly positions: number[];
}

export class FanOut implements RequestOwner {
  readonly id: number;
  readonly parent: Request;
  readonly #merge: MergeKind;
  readonly #children: Child[];
  readonly #keyCount: number;
  #pending: number;

  private constructor(parent: Request, merge: MergeKind, children: Child[], keyCount: number) {
    this.id = parent.owner.id;
    this.parent = parent;
    this.#merge = merge;
    this.#children = children;
    this.#keyCount = keyCount;
    this.#pending = children.length;
  }

  /**
   * Builds the parent (to queue in the session) and its children (to dispatch).
   * `keys` holds the key argument indices; each key carries `step - 1` more
   * arguments after it (MSET's value).
   */
  static split(owner: RequestOwner, spec: CommandSpec, args: CommandArgs, keys: KeyIndices, step: number, merge: MergeKind): FanOut {
    const parent = new Request(owner, spec, EMPTY, -1);
    const name = args.frameBuffer.subarray(args.argStart[0], args.argEnd[0]);
    const bySlot = new Map<number, { args: Buffer[]; positions: number[] }>();
    for (let k = 0; k < keys.count; k++) {
      const index = keys.indices[k] as number;
      const key = args.frameBuffer.subarray(args.argStart[index], args.argEnd[index]);
      const slot = calculateSlot(key);
      let group = bySlot.get(slot);
      if (group === undefined) {
        group = { args: [name], positions: [] };
        bySlot.set(slot, group);
      }
      for (let j = 0; j < step; j++) group.args.push(args.frameBuffer.subarray(args.argStart[index + j], args.argEnd[index + j]));
      group.positions.push(k);
    }
    const children: Child[] = [];
    const fanOut = new FanOut(parent, merge, children, keys.count);
    for (const [slot, group] of bySlot) {
      children.push({ request: new Request(fanOut, spec, encodeCommand(group.args), slot), positions: group.positions });
    }
    fanOut.#pending = children.length;
    return fanOut;
  }

  get children(): readonly Request[] {
    return this.#children.map((c) => c.request);
  }

  onRequestDone(_child: Request): void {
    if (--this.#pending > 0) return;
    this.parent.reply = this.#merged();
    this.parent.done = true;
    this.parent.owner.onRequestDone(this.parent);
  }

  #merged(): Buffer {
    // The first error, in key order, answers for all.
    const byPosition = [...this.#children].sort((a, b) => (a.positions[0] as number) - (b.positions[0] as number));
    for (const child of byPosition) {
      const reply = child.request.reply as Buffer;
      if (reply[0] === 45 /* '-' */) return reply;
    }
    if (this.#merge === 'all-ok') return OK;
    if (this.#merge === 'sum') {
      let sum = 0;
      for (const child of this.#children) sum += Number((child.request.reply as Buffer).toString('latin1', 1).trim());
      return integerReply(sum);
    }
    const values = new Array<Buffer>(this.#keyCount);
    for (const child of this.#children) {
      const elements = arrayElements(child.request.reply as Buffer);
      child.positions.forEach((position, i) => {
        values[position] = elements[i] ?? NULL_ELEMENT;
      });
    }
    return Buffer.concat([Buffer.from(`*${this.#keyCount}\r\n`), ...values]);
  }
}

const EMPTY = Buffer.alloc(0);
const NULL_ELEMENT = Buffer.from('$-1\r\n');

/** The encoded elements of an array reply, as views of it. */
function arrayElements(reply: Buffer): Buffer[] {
  const headerEnd = reply.indexOf('\r\n') + 2;
  const framer = new ReplyFramer();
  framer.push(reply.subarray(headerEnd));
  const elements: Buffer[] = [];
  while (framer.next() === Frame.Ready) elements.push(framer.frameBuffer.subarray(framer.frameStart, framer.frameEnd));
  return elements;
}
