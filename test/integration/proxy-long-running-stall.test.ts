// A master whose shared connection stops answering (router/stall-watch.ts):
// /readyz says not ready, naming it, once it answered nothing for longer than
// --stall-timeout, but not for one legitimately slow command; and a master
// stopped (SIGSTOP) with commands in flight that the cluster fails over no
// longer holds them: they end within a bound after the failover, and later
// commands go to the new master. The stopped node is always continued (SIGCONT),
// in `after` too.
import assert from 'node:assert/strict';
import calculateSlot from 'cluster-key-slot';
import { after, before, test } from 'node:test';
import type { LocalClusterNode } from '../../src/demo/local-cluster.js';
import {
  call,
  keysPerMaster,
  ownerOfSlot,
  sleep,
  startProxyCluster,
  type ProxyCluster,
} from '../helpers/proxy-cluster.js';

const STALL_TIMEOUT_MS = 1000;
/** After the replica took over: refresh (asked for each second of a stall), two samples, the reset, a retry. */
const SETTLED_AFTER_FAILOVER_MS = 6000;

let env: ProxyCluster;
let key = '';
let stopped: LocalClusterNode | undefined;

before(async () => {
  // A node timeout above the busy script below: it must not make the cluster fail that master over.
  // No denied commands: scripts share the masters' pipelined connections, the case a stall watch is for
  // (with --deny-commands they run on their script user's connections and others get -BUSY from the node).
  env = await startProxyCluster({ stallTimeoutMs: STALL_TIMEOUT_MS, denyCommands: [] }, { nodeTimeoutMs: 3000 });
  [[key = ''] = []] = await keysPerMaster(env.direct(), 1, 'stall');
});

after(async () => {
  if (stopped?.pid !== undefined) process.kill(stopped.pid, 'SIGCONT');
  await env?.close();
});

async function readyz(): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${env.metricsPort}/readyz`);
  return { status: response.status, body: (await response.text()).trim() };
}

/** Polls /readyz every 50 ms until `until` resolves; every answer seen. */
async function readyzWhile(until: Promise<unknown>): Promise<{ status: number; body: string }[]> {
  const seen: { status: number; body: string }[] = [];
  let done = false;
  void until.finally(() => (done = true)).catch(() => {});
  while (!done) {
    seen.push(await readyz());
    await sleep(50);
  }
  return seen;
}

/** An EVAL that keeps its master busy for `ms` (no writes; under busy-reply-threshold, so nobody gets -BUSY). */
function busyFor(ms: number): [string, string, string, string] {
  const script = `local t=redis.call('time') local s=t[1]*1000000+t[2] while true do local n=redis.call('time') if n[1]*1000000+n[2]-s>=tonumber(ARGV[1])*1000 then break end end return 1`;
  return [script, '1', key, String(ms)];
}

test(
  'one slow command under --stall-timeout leaves /readyz at 200; a master silent past it is named',
  { timeout: 30000 },
  async () => {
    const client = env.client();
    assert.equal((await readyz()).status, 200);
    const slow = client.call('EVAL', ...busyFor(600));
    const duringSlow = await readyzWhile(slow);
    assert.ok(duringSlow.length >= 5, `polled ${duringSlow.length} times`);
    assert.deepEqual(
      duringSlow.filter((answer) => answer.status !== 200),
      [],
      'a 600 ms command is no stall',
    );

    const { owner } = await ownerOfSlot(env.cluster, calculateSlot(key));
    const stuck = client.call('EVAL', ...busyFor(1700));
    const duringStuck = await readyzWhile(stuck);
    const named = duringStuck.filter(
      (answer) => answer.status === 503 && answer.body.includes(`master ${owner.address} has not answered for`),
    );
    assert.ok(
      named.length > 0,
      `no 503 naming ${owner.address}: ${JSON.stringify([...new Set(duringStuck.map((a) => a.body))])}`,
    );
    // Stalls are sampled every 250 ms: ready again at the next sample after a reply.
    await sleep(600);
    assert.equal((await readyz()).status, 200, 'ready again once it answers');
  },
);

test(
  'a stopped master failed over: its commands in flight end, later ones reach the new master, /readyz said why',
  { timeout: 55000 },
  async (t) => {
    const { owner } = await ownerOfSlot(env.cluster, calculateSlot(key));
    const replicaPort = Number(
      /slave0:ip=[^,]+,port=(\d+)/.exec(String(await call(owner, 'INFO', 'replication')))?.[1],
    );
    const replica = (await env.cluster.replicas()).find((node) => node.port === replicaPort);
    assert.ok(replica !== undefined && owner.pid !== undefined, 'the master and its replica run');
    const client = env.client();
    assert.equal(await client.set(key, 'before'), 'OK');

    stopped = owner;
    process.kill(owner.pid, 'SIGSTOP');
    try {
      const stoppedAt = performance.now();
      // In flight on the stopped master's shared connection: writes and reads.
      const inFlight = [
        client.set(key, 'w1'),
        client.get(key),
        client.incr(`{${key}}:n`),
        client.get(`{${key}}:n`),
      ].map((p) =>
        p.then(
          (value) => ({ ok: true, text: String(value), at: performance.now() }),
          (error: unknown) => ({
            ok: false,
            text: error instanceof Error ? error.message : String(error),
            at: performance.now(),
          }),
        ),
      );
      const settled = Promise.all(inFlight);
      // The replica takes over after cluster-node-timeout (3 s) and an election.
      let promotedAt = 0;
      const promoted = (async () => {
        for (const deadline = performance.now() + 30000; performance.now() < deadline; await sleep(100)) {
          if (String(await call(replica, 'ROLE').catch(() => [])).startsWith('master'))
            return (promotedAt = performance.now());
        }
        throw new Error(`${replica.address} was not promoted`);
      })();
      const seen = await readyzWhile(Promise.all([settled, promoted]));
      await promoted;
      const results = await settled;

      t.diagnostic(
        `promoted ${Math.round(promotedAt - stoppedAt)} ms after SIGSTOP; commands ended ${results.map((r) => `${Math.round(r.at - promotedAt)} ms after (${r.text})`).join(', ')}`,
      );
      const named = seen.filter((answer) => answer.status === 503 && answer.body.includes(owner.address));
      assert.ok(
        named.length > 0,
        `/readyz never named ${owner.address}: ${JSON.stringify([...new Set(seen.map((a) => a.body))])}`,
      );
      for (const result of results) {
        assert.ok(
          result.at - promotedAt < SETTLED_AFTER_FAILOVER_MS,
          `a command ended ${Math.round(result.at - promotedAt)} ms after the failover (${result.text})`,
        );
        // A write already sent may have run: the client is told so. A read is answered by the new master.
        if (!result.ok) assert.match(result.text, /may or may not have been executed/);
      }
      assert.ok(
        results[1]?.ok && results[3]?.ok,
        `the reads were retried at the new master: ${JSON.stringify(results)}`,
      );
      assert.ok(promotedAt - stoppedAt < 30000);

      // Later commands go to the new master.
      assert.equal(await client.set(key, 'after'), 'OK');
      assert.equal(await call(replica, 'GET', key), 'after');
      await sleep(600);
      assert.equal((await readyz()).status, 200);
    } finally {
      process.kill(owner.pid, 'SIGCONT');
      stopped = undefined;
    }
  },
);
