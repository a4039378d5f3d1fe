// MGET's parts merged from byte ranges: the same bytes as merging element by
// element, values at their keys' positions; null (the general merge) for a
// reply that is not a flat array of values.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arrayElements } from '../../../src/protocol/reply-elements.js';
import { mergeValues, type ValuesPart } from '../../../src/router/values-merge.js';

function part(reply: string | Buffer, positions: number[]): ValuesPart {
  return { request: { reply: typeof reply === 'string' ? Buffer.from(reply, 'latin1') : reply }, positions };
}

/** The general merge: every element a view, placed by position, concatenated. */
function reference(parts: ValuesPart[], keyCount: number): Buffer {
  const values: Buffer[] = new Array<Buffer>(keyCount);
  for (const p of parts) {
    const elements = arrayElements(p.request.reply as Buffer);
    p.positions.forEach((position, i) => (values[position] = elements[i] as Buffer));
  }
  return Buffer.concat([Buffer.from(`*${keyCount}\r\n`), ...values]);
}

test('values land at their keys’ positions: bulk, null bulk, RESP3 null, long values', () => {
  const long = 'x'.repeat(5000);
  const parts = [
    part(`*2\r\n$1\r\na\r\n$-1\r\n`, [0, 2]),
    part(`*2\r\n$${long.length}\r\n${long}\r\n_\r\n`, [1, 3]),
    part(`*1\r\n$0\r\n\r\n`, [4]),
  ];
  const merged = mergeValues(parts, 5);
  assert.equal(merged?.toString('latin1'), `*5\r\n$1\r\na\r\n$${long.length}\r\n${long}\r\n$-1\r\n_\r\n$0\r\n\r\n`);
});

test('random splits of up to 300 keys equal the element-by-element merge', () => {
  let seed = 7;
  const random = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 16;
  };
  for (let round = 0; round < 200; round++) {
    const keyCount = 1 + (random() % 300);
    const partCount = 1 + (random() % Math.min(keyCount, 12));
    const positions: number[][] = Array.from({ length: partCount }, () => []);
    for (let k = 0; k < keyCount; k++) positions[k < partCount ? k : random() % partCount]?.push(k);
    for (const list of positions) list.sort((a, b) => a - b);
    const parts = positions.map((list) => {
      const elements = list.map(() => {
        const kind = random() % 5;
        if (kind === 0) return Buffer.from('$-1\r\n');
        const value = Buffer.alloc(kind === 1 ? 100 + (random() % 400) : random() % 20, random() & 0xff);
        return Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n')]);
      });
      return part(Buffer.concat([Buffer.from(`*${list.length}\r\n`), ...elements]), list);
    });
    assert.deepEqual(mergeValues(parts, keyCount), reference(parts, keyCount));
  }
});

test('not a flat array of as many values as keys: null, for the general merge', () => {
  assert.equal(mergeValues([part('*1\r\n*1\r\n$1\r\na\r\n', [0])], 1), null); // a nested array
  assert.equal(mergeValues([part('*2\r\n$1\r\na\r\n', [0, 1])], 2), null); // fewer elements than keys
  assert.equal(mergeValues([part('$1\r\na\r\n', [0])], 1), null); // not an array
  assert.equal(mergeValues([part('*1\r\n$5\r\nab\r\n', [0])], 1), null); // a bulk cut short
  assert.equal(mergeValues([{ request: { reply: null }, positions: [0] }], 1), null);
});
