// Micro benchmarks of the hot functions, in process, without a cluster: the
// framers, the command table with key extraction and slot hashing, and the
// MGET fan-out split and merge. Only Node built-ins.
//
//   npm run bench:micro [-- --only FanOut]
//
// Each case runs in a process of its own (see main): a warm-up of about 0.25 s
// (which also sizes the loop), one timed loop of about 0.75 s, then a separate
// allocation pass (see measureAllocation). Every case is checked once before it
// is timed, so a broken case fails loudly instead of timing nothing. See
// bench/README.md for how to read the table.
import { execFile } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { promisify } from 'node:util';
import calculateSlot from 'cluster-key-slot';
import { CommandTable } from '../src/commands/command-table.js';
import { KeyIndices, type CommandArgs, type CommandSpec } from '../src/commands/command-spec.js';
import { extractKeys } from '../src/commands/key-extractor.js';
import { CommandFramer } from '../src/protocol/command-framer.js';
import { ReplyFramer } from '../src/protocol/reply-framer.js';
import { Frame } from '../src/protocol/stream-framer.js';
import { FanOut } from '../src/router/fan-out.js';
import { UserDirectory, type User } from '../src/server/client-auth.js';
import type { Request, RequestOwner } from '../src/router/request.js';

const exec = promisify(execFile);
/** Bound on one case's process (warm-up, timed loop, allocation pass: about 1.2 s). */
const CASE_TIMEOUT_MS = 60_000;
const WARMUP_NS = 250e6;
const TIMED_NS = 750e6;
/** Target duration of one chunk of the allocation pass: short enough that few chunks contain a GC. */
const ALLOCATION_CHUNK_NS = 0.5e6;
const ALLOCATION_CHUNKS = 101;
/** See measureAllocation: a GC only ever lowers a chunk's delta. */
const ALLOCATION_PERCENTILE = 0.9;

interface Case {
  readonly name: string;
  /** Operations one call of `run` performs: the unit of ns/op (frames, commands, MGETs). */
  readonly opsPerIteration: number;
  /** One iteration. Its result is folded into `sink` so the work cannot be optimised away. */
  readonly run: () => number;
  /** Runs once before timing; throws if the case does not do the work its name says. */
  readonly check: () => void;
}

interface Result {
  readonly name: string;
  readonly iterations: number;
  readonly opsPerIteration: number;
  readonly nsPerOp: number;
  /** JS heap bytes allocated per op (approximate). */
  readonly heapBytesPerOp: number;
  /** Buffer backing-store bytes allocated per op (outside the JS heap). */
  readonly externalBytesPerOp: number;
}

let sink = 0;

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`micro bench check failed: ${what}`);
}

// ---------------------------------------------------------------- timing

function loop(run: () => number, iterations: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink = (sink + run()) | 0;
  return Number(process.hrtime.bigint() - start);
}

/** Runs for at least WARMUP_NS, doubling the count, and returns ns per iteration of the last round. */
function warmUp(run: () => number): number {
  let iterations = 1;
  let spent = 0;
  let nsPerIteration = 0;
  while (spent < WARMUP_NS) {
    const ns = loop(run, iterations);
    spent += ns;
    nsPerIteration = ns / iterations;
    iterations *= 2;
  }
  return nsPerIteration;
}

/** The value `fraction` of the way up the sorted values (0.5: the median). */
function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) * fraction)] ?? Number.NaN;
}

/**
 * Bytes allocated per iteration, from heapUsed and arrayBuffers deltas around
 * short chunks of iterations. Nothing else allocates during a synchronous
 * chunk, so a delta never exceeds what the case allocated; a chunk in which
 * memory was freed (a scavenge, or the background sweep of dead Buffers'
 * memory finishing) shows less. Hence a high percentile rather than the median:
 * cases that churn Buffers see frees in most chunks. The cost of
 * process.memoryUsage() itself (the object it returns) is measured with an
 * empty chunk and subtracted. Approximate: good to a few bytes per op.
 */
