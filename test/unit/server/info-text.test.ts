// INFO's section choice (as redis-server 7.0.15 makes it, checked by hand on
// one: no argument / default, all, everything, several names, unknown names)
// and Slotway's own fields: each 'own' rule has a value, blocked_clients
// counts the clients blocked now.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { CommandFramer } from '../../../src/protocol/command-framer.js';
import { encodeCommand } from '../../../src/protocol/resp-writer.js';
import { Frame } from '../../../src/protocol/stream-framer.js';
import { INFO_SECTIONS } from '../../../src/router/info-fields.js';
import { parseInfo } from '../../../src/router/info-merge.js';
import { infoSelection, infoText } from '../../../src/server/info-text.js';
import type { ClusterFacts, LocalFacts } from '../../../src/server/local-facts.js';
import { ServerStats, type ClientRecord } from '../../../src/server/server-stats.js';
import { TrackingTable } from '../../../src/server/tracking-table.js';
import { MASTER_INFO } from '../router/info-fixture.js';

function selection(...args: string[]): ReturnType<typeof infoSelection> {
  const framer = new CommandFramer();
  framer.push(encodeCommand(['INFO', ...args]));
  assert.equal(framer.next(), Frame.Ready);
  return infoSelection(framer);
}
const titles = (...args: string[]): string[] => selection(...args).sections.map((s) => s.title);

const DEFAULT = [
  'Server',
  'Clients',
  'Memory',
  'Persistence',
  'Stats',
  'Replication',
  'CPU',
  'Modules',
  'Errorstats',
  'Cluster',
  'Keyspace',
  'Slotway',
];
const ALL = [
  'Server',
  'Clients',
  'Memory',
  'Persistence',
  'Stats',
  'Replication',
  'CPU',
  'Modules',
  'Commandstats',
  'Errorstats',
  'Latencystats',
  'Cluster',
  'Keyspace',
  'Slotway',
];

test("sections chosen as Redis 7 chooses them, in Redis's order", () => {
  assert.deepEqual(titles(), DEFAULT);
  assert.deepEqual(titles('default'), DEFAULT);
  assert.deepEqual(titles('DEFAULT'), DEFAULT);
  assert.deepEqual(titles('all'), ALL);
  assert.deepEqual(titles('everything'), ALL);
  assert.deepEqual(titles('commandstats'), ['Commandstats']);
  assert.deepEqual(titles('cpu', 'memory'), ['Memory', 'CPU'], 'several names, in the fixed order');
  assert.deepEqual(titles('server', 'nosuch'), ['Server']);
  assert.deepEqual(titles('nosuch'), []);
  assert.deepEqual(
    titles('default', 'latencystats'),
    [...DEFAULT.slice(0, 10), 'Latencystats', 'Keyspace', 'Slotway'].sort((a, b) => ALL.indexOf(a) - ALL.indexOf(b)),
  );
  assert.deepEqual(titles('proxy'), ['Slotway'], '`proxy` still names the Slotway section');
  assert.equal(selection('proxy').needsMasters, false);
  assert.equal(selection('cluster').needsMasters, false);
  assert.equal(selection('memory').needsMasters, true);
});

function fakeFacts(stats: ServerStats): LocalFacts {
  const cluster: ClusterFacts = {
    slotsCovered: 16384,
    masters: 3,
    replicas: 3,
    epoch: 1,
    nodes: [],
    refreshes: 1,
    moved: 0,
    ask: 0,
    retries: 0,
    failures: 0,
    replicaReads: 0,
    replicaFallbacks: 0,
  };
  return {
    slotwayVersion: '0.0.0-test',
    stats,
    tcpPort: () => 7777,
    maxClients: 123,
    nodeServerInfo: () => new Map(),
    cluster: () => cluster,
    announceHost: '',
    announcePort: 0,
    admin: () => Buffer.alloc(0),
    tracking: new TrackingTable(10, pino({ level: 'silent' })),
  };
}

function client(id: number, blocked: boolean, heldBytes: number): ClientRecord {
  return {
    id,
    log: pino({ level: 'silent' }),
    lastActiveAt: 0,
    holdsConnection: blocked,
    pendingReplies: 0,
    heldBytes,
    blocked,
    drain: () => true,
    destroy: () => {},
  };
}

test("every 'own' field has Slotway's value, the masters' fields are merged beside them", () => {
  const stats = new ServerStats();
  stats.onClientOpened(client(1, true, 10));
  stats.onClientOpened(client(2, false, 500));
  stats.onClientOpened(client(3, true, 0));
  stats.commands = 42;
  const text = infoText(selection('everything'), fakeFacts(stats), MASTER_INFO);
  const info = parseInfo(text);
  for (const section of INFO_SECTIONS) {
    const names = (info.get(section.name) ?? []).map(([n]) => n);
    for (const field of section.fields.filter((f) => f.rule === 'own' && f.name !== '*'))
      assert.ok(names.includes(field.name), `${section.name}.${field.name}`);
  }
  const value = (section: string, name: string): string | undefined =>
    info.get(section)?.find(([n]) => n === name)?.[1];
  assert.equal(value('clients', 'connected_clients'), '3');
  assert.equal(value('clients', 'blocked_clients'), '2');
  assert.equal(value('clients', 'client_recent_max_output_buffer'), '500');
  assert.equal(value('clients', 'maxclients'), '123');
  assert.equal(value('server', 'tcp_port'), '7777');
  assert.equal(value('server', 'redis_mode'), 'standalone');
  assert.equal(value('server', 'redis_version'), '7.0.15');
  assert.equal(value('stats', 'total_commands_processed'), '42');
  assert.equal(value('replication', 'role'), 'master');
  assert.equal(value('cluster', 'cluster_enabled'), '1');
  assert.equal(value('slotway', 'slotway_version'), '0.0.0-test');
  assert.match(value('memory', 'used_memory') ?? '', /^\d+$/);
  assert.ok(text.endsWith('\r\n') && !text.endsWith('\r\n\r\n'));
});

test('no master known: the own fields alone; unknown section: an empty text', () => {
  const stats = new ServerStats();
  const info = parseInfo(infoText(selection(), fakeFacts(stats), []));
  assert.equal(info.get('memory')?.length, 0);
  assert.equal(info.get('clients')?.find(([n]) => n === 'blocked_clients')?.[1], '0');
  assert.equal(infoText(selection('nosuch'), fakeFacts(stats), MASTER_INFO), '');
});
