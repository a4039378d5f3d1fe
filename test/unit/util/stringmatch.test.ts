// Redis 7.0 stringmatchlen, corner cases included (integration test
// acl-compare compares it with a real server's KEYS too).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stringMatch } from '../../../src/util/stringmatch.js';

const match = (pattern: string, text: string, nocase = false): boolean =>
  stringMatch(
    Buffer.from(pattern, 'latin1'),
    Buffer.from(text, 'latin1'),
    0,
    Buffer.byteLength(text, 'latin1'),
    nocase,
  );

test('stars, question marks, classes, ranges, escapes, as Redis', () => {
  const cases: [string, string, boolean][] = [
    ['*', 'abc', true],
    ['*', '', false], // Redis: an empty string matches only an empty pattern
    ['', '', true],
    ['app:*', 'app:1', true],
    ['app:*', 'App:1', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['[abc]x', 'bx', true],
    ['[^abc]x', 'bx', false],
    ['[^abc]x', 'dx', true],
    ['[a-c]x', 'bx', true],
    ['[c-a]x', 'bx', true],
    ['\\*', '*', true],
    ['\\*', 'a', false],
    ['[', '[', false], // unclosed class: the rest of the pattern is its members, nothing is left to match '['... Redis says no
    ['[ab', 'a', true], // unclosed class of a and b
    ['[ab', 'ab', false],
    ['[\\]]', ']', true],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'axxbyy', false],
    ['*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(60), false],
    ['ab\\', 'ab\\', true], // a trailing backslash is itself
  ];
  for (const [pattern, text, expected] of cases) assert.equal(match(pattern, text), expected, `${pattern} vs ${text}`);
  assert.equal(match('APP:*', 'app:1', true), true);
  assert.equal(match('[A-C]x', 'bx', true), true);
});

test('a range of the text buffer is matched in place', () => {
  const text = Buffer.from('xxapp:1yy');
  assert.equal(stringMatch(Buffer.from('app:*'), text, 2, 7), true);
  assert.equal(stringMatch(Buffer.from('app:?'), text, 2, 8), false);
});