function measureAllocation(run: () => number, iterationsPerChunk: number): { heap: number; external: number } {
  const heap: number[] = [];
  const external: number[] = [];
  for (let c = 0; c < ALLOCATION_CHUNKS; c++) {
    const before = process.memoryUsage();
    for (let i = 0; i < iterationsPerChunk; i++) sink = (sink + run()) | 0;
    const after = process.memoryUsage();
    heap.push(after.heapUsed - before.heapUsed);
    external.push(after.arrayBuffers - before.arrayBuffers);
  }
  return {
    heap: percentile(heap, ALLOCATION_PERCENTILE) / iterationsPerChunk,
    external: percentile(external, ALLOCATION_PERCENTILE) / iterationsPerChunk,
  };
}

let allocationBaseline: { heap: number; external: number } | undefined;

function measure(benchCase: Case): Result {
  benchCase.check();
  const nsPerIteration = warmUp(benchCase.run);
  const iterations = Math.max(1, Math.round(TIMED_NS / nsPerIteration));
  const ns = loop(benchCase.run, iterations);
  allocationBaseline ??= measureAllocation(() => 0, 1);
  const perChunk = Math.max(1, Math.round(ALLOCATION_CHUNK_NS / nsPerIteration));
  const allocation = measureAllocation(benchCase.run, perChunk);
  const ops = iterations * benchCase.opsPerIteration;
  const perOp = (bytes: number, baseline: number) =>
    Math.max(0, bytes - baseline / perChunk) / benchCase.opsPerIteration;
  return {
    name: benchCase.name,
    iterations,
    opsPerIteration: benchCase.opsPerIteration,
    nsPerOp: ns / ops,
    heapBytesPerOp: perOp(allocation.heap, allocationBaseline.heap),
    externalBytesPerOp: perOp(allocation.external, allocationBaseline.external),
  };
}

// ---------------------------------------------------------------- inputs

const pad3 = (i: number) => String(i).padStart(3, '0');
const key = (i: number) => `key:${pad3(i)}`;
/** 16 bytes, and tells which key it belongs to. */
const valueOf = (k: string) => `value-of-${k}`.padEnd(16, '.').slice(0, 16);
const bulk = (text: string) => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
const command = (...args: string[]) => `*${args.length}\r\n${args.map(bulk).join('')}`;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const SET_CHUNK = Buffer.from(
  range(100)
    .map((i) => command('SET', key(i), valueOf(key(i))))
    .join(''),
);
const GET_CHUNK = Buffer.from(
  range(100)
    .map((i) => command('GET', key(i)))
    .join(''),
);

/** Views of `buffer` of `size` bytes each (the last may be shorter), as a slow client's reads would arrive. */
function pieces(buffer: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < buffer.length; at += size) out.push(buffer.subarray(at, Math.min(at + size, buffer.length)));
  return out;
}

/** A copy of the framer's current arguments that stays valid after it moves on. */
function snapshot(framer: CommandFramer): CommandArgs {
  return {
    frameBuffer: framer.frameBuffer,
    argc: framer.argc,
    argStart: framer.argStart.slice(0, framer.argc),
    argEnd: framer.argEnd.slice(0, framer.argc),
  };
}

function frameCommands(chunk: Buffer): CommandArgs[] {
  const framer = new CommandFramer();
  framer.push(chunk);
  const out: CommandArgs[] = [];
  while (framer.next() === Frame.Ready) out.push(snapshot(framer));
  return out;
}

// ---------------------------------------------------------------- framers

interface Framer {
  push(chunk: Buffer): void;
  next(): Frame;
  readonly frameBuffer: Buffer;
  readonly frameStart: number;
  readonly frameEnd: number;
  readonly pendingBytes: number;
}

