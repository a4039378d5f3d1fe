// A busy script under the default --deny-commands: scripts run on their
// script user's connections (server/script-identity.ts), which clients of one
// rule set share as they share the masters' pipelined connections. Another
// client's script to that master must not wait behind the busy one: once the
// script ran past busy-reply-threshold it gets Redis's -BUSY, as a direct
// client would (the stall watch probes script users' connections too), and
// SCRIPT KILL through Slotway ends the script.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { keysPerMaster, sleep, startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';

const BUSY_REPLY_THRESHOLD_MS = 1000;
/** The other client's -BUSY, once the script ran past the threshold: a stall sample, a probe, slack for a loaded box. */
const BUSY_WITHIN_MS = 1500;
const BUSY_EVAL = `local t=redis.call('time') local s=tonumber(t[1]) while true do local n=redis.call('time') if tonumber(n[1])-s>=tonumber(ARGV[1]) then break end end return 1`;

let env: ProxyCluster;

before(async () => {
  // The default --deny-commands: every client's scripts run as the script user.
  env = await startProxyCluster({}, { extraConfig: [`busy-reply-threshold ${BUSY_REPLY_THRESHOLD_MS}`] });
});

after(async () => {
  await env?.close();
});

test(
  'a busy script on the script user connections: another client script gets -BUSY, SCRIPT KILL ends it',
  { timeout: 40000 },
  async () => {
    const [[key = '', otherKey = ''] = []] = await keysPerMaster(env.direct(), 2, 'su-busy');
    const [a, b, killer] = [env.client(), env.client(), env.client()];
    // B's script lane exists before the busy script starts (its connection is the one A's script will hold).
    assert.equal(await b.eval('return ARGV[1]', 1, otherKey, 'warm'), 'warm');
    await killer.ping();
    const busy = a.eval(BUSY_EVAL, 1, key, '10').then(
      (value) => `not killed: ${String(value)}`,
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    await sleep(BUSY_REPLY_THRESHOLD_MS + 800);
    const sentAt = performance.now();
    const answer = await Promise.race([
      b
        .eval('return ARGV[1]', 1, otherKey, 'b')
        .then(String, (error: unknown) => (error instanceof Error ? error.message : String(error))),
      sleep(BUSY_WITHIN_MS + 2000).then(() => 'no reply'),
    ]);
    const ms = performance.now() - sentAt;
    const killed = await killer.call('SCRIPT', 'KILL');
    assert.match(answer, /^BUSY Redis is busy running a script/, `B's script got: ${answer}`);
    assert.ok(ms < BUSY_WITHIN_MS, `B's -BUSY came after ${Math.round(ms)} ms`);
    assert.equal(killed, 'OK');
    assert.match(await busy, /^ERR Script killed by user with SCRIPT KILL/);
    // Free again: B's scripts run.
    for (let i = 0; i < 50 && (await b.eval('return ARGV[1]', 1, otherKey, 'again').catch(() => '')) !== 'again'; i++)
      await sleep(100);
    assert.equal(await b.eval('return ARGV[1]', 1, otherKey, 'again'), 'again');
  },
);
