// A manual failover while clients are blocked and subscribed through Slotway:
// blocked clients get their value (or an error), never hang; subscribers,
// keyspace fan-in and shard channels keep receiving after the failover.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import type { LocalClusterNode } from '../../src/demo/local-cluster.js';
import {
  failoverOneReplica,
  keysPerMaster,
  ownerOfSlot,
  sleep,
  eventually,
  startProxyCluster,
  type ProxyCluster,
} from '../helpers/proxy-cluster.js';

let env: ProxyCluster;
before(async () => {
  env = await startProxyCluster();
});
after(async () => {
  await env?.close();
});

test(
  'CLUSTER FAILOVER while 30 clients are blocked and 6 are subscribed: all recover',
  { timeout: 90000 },
  async () => {
    // Blocked clients on keys of every master (so some are on the master that fails over).
    const keys = (await keysPerMaster(env.direct(), 10, 'held')).flat();
    const blocked = keys.map(() => env.client());
    const outcomes = keys.map(() => 'pending');
    const waits = keys.map((key, i) =>
      (blocked[i] as Redis).blpop(key, 0).then(
        (value) => (outcomes[i] = value?.[1] ?? 'nil'),
        (error: unknown) => (outcomes[i] = `error: ${(error as Error).message}`),
      ),
    );

    // Subscribers: plain channel, and a shard channel on the master that will fail over.
    const messages: string[][] = [];
    const subscribers = Array.from({ length: 6 }, (_, i) => {
      const subscriber = env.client();
      messages[i] = [];
      subscriber.on('message', (_channel: string, message: string) => messages[i]?.push(message));
      return subscriber;
    });
    for (const subscriber of subscribers) await subscriber.subscribe('failover-news');
    const shardSubscriber = env.client();
    const shardMessages: string[] = [];
    shardSubscriber.on('smessage', (_channel: string, message: string) => shardMessages.push(message));
    await shardSubscriber.ssubscribe('{held}shard');
    await sleep(200);

    const publisher = env.client();
    // (PUBLISH's count is of the receiving node's own subscribers only, in a cluster.)
    await publisher.publish('failover-news', 'before');
    await eventually(() => messages.every((m) => m.includes('before')), 'messages before the failover');

    const shardSlot = calculateSlot('{held}shard');
    const { owner } = await ownerOfSlot(env.cluster, shardSlot);
    await failoverOneReplica(env.cluster, owner);
    await env.proxy.refreshTopology();
    assert.notEqual(
      (await ownerOfSlot(env.cluster, shardSlot)).owner.address,
      owner.address,
      'the shard channel changed master',
    );

    // Every blocked client gets its value (or an error), none hangs.
    const pusher = env.client();
    for (let i = 0; i < keys.length; i++) await pusher.lpush(keys[i] as string, `value-${i}`);
    await Promise.race([Promise.all(waits), sleep(20000)]);
    const hanging = outcomes.filter((o) => o === 'pending').length;
    assert.equal(hanging, 0, `blocked clients still waiting: ${hanging}`);
    const values = outcomes.filter((o, i) => o === `value-${i}`).length;
    const errors = outcomes.filter((o) => o.startsWith('error')).length;
    assert.equal(values + errors, keys.length, `unexpected outcomes: ${outcomes.join(', ')}`);
    // Values not delivered are still in their lists: nothing popped and lost.
    for (let i = 0; i < keys.length; i++) {
      if (outcomes[i] !== `value-${i}`)
        assert.deepEqual(await env.direct().lrange(keys[i] as string, 0, -1), [`value-${i}`]);
    }
    console.log(`# after the failover: ${values} blocked clients got their value, ${errors} got an error`);

    // Subscribers keep receiving.
    const allHeard = (): boolean => messages.every((m) => m.some((x) => x.startsWith('after')));
    for (let i = 0; i < 40 && !allHeard(); i++) {
      await publisher.publish('failover-news', `after ${i}`);
      await sleep(250);
    }
    await eventually(() => messages.every((m) => m.some((x) => x.startsWith('after'))), 'messages after the failover');
    let shardDelivered = 0;
    for (let i = 0; i < 40 && shardDelivered < 1; i++) {
      shardDelivered = Number(await publisher.spublish('{held}shard', `shard after ${i}`));
      if (shardDelivered < 1) await sleep(250);
    }
    assert.equal(shardDelivered, 1, 'the shard subscription moved to the new master');
    await eventually(() => shardMessages.some((m) => m.startsWith('shard after')), 'shard message after the failover');
  },
);

test(
  'a subscriber whose node is killed is subscribed again elsewhere and keeps receiving',
  { timeout: 90000 },
  async () => {
    const subscriber = env.client();
    const received: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => received.push(message));
    await subscriber.subscribe('survivor');
    // Find the master Slotway subscribed on (its CLIENT LIST shows cmd=subscribe).
    let holder: LocalClusterNode | undefined;
    for (const master of await env.cluster.masters()) {
      const node = new Redis({ host: master.host, port: master.port });
      if (/cmd=subscribe/.test(String(await node.call('CLIENT', 'LIST')))) holder = master;
      node.disconnect();
    }
    assert.ok(holder !== undefined, 'the subscription is on a master');
    await env.cluster.killNode(holder);
    const publisher = env.client();
    const deadline = Date.now() + 30000;
    for (let i = 0; Date.now() < deadline && !received.some((m) => m.startsWith('after kill')); i++) {
      await publisher.publish('survivor', `after kill ${i}`).catch(() => 0);
      await sleep(250);
    }
    assert.ok(
      received.some((m) => m.startsWith('after kill')),
      'a message published after the kill arrived',
    );
    await env.cluster.startNode(holder);
    await env.cluster.waitForClusterOk(30000);
  },
);
