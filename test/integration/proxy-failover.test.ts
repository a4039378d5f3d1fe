// Failover and node restarts with clients of Slotway: acknowledged writes
// survive, errors stay within the documented bound, nothing needs a restart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { startIncrLoad } from '../helpers/incr-load.js';
import { failoverOneReplica, keysPerMaster, sleep, startProxyCluster } from '../helpers/proxy-cluster.js';

/**
 * README's bound: a CLUSTER FAILOVER drops no connection, so clients should
 * see no error at all; allow a handful for a slow CI machine.
 */
const FAILOVER_ERROR_BOUND = 20;

test(
  'manual CLUSTER FAILOVER under INCR load from 20 clients: no acknowledged write lost',
  { timeout: 120000 },
  async () => {
    const env = await startProxyCluster();
    try {
      const clients = Array.from({ length: 20 }, () => env.client());
      const load = startIncrLoad(clients, 50, 'fo');
      await sleep(2000);
      await failoverOneReplica(env.cluster);
      await sleep(3000);
      const result = await load.stop();
      await env.cluster.waitForClusterOk(20000);

      const direct = env.direct();
      for (const [key, acked] of result.acked) {
        const final = Number(await direct.get(key));
        const failed = result.failed.get(key) ?? 0;
        assert.ok(final >= acked, `${key}: ${final} < ${acked} acknowledged`);
        assert.ok(final - acked <= failed, `${key}: ${final - acked} unexplained increments`);
      }
      assert.ok(result.operations > 1000, `only ${result.operations} operations ran`);
      assert.ok(
        result.errors.length <= FAILOVER_ERROR_BOUND,
        `errors: ${result.errors.length}: ${result.errors.slice(0, 5).join('; ')}`,
      );
      process.stdout.write(`# failover: ${result.operations} INCRs, ${result.errors.length} errors seen by clients\n`);
    } finally {
      await env.close();
    }
  },
);

test(
  'a master killed and restarted on the same port while clients are idle: next commands succeed',
  { timeout: 120000 },
  async () => {
    const env = await startProxyCluster();
    try {
      const client = env.client();
      const groups = await keysPerMaster(env.direct(), 3, 'restart');
      for (const key of groups.flat()) assert.equal(await client.set(key, 'before'), 'OK');

      const [master] = await env.cluster.masters();
      assert.ok(master !== undefined);
      await env.cluster.killNode(master);
      await env.cluster.startNode(master);
      await env.cluster.waitForClusterOk(30000);

      // Slotway is not restarted; its node connections reconnect by themselves.
      for (const key of groups.flat()) {
        assert.equal(await client.set(key, 'after'), 'OK', key);
        assert.equal(await client.get(key), 'after', key);
      }
    } finally {
      await env.close();
    }
  },
);

test(
  'EVALSHA after SCRIPT LOAD survives a failover and a flushed script cache (NOSCRIPT reloaded)',
  { timeout: 120000 },
  async () => {
    const env = await startProxyCluster();
    try {
      const client = env.client();
      const sha = String(await client.script('LOAD', "return 'ran at ' .. KEYS[1]"));
      const keys = (await keysPerMaster(env.direct(), 1, 'lua')).map(([key]) => key as string);
      for (const key of keys) assert.equal(await client.evalsha(sha, 1, key), `ran at ${key}`);

      // A master loses its script cache behind Slotway's back.
      const [master] = await env.cluster.masters();
      assert.ok(master !== undefined);
      const node = new Redis({ host: master.host, port: master.port });
      await node.script('FLUSH');
      node.disconnect();
      for (const key of keys) assert.equal(await client.evalsha(sha, 1, key), `ran at ${key}`);

      // A replica (which never saw SCRIPT LOAD: Redis 7 does not replicate it) takes over.
      await failoverOneReplica(env.cluster);
      await env.cluster.waitForClusterOk(20000);
      for (const key of keys) assert.equal(await client.evalsha(sha, 1, key), `ran at ${key}`);
      // Unknown scripts still get Redis's own error.
      await assert.rejects(client.evalsha('f'.repeat(40), 0), /NOSCRIPT/);
    } finally {
      await env.close();
    }
  },
);
