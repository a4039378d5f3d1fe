// The foreign-cluster guard: new masters that claim slots without a trail are refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Topology } from '../../../src/cluster/discovery.js';
import { NO_OWNER, SLOT_COUNT, makeNode, type ClusterNode } from '../../../src/cluster/slot-map.js';
import { TopologyGuard, TrustedNodes } from '../../../src/cluster/topology-guard.js';

const node = (id: string, port: number, role: 'master' | 'replica' = 'master', host = '127.0.0.1'): ClusterNode =>
  makeNode({ id, host, port, role, masterId: '', healthy: true });

/** Masters with the slot ranges they own (an even split when not given). */
function topology(masters: [ClusterNode, number][], replicas: ClusterNode[] = []): Topology {
  const owners = new Uint16Array(SLOT_COUNT).fill(NO_OWNER);
  let slot = 0;
  masters.forEach(([, count], index) => {
    for (let i = 0; i < count; i++) owners[slot++] = index;
  });
  return { source: 'test', masters: masters.map(([m]) => m), replicas, owners, serverInfo: new Map() };
}

const a = node('a'.repeat(40), 7000);
const b = node('b'.repeat(40), 7001);
const c = node('c'.repeat(40), 7002);
const ra = node('r'.repeat(40), 7003, 'replica');

test('the first topology is adopted; a failover to a known replica and a reshard to a node seen empty are too', () => {
  const guard = new TopologyGuard([]);
  assert.equal(
    guard.check(
      topology(
        [
          [a, 8192],
          [b, 8192],
        ],
        [ra],
      ),
    ),
    null,
  );
  assert.equal(
    guard.check(
      topology(
        [
          [ra, 8192],
          [b, 8192],
        ],
        [a],
      ),
    ),
    null,
    'failover: the replica was seen',
  );
  assert.equal(
    guard.check(
      topology([
        [ra, 8192],
        [b, 8192],
        [c, 0],
      ]),
    ),
    null,
    'a new empty master',
  );
  assert.equal(
    guard.check(
      topology([
        [ra, 8000],
        [b, 8192],
        [c, 192],
      ]),
    ),
    null,
    'slots moved to it later',
  );
  assert.equal(guard.refusal, null);
});

test('a never-seen master claiming slots is refused, and accepted again once it is gone', () => {
  const guard = new TopologyGuard([]);
  assert.equal(
    guard.check(
      topology([
        [a, 8192],
        [b, 8192],
      ]),
    ),
    null,
  );
  const foreign = node('f'.repeat(40), 9000);
  const reason = guard.check(
    topology([
      [a, 4000],
      [b, 8192],
      [foreign, 4192],
    ]),
  );
  assert.match(
    reason ?? '',
    /masters never seen before claim slots of known masters .*ffffffff@127\.0\.0\.1:9000 \(4192 slots\)/,
  );
  assert.equal(guard.refusals, 1);
  assert.equal(
    guard.check(
      topology([
        [a, 8192],
        [b, 8192],
      ]),
    ),
    null,
  );
  assert.equal(guard.refusal, null);
});

test('--trusted-nodes: only listed nodes are adopted; CIDR, host, host:port and patterns', () => {
  const trusted = new TrustedNodes(['127.0.0.0/30', 'redis-1.example', 'redis-9.example:7000', '*.redis.svc']);
  assert.ok(trusted.has(node('x', 1, 'master', '127.0.0.3')));
  assert.ok(!trusted.has(node('x', 1, 'master', '127.0.0.4')));
  assert.ok(trusted.has(node('x', 1, 'master', 'REDIS-1.example')));
  assert.ok(trusted.has(node('x', 7000, 'master', 'redis-9.example')));
  assert.ok(!trusted.has(node('x', 7001, 'master', 'redis-9.example')));
  assert.ok(trusted.has(node('x', 1, 'master', 'redis-0.redis.svc')));
  assert.match(TrustedNodes.problem('10.0.0.0/99') ?? '', /bad network/);
  const guard = new TopologyGuard(['127.0.0.1']);
  assert.equal(guard.check(topology([[a, 16384]])), null);
  assert.match(
    guard.check(
      topology([
        [a, 16384],
        [node('z', 1, 'master', '127.0.0.9'), 0],
      ]),
    ) ?? '',
    /outside --trusted-nodes: 127\.0\.0\.9:1/,
  );
});

