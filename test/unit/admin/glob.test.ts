import assert from 'node:assert/strict';
import { test } from 'node:test';
import { globMatches } from '../../../src/admin/glob.js';

test('globMatches: *, ?, classes, ranges, negation, escapes, case-insensitive, as Redis CONFIG GET', () => {
  const cases: [string, string, boolean][] = [
    ['*', 'metrics-port', true],
    ['*', '', false], // as in Redis: an empty name matches only an empty pattern
    ['', '', true],
    ['', 'a', false],
    ['metrics-*', 'metrics-port', true],
    ['metrics-*', 'metrics-bind', true],
    ['metrics-*', 'max-redirects', false],
    ['*port', 'announce-port', true],
    ['*port', 'port', true],
    ['*port*', 'tls-port', true],
    ['p?rt', 'port', true],
    ['p?rt', 'prt', false],
    ['MAX-*', 'max-pipeline', true],
    ['max-pipeline', 'MAX-PIPELINE', true],
    ['[mp]ort', 'port', true],
    ['[mp]ort', 'sort', false],
    ['[^mp]ort', 'sort', true],
    ['[^mp]ort', 'port', false],
    ['[a-c]at', 'bat', true],
    ['[a-c]at', 'dat', false],
    ['[c-a]at', 'bat', true], // a reversed range still covers its span, as in Redis
    ['\\*', '*', true],
    ['\\*', 'x', false],
    ['a\\?', 'a?', true],
    ['a\\?', 'ab', false],
    ['[', '[', false], // as in Redis: an unclosed class takes the rest of the pattern, here nothing
    ['[ab', 'b', true],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
    ['*a*a*a*a*a*a*a*a*a*a*b', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', false],
  ];
  for (const [pattern, text, expected] of cases)
    assert.equal(globMatches(pattern, text), expected, `${pattern} vs ${text}`);
});
