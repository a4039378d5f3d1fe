// The zipf load generator's two byte-level parts (bench/zipf-load.ts): the
// command templates patched in place, and the reply scanner across chunk splits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Reply, ReplyScanner, Templates, keyOf } from '../../../bench/zipf-load.js';

const resp = (...args: string[]): string =>
  `*${args.length}\r\n${args.map((a) => `$${a.length}\r\n${a}\r\n`).join('')}`;

test('a patched template is the RESP of GET / SET of that rank key, for every digit position', () => {
  const templates = new Templates(16);
  for (const rank of [1, 9, 10, 12345, 999_999, 1_000_000, 7]) {
    assert.equal(templates.command(rank, true).toString('latin1'), resp('GET', keyOf(rank)));
    assert.equal(templates.command(rank, false).toString('latin1'), resp('SET', keyOf(rank), 'v'.repeat(16)));
  }
  assert.equal(keyOf(42), 'zipf:0000042');
});

test('the scanner counts +, -, :, $ and nil replies, split at every byte', () => {
  const stream = Buffer.from(
    `+OK\r\n$5\r\nhello\r\n$-1\r\n:12\r\n-MOVED 3999 127.0.0.1:7001\r\n$0\r\n\r\n$3\r\na\r\n\r\n`,
    'latin1',
  );
  const expected = [Reply.Value, Reply.Value, Reply.Nil, Reply.Value, Reply.Error, Reply.Value, Reply.Value];
  for (let split = 0; split <= stream.length; split++) {
    const scanner = new ReplyScanner();
    const kinds: Reply[] = [];
    // Every byte as its own chunk past the split point: the hardest case for a state machine.
    scanner.scan(stream.subarray(0, split), (kind) => kinds.push(kind));
    for (let i = split; i < stream.length; i++) scanner.scan(stream.subarray(i, i + 1), (kind) => kinds.push(kind));
    assert.deepEqual(kinds, expected, `split at ${split}`);
    assert.equal(scanner.errors, 1);
    assert.equal(scanner.firstError, 'MOVED 3999 127.0.0.1:7001');
  }
});

test('a reply type the generator never expects is an error, not a silent miscount', () => {
  assert.throws(() => new ReplyScanner().scan(Buffer.from('*1\r\n$1\r\na\r\n'), () => {}), /unexpected reply type/);
});
