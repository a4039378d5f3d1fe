// The masters' INFO merged field by field: real replies of three masters
// (info-fixture.ts) in, one server's INFO out, each rule checked against
// figures computed here from the same texts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { INFO_SECTIONS } from '../../../src/router/info-fields.js';
import { bytesToHuman, compareVersions, mergeInfo, parseInfo, renderInfo } from '../../../src/router/info-merge.js';
import { MASTER_INFO } from './info-fixture.js';

const masters = MASTER_INFO.map(parseInfo);
const merged = mergeInfo(MASTER_INFO, INFO_SECTIONS, new Map());

/** A field of a parsed INFO, by section. */
function field(
  info: ReadonlyMap<string, readonly (readonly [string, string])[]>,
  section: string,
  name: string,
): string {
  const value = info.get(section)?.find(([n]) => n === name)?.[1];
  assert.ok(value !== undefined, `${section}.${name} is listed`);
  return value;
}
const each = (section: string, name: string): string[] => masters.map((m) => field(m, section, name));
const total = (section: string, name: string): number => each(section, name).reduce((a, v) => a + Number(v), 0);

test('sums: memory, keyspace counters, replication offsets, CPU seconds', () => {
  for (const name of [
    'used_memory',
    'used_memory_rss',
    'used_memory_peak',
    'used_memory_dataset',
    'mem_fragmentation_bytes',
  ])
    assert.equal(Number(field(merged, 'memory', name)), total('memory', name), name);
  for (const name of ['keyspace_hits', 'keyspace_misses', 'expired_keys', 'evicted_keys', 'total_error_replies'])
    assert.equal(Number(field(merged, 'stats', name)), total('stats', name), name);
  assert.equal(Number(field(merged, 'replication', 'master_repl_offset')), total('replication', 'master_repl_offset'));
  const cpu = Number(field(merged, 'cpu', 'used_cpu_user'));
  assert.ok(Math.abs(cpu - total('cpu', 'used_cpu_user')) < 1e-6, 'decimals add up');
  assert.match(field(merged, 'cpu', 'used_cpu_user'), /^\d+\.\d{6}$/, "the masters' precision kept");
});

test('human forms and ratios are recomputed from the merged values', () => {
  const used = total('memory', 'used_memory');
  assert.equal(field(merged, 'memory', 'used_memory_human'), bytesToHuman(used));
  assert.equal(field(merged, 'memory', 'used_memory_rss_human'), bytesToHuman(total('memory', 'used_memory_rss')));
  const peak = total('memory', 'used_memory_peak');
  assert.equal(field(merged, 'memory', 'used_memory_peak_perc'), `${((used * 100) / peak).toFixed(2)}%`);
  const dataset = total('memory', 'used_memory_dataset');
  const startup = total('memory', 'used_memory_startup');
  assert.equal(
    field(merged, 'memory', 'used_memory_dataset_perc'),
    `${((dataset * 100) / (used - startup)).toFixed(2)}%`,
  );
  // Redis's own figures for one master agree with bytesToHuman.
  assert.equal(bytesToHuman(Number(each('memory', 'used_memory')[0])), each('memory', 'used_memory_human')[0]);
  assert.equal(bytesToHuman(104857600), '100.00M');
  assert.equal(bytesToHuman(1023), '1023B');
});

test('conservative choices: eviction policy, memory limit, version, statuses, ratios', () => {
  assert.deepEqual(each('memory', 'maxmemory_policy'), ['noeviction', 'noeviction', 'allkeys-lru']);
  assert.equal(
    field(merged, 'memory', 'maxmemory_policy'),
    'allkeys-lru',
    'one evicting master makes the cluster evict',
  );
  assert.deepEqual(each('memory', 'maxmemory'), ['0', '104857600', '0']);
  assert.equal(field(merged, 'memory', 'maxmemory'), String(104857600 * 3), 'smallest non-zero limit times masters');
  assert.equal(field(merged, 'memory', 'maxmemory_human'), '300.00M');
  const ratios = each('memory', 'mem_fragmentation_ratio').map(Number);
  assert.equal(Number(field(merged, 'memory', 'mem_fragmentation_ratio')), Math.max(...ratios));
  assert.equal(field(merged, 'server', 'redis_version'), '7.0.15');
  assert.equal(field(merged, 'persistence', 'rdb_last_bgsave_status'), 'ok');
  assert.equal(
    Number(field(merged, 'persistence', 'rdb_last_save_time')),
    Math.min(...each('persistence', 'rdb_last_save_time').map(Number)),
  );

  const failing = MASTER_INFO.map((text, i) =>
    i === 1
      ? text
          .replace('rdb_last_bgsave_status:ok', 'rdb_last_bgsave_status:err')
          .replace('redis_version:7.0.15', 'redis_version:7.0.9')
          .replace('maxmemory_policy:noeviction', 'maxmemory_policy:volatile-ttl')
          .replace('loading:0', 'loading:1')
      : text.replace('maxmemory_policy:allkeys-lru', 'maxmemory_policy:noeviction'),
  );
  const worse = mergeInfo(failing, INFO_SECTIONS, new Map());
  assert.equal(field(worse, 'persistence', 'rdb_last_bgsave_status'), 'err');
  assert.equal(field(worse, 'persistence', 'loading'), '1');
  assert.equal(field(worse, 'server', 'redis_version'), '7.0.9', 'the lowest version, numerically (9 < 15)');
  assert.equal(field(worse, 'memory', 'maxmemory_policy'), 'volatile-ttl');
  assert.equal(compareVersions('7.0.15', '7.2.0'), -1);
  assert.equal(compareVersions('7.2.0', '7.0.15'), 1);

  const none = mergeInfo(
    MASTER_INFO.map((t) => t.replace(/maxmemory:\d+/, 'maxmemory:0')),
    INFO_SECTIONS,
    new Map(),
  );
  assert.equal(field(none, 'memory', 'maxmemory'), '0', 'no master has a limit: none');
});

