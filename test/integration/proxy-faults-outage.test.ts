// Whole-cluster outage: every node (masters and replicas) killed for 10 s,
// then started again from its own directory (same node ids, same slots; no
// persistence, so the data is gone). While the cluster is away every command
// through Slotway must be answered with an error within the retry budget, a
// blocked client must be told, and nothing may hang; once the nodes are back
// Slotway must serve again by itself, without a restart.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import type { Redis } from 'ioredis';
import { RespSocket } from '../helpers/resp-socket.js';
import { keysPerMaster, leasedConnections, sleep, startProxyCluster } from '../helpers/proxy-cluster.js';

const RETRY_ATTEMPTS = 8;
const RETRY_DELAY_MS = 25;
const RETRY_MAX_DELAY_MS = 1000;
const OUTAGE_MS = 10_000;
/** No command should be pending longer than this: the client's own watchdog calls it a hang. */
const HANG_MS = 30_000;
/** Clients looping over commands; during the outage each gets an answer every ~3.6 s (the retry budget). */
const LOOPS = 32;

/** The sum of the backoffs Slotway waits before giving up: 25+50+100+200+400+800+1000+1000 = 3575 ms with these settings. */
function retryBudgetMs(): number {
  let total = 0;
  for (let attempt = 1; attempt <= RETRY_ATTEMPTS; attempt++)
    total += Math.min(RETRY_MAX_DELAY_MS, RETRY_DELAY_MS * 2 ** (attempt - 1));
  return total;
}

/**
 * Each attempt against a stopped node fails at once on loopback (connection
 * refused, or no connection while the pool waits to reconnect), so a command
 * ends within the budget plus timer and scheduling delays; 2.5 s of slack
 * covers a 2-core machine shared with other test runs.
 */
const LATENCY_BOUND_MS = retryBudgetMs() + 2500;

interface Sample {
  readonly start: number;
  readonly end: number;
  readonly command: string;
  readonly error: string | null;
}

/** What kind of error a client saw, without the node address and details. */
function kindOf(error: string): string {
  return error
    .replace(/\d+\.\d+\.\d+\.\d+:\d+/g, '<node>')
    .replace(/\(.*\)/, '(...)')
    .slice(0, 90);
}

