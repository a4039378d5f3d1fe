// Scenarios 7-9 of bench/hostile.ts (issue 14): Slotway's own memory and log,
// its users file, and its AUTH, as an ordinary hostile client finds them.
import { writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { encodeCommand } from '../src/protocol/resp-writer.js';
import { rssMb } from './slotway-process.js';
import {
  drained,
  ms,
  percentile,
  sleep,
  victimLine,
  within,
  type Context,
  type Outcome,
  type RawClient,
  type Scenario,
  type SlotwayHandle,
} from './hostile-kit.js';

/** The bench stops feeding Slotway past this RSS: the machine is shared, and the point is made by then. */
const RSS_CAP_MB = 4096;
const MIB = 1024 * 1024;

/** Slotway's RSS every 100 ms until stopped: the highest value seen, and whether it passed the cap. */
class RssWatch {
  peak = 0;
  capped = false;
  #running = true;
  readonly #done: Promise<void>;

  constructor(pid: number) {
    this.#done = (async () => {
      while (this.#running) {
        const now = await rssMb(pid);
        if (Number.isFinite(now)) this.peak = Math.max(this.peak, now);
        if (now > RSS_CAP_MB) this.capped = true;
        await sleep(100);
      }
    })();
  }

  async stop(): Promise<number> {
    this.#running = false;
    await this.#done;
    return this.peak;
  }
}

