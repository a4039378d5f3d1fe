// Reading inside a reply, for the few places that must (merging fan-out
// replies, telling pub/sub messages from confirmations). Forwarded replies
// never pass through here.
import { bytesEqualIgnoreCase } from './name-index.js';
import { ReplyFramer } from './reply-framer.js';
import { Frame, findCrlf, parseInteger } from './stream-framer.js';

/** One framer for every call: the reply is whole, so nothing is left in it between calls. */
const elementFramer = new ReplyFramer();

/** The encoded elements of an aggregate reply (`*`, `>`, `~` ...), as views of it. */
export function arrayElements(reply: Buffer): Buffer[] {
  const headerEnd = findCrlf(reply, 0, reply.length) + 2;
  const framer = elementFramer;
  framer.reset();
  framer.push(reply.subarray(headerEnd));
  const elements: Buffer[] = [];
  while (framer.next() === Frame.Ready) elements.push(framer.frameBuffer.subarray(framer.frameStart, framer.frameEnd));
  framer.reset();
  return elements;
}

/** The bytes of a bulk element (`$3\r\nabc\r\n`), or null for a null element. */
export function bulkValue(element: Buffer): Buffer | null {
  if (element[0] !== 36 /* '$' */) return null;
  const crlf = element.indexOf('\r\n');
  const length = parseInteger(element, 1, crlf);
  return length < 0 ? null : element.subarray(crlf + 2, crlf + 2 + length);
}

/** The value of an integer element (`:3\r\n`). */
export function integerValue(element: Buffer): number {
  return parseInteger(element, 1, element.length - 2);
}

/**
 * Which of `words` the first element of the aggregate at buffer[start] is
 * (case-insensitive), or -1: tells a pub/sub `message` from a `subscribe`
 * confirmation without allocating.
 */
export function firstWordOf(buffer: Buffer, start: number, end: number, words: readonly string[]): number {
  const type = buffer[start];
  if (type !== 42 /* '*' */ && type !== 62 /* '>' */) return -1;
  const header = findCrlf(buffer, start + 1, end);
  const bulk = header + 2;
  if (header < 0 || buffer[bulk] !== 36 /* '$' */) return -1;
  const lengthEnd = findCrlf(buffer, bulk + 1, end);
  if (lengthEnd < 0) return -1;
  const length = parseInteger(buffer, bulk + 1, lengthEnd);
  const wordStart = lengthEnd + 2;
  if (length < 0 || wordStart + length > end) return -1;
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (word.length === length && bytesEqualIgnoreCase(buffer, wordStart, wordStart + length, word)) return i;
  }
  return -1;
}