test('families: keyspace, commandstats, errorstats, latencystats', () => {
  const db0 = masters.map((m) => field(m, 'keyspace', 'db0'));
  const sumOf = (key: string): number => db0.reduce((a, v) => a + Number(new RegExp(`${key}=(\\d+)`).exec(v)?.[1]), 0);
  assert.equal(field(merged, 'keyspace', 'db0'), `keys=${sumOf('keys')},expires=${sumOf('expires')},avg_ttl=0`);
  assert.equal(sumOf('keys'), 300, 'the 300 keys written through Slotway');

  const ttl = MASTER_INFO.map((t, i) => t.replace(/avg_ttl=\d+/, `avg_ttl=${[1000, 4000, 0][i]}`));
  const expires = db0.map((v) => Number(/expires=(\d+)/.exec(v)?.[1]));
  const weighted = Math.round((1000 * (expires[0] ?? 0) + 4000 * (expires[1] ?? 0)) / sumOf('expires'));
  assert.match(field(mergeInfo(ttl, INFO_SECTIONS, new Map()), 'keyspace', 'db0'), new RegExp(`avg_ttl=${weighted}$`));

  const infos = masters.map((m) => field(m, 'commandstats', 'cmdstat_info'));
  const part = (text: string, key: string): number => Number(new RegExp(`${key}=([\\d.]+)`).exec(text)?.[1]);
  const calls = infos.reduce((a, v) => a + part(v, 'calls'), 0);
  const usec = infos.reduce((a, v) => a + part(v, 'usec'), 0);
  assert.equal(
    field(merged, 'commandstats', 'cmdstat_info'),
    `calls=${calls},usec=${usec},usec_per_call=${(usec / calls).toFixed(2)},rejected_calls=0,failed_calls=0`,
  );
  const errors = masters.map((m) => m.get('errorstats')?.find(([n]) => n === 'errorstat_ERR')?.[1]);
  const count = errors.reduce((a, v) => a + (v === undefined ? 0 : part(v, 'count')), 0);
  assert.ok(count > 0);
  assert.equal(field(merged, 'errorstats', 'errorstat_ERR'), `count=${count}`);
  const p99 = masters.map((m) => part(field(m, 'latencystats', 'latency_percentiles_usec_info'), 'p99'));
  assert.equal(part(field(merged, 'latencystats', 'latency_percentiles_usec_info'), 'p99'), Math.max(...p99));
});

test("own fields take their places; the masters' replicas and unruled fields are left out", () => {
  const own = new Map([
    [
      'replication',
      new Map([
        ['role', 'master'],
        ['connected_slaves', '0'],
      ]),
    ],
    [
      'slotway',
      new Map([
        ['slotway_version', '9.9.9'],
        ['cluster_state', 'ok'],
      ]),
    ],
  ]);
  const withOwn = mergeInfo(MASTER_INFO, INFO_SECTIONS, own);
  const replication = withOwn.get('replication') ?? [];
  assert.deepEqual(
    replication.slice(0, 3).map(([n]) => n),
    ['role', 'connected_slaves', 'master_failover_state'],
  );
  assert.equal(field(withOwn, 'replication', 'connected_slaves'), '0');
  assert.ok(!replication.some(([n]) => n.startsWith('slave')), 'no slaveN line');
  assert.deepEqual(withOwn.get('slotway'), [
    ['slotway_version', '9.9.9'],
    ['cluster_state', 'ok'],
  ]);
  const odd = mergeInfo([`${MASTER_INFO[0]}\r\n# Memory\r\nsome_future_field:1\r\n`], INFO_SECTIONS, new Map());
  assert.ok(!(odd.get('memory') ?? []).some(([n]) => n === 'some_future_field'));
});

test('the text reads as Redis writes it: titles, CRLF, one empty line between sections', () => {
  const sections = INFO_SECTIONS.filter((s) => s.name === 'cluster' || s.name === 'keyspace');
  const text = renderInfo(
    mergeInfo(MASTER_INFO, sections, new Map([['cluster', new Map([['cluster_enabled', '1']])]])),
    sections,
  );
  assert.equal(text, '# Cluster\r\ncluster_enabled:1\r\n\r\n# Keyspace\r\ndb0:keys=300,expires=100,avg_ttl=0\r\n');
  const empty = INFO_SECTIONS.filter((s) => s.name === 'modules');
  assert.equal(renderInfo(mergeInfo(MASTER_INFO, empty, new Map()), empty), '# Modules\r\n');
});
