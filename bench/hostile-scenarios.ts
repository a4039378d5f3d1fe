// Scenarios 1-6 of bench/hostile.ts (issue 14): what one ordinary client can do
// to the connection every client shares, or to every master behind it.
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import {
  ms,
  percentile,
  readyz,
  sleep,
  victimLine,
  within,
  type Context,
  type Outcome,
  type Scenario,
} from './hostile-kit.js';

const REPLY_MS = 5000;

/** Each line of `replies` as `command -> reply`. */
const listed = (replies: readonly [string, string][]): string =>
  replies.map(([command, reply]) => `${command} -> ${reply}`).join('; ');

/** 1. The Lua debugger on the shared connection. */
export const scriptDebug: Scenario = {
  id: '1',
  title: 'SCRIPT DEBUG',
  deadlineMs: 30_000,
  async run(ctx: Context): Promise<Outcome> {
    const slotway = await ctx.slotway([]);
    const victims = ctx.victims(slotway.port);
    await sleep(500);
    const replies: [string, string][] = [];
    const attacker = await ctx.raw(slotway.port);
    replies.push(['SCRIPT DEBUG YES', await attacker.call(REPLY_MS, 'SCRIPT', 'DEBUG', 'YES')]);
    replies.push([
      'EVAL',
      await attacker.call(REPLY_MS, 'EVAL', "return redis.call('set', KEYS[1], 'attacker')", '1', 'hostile:debug'),
    ]);
    const syncAttacker = await ctx.raw(slotway.port);
    replies.push(['SCRIPT DEBUG SYNC', await syncAttacker.call(REPLY_MS, 'SCRIPT', 'DEBUG', 'SYNC')]);
    replies.push([
      'EVAL',
      await syncAttacker.call(REPLY_MS, 'EVAL', "return redis.call('get', KEYS[1])", '1', 'hostile:debug'),
    ]);
    const readyDuring = await readyz(slotway.metricsPort);
    await sleep(2000);
    const readyAfter = await readyz(slotway.metricsPort);
    const seen = await victims.stop();
    return {
      tried: 'SCRIPT DEBUG YES + EVAL; SCRIPT DEBUG SYNC + EVAL',
      attacker: listed(replies),
      victims: victimLine(seen),
      numbers: {
        victimChecked: seen.checked,
        victimForeign: seen.foreign,
        victimP100Ms: seen.p100Ms,
        readyzDuring: readyDuring,
        readyzAfter2s: readyAfter,
      },
    };
  },
};

const RESTORE_DEFAULT_USER = ['ACL', 'SETUSER', 'default', 'reset', 'on', 'nopass', '~*', '&*', '+@all'] as const;

/** 2. ACL changes through the shared connection (its user is every client's user). */
export const aclChanges: Scenario = {
  id: '2',
  title: 'ACL SETUSER',
  deadlineMs: 30_000,
  async run(ctx: Context): Promise<Outcome> {
    const slotway = await ctx.slotway([]);
    const before = JSON.stringify(await ctx.masters.each('ACL', 'LIST'));
    const victims = ctx.victims(slotway.port);
    await sleep(300);
    const attacker = await ctx.raw(slotway.port);
    const replies: [string, string][] = [];
    replies.push(['ACL SETUSER default -get', await attacker.call(REPLY_MS, 'ACL', 'SETUSER', 'default', '-get')]);
    replies.push([
      'ACL SETUSER default resetpass >x',
      await attacker.call(REPLY_MS, 'ACL', 'SETUSER', 'default', 'resetpass', '>x'),
    ]);
    replies.push(['ACL LIST', await attacker.call(REPLY_MS, 'ACL', 'LIST')]);
    await sleep(1500);
    const seen = await victims.stop();
    const after = await ctx.masters.each('ACL', 'LIST');
    const unchanged = JSON.stringify(after) === before;
    return {
      tried: 'ACL SETUSER default -get; ACL SETUSER default resetpass >x; ACL LIST',
      attacker: listed(replies),
      victims: victimLine(seen),
      numbers: {
        victimChecked: seen.checked,
        victimForeign: seen.foreign,
        victimErrors: Object.values(seen.errors).reduce((sum, count) => sum + count, 0),
        mastersAclUnchanged: unchanged,
        mastersAclAfter: unchanged ? 'as before' : JSON.stringify(after),
      },
    };
  },
  async restore(ctx: Context): Promise<void> {
    const now = (await ctx.masters.each('ACL', 'LIST')).map((list) => JSON.stringify(list));
    // A local cluster's default user is "on nopass ~* &* +@all": put that back where it changed.
    if (now.some((list) => !list.includes('user default on nopass ~* &* +@all')))
      await ctx.masters.each(...RESTORE_DEFAULT_USER);
  },
};

