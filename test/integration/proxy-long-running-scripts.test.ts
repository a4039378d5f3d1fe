// Busy scripts through Slotway: SCRIPT KILL and FUNCTION KILL reach every
// master at once on connections of their own (router/out-of-band.ts),
// authenticated as Slotway's shared connections are (the cluster here has a
// password), so a script that holds its master's shared connection can be
// ended through Slotway; the client that ran it gets Redis's error and the
// commands queued behind it on that connection complete. A client that sends
// to that master once the script ran past busy-reply-threshold gets Redis's
// -BUSY line, as a direct client would (router/stall-watch.ts probes the node).
//
// The nodes run busy-reply-threshold 1000 ms: a node reads SCRIPT KILL (and
// answers others -BUSY) only once a script has run that long.
import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import type { Redis } from 'ioredis';
import { keysPerMaster, sleep, startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';

const PASSWORD = 'long-running-Secret-1';
const BUSY_REPLY_THRESHOLD_MS = 1000;
/** How long the busy scripts would run if nobody killed them. */
const SCRIPT_SECONDS = 10;
/** B's -BUSY, once the script ran past the threshold: a stall sample (250 ms), a probe, slack for a loaded box. */
const BUSY_WITHIN_MS = 1500;
/** A killed script's client must have its error well before the script would have ended on its own. */
const KILLED_WITHIN_MS = 6000;

const BUSY_EVAL = `local t=redis.call('time') local s=tonumber(t[1]) while true do local n=redis.call('time') if tonumber(n[1])-s>=tonumber(ARGV[1]) then break end end return 1`;
const SPIN_LIBRARY = `#!lua name=longrun
redis.register_function{function_name='spin', callback=function(keys, args) local t=redis.call('time') local s=tonumber(t[1]) while true do local n=redis.call('time') if tonumber(n[1])-s>=tonumber(args[1]) then break end end return 1 end, flags={'no-writes'}}`;

let env: ProxyCluster;
let key = '';
let otherKey = '';

before(async () => {
  env = await startProxyCluster(
    // No denied commands: scripts share the masters' pipelined connections, where a busy one traps
    // what queues behind it (with --deny-commands they run on their script user's connections).
    { clusterPassword: PASSWORD, killTimeoutMs: 4000, denyCommands: [] },
    { password: PASSWORD, extraConfig: [`busy-reply-threshold ${BUSY_REPLY_THRESHOLD_MS}`] },
  );
  const groups = await keysPerMaster(env.direct(), 2, 'longrun');
  [key = '', otherKey = ''] = groups[0] ?? [];
});

after(async () => {
  await env?.close();
});

/** Resolves with the reply or the error's message, and how long after `since` it came. */
async function timed(promise: Promise<unknown>, since: number): Promise<{ result: string; ms: number }> {
  const result = await promise.then(
    (value) => String(value),
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
  return { result, ms: performance.now() - since };
}

test('SCRIPT KILL and FUNCTION KILL with nothing running: NOTBUSY, as Redis says it', { timeout: 20000 }, async () => {
  const client = env.client();
  await client.ping();
  await assert.rejects(client.call('SCRIPT', 'KILL'), /^ReplyError: NOTBUSY No scripts in execution right now\.$/);
  await assert.rejects(client.call('FUNCTION', 'KILL'), /^ReplyError: NOTBUSY No scripts in execution right now\.$/);
});

/**
 * Client A runs `start` (a busy script on key's master); Q's command goes behind it on the
 * shared connection at once; B sends its first command once the script ran past
 * busy-reply-threshold; then `kill` goes through Slotway.
 */
async function busyThenKill(
  t: TestContext,
  start: (a: Redis) => Promise<unknown>,
  kill: string[],
  killedError: RegExp,
): Promise<void> {
  const [a, b, q, killer] = [env.client(), env.client(), env.client(), env.client()];
  await Promise.all([b.set(otherKey, 'before'), q.ping(), killer.ping()]);
  const started = performance.now();
  const script = timed(start(a), started);
  await sleep(300);
  // Q's command goes to the same master, on the same shared connection, behind the script.
  const queued = timed(q.get(otherKey), started);
  // B, once the node answers others -BUSY: B gets that too, as a direct client would, not a place behind the script.
  await sleep(BUSY_REPLY_THRESHOLD_MS + 500 - 300);
  const sentAt = performance.now();
  const busy = await Promise.race([
    timed(b.get(otherKey), sentAt),
    sleep(BUSY_WITHIN_MS + 1000).then(() => ({ result: 'no reply', ms: Infinity })),
  ]);
  // WAIT goes to every master on the shared connections: the busy one answers -BUSY, as Redis does, not a wait behind the script.
  const waited = await Promise.race([
    timed(b.call('WAIT', '0', '100'), sentAt),
    sleep(BUSY_WITHIN_MS + 1000).then(() => ({ result: 'no reply', ms: Infinity })),
  ]);
  const killed = await timed(killer.call(kill[0] as string, ...kill.slice(1)), started);
  assert.match(waited.result, /^BUSY Redis is busy running a script/);
  assert.match(
    busy.result,
    /^BUSY Redis is busy running a script\. You can only call (SCRIPT|FUNCTION) KILL or SHUTDOWN NOSAVE\.$/,
  );
  assert.ok(busy.ms < BUSY_WITHIN_MS, `B's -BUSY came ${Math.round(busy.ms)} ms after it sent its command`);
  assert.equal(killed.result, 'OK', `${kill.join(' ')} through Slotway: ${killed.result}`);
  const [scriptEnd, queuedEnd] = await Promise.all([script, queued]);
  t.diagnostic(
    `B's -BUSY after ${Math.round(busy.ms)} ms; script ended at ${Math.round(scriptEnd.ms)} ms; queued command answered at ${Math.round(queuedEnd.ms)} ms`,
  );
  assert.match(scriptEnd.result, killedError);
  assert.ok(
    scriptEnd.ms < KILLED_WITHIN_MS,
    `the script ended ${Math.round(scriptEnd.ms)} ms after it started (it would run ${SCRIPT_SECONDS} s)`,
  );
  // Q's command was on the node's connection behind the script: it runs once the script is killed.
  assert.equal(queuedEnd.result, 'before', 'the command queued behind the script is answered once it is killed');
  assert.ok(queuedEnd.ms < KILLED_WITHIN_MS, `the queued command was answered after ${Math.round(queuedEnd.ms)} ms`);
  // B's later commands work, and the master is free again: SCRIPT KILL finds nothing to kill.
  assert.equal(await b.set(otherKey, 'after'), 'OK');
  assert.equal(await b.get(otherKey), 'after');
  await assert.rejects(killer.call(kill[0] as string, ...kill.slice(1)), /NOTBUSY/);
}

test(
  'a busy EVAL is ended by SCRIPT KILL through Slotway; what queued behind it completes',
  { timeout: 30000 },
  async (t) => {
    await busyThenKill(
      t,
      (a) => a.call('EVAL', BUSY_EVAL, '1', key, String(SCRIPT_SECONDS)),
      ['SCRIPT', 'KILL'],
      /^ERR Script killed by user with SCRIPT KILL/,
    );
  },
);

test('a busy function is ended by FUNCTION KILL through Slotway', { timeout: 30000 }, async (t) => {
  const loader = env.client();
  assert.equal(await loader.call('FUNCTION', 'LOAD', 'REPLACE', SPIN_LIBRARY), 'longrun');
  await busyThenKill(
    t,
    (a) => a.call('FCALL', 'spin', '1', key, String(SCRIPT_SECONDS)),
    ['FUNCTION', 'KILL'],
    /^ERR Script killed by user with SCRIPT KILL/,
  );
});

test(
  'a script that wrote cannot be killed: UNKILLABLE is passed on; the script then ends by itself',
  { timeout: 30000 },
  async () => {
    const [a, killer] = [env.client(), env.client()];
    const writing = `redis.call('set', KEYS[1], 'x') ${BUSY_EVAL}`;
    const script = a.call('EVAL', writing, '1', key, '4');
    await sleep(300);
    await assert.rejects(
      killer.call('SCRIPT', 'KILL'),
      /^ReplyError: UNKILLABLE Sorry the script already executed write commands/,
    );
    assert.equal(await script, 1);
    assert.equal(await a.get(key), 'x');
  },
);
