// Glob matching exactly as Redis 7.0's stringmatchlen (util.c), on bytes:
// `*` any run, `?` one byte, `[abc]`, `[^a-c]` a class, `\x` the byte x.
// ACL key and channel patterns use it case-sensitively; CONFIG GET-style
// lookups case-insensitively. Redis's corner cases are kept on purpose, so a
// pattern means the same here as on a node:
//   - an unclosed class (`[ab`) takes the rest of the pattern as its members;
//   - a range's ends are compared as C `char`s (signed: bytes >= 0x80 sort
//     below 0x00), and a reversed range (`[c-a]`) covers its span;
//   - more than 1000 nested stars match nothing (Redis's guard);
//   - an empty text matches only the empty pattern, not even `*`.
// `*` recurses once per star; after the rest of the pattern failed from every
// later position, no earlier star can help (skipLongerMatches), so the work
// stays O(pattern × text).

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const BACKSLASH = 0x5c;
const CARET = 0x5e;
const DASH = 0x2d;
const MAX_NESTING = 1000;

/** One shared flag instead of an allocation per call: matching is synchronous. */
let skipLongerMatches = false;

/**
 * True when `text[start, end)` matches `pattern`. `nocase` folds ASCII
 * letters as C's tolower does.
 */
export function stringMatch(pattern: Buffer, text: Buffer, start = 0, end = text.length, nocase = false): boolean {
  skipLongerMatches = false;
  return matchFrom(pattern, 0, text, start, end, nocase, 0);
}

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 32 : c;
}

/** A byte as C's (signed) `char`, for range comparisons. */
function signed(c: number): number {
  return c >= 0x80 ? c - 256 : c;
}

function matchFrom(
  pattern: Buffer,
  pi: number,
  text: Buffer,
  ti: number,
  end: number,
  nocase: boolean,
  nesting: number,
): boolean {
  if (nesting > MAX_NESTING) return false;
  const plen = pattern.length;
  while (pi < plen && ti < end) {
    const p = pattern[pi] as number;
    switch (p) {
      case STAR: {
        while (pi + 1 < plen && pattern[pi + 1] === STAR) pi++;
        if (pi + 1 === plen) return true;
        while (ti < end) {
          if (matchFrom(pattern, pi + 1, text, ti, end, nocase, nesting + 1)) return true;
          if (skipLongerMatches) return false;
          ti++;
        }
        skipLongerMatches = true;
        return false;
      }
      case QUESTION:
        ti++;
        break;
      case OPEN: {
        pi++;
        const not = pi < plen && pattern[pi] === CARET;
        if (not) pi++;
        let match = false;
        const c = text[ti] as number;
        for (;;) {
          if (pi < plen && pattern[pi] === BACKSLASH && plen - pi >= 2) {
            pi++;
            if (pattern[pi] === c) match = true;
          } else if (pi < plen && pattern[pi] === CLOSE) {
            break;
          } else if (pi >= plen) {
            // Unclosed: Redis steps back onto the last pattern byte and ends the class there.
            pi--;
            break;
          } else if (plen - pi >= 3 && pattern[pi + 1] === DASH) {
            let low = signed(pattern[pi] as number);
            let high = signed(pattern[pi + 2] as number);
            let ch = signed(c);
            if (low > high) [low, high] = [high, low];
            if (nocase) {
              low = signed(lower(low & 0xff));
              high = signed(lower(high & 0xff));
              ch = signed(lower(c));
            }
            pi += 2;
            if (ch >= low && ch <= high) match = true;
          } else if (nocase ? lower(pattern[pi] as number) === lower(c) : pattern[pi] === c) {
            match = true;
          }
          pi++;
        }
        if (not) match = !match;
        if (!match) return false;
        ti++;
        break;
      }
      default: {
        // `\x` is the byte x itself (a lone trailing `\` is a plain backslash).
        if (p === BACKSLASH && plen - pi >= 2) pi++;
        const q = pattern[pi] as number;
        const c = text[ti] as number;
        if (nocase ? lower(q) !== lower(c) : q !== c) return false;
        ti++;
        break;
      }
    }
    pi++;
    if (ti === end) {
      while (pi < plen && pattern[pi] === STAR) pi++;
      break;
    }
  }
  // As in Redis, an empty text matches only an empty pattern (`*` does not match "").
  return pi === plen && ti === end;
}