const WIPE_LIBRARY =
  "#!lua name=hostile_wipe\nredis.register_function('wipe', function(keys, args) return redis.call('flushall') end)";

/** 3. Denied commands from inside a script or a function. */
export const deniedInScripts: Scenario = {
  id: '3',
  title: 'denied commands in scripts',
  deadlineMs: 30_000,
  async run(ctx: Context): Promise<Outcome> {
    const slotway = await ctx.slotway(['--deny-commands', 'flushall,flushdb,keys']);
    const victims = ctx.victims(slotway.port);
    const writer = new Redis({
      host: '127.0.0.1',
      port: slotway.port,
      commandTimeout: REPLY_MS,
      maxRetriesPerRequest: 0,
    });
    writer.on('error', () => {});
    try {
      const pipeline = writer.pipeline();
      for (let i = 0; i < 300; i++) pipeline.set(`hostile:s3:${i}`, String(i));
      await within(pipeline.exec(), REPLY_MS, null);
    } finally {
      writer.disconnect();
    }
    await sleep(300);
    // The EVAL and the FCALL go to different masters, so that each one's effect shows in DBSIZE.
    const [first, second] = ctx.masters.nodes;
    if (first === undefined || second === undefined) throw new Error('fewer than 2 masters');
    const evalKey = ctx.masters.keyOn(first, 'hostile:s3k:');
    const fcallKey = ctx.masters.keyOn(second, 'hostile:s3k:');
    const keysBefore = await ctx.masters.keys();
    const attacker = await ctx.raw(slotway.port);
    const replies: [string, string][] = [];
    replies.push(['FLUSHALL', await attacker.call(REPLY_MS, 'FLUSHALL')]);
    replies.push([
      `EVAL "return redis.call('flushall')" 1 ${evalKey}`,
      await attacker.call(REPLY_MS, 'EVAL', "return redis.call('flushall')", '1', evalKey),
    ]);
    const afterEval = await ctx.masters.keys();
    replies.push([
      'FUNCTION LOAD (wipe: flushall)',
      await attacker.call(REPLY_MS, 'FUNCTION', 'LOAD', 'REPLACE', WIPE_LIBRARY),
    ]);
    replies.push([`FCALL wipe 1 ${fcallKey}`, await attacker.call(REPLY_MS, 'FCALL', 'wipe', '1', fcallKey)]);
    const afterFcall = await ctx.masters.keys();
    replies.push([
      `EVAL "return redis.call('keys','*')" 0`,
      await attacker.call(REPLY_MS, 'EVAL', "return redis.call('keys', '*')", '0'),
    ]);
    const loaded = await ctx.masters.each('FUNCTION', 'LIST', 'LIBRARYNAME', 'hostile_wipe');
    await sleep(500);
    const seen = await victims.stop();
    return {
      tried:
        '--deny-commands flushall,flushdb,keys; 300 keys; FLUSHALL, EVAL flushall, FUNCTION LOAD + FCALL flushall, EVAL keys *',
      attacker: listed(replies),
      victims: victimLine(seen),
      numbers: {
        keysBefore,
        keysAfterEval: afterEval,
        keysAfterFcall: afterFcall,
        keysLost: keysBefore - afterFcall,
        mastersWithWipeLibrary: loaded.filter((list) => Array.isArray(list) && list.length > 0).length,
        victimChecked: seen.checked,
        victimForeign: seen.foreign,
      },
    };
  },
  async restore(ctx: Context): Promise<void> {
    await ctx.masters.each('FUNCTION', 'DELETE', 'hostile_wipe');
  },
};