/** Pushes every chunk and takes every frame, as a session's data handler does; returns frames found. */
function frameAll(framer: Framer, chunks: readonly Buffer[]): number {
  let frames = 0;
  for (let c = 0; c < chunks.length; c++) {
    framer.push(chunks[c] as Buffer);
    while (framer.next() === Frame.Ready) frames++;
  }
  return frames;
}

/** The check for framer cases: `expected` frames, which together are exactly the input bytes. */
function checkFraming(name: string, framer: Framer, chunks: readonly Buffer[], expected: number): void {
  const frames: Buffer[] = [];
  for (const chunk of chunks) {
    framer.push(chunk);
    while (framer.next() === Frame.Ready)
      frames.push(Buffer.from(framer.frameBuffer.subarray(framer.frameStart, framer.frameEnd)));
  }
  check(frames.length === expected, `${name}: ${frames.length} frames, expected ${expected}`);
  check(Buffer.concat(frames).equals(Buffer.concat(chunks)), `${name}: the frames are not the input`);
  check(framer.pendingBytes === 0, `${name}: ${framer.pendingBytes} bytes left over`);
}

function framerCase(name: string, framer: Framer, chunks: readonly Buffer[], frames: number): Case {
  return {
    name,
    opsPerIteration: frames,
    run: () => frameAll(framer, chunks),
    check: () => checkFraming(name, framer, chunks, frames),
  };
}

function commandFramerCases(): Case[] {
  return [
    framerCase('CommandFramer 100 SET, one chunk', new CommandFramer(), [SET_CHUNK], 100),
    framerCase('CommandFramer 100 GET, one chunk', new CommandFramer(), [GET_CHUNK], 100),
    framerCase('CommandFramer 100 SET, 7-byte pieces', new CommandFramer(), pieces(SET_CHUNK, 7), 100),
    framerCase('CommandFramer 100 GET, 7-byte pieces', new CommandFramer(), pieces(GET_CHUNK, 7), 100),
    // Reads of one Ethernet TCP segment (MSS 1460) each: a frame straddles every read boundary.
    framerCase('CommandFramer 100 SET, 1460-byte pieces', new CommandFramer(), pieces(SET_CHUNK, 1460), 100),
  ];
}

function replyFramerCases(): Case[] {
  const value = valueOf(key(0));
  const oks = Buffer.from('+OK\r\n'.repeat(100));
  const bulks = Buffer.from(
    range(100)
      .map((i) => bulk(valueOf(key(i))))
      .join(''),
  );
  const array = Buffer.from(
    `*10\r\n${range(10)
      .map((i) => bulk(valueOf(key(i))))
      .join('')}`,
  );
  // HGETALL under RESP3: a map of two field/value pairs, one value an integer.
  const maps = Buffer.from(
    range(100)
      .map(() => `%2\r\n${bulk('f1')}${bulk(value)}${bulk('f2')}:42\r\n`)
      .join(''),
  );
  return [
    framerCase('ReplyFramer 100 +OK', new ReplyFramer(), [oks], 100),
    framerCase('ReplyFramer 100 $16 bulk', new ReplyFramer(), [bulks], 100),
    framerCase('ReplyFramer one *10 of $16 bulks', new ReplyFramer(), [array], 1),
    framerCase('ReplyFramer 100 RESP3 %2 maps', new ReplyFramer(), [maps], 100),
  ];
}

// ---------------------------------------------------------------- command table, keys, slot

/** What Session does per command to route it: the slot all keys hash to, -1 keyless, -2 across slots. */
function slotOf(spec: CommandSpec, args: CommandArgs, keys: KeyIndices): number {
  const count = extractKeys(spec, args, keys);
  if (count <= 0) return -1;
  let slot = -1;
  for (let i = 0; i < count; i++) {
    const index = keys.indices[i] as number;
    const keySlot = calculateSlot(args.frameBuffer.subarray(args.argStart[index], args.argEnd[index]));
    if (slot === -1) slot = keySlot;
    else if (slot !== keySlot) return -2;
  }
  return slot;
}