test('slots nobody owned may go to new masters: a cluster read in the middle of its creation', () => {
  const guard = new TopologyGuard([]);
  assert.equal(guard.check(topology([[a, 5461]])), null, 'only the first master had its slots when read');
  assert.equal(
    guard.check(
      topology([
        [a, 5461],
        [b, 5461],
        [c, 5462],
      ]),
    ),
    null,
    'the others took unowned slots',
  );
  const foreign = node('f'.repeat(40), 9000);
  assert.match(
    guard.check(
      topology([
        [a, 5461],
        [b, 5461],
        [foreign, 5462],
      ]),
    ) ?? '',
    /ffffffff@127\.0\.0\.1:9000 \(5462 slots\)/,
    'but not slots of a known master',
  );
});

test('a new master without slots is asked for its own view: another slot map is refused, a node being added is not', () => {
  const guard = new TopologyGuard([]);
  assert.equal(
    guard.check(
      topology([
        [a, 8192],
        [b, 8192],
      ]),
    ),
    null,
  );
  // Right after a CLUSTER MEET of another cluster's master: shown without slots, but its own view gives them to its cluster.
  const foreign = node('f'.repeat(40), 9000);
  const merged = topology([
    [a, 8192],
    [b, 8192],
    [foreign, 0],
  ]);
  assert.deepEqual(guard.newcomers(merged), [foreign]);
  const reason = guard.check(merged, new Map([[foreign, topology([[foreign, 16384]])]]));
  assert.match(reason ?? '', /new nodes give slots to other owners .*ffffffff@127\.0\.0\.1:9000 \(16384 slots\)/);
  // Not remembered as seen: once its claim has spread, it is refused as a master never seen.
  assert.match(
    guard.check(
      topology([
        [a, 8192],
        [b, 4096],
        [foreign, 4096],
      ]),
    ) ?? '',
    /masters never seen before claim slots/,
  );

  // A node being added knows no owners yet, or the same ones: adopted, and may take slots later.
  const added = node('d'.repeat(40), 7010);
  const fresh = new TopologyGuard([]);
  assert.equal(
    fresh.check(
      topology([
        [a, 8192],
        [b, 8192],
      ]),
    ),
    null,
  );
  const unaware: Topology = { ...topology([[added, 0]]), owners: new Uint16Array(SLOT_COUNT).fill(NO_OWNER) };
  assert.equal(
    fresh.check(
      topology([
        [a, 8192],
        [b, 8192],
        [added, 0],
      ]),
      new Map([[added, unaware]]),
    ),
    null,
  );
  assert.equal(
    fresh.check(
      topology([
        [a, 8000],
        [b, 8192],
        [added, 192],
      ]),
    ),
    null,
    'a reshard to the added node',
  );

  // One that could not be asked is adopted without slots but not remembered: it may not take slots yet.
  const silent = new TopologyGuard([]);
  assert.equal(
    silent.check(
      topology([
        [a, 8192],
        [b, 8192],
      ]),
    ),
    null,
  );
  assert.equal(
    silent.check(
      topology([
        [a, 8192],
        [b, 8192],
        [added, 0],
      ]),
      new Map([[added, null]]),
    ),
    null,
  );
  assert.match(
    silent.check(
      topology([
        [a, 8000],
        [b, 8192],
        [added, 192],
      ]),
    ) ?? '',
    /never seen before/,
  );
});

