// Merging every master's reply into one, for the node-wide commands whose
// merge is Slotway's own: SLOWLOG GET (newest first, cut to the count asked).
// SCRIPT/FUNCTION KILL merge in router/out-of-band.ts (its own test).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandTable } from '../../../src/commands/command-table.js';
import type { EveryMasterMerge } from '../../../src/commands/command-spec.js';
import { FanOut } from '../../../src/router/fan-out.js';
import type { Request, RequestOwner } from '../../../src/router/request.js';

const table = new CommandTable();

function owner(): RequestOwner & { done: Request[] } {
  const done: Request[] = [];
  return { id: 1, resp3: false, closed: false, done, onRequestDone: (request) => done.push(request) };
}

function merged(command: string, merge: EveryMasterMerge, replies: string[], limit = -1): string {
  const client = owner();
  const spec = table.get(command);
  assert.ok(spec !== undefined);
  const fanOut = FanOut.toMasters(
    client,
    spec,
    Buffer.from('*1\r\n$4\r\nPING\r\n'),
    replies.map((_, i) => `127.0.0.1:${7000 + i}`),
    merge,
  );
  fanOut.limit = limit;
  fanOut.children.forEach((child, i) => child.settle(Buffer.from(replies[i] as string)));
  assert.equal(client.done.length, 1, 'the parent settles once, after the last child');
  return (client.done[0]?.reply as Buffer).toString('latin1');
}

/** A SLOWLOG GET entry as Redis 7 encodes it: id, time, duration, args, client address, client name. */
function entry(id: number, time: number, command: string): string {
  return `*6\r\n:${id}\r\n:${time}\r\n:15000\r\n*1\r\n$${command.length}\r\n${command}\r\n$15\r\n127.0.0.1:50000\r\n$0\r\n\r\n`;
}

test('SLOWLOG GET: every master entries, newest first (time, then id), cut to the count', () => {
  const a = `*2\r\n${entry(5, 1700000300, 'a5')}${entry(4, 1700000100, 'a4')}`;
  const b = `*3\r\n${entry(9, 1700000300, 'b9')}${entry(8, 1700000200, 'b8')}${entry(7, 1700000000, 'b7')}`;
  const c = '*0\r\n';
  assert.equal(
    merged('slowlog|get', 'slowlog', [a, b, c], 3),
    `*3\r\n${entry(9, 1700000300, 'b9')}${entry(5, 1700000300, 'a5')}${entry(8, 1700000200, 'b8')}`,
  );
  assert.equal(merged('slowlog|get', 'slowlog', [a, b, c], -1).slice(0, 4), '*5\r\n', 'a negative count: every entry');
  assert.equal(merged('slowlog|get', 'slowlog', [c, c, c], 10), '*0\r\n');
});

test('SLOWLOG GET: a master error answers for all, as for any merged command', () => {
  assert.equal(merged('slowlog|get', 'slowlog', ['*0\r\n', '-ERR boom\r\n'], 10), '-ERR boom\r\n');
});