function routingCases(): Case[] {
  const table = new CommandTable();
  const keys = new KeyIndices();
  const sets = frameCommands(SET_CHUNK);
  const setSpec = table.get('set');
  check(setSpec !== undefined, 'the command table has SET');
  const setSlots = range(100).map((i) => calculateSlot(key(i)));
  // A mix of key-spec shapes: fixed index, range to the end, numkeys, a keyword,
  // a subcommand, keyless. [command, keys it has].
  const mix: [string[], number][] = [
    [['GET', 'user:{42}:name'], 1],
    [['SET', 'user:{42}:name', 'Ada'], 1],
    [['HSET', 'h:{42}', 'f', 'v', 'g', 'w'], 1],
    [['LPUSH', 'q:{42}', 'a', 'b', 'c'], 1],
    [['MGET', 'a:{42}', 'b:{42}', 'c:{42}'], 3],
    [['EVALSHA', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db', '2', 'x:{42}', 'y:{42}', 'arg'], 2],
    [['XREAD', 'COUNT', '10', 'STREAMS', 's1:{42}', 's2:{42}', '0', '0'], 2],
    [['ZUNIONSTORE', 'out:{42}', '2', 'z1:{42}', 'z2:{42}', 'WEIGHTS', '1', '2'], 3],
    [['CLIENT', 'SETNAME', 'worker-1'], 0],
    [['PING'], 0],
  ];
  const mixed = frameCommands(Buffer.from(mix.map(([args]) => command(...args)).join('')));
  const mixSlot = calculateSlot('{42}');

  return [
    {
      name: 'CommandTable.lookup SET',
      opsPerIteration: 100,
      run: () => {
        let found = 0;
        for (let i = 0; i < sets.length; i++) if (table.lookup(sets[i] as CommandArgs) === setSpec) found++;
        return found;
      },
      check: () =>
        check(
          sets.length === 100 && sets.every((args) => table.lookup(args) === setSpec),
          'lookup finds SET 100 times',
        ),
    },
    {
      name: 'extractKeys SET',
      opsPerIteration: 100,
      run: () => {
        let found = 0;
        for (let i = 0; i < sets.length; i++)
          found += extractKeys(setSpec as CommandSpec, sets[i] as CommandArgs, keys);
        return found;
      },
      check: () =>
        check(
          sets.every((args) => extractKeys(setSpec as CommandSpec, args, keys) === 1 && keys.indices[0] === 1),
          'SET has one key, argument 1',
        ),
    },
    {
      name: 'calculateSlot key:NNN (Buffer view)',
      opsPerIteration: 100,
      run: () => {
        let sum = 0;
        for (let i = 0; i < sets.length; i++) {
          const args = sets[i] as CommandArgs;
          sum += calculateSlot(args.frameBuffer.subarray(args.argStart[1], args.argEnd[1]));
        }
        return sum;
      },
      check: () =>
        check(
          sets.every(
            (args, i) => calculateSlot(args.frameBuffer.subarray(args.argStart[1], args.argEnd[1])) === setSlots[i],
          ),
          'the Buffer view hashes as the string key',
        ),
    },
    {
      name: 'lookup + extractKeys + slot, SET',
      opsPerIteration: 100,
      run: () => {
        let sum = 0;
        for (let i = 0; i < sets.length; i++) {
          const args = sets[i] as CommandArgs;
          sum += slotOf(table.lookup(args), args, keys);
        }
        return sum;
      },
      check: () =>
        check(
          sets.every((args, i) => slotOf(table.lookup(args), args, keys) === setSlots[i]),
          'every SET routes to its key slot',
        ),
    },
    {
      name: 'lookup + extractKeys + slot, 10 mixed',
      opsPerIteration: mixed.length,
      run: () => {
        let sum = 0;
        for (let i = 0; i < mixed.length; i++) {
          const args = mixed[i] as CommandArgs;
          sum += slotOf(table.lookup(args), args, keys);
        }
        return sum;
      },
      check: () => {
        check(mixed.length === mix.length, `framed ${mixed.length} of ${mix.length} mixed commands`);
        mixed.forEach((args, i) => {
          const [words, keyCount] = mix[i] as [string[], number];
          const spec = table.lookup(args);
          check(
            extractKeys(spec, args, keys) === keyCount,
            `${words.join(' ')}: ${keys.count} keys, expected ${keyCount}`,
          );
          check(slotOf(spec, args, keys) === (keyCount === 0 ? -1 : mixSlot), `${words.join(' ')}: wrong slot`);
        });
      },
    },
  ];
}

// ---------------------------------------------------------------- fan-out

/** Stands in for a Session: counts parents settled and keeps the last reply. */
class Owner implements RequestOwner {
  readonly id = 1;
  readonly resp3 = false;
  readonly closed = false;
  settled = 0;
  lastReply: Buffer | null = null;

  onRequestDone(request: Request): void {
    this.settled++;
    this.lastReply = request.reply;
  }
}

// ---------------------------------------------------------------- ACL

/**
 * User.check, the per-command ACL cost for users whose rules may refuse
 * something (a user with ~* &* +@all is never checked): the cached command
 * verdict, the keys with their access, matched against the key patterns.
 */
function aclCases(): Case[] {
  const table = new CommandTable();
  const keys = new KeyIndices();
  const sets = frameCommands(SET_CHUNK);
  const { directory, errors } = UserDirectory.create(
    '',
    [
      'user prefix on nopass ~key:* %R~ro:* &* +@all -@dangerous',
      'user commands on nopass ~* &* +@all -@dangerous',
    ].join('\n'),
    table,
  );
  check(errors.length === 0, `users parse: ${errors.join('; ')}`);
  const userCase = (name: string, user: User | undefined): Case => {
    check(user !== undefined, `user for ${name}`);
    const checked = user as User;
    return {
      name,
      opsPerIteration: sets.length,
      run: () => {
        let allowed = 0;
        for (let i = 0; i < sets.length; i++) {
          const args = sets[i] as CommandArgs;
          if (checked.check(table.lookup(args), args, keys) === null) allowed++;
        }
        return allowed;
      },
      check: () =>
        check(
          sets.every((args) => checked.check(table.lookup(args), args, keys) === null),
          `${name}: every SET key:NNN is allowed`,
        ),
    };
  };
  return [
    userCase('lookup + User.check SET, command rules only', directory.get('commands')),
    userCase('lookup + User.check SET, key pattern ~key:*', directory.get('prefix')),
  ];
}

function fanOutCases(): Case[] {
  const table = new CommandTable();
  const keys = new KeyIndices();
  const owner = new Owner();
  const mgetKeys = range(10).map(key);
  const [mget] = frameCommands(Buffer.from(command('MGET', ...mgetKeys)));
  const spec = table.get('mget');
  check(mget !== undefined && spec !== undefined && spec.split !== null, 'MGET frames and has a split policy');
  const args = mget as CommandArgs;
  const mgetSpec = spec as CommandSpec;
  const slots = new Set(mgetKeys.map((k) => calculateSlot(k)));
  const expected = Buffer.from(`*10\r\n${mgetKeys.map((k) => bulk(valueOf(k))).join('')}`);

  const split = (): FanOut => {
    extractKeys(mgetSpec, args, keys);
    return FanOut.split(owner, mgetSpec, args, keys, 1, 'values');
  };

  // Each child's node reply, by the child's slot: its keys' values in its key order.
  const replyBySlot = new Array<Buffer | undefined>(16384);
  for (const child of split().children) {
    const [childArgs] = frameCommands(child.payload);
    const childKeys: string[] = [];
    for (let i = 1; i < (childArgs?.argc ?? 0); i++)
      childKeys.push(childArgs?.frameBuffer.toString('latin1', childArgs.argStart[i], childArgs.argEnd[i]) ?? '');
    replyBySlot[child.slot] = Buffer.from(`*${childKeys.length}\r\n${childKeys.map((k) => bulk(valueOf(k))).join('')}`);
  }

  /** Settles every child as Router#settle does; the last one makes the FanOut merge and settle the parent. */
  const splitAndMerge = (): number => {
    const fanOut = split();
    const children = fanOut.children;
    for (let i = 0; i < children.length; i++) {
      const child = children[i] as Request;
      child.reply = replyBySlot[child.slot] as Buffer;
      child.done = true;
      fanOut.onRequestDone(child);
    }
    return (owner.lastReply as Buffer).length;
  };

  return [
    {
      name: `FanOut.split MGET 10 keys (${slots.size} slots)`,
      opsPerIteration: 1,
      run: () => split().children.length,
      check: () => check(split().children.length === slots.size, `MGET split into ${slots.size} children`),
    },
    {
      name: 'FanOut MGET 10 keys split + merge',
      opsPerIteration: 1,
      run: splitAndMerge,
      check: () => {
        const before = owner.settled;
        splitAndMerge();
        check(owner.settled === before + 1, 'the parent settled once');
        check(
          owner.lastReply?.equals(expected) === true,
          `merged reply ${JSON.stringify(owner.lastReply?.toString('latin1'))} is not the 10 values in key order`,
        );
      },
    },
  ];
}

// ---------------------------------------------------------------- report

function machineLine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const load = loadavg()[0] ?? Number.NaN;
  return `${cpu}, ${availableParallelism()} cores, Node ${process.version}, load ${load.toFixed(2)}, ${new Date().toISOString()}`;
}

function table(results: readonly Result[]): string {
  const header = ['case', 'iterations', 'ops/iter', 'ns/op', 'ops/s', 'heap B/op', 'ext B/op'];
  const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
  const body = results.map((r) => [
    r.name,
    String(r.iterations),
    String(r.opsPerIteration),
    fixed(r.nsPerOp, r.nsPerOp < 100 ? 1 : 0),
    Math.round(1e9 / r.nsPerOp).toLocaleString('en-US'),
    fixed(r.heapBytesPerOp, 0),
    fixed(r.externalBytesPerOp, 0),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...body.map((cells) => (cells[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0)))
      .join('  ');
  return [line(header), ...body.map(line)].join('\n');
}

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index < 0 ? undefined : process.argv[index + 1];
}

/**
 * Every case runs in a process of its own: the JIT state one case leaves
 * (a shared function deoptimised by another case's inputs) would otherwise
 * change the next case's numbers, and with them the comparison between runs.
 */
async function main(): Promise<void> {
  const cases = [...commandFramerCases(), ...routingCases(), ...aclCases(), ...replyFramerCases(), ...fanOutCases()];
  const caseIndex = argument('--case');
  if (caseIndex !== undefined) {
    const benchCase = cases[Number(caseIndex)];
    if (benchCase === undefined) throw new Error(`no case ${caseIndex}`);
    process.stdout.write(`${JSON.stringify(measure(benchCase))}\n`);
    if (sink === 0.5) process.stdout.write('\n'); // never true: keeps `sink` observable
    return;
  }
  const only = argument('--only') ?? '';
  const script = process.argv[1] as string;
  process.stdout.write(`machine: ${machineLine()}\n`);
  const results: Result[] = [];
  for (const [index, benchCase] of cases.entries()) {
    if (!benchCase.name.includes(only)) continue;
    process.stderr.write(`micro: ${benchCase.name}\n`);
    const { stdout } = await exec(process.execPath, [script, '--case', String(index)], { timeout: CASE_TIMEOUT_MS });
    results.push(JSON.parse(stdout) as Result);
  }
  process.stdout.write(`${table(results)}\n`);
  process.stdout.write(
    'heap B/op and ext B/op (Buffer memory outside the JS heap) are approximate: 90th percentiles of heapUsed/arrayBuffers deltas over 101 short chunks.\n',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`micro: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