test('while refusing, a topology without the intruders is adopted only once they no longer list this cluster', () => {
  const guard = new TopologyGuard([]);
  assert.equal(
    guard.check(
      topology(
        [
          [a, 8192],
          [b, 8192],
        ],
        [ra],
      ),
    ),
    null,
  );
  const foreign = node('f'.repeat(40), 9000);
  const reason = guard.check(
    topology([
      [a, 4000],
      [b, 8192],
      [foreign, 4192],
    ]),
  );
  assert.notEqual(reason, null);
  assert.deepEqual(guard.intruders, [foreign]);
  // A node that has not heard of the merge yet: no intruder in its view, but the intruder still counts a and b as its cluster.
  const lagging = topology(
    [
      [a, 8192],
      [b, 8192],
    ],
    [ra],
  );
  const stillMerged = topology([
    [a, 4000],
    [b, 8192],
    [foreign, 4192],
  ]);
  assert.equal(
    guard.check(lagging, new Map(), new Map([[foreign, stillMerged]])),
    reason,
    'the refusal stands, same words',
  );
  assert.equal(guard.refusals, 2);
  // Separated (it forgot this cluster), or gone (it cannot be read): followed again.
  assert.equal(guard.check(lagging, new Map(), new Map([[foreign, topology([[foreign, 16384]])]])), null);
  assert.equal(guard.refusal, null);
  assert.deepEqual(guard.intruders, []);
  assert.notEqual(
    guard.check(
      topology([
        [a, 4000],
        [b, 8192],
        [foreign, 4192],
      ]),
    ),
    null,
  );
  assert.equal(guard.check(lagging, new Map(), new Map([[foreign, null]])), null);
});

test('a new replica is asked for its own view too: one of another cluster is refused, and one not asked may not take slots later', () => {
  const guard = new TopologyGuard([]);
  assert.equal(
    guard.check(
      topology([
        [a, 8192],
        [b, 8192],
      ]),
    ),
    null,
  );
  const foreignReplica = node('e'.repeat(40), 9001, 'replica');
  const foreign = node('f'.repeat(40), 9000);
  const joined = topology(
    [
      [a, 8192],
      [b, 8192],
    ],
    [foreignReplica],
  );
  assert.deepEqual(guard.newcomers(joined), [foreignReplica]);
  assert.match(
    guard.check(joined, new Map([[foreignReplica, topology([[foreign, 16384]])]])) ?? '',
    /new nodes give slots to other owners .*eeeeeeee@127\.0\.0\.1:9001/,
  );

  // A replica being added agrees: adopted and remembered, so a failover to it later is fine.
  const added = node('d'.repeat(40), 7010, 'replica');
  const fresh = new TopologyGuard([]);
  assert.equal(
    fresh.check(
      topology([
        [a, 8192],
        [b, 8192],
      ]),
    ),
    null,
  );
  assert.equal(
    fresh.check(
      topology(
        [
          [a, 8192],
          [b, 8192],
        ],
        [added],
      ),
      new Map([
        [
          added,
          topology([
            [a, 8192],
            [b, 8192],
          ]),
        ],
      ]),
    ),
    null,
  );
  const promoted = node(added.id, added.port);
  assert.equal(
    fresh.check(
      topology([
        [promoted, 8192],
        [b, 8192],
      ]),
    ),
    null,
    'failover to the added replica',
  );

  // A replica that could not be asked is adopted but not remembered: promoted over a known master's slots, it is refused.
  const silent = new TopologyGuard([]);
  assert.equal(
    silent.check(
      topology([
        [a, 8192],
        [b, 8192],
      ]),
    ),
    null,
  );
  assert.equal(
    silent.check(
      topology(
        [
          [a, 8192],
          [b, 8192],
        ],
        [added],
      ),
      new Map([[added, null]]),
    ),
    null,
  );
  assert.match(
    silent.check(
      topology([
        [promoted, 8192],
        [b, 8192],
      ]),
    ) ?? '',
    /never seen before/,
  );
});