const us = (valueMs: number): string => (Number.isFinite(valueMs) ? `${Math.round(valueMs * 1000)} µs` : '-');
const mb = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(0)} MB` : '-');

/** 7a. Unauthenticated clients announcing a 512 MiB bulk and sending 64 MiB of it. */
export const unauthenticatedBulk: Scenario = {
  id: '7a',
  title: 'memory: unauthenticated big bulks',
  // 12 s of feeding, then 5 s for RSS to settle.
  deadlineMs: 35_000,
  async run(ctx: Context): Promise<Outcome> {
    const slotway = await ctx.slotway(['--requirepass', 'secret']);
    const victims = ctx.victims(slotway.port, 'secret');
    await sleep(500);
    const before = await rssMb(slotway.pid);
    const watch = new RssWatch(slotway.pid);
    const chunk = Buffer.alloc(MIB, 'x');
    const clients: RawClient[] = [];
    for (let i = 0; i < 50; i++) clients.push(await ctx.raw(slotway.port));
    const sent = clients.map(() => 0);
    const started = performance.now();
    const feedUntil = started + 12_000;
    await Promise.all(
      clients.map(async (client, i) => {
        client.sendRaw('*1\r\n$536870912\r\n');
        while (
          (sent[i] ?? 0) < 64 * MIB &&
          !client.closed &&
          !watch.capped &&
          !ctx.signal.aborted &&
          performance.now() < feedUntil
        ) {
          sent[i] = (sent[i] ?? 0) + MIB;
          if (!client.sendRaw(chunk)) await client.drained(Math.max(1, feedUntil - performance.now()));
        }
      }),
    );
    const feedMs = performance.now() - started;
    await sleep(500);
    const closedBySlotway = clients.filter((client) => client.closed).length;
    const answers = new Map<string, number>();
    for (const client of clients) {
      const answer = await client.answer(50);
      answers.set(answer, (answers.get(answer) ?? 0) + 1);
    }
    for (const client of clients) client.close();
    await sleep(5000);
    const after = await rssMb(slotway.pid);
    const peak = Math.max(await watch.stop(), after);
    const seen = await victims.stop();
    const totalSent = sent.reduce((sum, bytes) => sum + bytes, 0);
    const full = sent.filter((bytes) => bytes >= 64 * MIB).length;
    return {
      tried: `--requirepass secret; 50 unauthenticated connections each send *1 $536870912 then up to 64 MiB (12 s, RSS cap ${RSS_CAP_MB} MB)`,
      attacker:
        `${closedBySlotway} of 50 closed by Slotway; ${full} sent all 64 MiB; ${(totalSent / MIB).toFixed(0)} MiB sent in ${ms(feedMs)}${watch.capped ? ' (stopped at the RSS cap)' : ''}; ` +
        `replies: ${[...answers].map(([answer, n]) => `${n}x ${answer}`).join(', ')}; ` +
        `Slotway RSS ${mb(before)} before, ${mb(peak)} peak, ${mb(after)} 5 s after`,
      victims: victimLine(seen),
      numbers: {
        rssBeforeMb: before,
        rssPeakMb: peak,
        rssAfter5sMb: after,
        closedBySlotway,
        sentAll64MiB: full,
        mibSent: totalSent / MIB,
        rssCapHit: watch.capped,
        victimChecked: seen.checked,
        victimForeign: seen.foreign,
      },
    };
  },
};

/** A socket that is never read from: the kernel's buffers fill, then Slotway's. `closedAt`: when it closed (NaN while open). */
function unreadSocket(port: number): Promise<{ socket: Socket; closedAt: () => number }> {
  return new Promise((resolve, reject) => {
    let closedAt = Number.NaN;
    const socket = connect({ port, host: '127.0.0.1' }, () => resolve({ socket, closedAt: () => closedAt }));
    socket.once('error', reject);
    socket.on('error', () => {});
    socket.on('close', () => (closedAt = performance.now()));
  });
}

/** 7b. Clients that pipeline GETs of a 64 KiB value and never read the replies. */
export const unreadReplies: Scenario = {
  id: '7b',
  title: 'memory: replies never read',
  deadlineMs: 30_000,
  async run(ctx: Context): Promise<Outcome> {
    const slotway = await ctx.slotway([]);
    const setter = new Redis({ host: '127.0.0.1', port: slotway.port, commandTimeout: 5000, maxRetriesPerRequest: 0 });
    setter.on('error', () => {});
    await within(setter.set('hostile:big', Buffer.alloc(64 * 1024, 'v')), 5000, null).finally(() =>
      setter.disconnect(),
    );
    const victims = ctx.victims(slotway.port);
    await sleep(500);
    const before = await rssMb(slotway.pid);
    const watch = new RssWatch(slotway.pid);
    const batch = Buffer.concat(Array.from({ length: 100 }, () => encodeCommand(['GET', 'hostile:big'])));
    const readers = await Promise.all([0, 1, 2, 3].map(() => unreadSocket(slotway.port)));
    const sent = readers.map(() => 0);
    const started = performance.now();
    const until = started + 10_000;
    await Promise.all(
      readers.map(async ({ socket, closedAt }, i) => {
        while (Number.isNaN(closedAt()) && !watch.capped && !ctx.signal.aborted && performance.now() < until) {
          sent[i] = (sent[i] ?? 0) + 100;
          if (!socket.write(batch)) await drained(socket, Math.max(1, until - performance.now()));
        }
      }),
    );
    const closedAfter = readers.map(({ closedAt }) => closedAt() - started).filter((at) => !Number.isNaN(at));
    const blocked = readers.filter(
      ({ socket, closedAt }) => Number.isNaN(closedAt()) && socket.writableLength > 0,
    ).length;
    for (const { socket } of readers) socket.destroy();
    await sleep(5000);
    const after = await rssMb(slotway.pid);
    const peak = Math.max(await watch.stop(), after);
    const seen = await victims.stop();
    return {
      tried: `4 clients pipeline GET of a 64 KiB value for 10 s, never reading (RSS cap ${RSS_CAP_MB} MB)`,
      attacker:
        `${sent.reduce((sum, n) => sum + n, 0)} GETs written (${sent.join(' / ')}), ${closedAfter.length} of 4 closed by Slotway ` +
        `(after ${closedAfter.map((at) => ms(at)).join(', ') || '-'}), ${blocked} open with writes blocked at 10 s${watch.capped ? '; stopped at the RSS cap' : ''}; ` +
        `Slotway RSS ${mb(before)} before, ${mb(peak)} peak, ${mb(after)} 5 s after`,
      victims: victimLine(seen),
      numbers: {
        rssBeforeMb: before,
        rssPeakMb: peak,
        rssAfter5sMb: after,
        getsWritten: sent.reduce((sum, n) => sum + n, 0),
        closedBySlotway: closedAfter.length,
        rssCapHit: watch.capped,
        victimChecked: seen.checked,
        victimForeign: seen.foreign,
      },
    };
  },
};

const USER_LINES = [
  'user nokeys on >p +@all',
  'user nothing on >p resetkeys resetchannels +@all',
  'user app on >p ~app:* &app:* +@all -@dangerous',
];

/** Starts Slotway with these users; what it said when it refused them, or null. */
async function startWith(
  ctx: Context,
  lines: readonly string[],
): Promise<{ slotway: SlotwayHandle | null; refusal: string }> {
  const file = join(ctx.dir, `users-${lines.length}-${Date.now()}.acl`);
  await writeFile(file, `${lines.join('\n')}\n`);
  try {
    return { slotway: await ctx.slotway(['--users-file', file]), refusal: '' };
  } catch (error) {
    return { slotway: null, refusal: whyRefused((error as Error).message).replaceAll(`${ctx.dir}/`, '') };
  }
}

/** What Slotway said as it exited (its pino lines' error or msg), from startSlotway's error. */
function whyRefused(message: string): string {
  const said: string[] = [];
  for (const line of message.split('\n').slice(1)) {
    try {
      const entry = JSON.parse(line) as { error?: unknown; msg?: unknown };
      said.push(typeof entry.error === 'string' ? entry.error : typeof entry.msg === 'string' ? entry.msg : line);
    } catch {
      if (line.trim() !== '') said.push(line.trim());
    }
  }
  const reason = said.length === 0 ? (message.split('\n')[0] ?? '') : said.join(' / ');
  return reason.length > 300 ? `${reason.slice(0, 297)}...` : reason;
}

/** 8. Users whose key and channel patterns say "not everything". */
export const userPatterns: Scenario = {
  id: '8',
  title: 'users file key/channel patterns',
  deadlineMs: 30_000,
  async run(ctx: Context): Promise<Outcome> {
    let { slotway, refusal } = await startWith(ctx, USER_LINES);
    let accepted = USER_LINES;
    const refusals: string[] = [];
    if (slotway === null) {
      refusals.push(`all three: ${refusal}`);
      accepted = [];
      for (const line of USER_LINES) {
        const alone = await startWith(ctx, [line]);
        if (alone.slotway === null) refusals.push(`"${line}": ${alone.refusal}`);
        else accepted.push(line);
      }
      if (accepted.length === 0) throw new Error(`Slotway refused every line: ${refusals.join('; ')}`);
      ({ slotway, refusal } = await startWith(ctx, accepted));
      if (slotway === null) throw new Error(`Slotway refused the lines it accepted one by one: ${refusal}`);
    }
    const victims = ctx.victims(slotway.port);
    await sleep(300);
    const answers: string[] = [];
    const numbers: Record<string, string | number> = {
      startedWithAllLines: refusals.length === 0 ? 'yes' : 'no',
      linesAccepted: accepted.length,
    };
    for (const line of USER_LINES) {
      const name = line.split(' ')[1] ?? '';
      if (!accepted.includes(line)) {
        answers.push(`${name}: (not loaded)`);
        continue;
      }
      const client = await ctx.raw(slotway.port);
      const replies: [string, string][] = [];
      replies.push(['AUTH', await client.call(3000, 'AUTH', name, 'p')]);
      replies.push(['GET other:key', await client.call(3000, 'GET', 'other:key')]);
      replies.push(['SET app:1', await client.call(3000, 'SET', 'app:1', 'x')]);
      replies.push(['PUBLISH other 1', await client.call(3000, 'PUBLISH', 'other', '1')]);
      replies.push(['PSUBSCRIBE *', await client.call(3000, 'PSUBSCRIBE', '*')]);
      client.close();
      answers.push(`${name}: ${replies.map(([command, reply]) => `${command} -> ${reply}`).join(', ')}`);
      for (const [command, reply] of replies.slice(1))
        numbers[`${name} ${command}`] = reply.startsWith('-') ? 'refused' : 'allowed';
    }
    const seen = await victims.stop();
    return {
      tried: `--users-file: ${USER_LINES.map((line) => `"${line}"`).join(', ')}; per user GET other:key, SET app:1, PUBLISH other 1, PSUBSCRIBE *`,
      attacker: `${refusals.length === 0 ? 'Slotway started with all three lines' : `refused at start: ${refusals.join('; ')}; ran with ${accepted.length} line(s)`}. ${answers.join(' | ')}`,
      victims: victimLine(seen),
      numbers: { ...numbers, victimChecked: seen.checked, victimForeign: seen.foreign },
    };
  },
};

/** Waits until Slotway has written nothing more for 500 ms (at most 10 s): its log lines are all counted. */
async function logQuiet(slotway: SlotwayHandle): Promise<void> {
  for (let i = 0, last = -1; i < 20 && slotway.log.bytes !== last; i++) {
    last = slotway.log.bytes;
    await sleep(500);
  }
}

/** 9. AUTH: a flood of wrong passwords, huge user names in the log, user enumeration by timing. */
export const authAbuse: Scenario = {
  id: '9',
  title: 'AUTH flood, log, timing',
  // Its phases wait for Slotway's log to go quiet (up to 10 s for 20 MiB of user names).
  deadlineMs: 40_000,
  async run(ctx: Context): Promise<Outcome> {
    const users = join(ctx.dir, 'users-auth.acl');
    await writeFile(users, 'user alice on >right ~* &* +@all\n');
    const slotway = await ctx.slotway(['--requirepass', 'secret', '--users-file', users]);
    const victims = ctx.victims(slotway.port, 'secret');
    await sleep(300);
    const word = 'authentication';

    // a) 10,000 wrong AUTHs in one write.
    const linesBefore = slotway.log.lines(word);
    const flood = await ctx.raw(slotway.port);
    const started = performance.now();
    flood.sendRaw(Buffer.concat(Array.from({ length: 10_000 }, () => encodeCommand(['AUTH', 'x']))));
    let last = -1;
    while (
      flood.replies < 10_000 &&
      !flood.closed &&
      performance.now() - started < 8000 &&
      flood.replies !== last &&
      !ctx.signal.aborted
    ) {
      last = flood.replies;
      await sleep(1000);
    }
    const floodMs = flood.lastReplyAt - started;
    const floodReplies = flood.replies;
    const floodClosed = flood.closed;
    const firstReply = await flood.answer(10);
    flood.close();
    await logQuiet(slotway);
    const floodLines = slotway.log.lines(word) - linesBefore;

    // b) four AUTHs with a 5 MiB user name.
    const bytesBefore = slotway.log.bytes;
    const longLinesBefore = slotway.log.lines(word);
    const longName = 'u'.repeat(5 * 1024 * 1024);
    const longReplies: string[] = [];
    for (let i = 0; i < 4; i++) {
      const client = await ctx.raw(slotway.port);
      longReplies.push(await client.call(5000, 'AUTH', longName, 'x'));
      client.close();
    }
    await logQuiet(slotway);
    const longBytes = slotway.log.bytes - bytesBefore;
    const longLines = slotway.log.lines(word) - longLinesBefore;

    // c) unknown user vs existing user with a wrong password, alternating.
    const timings: Record<'unknown' | 'existing', number[]> = { unknown: [], existing: [] };
    let reconnects = 0;
    let client = await ctx.raw(slotway.port);
    const timingStart = performance.now();
    for (let i = 0; i < 400 && performance.now() - timingStart < 8000 && !ctx.signal.aborted; i++) {
      const kind = i % 2 === 0 ? 'unknown' : 'existing';
      if (client.closed) {
        client = await ctx.raw(slotway.port);
        reconnects++;
      }
      const sent = performance.now();
      const reply = await client.call(3000, 'AUTH', kind === 'unknown' ? `nobody${i}` : 'alice', 'wrong');
      if (reply.startsWith('-')) timings[kind].push(performance.now() - sent);
    }
    client.close();
    const seen = await victims.stop();
    const medianUnknown = percentile(timings.unknown, 50);
    const medianExisting = percentile(timings.existing, 50);
    return {
      tried:
        "--requirepass secret + a users file with alice; 10,000 pipelined 'AUTH x'; 4 AUTHs with a 5 MiB user name; 200 unknown-user vs 200 wrong-password AUTHs",
      attacker:
        `flood: ${floodReplies} replies (first ${firstReply}), the last ${ms(floodMs)} after the write, connection ${floodClosed ? 'closed by Slotway' : 'still open'}; ` +
        `5 MiB names: ${[...new Set(longReplies)].join(', ')}; timing: unknown user median ${us(medianUnknown)} (${timings.unknown.length}), ` +
        `existing user median ${us(medianExisting)} (${timings.existing.length}), ${reconnects} reconnects`,
      victims: victimLine(seen),
      numbers: {
        floodReplies,
        floodClosed,
        floodLogLines: floodLines,
        longNameLogBytes: longBytes,
        longNameLogLines: longLines,
        unknownUserMedianUs: Math.round(medianUnknown * 1000),
        existingUserMedianUs: Math.round(medianExisting * 1000),
        victimChecked: seen.checked,
        victimForeign: seen.foreign,
      },
    };
  },
};