/** 4. WAIT holds the connection it runs on. */
export const waitHolds: Scenario = {
  id: '4',
  title: 'WAIT',
  deadlineMs: 30_000,
  async run(ctx: Context): Promise<Outcome> {
    const slotway = await ctx.slotway([]);
    const victims = ctx.victims(slotway.port);
    const keys = ctx.masters.nodes.map((node) => ctx.masters.keyOn(node, 'hostile:wait:'));
    const reader = new Redis({
      host: '127.0.0.1',
      port: slotway.port,
      commandTimeout: 15_000,
      maxRetriesPerRequest: 0,
    });
    reader.on('error', () => {});
    const latencies: number[] = [];
    const perMaster = keys.map(() => 0);
    const errors: string[] = [];
    let attackerMs = Number.NaN;
    const replies: string[] = [];
    try {
      for (const key of keys) await reader.set(key, 'victim');
      const attacker = await ctx.raw(slotway.port);
      const started = performance.now();
      for (let i = 0; i < 10; i++) attacker.send('WAIT', '5', '0');
      const attackerDone = (async () => {
        for (let i = 0; i < 10; i++)
          replies.push(await attacker.answer(Math.max(1, 25_000 - (performance.now() - started))));
        attackerMs = performance.now() - started;
      })();
      const deadline = started + 25_000;
      for (let i = 0; i < 100 && performance.now() < deadline && !ctx.signal.aborted; i++) {
        const which = i % keys.length;
        const sent = performance.now();
        try {
          const value = await reader.get(keys[which] ?? '');
          if (value !== 'victim') errors.push(`foreign ${String(value)}`);
        } catch (error) {
          errors.push((error as Error).message);
        }
        const took = performance.now() - sent;
        latencies.push(took);
        perMaster[which] = Math.max(perMaster[which] ?? 0, took);
      }
      await attackerDone;
    } finally {
      reader.disconnect();
    }
    const seen = await victims.stop();
    const counts = new Map<string, number>();
    for (const reply of replies) counts.set(reply, (counts.get(reply) ?? 0) + 1);
    return {
      tried: 'ten pipelined WAIT 5 0; meanwhile a victim sends 100 sequential GETs to keys on every master',
      attacker: `${[...counts].map(([reply, count]) => `${count}x ${reply}`).join(', ')}; all ten in ${ms(attackerMs)}`,
      victims:
        `sequential GETs: ${latencies.length} sent, p50 ${ms(percentile(latencies, 50))}, p100 ${ms(percentile(latencies, 100))} ` +
        `(per master p100 ${perMaster.map((value) => ms(value)).join(' / ')}), ${errors.length} errors or foreign${errors[0] === undefined ? '' : ` (${errors[0]})`}; ` +
        `pipelining victims: ${victimLine(seen)}`,
      numbers: {
        attackerTotalMs: attackerMs,
        victimGetP50Ms: percentile(latencies, 50),
        victimGetP100Ms: percentile(latencies, 100),
        victimGetErrors: errors.length,
        victimChecked: seen.checked,
        victimForeign: seen.foreign,
        victimP100Ms: seen.p100Ms,
      },
    };
  },
};

// A busy loop on the server clock: redis.call('time') costs about a microsecond, so it checks the time
// often enough, and it writes nothing, so SCRIPT KILL / FUNCTION KILL may stop it.
const SPIN_SECONDS = 12;
const SPIN_BODY = `local s = redis.call('time')[1] while redis.call('time')[1] - s < ${SPIN_SECONDS} do end return 'done'`;
const SPIN_LIBRARY = `#!lua name=hostile_spin\nredis.register_function('spin', function(keys, args) ${SPIN_BODY} end)`;

/** Ends any script or function still running on a master, and waits until every master answers PING. */
async function unbusy(ctx: Context): Promise<void> {
  for (let i = 0; i < 50; i++) {
    await ctx.masters.each('SCRIPT', 'KILL');
    await ctx.masters.each('FUNCTION', 'KILL');
    const pings = await ctx.masters.each('PING');
    if (pings.every((reply) => reply === 'PONG')) return;
    await sleep(300);
  }
  ctx.log('a master still does not answer PING after SCRIPT KILL / FUNCTION KILL');
}