test(
  'every node stopped for 10 s: prompt errors within the retry budget, no hang, then recovery without restarting Slotway',
  { timeout: 150000 },
  async () => {
    const env = await startProxyCluster({
      retryAttempts: RETRY_ATTEMPTS,
      retryDelayMs: RETRY_DELAY_MS,
      retryMaxDelayMs: RETRY_MAX_DELAY_MS,
    });
    const raw: RespSocket[] = [];
    try {
      const groups = await keysPerMaster(env.direct(), 4, 'outage');
      const nodes = [...env.cluster.nodes];
      const spread = groups.map((keys) => keys[0] as string);
      const operations: [string, ...string[]][] = [
        ...groups.flat().map((key): [string, ...string[]] => ['SET', key, 'v']),
        ...groups.flat().map((key): [string, ...string[]] => ['GET', key]),
        ['MGET', ...spread],
        ['DBSIZE'],
      ];

      const samples: Sample[] = [];
      let running = true;
      const call = async (client: Redis, args: [string, ...string[]]): Promise<void> => {
        const start = performance.now();
        let error: string | null = null;
        let watchdog: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            client.call(...args),
            new Promise(
              (_, reject) =>
                (watchdog = setTimeout(() => reject(new Error(`HANG: no reply in ${HANG_MS} ms`)), HANG_MS)),
            ),
          ]);
        } catch (caught) {
          error = caught instanceof Error ? caught.message : String(caught);
        } finally {
          clearTimeout(watchdog);
        }
        samples.push({ start, end: performance.now(), command: args[0], error });
      };
      const loops = Array.from({ length: LOOPS }, async (_, c) => {
        const client = env.client();
        for (let i = c; running; i++) await call(client, operations[i % operations.length] as [string, ...string[]]);
      });

      // A client blocked in BLPOP and a subscriber, both waiting on nodes when they die.
      const blocked = await RespSocket.connect(env.port);
      const subscriber = await RespSocket.connect(env.port);
      raw.push(blocked, subscriber);
      blocked.send('BLPOP', 'outage:queue', '0');
      assert.match(await subscriber.call('SUBSCRIBE', 'outage:ch'), /subscribe/);
      await sleep(2000);

      const killAt = performance.now();
      await Promise.all(nodes.map((node) => env.cluster.killNode(node)));
      const blockedReply = blocked.next(HANG_MS).then(
        (reply) => ({ reply: reply.toString(), ms: performance.now() - killAt }),
        (error: unknown) => ({ reply: String(error), ms: performance.now() - killAt }),
      );
      await sleep(OUTAGE_MS - (performance.now() - killAt));

      const restartAt = performance.now();
      await Promise.all(nodes.map((node) => env.cluster.startNode(node)));
      const startedAt = performance.now();
      // Recovered: a write to every master, a fan-out and DBSIZE all succeed through the same Slotway.
      const probe = env.client();
      let recoveredAt = 0;
      while (recoveredAt === 0 && performance.now() - startedAt < 60000) {
        try {
          for (const key of spread) await probe.set(key, 'back');
          await probe.mget(...spread);
          await probe.dbsize();
          recoveredAt = performance.now();
        } catch {
          await sleep(100);
        }
      }
      assert.ok(recoveredAt > 0, 'Slotway did not serve again within 60 s of the nodes starting');
      await sleep(3000);
      running = false;
      await Promise.all(loops);

      // The subscriber's subscription was made again once a node came back: a PUBLISH reaches it.
      let message = '';
      const publisher = env.client();
      for (let i = 0; i < 50 && message === ''; i++) {
        await publisher.publish('outage:ch', `hello ${i}`).catch(() => 0);
        message = await subscriber.next(200).then(
          (frame) => frame.toString(),
          () => '',
        );
      }

      const before = samples.filter((s) => s.end < killAt);
      const during = samples.filter((s) => s.start > killAt + 100 && s.end < restartAt);
      const afterRecovery = samples.filter((s) => s.start > recoveredAt + 1000);
      const slowest = samples.reduce((max, s) => Math.max(max, s.end - s.start), 0);
      const slowestDuring = during.reduce((max, s) => Math.max(max, s.end - s.start), 0);
      const kinds = new Map<string, number>();
      for (const s of samples) if (s.error !== null) kinds.set(kindOf(s.error), (kinds.get(kindOf(s.error)) ?? 0) + 1);
      const { ms: blockedMs, reply: blockedText } = await blockedReply;
      process.stdout.write(
        `# outage: ${samples.length} commands (${before.length} before, ${during.length} during, ${afterRecovery.length} after recovery); ` +
          `slowest ${slowestDuring.toFixed(0)} ms during, ${slowest.toFixed(0)} ms overall (bound ${LATENCY_BOUND_MS} ms); ` +
          `nodes started ${((startedAt - restartAt) / 1000).toFixed(1)} s after the restart began, served again ${((recoveredAt - startedAt) / 1000).toFixed(1)} s later; ` +
          `BLPOP answered ${blockedMs.toFixed(0)} ms after the kill: ${JSON.stringify(blockedText.slice(0, 80))}; subscriber got ${JSON.stringify(message.slice(0, 60))}\n` +
          `# errors by kind: ${JSON.stringify(Object.fromEntries(kinds))}\n`,
      );

      assert.ok(before.length > 100 && before.every((s) => s.error === null), 'all commands succeed before the outage');
      assert.ok(during.length >= LOOPS, `clients kept getting answers during the outage (${during.length})`);
      const succeeded = during.filter((s) => s.error === null);
      assert.deepEqual(
        succeeded.map((s) => s.command),
        [],
        'nothing can succeed while every node is down',
      );
      assert.ok(
        samples.every((s) => !s.error?.startsWith('HANG')),
        'no command hung',
      );
      assert.ok(
        slowest <= LATENCY_BOUND_MS,
        `slowest command took ${slowest.toFixed(0)} ms, bound ${LATENCY_BOUND_MS} ms`,
      );
      assert.ok(
        blockedMs <= LATENCY_BOUND_MS && blockedText.startsWith('-'),
        `the blocked client got ${blockedText} after ${blockedMs.toFixed(0)} ms`,
      );
      assert.ok(recoveredAt - startedAt <= 30000, 'served again within 30 s of the nodes starting');
      assert.ok(afterRecovery.length > 100, `${afterRecovery.length} commands after recovery`);
      assert.deepEqual(
        afterRecovery
          .filter((s) => s.error !== null)
          .map((s) => `${s.command}: ${s.error}`)
          .slice(0, 5),
        [],
        'no errors after recovery',
      );
      assert.match(message, /hello/, 'the subscription works again');
      assert.equal(env.proxy.stats.internalErrors, 0);
      for (let i = 0; i < 100 && leasedConnections(env.proxy) > 1; i++) await sleep(50);
      assert.equal(leasedConnections(env.proxy), 1, 'only the subscriber holds a lease');
    } finally {
      for (const socket of raw) socket.close();
      await env.close();
    }
  },
);
