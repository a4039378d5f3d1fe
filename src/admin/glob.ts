// Glob patterns as Redis matches them in CONFIG GET (stringmatchlen with
// nocase): `*` any run, `?` one character, `[abc]`, `[^a-c]` a class, `\x`
// the character x itself. The matcher itself is util/stringmatch.ts, shared
// with the ACL key and channel patterns, so both keep Redis's corner cases.
import { stringMatch } from '../util/stringmatch.js';

/** True when `text` matches the glob `pattern`, ignoring case. */
export function globMatches(pattern: string, text: string): boolean {
  const bytes = Buffer.from(text, 'utf8');
  return stringMatch(Buffer.from(pattern, 'utf8'), bytes, 0, bytes.length, true);
}
