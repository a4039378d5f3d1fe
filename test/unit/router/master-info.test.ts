// The masters' INFO is fetched once for many readers: fresh replies reused
// within the interval, readers during a fetch share it (single flight).
// A scripted router stands in for the nodes: which requests were sent is
// what is checked, the replies are given by hand.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandTable } from '../../../src/commands/command-table.js';
import { CommandFramer } from '../../../src/protocol/command-framer.js';
import { bulkString, encodeCommand } from '../../../src/protocol/resp-writer.js';
import { Frame } from '../../../src/protocol/stream-framer.js';
import { MasterInfo, type MasterInfoRouter } from '../../../src/router/master-info.js';
import type { Request } from '../../../src/router/request.js';

const framer = new CommandFramer();
framer.push(encodeCommand(['INFO']));
assert.equal(framer.next(), Frame.Ready);
const spec = new CommandTable().lookup(framer);

class ScriptedRouter implements MasterInfoRouter {
  addresses = ['127.0.0.1:1', '127.0.0.1:2'];
  sent: Request[] = [];
  masterAddresses(): string[] {
    return this.addresses;
  }
  dispatch(request: Request): void {
    this.sent.push(request);
  }
  answerAll(): void {
    for (const request of this.sent.splice(0))
      request.settle(bulkString(`# Memory\r\nused_memory:${request.target.slice(-1)}\r\n`));
  }
}

test('one fetch for concurrent readers, reused within the interval, a new one after it', () => {
  const router = new ScriptedRouter();
  let now = 1000;
  const cache = new MasterInfo(router, 500, () => now);
  const got: (readonly string[])[] = [];
  assert.equal(
    cache.read(spec, (t) => got.push(t)),
    null,
  );
  assert.equal(
    cache.read(spec, (t) => got.push(t)),
    null,
    'a second reader joins the fetch in flight',
  );
  assert.equal(router.sent.length, 2, 'one INFO per master, not per reader');
  assert.equal(router.sent[0]?.payload.toString(), encodeCommand(['INFO', 'everything']).toString());
  router.answerAll();
  assert.equal(got.length, 2);
  assert.deepEqual(got[0], ['# Memory\r\nused_memory:1\r\n', '# Memory\r\nused_memory:2\r\n']);
  now += 499;
  assert.deepEqual(
    cache.read(spec, () => assert.fail('answered at once')),
    got[0],
  );
  assert.equal(router.sent.length, 0);
  now += 1;
  assert.equal(
    cache.read(spec, (t) => got.push(t)),
    null,
    'stale: fetched again',
  );
  assert.equal(router.sent.length, 2);
  assert.equal(cache.fetches, 2);
});

test("a master's error is left out; no master known: an empty answer at once", () => {
  const router = new ScriptedRouter();
  const cache = new MasterInfo(router, 0);
  let got: readonly string[] = [];
  cache.read(spec, (t) => (got = t));
  router.sent[0]?.settle(Buffer.from('-LOADING Redis is loading the dataset in memory\r\n'));
  router.sent[1]?.settle(bulkString('# Server\r\nloading:0\r\n'));
  assert.deepEqual(got, ['# Server\r\nloading:0\r\n']);
  router.addresses = [];
  assert.deepEqual(
    cache.read(spec, () => assert.fail('answered at once')),
    [],
  );
});

test('masters that answer at once (-BUSY): the reply is returned, the reader not called', () => {
  const router = new ScriptedRouter();
  router.dispatch = (request: Request): void => request.settle(Buffer.from('-BUSY Redis is busy running a script\r\n'));
  const cache = new MasterInfo(router, 1000);
  assert.deepEqual(
    cache.read(spec, () => assert.fail('answered at once')),
    [],
  );
  assert.equal(cache.fetches, 1);
});
