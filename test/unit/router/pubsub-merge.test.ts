// PUBSUB introspection merged over the masters (router/pubsub-merge.ts): sums
// for ordinary channels, the max for keyspace channels and for NUMPAT, unions
// without duplicates, SHARDNUMSUB pairs back in request order; the node's
// reply shape (RESP2 array, RESP3 map) kept.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeMax, mergeNumsub, mergePairs, mergeUnion } from '../../../src/router/pubsub-merge.js';

const b = (text: string): Buffer => Buffer.from(text, 'latin1');
const bulk = (text: string): string => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
const pairs = (list: [string, number][], type = '*'): string =>
  `${type}${type === '%' ? list.length : list.length * 2}\r\n${list.map(([n, c]) => `${bulk(n)}:${c}\r\n`).join('')}`;

test('NUMSUB: ordinary channels summed over masters, in request order', () => {
  const merged = mergeNumsub([
    b(
      pairs([
        ['a', 2],
        ['b', 0],
        ['c', 1],
      ]),
    ),
    b(
      pairs([
        ['a', 1],
        ['b', 0],
        ['c', 0],
      ]),
    ),
    b(
      pairs([
        ['a', 3],
        ['b', 0],
        ['c', 4],
      ]),
    ),
  ]);
  assert.equal(
    merged.toString(),
    pairs([
      ['a', 6],
      ['b', 0],
      ['c', 5],
    ]),
  );
});

test('NUMSUB: a keyspace channel (on every master once per client) counts the max, not the sum', () => {
  const ks = '__keyspace@0__:user:1';
  const ev = '__keyevent@0__:set';
  const merged = mergeNumsub([
    b(
      pairs([
        [ks, 2],
        [ev, 1],
        ['x', 1],
      ]),
    ),
    b(
      pairs([
        [ks, 2],
        [ev, 1],
        ['x', 1],
      ]),
    ),
    b(
      pairs([
        [ks, 3],
        [ev, 1],
        ['x', 1],
      ]),
    ),
  ]);
  assert.equal(
    merged.toString(),
    pairs([
      [ks, 3],
      [ev, 1],
      ['x', 3],
    ]),
  );
});

test('NUMSUB: a RESP3 map stays a map; no channels gives an empty aggregate', () => {
  const merged = mergeNumsub([b(pairs([['a', 1]], '%')), b(pairs([['a', 2]], '%'))]);
  assert.equal(merged.toString(), pairs([['a', 3]], '%'));
  assert.equal(mergeNumsub([b('*0\r\n'), b('*0\r\n')]).toString(), '*0\r\n');
});

test('CHANNELS / SHARDCHANNELS: the union, each name once, first-seen order; RESP3 set kept', () => {
  const merged = mergeUnion([
    b(`*2\r\n${bulk('a')}${bulk('b')}`),
    b(`*0\r\n`),
    b(`*3\r\n${bulk('b')}${bulk('c')}${bulk('a')}`),
  ]);
  assert.equal(merged.toString(), `*3\r\n${bulk('a')}${bulk('b')}${bulk('c')}`);
  assert.equal(mergeUnion([b(`~1\r\n${bulk('z')}`), b(`~1\r\n${bulk('z')}`)]).toString(), `~1\r\n${bulk('z')}`);
  // Binary names compare byte for byte.
  assert.equal(mergeUnion([b(`*1\r\n$1\r\n\xff\r\n`), b(`*1\r\n$1\r\n\xfe\r\n`)]).length, '*2\r\n'.length + 14);
});

test('NUMPAT: the max over masters', () => {
  assert.equal(mergeMax([b(':2\r\n'), b(':5\r\n'), b(':0\r\n')]).toString(), ':5\r\n');
  assert.equal(mergeMax([b(':0\r\n')]).toString(), ':0\r\n');
});

test('SHARDNUMSUB: each part answers for its channels; pairs go back to request order', () => {
  // Request: x y z w; part 0 asked x z, part 1 asked y w.
  const merged = mergePairs(
    [
      b(
        pairs([
          ['x', 1],
          ['z', 3],
        ]),
      ),
      b(
        pairs([
          ['y', 2],
          ['w', 0],
        ]),
      ),
    ],
    [
      [0, 2],
      [1, 3],
    ],
    4,
  );
  assert.equal(
    merged.toString(),
    pairs([
      ['x', 1],
      ['y', 2],
      ['z', 3],
      ['w', 0],
    ]),
  );
  const map = mergePairs([b(pairs([['y', 2]], '%')), b(pairs([['x', 1]], '%'))], [[1], [0]], 2);
  assert.equal(
    map.toString(),
    pairs(
      [
        ['x', 1],
        ['y', 2],
      ],
      '%',
    ),
  );
});