/** 5a / 5b. A busy script or function, then SCRIPT KILL / FUNCTION KILL through Slotway. */
function busy(kind: 'script' | 'function'): Scenario {
  const killWord = kind === 'script' ? 'SCRIPT' : 'FUNCTION';
  return {
    id: kind === 'script' ? '5a' : '5b',
    title: `busy ${kind} + ${killWord} KILL`,
    deadlineMs: 30_000,
    async run(ctx: Context): Promise<Outcome> {
      const slotway = await ctx.slotway([]);
      const [target] = ctx.masters.nodes;
      if (target === undefined) throw new Error('no master');
      const thresholds = await ctx.masters.each('CONFIG', 'SET', 'busy-reply-threshold', '1000');
      if (kind === 'function') await ctx.masters.each('FUNCTION', 'LOAD', 'REPLACE', SPIN_LIBRARY);
      const attackKey = ctx.masters.keyOn(target, 'hostile:busy:');
      const victimKey = ctx.masters.keyOn(target, 'hostile:busyvictim:');
      await ctx.masters.each('SET', victimKey, 'victim').catch(() => []);
      const victims = ctx.victims(slotway.port);
      await sleep(300);
      const attacker = await ctx.raw(slotway.port);
      const started = performance.now();
      if (kind === 'script') attacker.send('EVAL', SPIN_BODY, '1', attackKey);
      else attacker.send('FCALL', 'spin', '1', attackKey);
      let attackerEnd = Number.NaN;
      let attackerReply = '';
      const attackerDone = attacker.answer(SPIN_SECONDS * 1000 + 8000).then((reply) => {
        attackerEnd = performance.now();
        attackerReply = reply;
      });
      await sleep(1500); // past busy-reply-threshold: a direct client gets -BUSY now
      const direct = (await ctx.masters.each('GET', victimKey))[0];
      const victim = await ctx.raw(slotway.port);
      const victimSent = performance.now();
      victim.send('GET', victimKey);
      let victimReply = '(still waiting)';
      let victimAfter = Number.NaN;
      const victimDone = victim.answer(SPIN_SECONDS * 1000 + 8000).then((reply) => {
        victimAfter = performance.now() - victimSent;
        victimReply = reply;
      });
      await within(victimDone, 2000, null);
      const victimBeforeKill = victimReply;
      const killer = await ctx.raw(slotway.port);
      const killSent = performance.now();
      const killReply = await killer.call(SPIN_SECONDS * 1000 + 5000, killWord, 'KILL');
      const killMs = performance.now() - killSent;
      await within(attackerDone, Math.max(1, SPIN_SECONDS * 1000 + 8000 - (performance.now() - started)), null);
      await within(victimDone, 3000, null);
      // A fresh GET on a fresh connection until one is answered with the value.
      let worksAfter = Number.NaN;
      const probe = await ctx.raw(slotway.port);
      for (let i = 0; i < 60 && performance.now() - started < 26_000 && !ctx.signal.aborted; i++) {
        if ((await probe.call(2000, 'GET', victimKey)) === '"victim"') {
          worksAfter = performance.now() - killSent;
          break;
        }
        await sleep(100);
      }
      const seen = await victims.stop();
      return {
        tried:
          `busy-reply-threshold 1000 on every master (${thresholds.map(String).join('/')}); ${kind === 'script' ? 'EVAL' : 'FCALL'} looping ${SPIN_SECONDS} s; ` +
          `GET of another key on that master after 1.5 s; ${killWord} KILL through Slotway`,
        attacker: `${killWord} KILL -> ${killReply} after ${ms(killMs)}; the ${kind} ended -> ${attackerReply} at ${ms(attackerEnd - started)}`,
        victims:
          `GET through Slotway -> ${victimReply} after ${ms(victimAfter)} (after 2 s: ${victimBeforeKill}); a direct GET on the master -> ${String(direct)}; ` +
          `a fresh GET works ${ms(worksAfter)} after the KILL was sent; pipelining victims: ${victimLine(seen)}`,
        numbers: {
          victimGetMs: victimAfter,
          killMs,
          attackerEndsMs: attackerEnd - killSent,
          victimWorksAgainMs: worksAfter,
          victimChecked: seen.checked,
          victimForeign: seen.foreign,
          victimP100Ms: seen.p100Ms,
        },
      };
    },
    async restore(ctx: Context): Promise<void> {
      await unbusy(ctx);
      await ctx.masters.each('CONFIG', 'SET', 'busy-reply-threshold', '5000');
      await ctx.masters.each('FUNCTION', 'DELETE', 'hostile_spin');
    },
  };
}

export const busyScript = busy('script');
export const busyFunction = busy('function');

/** redis-server's default, which a local cluster keeps. */
const SLOWLOG_MAX_LEN = 128;
const PROBE_SCRIPT = "return 'hostile6'";
const PROBE_LIBRARY = "#!lua name=hostile_six\nredis.register_function('six', function(keys, args) return 6 end)";
// About 10 ms of server time: a "command" latency event once latency-monitor-threshold is 1.
const SLOW_SCRIPT =
  "local t = redis.call('time') local s = t[1] * 1000000 + t[2] repeat local n = redis.call('time') until n[1] * 1000000 + n[2] - s > 10000 return 1";

/** An INFO field of every master, as numbers. */
async function infoField(ctx: Context, section: string, field: string): Promise<number[]> {
  return (await ctx.masters.each('INFO', section)).map((text) =>
    Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(String(text))?.[1]),
  );
}

async function settled(ctx: Context): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const busyForks = [
      ...(await infoField(ctx, 'persistence', 'rdb_bgsave_in_progress')),
      ...(await infoField(ctx, 'persistence', 'aof_rewrite_in_progress')),
    ];
    if (busyForks.every((value) => value === 0)) return;
    await sleep(100);
  }
}

const count = (values: readonly boolean[]): string => `${values.filter(Boolean).length}/${values.length} masters`;

