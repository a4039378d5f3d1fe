// The CLIENT LIST line of a Slotway client: Redis's fields in Redis's order,
// its flags letters in Redis's order, addresses as Redis writes them.
import { formatPeer } from '../../../src/util/peer-address.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandTable } from '../../../src/commands/command-table.js';
import {
  ClientType,
  clientFlags,
  clientLine,
  clientType,
  clientTypeByName,
  type ClientModes,
  type ClientView,
} from '../../../src/server/client-list.js';

const table = new CommandTable();

/** redis-server 7.0.15's CLIENT LIST fields, then lib-name and lib-ver of 7.2. */
const REDIS_FIELDS = (
  'id addr laddr fd name age idle flags db sub psub ssub multi qbuf qbuf-free argv-mem multi-mem rbs rbp obl' +
  ' oll omem tot-mem events cmd user redir resp lib-name lib-ver'
).split(' ');

function modes(overrides: Partial<ClientModes> = {}): ClientModes {
  return { subscriber: null, transaction: null, monitoring: false, blocked: null, ...overrides };
}

function view(overrides: Partial<ClientView> = {}): ClientView {
  return {
    id: 7,
    name: 'worker-1',
    libName: 'ioredis',
    libVersion: '5.4.1',
    resp3: false,
    user: null,
    connectedAt: 1_000_000,
    lastInputAt: 500,
    lastCommand: table.get('client')?.subcommands?.getString('list') ?? null,
    remoteAddress: '::ffff:127.0.0.1',
    remotePort: 51234,
    localAddress: '127.0.0.1',
    localPort: 7777,
    fd: 12,
    modes: modes(),
    pendingReplies: 3,
    heldBytes: 120,
    inputBytes: 9,
    unwrittenBytes: 0,
    reading: true,
    closing: false,
    ...overrides,
  };
}

test("a line has Redis's fields in Redis's order, with the client's values", () => {
  const line = clientLine(view(), 1_010_500, 2_600);
  const pairs = line.split(' ').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]);
  assert.deepEqual(
    pairs.map(([name]) => name),
    REDIS_FIELDS,
  );
  assert.equal(
    line,
    'id=7 addr=127.0.0.1:51234 laddr=127.0.0.1:7777 fd=12 name=worker-1 age=10 idle=2 flags=N db=0 sub=0' +
      ' psub=0 ssub=0 multi=-1 qbuf=9 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=3 omem=120' +
      ' tot-mem=129 events=r cmd=client|list user=default redir=-1 resp=2 lib-name=ioredis lib-ver=5.4.1',
  );
});

test('no command yet: cmd=NULL, as Redis writes it; RESP3 and unwritten output show', () => {
  const line = clientLine(view({ lastCommand: null, resp3: true, unwrittenBytes: 10, reading: false }), 0, 0);
  assert.match(line, / cmd=NULL /);
  assert.match(line, / resp=3 /);
  assert.match(line, / events=w /);
});

test("flags: letters in Redis's order, N when none; subscriptions and MULTI's count", () => {
  assert.equal(clientFlags(view()), 'N');
  const subscriber = {
    count: 3,
    channels: new Set(['a', 'b']),
    patterns: new Set(['p*']),
    shardChannels: new Map<string, number>(),
  };
  const subscribed = view({ modes: modes({ subscriber }) });
  assert.equal(clientFlags(subscribed), 'P');
  assert.match(clientLine(subscribed, 0, 0), / sub=2 psub=1 ssub=0 /);
  assert.equal(clientType(subscribed), ClientType.Pubsub);
  const inMulti = view({ modes: modes({ transaction: { inMulti: true, queued: 4 } }), closing: true });
  assert.equal(clientFlags(inMulti), 'xc');
  assert.match(clientLine(inMulti, 0, 0), / multi=4 /);
  assert.equal(clientType(inMulti), ClientType.Normal);
  // WATCH alone: a transaction, but not MULTI.
  assert.match(clientLine(view({ modes: modes({ transaction: { inMulti: false, queued: 0 } }) }), 0, 0), / multi=-1 /);
  // Tracking's letters go after b, before c (networking.c's order).
  assert.equal(clientFlags(view({ trackingFlags: 'tB', closing: true, modes: modes({ monitoring: true }) })), 'OtBc');
});

test('types and addresses as Redis reads and writes them', () => {
  assert.equal(clientTypeByName('Normal'), ClientType.Normal);
  assert.equal(clientTypeByName('slave'), ClientType.Replica);
  assert.equal(clientTypeByName('replica'), ClientType.Replica);
  assert.equal(clientTypeByName('PUBSUB'), ClientType.Pubsub);
  assert.equal(clientTypeByName('master'), ClientType.Master);
  assert.equal(clientTypeByName('bogus'), -1);
  assert.equal(formatPeer('::ffff:10.0.0.1', 6379), '10.0.0.1:6379');
  assert.equal(formatPeer('::1', 6379), '[::1]:6379');
});
