// The oracle for reply boundaries in any input, valid or not: RESP2 and RESP3
// read plainly over the whole input at once, with an explicit stack (garbage
// can nest deeper than a recursive reader's stack allows).
//
// On valid RESP2 streams its boundaries are checked against redis-parser (see
// redis-parser-oracle.ts), which cannot read RESP3; on RESP3 streams against
// what the generator wrote. The rules, where RESP leaves room:
//  - a line ends at the first CRLF, and is read whole before its type byte is
//    judged; simple values (+ - : _ , # () are not validated: they are
//    forwarded as they came, only their end matters;
//  - lengths and counts are read like Redis's string2ll; a negative length or
//    count is a null (RESP2's `$-1` and `*-1`, as redis-parser takes any
//    negative one); the two bytes after bulk data are skipped unchecked, as
//    redis-parser and Redis do;
//  - `%n` holds 2n elements, `|n` (an attribute) 2n elements and then the
//    value it annotates, `|0` included; a negative attribute count is an error;
//  - streamed RESP3 types (`$?`, `;`, `.`) are not sent by Redis and are errors.
import { string2ll } from './reference-commands.js';

export interface ReferenceReplies {
  /** End offset of each complete reply, increasing; a reply starts where the previous one ended. */
  readonly ends: number[];
  readonly outcome: 'incomplete' | 'error';
  readonly error: string;
  /** With `error`: the fewest bytes of input that show the error. */
  readonly errorAt: number;
}

const LEAVES = new Set([43, 45, 58, 95, 44, 35, 40]); // + - : _ , # (
const BULKS = new Set([36, 33, 61]); // $ ! =
const AGGREGATES = new Set([42, 126, 62, 37, 124]); // * ~ > % |

export function decodeReplies(input: Buffer): ReferenceReplies {
  const ends: number[] = [];
  const n = input.length;
  const fail = (reason: string, errorAt: number): ReferenceReplies => ({
    ends,
    outcome: 'error',
    error: `Protocol error: ${reason}`,
    errorAt,
  });
  let pos = 0;
  /** Elements still owed by each open aggregate. */
  const owed: number[] = [];
  for (;;) {
    if (pos >= n) return { ends, outcome: 'incomplete', error: '', errorAt: 0 };
    const type = input[pos] as number;
    const crlf = input.indexOf('\r\n', pos + 1, 'latin1');
    if (crlf < 0) return { ends, outcome: 'incomplete', error: '', errorAt: 0 };
    let end = crlf + 2;
    let children = 0;
    if (LEAVES.has(type)) {
      // nothing more to read
    } else if (BULKS.has(type)) {
      const length = string2ll(input, pos + 1, crlf);
      if (length === null) return fail('invalid bulk length', crlf + 2);
      if (length >= 0) {
        end += length + 2;
        if (end > n) return { ends, outcome: 'incomplete', error: '', errorAt: 0 };
      }
    } else if (AGGREGATES.has(type)) {
      const count = string2ll(input, pos + 1, crlf);
      if (count === null || (type === 124 && count < 0)) return fail('invalid multibulk length', crlf + 2);
      if (type === 124) children = 2 * count + 1;
      else if (count > 0) children = type === 37 ? 2 * count : count;
    } else {
      return fail(`unexpected reply type byte ${type}`, crlf + 2);
    }
    pos = end;
    if (children > 0) {
      owed.push(children);
      continue;
    }
    // One element finished: pay it to the aggregates it completes.
    for (;;) {
      const top = owed.length - 1;
      if (top < 0) {
        ends.push(pos);
        break;
      }
      const left = (owed[top] as number) - 1;
      if (left > 0) {
        owed[top] = left;
        break;
      }
      owed.pop();
    }
  }
}
