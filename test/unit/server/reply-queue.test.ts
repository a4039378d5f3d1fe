// The byte accounting of a session's queue: reservations in flight, replies
// once settled, the process budget kept equal to what the queues hold.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandTable } from '../../../src/commands/command-table.js';
import { Request, type RequestOwner } from '../../../src/router/request.js';
import { BufferBudget } from '../../../src/server/buffer-budget.js';
import { ReplyQueue } from '../../../src/server/reply-queue.js';

const owner: RequestOwner = { id: 1, resp3: false, closed: false, onRequestDone() {} };
const get = new CommandTable().get('get') ?? assert.fail('get');
const LIMIT = 4096 * 4;

function inFlight(payload = 20): Request {
  return new Request(owner, get, Buffer.alloc(payload), 1);
}

function settle(queue: ReplyQueue, request: Request, size: number): void {
  request.reply = Buffer.alloc(size);
  request.done = true;
  queue.settled(request);
}

test('in flight: payload plus the estimate (a quarter of the bound at first) for the client, the payload for the budget; settled: the reply', () => {
  const budget = new BufferBudget(1 << 30);
  const queue = new ReplyQueue(budget, LIMIT);
  const a = inFlight();
  queue.push(a);
  assert.equal(queue.bytes, 20 + LIMIT / 4);
  assert.equal(queue.reserved, 20 + LIMIT / 4);
  assert.equal(budget.used, 20, 'the budget counts bytes that exist: the payload, not the expected reply');
  settle(queue, a, 100);
  settle(queue, a, 100); // twice: counted once
  assert.equal(queue.bytes, 100);
  assert.equal(queue.reserved, 0);
  assert.equal(budget.used, 100);
  // The estimate moved 1/8 of the way towards 100.
  const b = inFlight(0);
  queue.push(b);
  assert.equal(queue.bytes - 100, LIMIT / 4 - ((LIMIT / 4 - 100) >> 3));
  assert.equal(queue.shift(), a);
  settle(queue, b, 5000);
  assert.equal(queue.shift(), b);
  assert.equal(queue.bytes, 0);
  assert.equal(budget.used, 0);
  // A reply larger than the estimate becomes the estimate at once.
  const c = inFlight(0);
  queue.push(c);
  assert.equal(queue.bytes, 5000);
});

test('answered requests count their reply; close() gives everything back and counts nothing more', () => {
  const budget = new BufferBudget(1 << 30);
  const one = new ReplyQueue(budget, LIMIT);
  const two = new ReplyQueue(budget, LIMIT);
  one.push(Request.answered(owner, get, Buffer.alloc(7)));
  const pending = inFlight();
  one.push(pending);
  two.push(inFlight());
  assert.equal(budget.used, 7 + 20 + 20);
  one.close();
  assert.equal(budget.used, 20);
  assert.equal(one.length, 0);
  settle(one, pending, 1000); // its reply arrives after the client left
  one.push(inFlight());
  assert.equal(budget.used, 20);
  two.close();
  assert.equal(budget.used, 0);
});

test('requests leave in arrival order across the ring growing and wrapping; the budget ends at zero', () => {
  const budget = new BufferBudget(1 << 30);
  const queue = new ReplyQueue(budget, LIMIT);
  assert.equal(queue.peek(), undefined, 'a new queue is empty');
  assert.equal(queue.shift(), undefined);
  const order: Request[] = [];
  let next = 0;
  // Push 3, take 2, repeatedly: the head walks round the ring while it grows from 4 slots to 64.
  for (let round = 0; round < 40; round++) {
    for (let i = 0; i < 3; i++) {
      const request = Request.answered(owner, get, Buffer.alloc(1 + ((round + i) % 5)));
      order.push(request);
      queue.push(request);
    }
    for (let i = 0; i < 2; i++) assert.equal(queue.shift(), order[next++]);
    assert.equal(queue.peek(), order[next]);
    assert.equal(queue.length, order.length - next);
  }
  while (queue.length > 0) assert.equal(queue.shift(), order[next++]);
  assert.equal(next, order.length);
  assert.equal(queue.bytes, 0);
  assert.equal(budget.used, 0);
  for (let i = 0; i < 10; i++) queue.push(inFlight());
  queue.close();
  assert.equal(queue.length, 0);
  assert.equal(queue.peek(), undefined);
  assert.equal(budget.used, 0);
});
