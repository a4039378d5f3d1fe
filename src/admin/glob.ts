// Glob patterns as Redis matches them in CONFIG GET and KEYS (stringmatchlen,
// case-insensitive here as CONFIG GET is): `*` any run, `?` one character,
// `[abc]`, `[^a-c]` a class, `\x` the character x itself.
//
// The star is matched greedily with one backtrack point (the last star seen),
// the classic wildcard algorithm: O(pattern × text) at worst, so a pattern
// like `*a*a*a*a*b` cannot make an admin command spin.

/** True when `text` matches the glob `pattern`, ignoring case. */
export function globMatches(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  let pi = 0;
  let ti = 0;
  let starAt = -1;
  let starText = 0;
  while (ti < t.length) {
    if (p[pi] === '*') {
      starAt = pi++;
      starText = ti;
      continue;
    }
    const width = pi < p.length ? matchOne(p, pi, t[ti] as string) : 0;
    if (width > 0) {
      pi += width;
      ti++;
    } else if (starAt >= 0) {
      // Let the last star swallow one more character and try again after it.
      pi = starAt + 1;
      ti = ++starText;
    } else {
      return false;
    }
  }
  while (p[pi] === '*') pi++;
  return pi === p.length;
}

/** Pattern characters consumed when the element at `pi` matches `c`; 0 when it does not. */
function matchOne(p: string, pi: number, c: string): number {
  const head = p[pi] as string;
  if (head === '?') return 1;
  if (head === '\\' && pi + 1 < p.length) return p[pi + 1] === c ? 2 : 0;
  if (head === '[') {
    const end = classEnd(p, pi);
    if (end > 0) return classMatches(p, pi + 1, end, c) ? end - pi + 1 : 0;
  }
  return head === c ? 1 : 0; // an unclosed '[' is itself
}

/** Index of the `]` closing the class opened at `open`, or -1. */
function classEnd(p: string, open: number): number {
  let i = open + 1;
  if (p[i] === '^') i++;
  for (; i < p.length; i++) {
    if (p[i] === '\\') i++;
    else if (p[i] === ']') return i;
  }
  return -1;
}

function classMatches(p: string, from: number, end: number, c: string): boolean {
  let i = from;
  const negated = p[i] === '^';
  if (negated) i++;
  let matched = false;
  while (i < end) {
    let low = p[i] as string;
    if (low === '\\' && i + 1 < end) low = p[++i] as string;
    if (p[i + 1] === '-' && i + 2 < end) {
      let high = p[i + 2] as string;
      let next = i + 3;
      if (high === '\\' && i + 3 < end) {
        high = p[i + 3] as string;
        next++;
      }
      const [a, b] = low <= high ? [low, high] : [high, low];
      if (c >= a && c <= b) matched = true;
      i = next;
    } else {
      if (low === c) matched = true;
      i++;
    }
  }
  return matched !== negated;
}
