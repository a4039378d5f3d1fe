// Finds reply boundaries in the bytes a node sends, nested aggregates included,
// without decoding values: a reply is forwarded as the bytes it arrived as.
//
// After `next()` answers `Frame.Ready`, the reply is
// frameBuffer[frameStart, frameEnd) and `frameBuffer[frameStart]` is its type
// byte ('-' for an error). All RESP2 and RESP3 types are framed.
//
// Nesting is tracked with a stack of "elements still owed" per open aggregate:
//
//   *2\r\n *1\r\n :1\r\n $1\r\nx\r\n
//   stack:  [2]  [2,1]  [1]  []  -> complete
//
// When the bytes run out, parsing resumes at the element whose header was not
// complete, with the stack as it was.
import { Frame, StreamFramer, findCrlf, parseInteger } from './stream-framer.js';

export class ReplyFramer extends StreamFramer {
  frameBuffer: Buffer = Buffer.alloc(0);
  frameStart = 0;
  frameEnd = 0;
  // Doubles: a count read from the wire may be up to 2^63, and an Int32Array
  // would wrap `*4294967295` to -1, ending the aggregate after one element.
  #owed = new Float64Array(8);
  #depth = 0;

  next(): Frame {
    const input = this.input;
    const limit = this.limit;
    let pos = this.pos;
    if (this.#depth === 0) this.partialStart = pos;
    while (pos < limit) {
      const type = input[pos] as number;
      const crlf = findCrlf(input, pos + 1, limit);
      if (crlf < 0) return this.#incomplete(0);
      let elementEnd = crlf + 2;
      let children = 0;
      switch (type) {
        case 43: // + simple string
        case 45: // - error
        case 58: // : integer
        case 95: // _ null
        case 44: // , double
        case 35: // # boolean
        case 40: // ( big number
          break;
        case 36: // $ bulk string
        case 33: // ! bulk error
        case 61: {
          // = verbatim string
          const length = parseInteger(input, pos + 1, crlf);
          if (Number.isNaN(length)) return this.#fail('invalid bulk length');
          if (length >= 0) {
            elementEnd += length + 2;
            if (elementEnd > limit) return this.#incomplete(elementEnd - this.partialStart);
          }
          break;
        }
        case 42: // * array
        case 126: // ~ set
        case 62: // > push
        case 37: // % map
        case 124: {
          // | attribute: its pairs, then the value it annotates
          const count = parseInteger(input, pos + 1, crlf);
          if (Number.isNaN(count) || (type === 124 && count < 0)) return this.#fail('invalid multibulk length');
          // `|0` has no pairs but still precedes the value it annotates: one reply, not two.
          if (type === 124) children = count * 2 + 1;
          else if (count > 0) children = type === 37 ? count * 2 : count;
          break;
        }
        default:
          return this.#fail(`unexpected reply type byte ${type}`);
      }
      pos = elementEnd;
      this.pos = pos;
      if (children > 0) {
        this.#open(children);
        continue;
      }
      if (this.#close()) {
        this.frameBuffer = input;
        this.frameStart = this.partialStart;
        this.frameEnd = pos;
        return Frame.Ready;
      }
    }
    return this.#depth === 0 ? Frame.Incomplete : this.#incomplete(0);
  }

  override reset(): void {
    super.reset();
    this.#depth = 0;
  }

  #open(children: number): void {
    if (this.#depth === this.#owed.length) {
      const grown = new Float64Array(this.#depth * 2);
      grown.set(this.#owed);
      this.#owed = grown;
    }
    this.#owed[this.#depth++] = children;
  }

  /** Counts one finished element; true when it finished a whole reply. */
  #close(): boolean {
    while (this.#depth > 0) {
      const left = (this.#owed[this.#depth - 1] as number) - 1;
      if (left > 0) {
        this.#owed[this.#depth - 1] = left;
        return false;
      }
      this.#depth--;
    }
    return true;
  }

  #incomplete(needBytes: number): Frame {
    this.needHint = needBytes;
    this.hintEndsFrame = this.#depth === 0; // a bulk at the top: the reply ends with it
    this.spill();
    return Frame.Incomplete;
  }

  #fail(reason: string): Frame {
    this.error = `Protocol error: ${reason}`;
    return Frame.Error;
  }
}
