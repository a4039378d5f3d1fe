// PUBSUB introspection over the cluster: how the masters' answers combine.
//
// Where Slotway's clients' subscriptions live (router/subscriber.ts):
//
//   SUBSCRIBE / PSUBSCRIBE   one master per client (its "main link")
//   __keyspace@ / __keyevent@ channels and patterns
//                            EVERY master, once per client (notifications are node-local)
//   SSUBSCRIBE               the master owning the shard channel's slot
//
// So a master's count is only its share. The rules:
//
//   NUMSUB ch...       per channel, the SUM over masters: each client is on one
//                      master. A keyspace channel is on every master once per
//                      client, so its count is the MAX over masters (a sum
//                      would count each client once per master).
//   CHANNELS [pat]     the union over masters, each name once, in first-seen order.
//   SHARDCHANNELS      the same union.
//   SHARDNUMSUB ch...  each channel asked at its slot's master (split like MGET),
//                      the (channel, count) pairs put back in request order.
//   NUMPAT             Redis counts a node's unique patterns, and no command
//                      lists them, so the cluster's unique count cannot be known
//                      exactly. Slotway answers the MAX over masters: it never
//                      counts one pattern twice, and it is exact when every
//                      pattern is on every master, as keyspace patterns always
//                      are and as a pattern shared by many clients (the same
//                      application on many hosts) soon is. Distinct patterns
//                      held by clients on different masters are under-counted;
//                      a sum would over-count every shared and keyspace pattern.
//
// Replies keep the shape the nodes gave (RESP2 or RESP3: Redis 7.0 answers
// NUMSUB as an array, later versions as a map in RESP3): the first reply's
// type byte heads the merged one. Pure functions of reply bytes, unit tested.
import { isKeyspaceName } from './subscriber.js';
import { arrayElements, bulkValue, integerValue } from '../protocol/reply-elements.js';

/** PUBSUB NUMSUB: every master's [ch, n, ch, n ...] for the same channels in the same order. */
export function mergeNumsub(replies: readonly Buffer[]): Buffer {
  const first = replies[0];
  if (first === undefined) return EMPTY_ARRAY;
  const lists = replies.map((reply) => arrayElements(reply));
  const names = lists[0] as Buffer[];
  const out: Buffer[] = [];
  for (let i = 0; i + 1 < names.length; i += 2) {
    const nameElement = names[i] as Buffer;
    const keyspace = isKeyspaceName((bulkValue(nameElement) ?? EMPTY).toString('latin1'));
    let total = 0;
    for (const list of lists) {
      const count = countOf(list[i + 1]);
      total = keyspace ? Math.max(total, count) : total + count;
    }
    out.push(nameElement, Buffer.from(`:${total}\r\n`));
  }
  return aggregate(first[0] as number, out);
}

/** PUBSUB CHANNELS / SHARDCHANNELS: every master's names, each once. */
export function mergeUnion(replies: readonly Buffer[]): Buffer {
  const first = replies[0];
  if (first === undefined) return EMPTY_ARRAY;
  const seen = new Set<string>();
  const out: Buffer[] = [];
  for (const reply of replies) {
    for (const element of arrayElements(reply)) {
      const name = element.toString('latin1');
      if (seen.has(name)) continue;
      seen.add(name);
      out.push(element);
    }
  }
  return aggregate(first[0] as number, out);
}

/** PUBSUB NUMPAT: the largest of the masters' counts (see the file header for why not the sum). */
export function mergeMax(replies: readonly Buffer[]): Buffer {
  let max = 0;
  for (const reply of replies) max = Math.max(max, countOf(reply));
  return Buffer.from(`:${max}\r\n`);
}

/**
 * PUBSUB SHARDNUMSUB split by slot: `parts[k]` is the reply of the part
 * that asked the channels at request positions `positions[k]`; each part's
 * reply holds one (channel, count) pair per channel, in the part's order.
 */
export function mergePairs(parts: readonly Buffer[], positions: readonly (readonly number[])[], count: number): Buffer {
  const first = parts[0];
  if (first === undefined) return EMPTY_ARRAY;
  const pairs = new Array<Buffer>(count * 2);
  parts.forEach((reply, k) => {
    const elements = arrayElements(reply);
    const at = positions[k] ?? [];
    for (let i = 0; i < at.length; i++) {
      const position = at[i] as number;
      pairs[position * 2] = elements[i * 2] ?? NULL_BULK;
      pairs[position * 2 + 1] = elements[i * 2 + 1] ?? ZERO;
    }
  });
  for (let i = 0; i < pairs.length; i++) if (pairs[i] === undefined) pairs[i] = i % 2 === 0 ? NULL_BULK : ZERO;
  return aggregate(first[0] as number, pairs);
}

/** An aggregate of `type` ('*', '%', '~' ...): a map's header counts pairs, others count elements. */
function aggregate(type: number, elements: readonly Buffer[]): Buffer {
  const header = type === MAP ? `%${elements.length / 2}` : `${String.fromCharCode(type)}${elements.length}`;
  return Buffer.concat([Buffer.from(`${header}\r\n`), ...elements]);
}

function countOf(element: Buffer | undefined): number {
  if (element === undefined || element[0] !== 58 /* ':' */) return 0;
  return integerValue(element);
}

const MAP = 37; /* '%' */
const EMPTY = Buffer.alloc(0);
const EMPTY_ARRAY = Buffer.from('*0\r\n');
const NULL_BULK = Buffer.from('$-1\r\n');
const ZERO = Buffer.from(':0\r\n');