/** 6. Node administration from a default (non-admin) client, with --deny-commands ''. */
export const nodeAdmin: Scenario = {
  id: '6',
  title: 'node administration',
  deadlineMs: 30_000,
  async run(ctx: Context): Promise<Outcome> {
    const slotway = await ctx.slotway(['--deny-commands', '']);
    const masters = ctx.masters;
    // What each command would change, put in place directly.
    const [sha] = await masters.each('SCRIPT', 'LOAD', PROBE_SCRIPT);
    await masters.each('FUNCTION', 'LOAD', 'REPLACE', PROBE_LIBRARY);
    await masters.each('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await masters.each('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
    await masters.each('CONFIG', 'SET', 'latency-monitor-threshold', '1');
    await masters.each('EVAL', SLOW_SCRIPT, '0');
    await masters.each('CONFIG', 'SET', 'latency-monitor-threshold', '0');
    const victims = ctx.victims(slotway.port);
    const attacker = await ctx.raw(slotway.port);
    const rows: [string, string, string][] = [];
    const attempt = async (
      command: string[],
      effect: () => Promise<string>,
      before?: () => Promise<unknown>,
    ): Promise<void> => {
      await before?.();
      const reply = await attacker.call(REPLY_MS, ...command);
      await settled(ctx);
      rows.push([command.join(' '), reply, await effect()]);
    };
    const lastSaves = (): Promise<number[]> => masters.each('LASTSAVE').then((replies) => replies.map(Number));
    const forks = (): Promise<number[]> => infoField(ctx, 'stats', 'total_forks');
    let saveBefore: number[] = [];
    await attempt(
      ['SAVE'],
      async () => count((await lastSaves()).map((value, i) => value > (saveBefore[i] ?? 0))) + ' saved',
      async () => {
        saveBefore = await lastSaves();
        await sleep(1100); // LASTSAVE counts seconds
      },
    );
    for (const command of [['BGSAVE'], ['BGREWRITEAOF']]) {
      let forksBefore: number[] = [];
      await attempt(
        command,
        async () => count((await forks()).map((value, i) => value > (forksBefore[i] ?? 0))) + ' forked',
        async () => (forksBefore = await forks()),
      );
    }
    await attempt(
      ['SLOWLOG', 'RESET'],
      async () => count((await masters.each('SLOWLOG', 'LEN')).map((len) => Number(len) === 0)) + ' emptied',
    );
    await attempt(
      ['LATENCY', 'RESET'],
      async () =>
        count((await masters.each('LATENCY', 'LATEST')).map((list) => Array.isArray(list) && list.length === 0)) +
        ' emptied',
    );
    await attempt(['MEMORY', 'PURGE'], () => Promise.resolve('(no visible effect)'));
    await attempt(
      ['SCRIPT', 'FLUSH'],
      async () =>
        count(
          (await masters.each('SCRIPT', 'EXISTS', String(sha))).map(
            (list) => Array.isArray(list) && Number(list[0]) === 0,
          ),
        ) + ' flushed',
    );
    await attempt(
      ['FUNCTION', 'FLUSH'],
      async () =>
        count(
          (await masters.each('FUNCTION', 'LIST', 'LIBRARYNAME', 'hostile_six')).map(
            (list) => Array.isArray(list) && list.length === 0,
          ),
        ) + ' flushed',
    );
    await attempt(
      ['CONFIG', 'SET', 'slowlog-max-len', '1234'],
      async () =>
        count(
          (await masters.each('CONFIG', 'GET', 'slowlog-max-len')).map(
            (pair) => Array.isArray(pair) && pair[1] === '1234',
          ),
        ) + ' changed',
    );
    const seen = await victims.stop();
    const numbers: Record<string, string | number> = { victimChecked: seen.checked, victimForeign: seen.foreign };
    for (const [command, , effect] of rows) numbers[command.split(' ').slice(0, 2).join(' ')] = effect;
    return {
      tried:
        "--deny-commands ''; from the default user: SAVE, BGSAVE, BGREWRITEAOF, SLOWLOG RESET, LATENCY RESET, MEMORY PURGE, SCRIPT FLUSH, FUNCTION FLUSH, CONFIG SET",
      attacker: rows.map(([command, reply, effect]) => `${command} -> ${reply} [${effect}]`).join('; '),
      victims: victimLine(seen),
      numbers,
    };
  },
  async restore(ctx: Context): Promise<void> {
    await ctx.masters.each('FUNCTION', 'DELETE', 'hostile_six');
    await ctx.masters.each('CONFIG', 'SET', 'slowlog-max-len', String(SLOWLOG_MAX_LEN));
    await settled(ctx);
  },
};
