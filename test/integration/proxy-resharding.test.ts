// Live resharding (redis-cli --cluster reshard, 1000 slots) while clients read
// and write through Slotway: ASK, MOVED and TRYAGAIN are absorbed, so clients
// see no error and every acknowledged write is there afterwards.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { sleep, startProxyCluster } from '../helpers/proxy-cluster.js';

const run = promisify(execFile);

test(
  'redis-cli --cluster reshard of 1000 slots under read/write load: 0 errors, no acked write lost',
  { timeout: 240000 },
  async () => {
    const env = await startProxyCluster();
    try {
      const [from, to] = await env.cluster.masters();
      assert.ok(from !== undefined && to !== undefined);
      const idOf = async (address: { host: string; port: number }) => {
        const node = new Redis({ host: address.host, port: address.port });
        const id = String(await node.call('CLUSTER', 'MYID'));
        node.disconnect();
        return id;
      };
      const fromId = await idOf(from);
      const toId = await idOf(to);

      // Writers SET their own keys then read them back; every acked value is remembered.
      const written = new Map<string, string>();
      const errors: string[] = [];
      let running = true;
      let operations = 0;
      const loops = Array.from({ length: 10 }, async (_, c) => {
        const client = env.client();
        for (let i = 0; running; i++) {
          const key = `reshard:${c}:${i % 2000}`;
          const value = `${c}:${i}`;
          operations++;
          try {
            await client.set(key, value);
            written.set(key, value);
            const back = await client.get(key);
            if (back !== value) errors.push(`${key}: read ${back}, wrote ${value}`);
          } catch (error) {
            errors.push(String(error));
          }
        }
      });
      await sleep(1000);
      const reshard = await run(
        'redis-cli',
        [
          '--cluster',
          'reshard',
          from.address,
          '--cluster-from',
          fromId,
          '--cluster-to',
          toId,
          '--cluster-slots',
          '1000',
          '--cluster-yes',
        ],
        { maxBuffer: 64 * 1024 * 1024, timeout: 200000 },
      );
      assert.match(reshard.stdout, /Moving slot/);
      await sleep(1000);
      running = false;
      await Promise.all(loops);

      assert.ok(operations > 1000, `only ${operations} operations ran`);
      assert.deepEqual(errors.slice(0, 5), [], `${errors.length} errors`);
      await env.cluster.waitForClusterOk(20000);
      const direct = env.direct();
      const check = env.client();
      for (const [key, value] of written) {
        assert.equal(await direct.get(key), value, key);
        assert.equal(await check.get(key), value, key);
      }
      const info = await check.info('proxy');
      process.stdout.write(
        `# reshard: ${operations} ops, ${written.size} keys; ${info.match(/redirects_\w+:\d+/g)?.join(' ')}\n`,
      );
    } finally {
      await env.close();
    }
  },
);
