// A fuzz run: streams of every kind, each framed under many cuttings (one case
// each), until the number of cases asked for is reached or a case fails.
//
//   stream i  --seed(run, i)-->  kind, bytes  --oracles-->  reference reading
//       |                                                      |
//       +--> cuttings: whole, every boundary, byte at a time, random
//                 \--> runCommandCase / runReplyCase (one case each)
//
// Valid streams are first checked three ways: the generator's own record of
// what it wrote, the reference decoder, and (for RESP2 replies and RESP-only
// command streams) redis-parser must agree; then the framer must agree with
// the reference under every cutting. Garbage and mutated streams have no
// generator record: there the reference decides, and the framer must also not
// throw, not hold more than a bound, and never stop handing out frames it has.
import { DEFAULT_LIMITS, type ProtocolLimits } from '../../../src/protocol/limits.js';
import { generateCommandStream, type CommandStream } from './command-streams.js';
import { cuttings, garbage, mutate, type Cutting } from './mutate.js';
import { checkCommandsWithRedisParser, checkRepliesWithRedisParser } from './redis-parser-oracle.js';
import { decodeCommands, decodeCommandsCut, type ReferenceResult } from './reference-commands.js';
import { decodeReplies } from './reference-replies.js';
import { generateReplyStream, type ReplyStream } from './reply-streams.js';
import { Rng, streamSeed } from './rng.js';
import { lastOutcome, runCommandCase, runReplyCase } from './run-case.js';
import { shrink } from './shrink.js';

export const STREAM_KINDS = [
  'command-resp',
  'command-inline',
  'command-large',
  'command-mutated',
  'command-garbage',
  'command-limits',
  'reply-resp2',
  'reply-resp3',
  'reply-large',
  'reply-mutated',
  'reply-garbage',
] as const;
export type StreamKind = (typeof STREAM_KINDS)[number];

const KIND_WEIGHTS: readonly (readonly [StreamKind, number])[] = [
  ['command-resp', 12],
  ['command-inline', 12],
  ['command-large', 1],
  ['command-mutated', 14],
  ['command-garbage', 8],
  ['command-limits', 8],
  ['reply-resp2', 12],
  ['reply-resp3', 14],
  ['reply-large', 1],
  ['reply-mutated', 14],
  ['reply-garbage', 8],
];

export interface FuzzOptions {
  readonly seed: number;
  /** Stop after the stream during which this many cases have run. */
  readonly cases: number;
  /** Run only this stream of the run (a replay). */
  readonly stream?: number;
  /** Called every two seconds or so with the counts so far. */
  readonly progress?: (stats: FuzzStats) => void;
  /** Called at the start of each stream and each case: a watchdog's heartbeat. */
  readonly beat?: (stream: number, cases: number) => void;
}

export interface FuzzStats {
  cases: number;
  streams: number;
  /** Bytes fed to framers in all cases. */
  bytes: number;
  /** Frames handed out and checked. */
  frames: number;
  casesByKind: Record<string, number>;
  casesByCutting: Record<string, number>;
  /** Cases where the framer answered Frame.Error (as the reference did). */
  errorCases: number;
  /** Cases that stopped on a header Redis reads and Slotway refuses (reference rule 1). */
  stricterCases: number;
  milliseconds: number;
}

export interface FuzzFailure {
  readonly seed: number;
  readonly stream: number;
  readonly kind: StreamKind;
  readonly cutting: string;
  readonly message: string;
  /** A small input that still fails, ready to paste into a test. */
  readonly reproducer: string;
}

export interface FuzzResult {
  readonly stats: FuzzStats;
  readonly failure?: FuzzFailure;
}

function emptyStats(): FuzzStats {
  const byKind: Record<string, number> = {};
  for (const kind of STREAM_KINDS) byKind[kind] = 0;
  return {
    cases: 0,
    streams: 0,
    bytes: 0,
    frames: 0,
    casesByKind: byKind,
    casesByCutting: { whole: 0, 'every-boundary': 0, 'byte-at-a-time': 0, random: 0 },
    errorCases: 0,
    stricterCases: 0,
    milliseconds: 0,
  };
}

/** One stream and what it must read as. */
interface Prepared {
  readonly kind: StreamKind;
  readonly family: 'command' | 'reply';
  readonly bytes: Buffer;
  readonly limits: ProtocolLimits;
  /** The reference's reading when it does not depend on the cutting. */
  readonly replies?: ReturnType<typeof decodeReplies>;
  readonly commands?: ReferenceResult;
  readonly cuttings: Cutting[];
}

/** Tiny bounds, so that every bound of the command framer is crossed now and then. */
function tinyLimits(rng: Rng): ProtocolLimits {
  return Object.freeze({
    maxBulkLength: rng.range(0, 40),
    maxArguments: rng.range(1, 8),
    maxInlineLength: rng.range(2, 48),
    maxQueryBuffer: rng.range(8, 160),
  });
}

/** Builds stream `index` and checks the oracles agree on valid ones; a string when they do not. */
function prepare(seed: number, index: number): Prepared | string {
  const rng = new Rng(streamSeed(seed, index));
  const kind = rng.weighted(KIND_WEIGHTS);
  const randomCount = rng.range(4, 12);
  if (kind.startsWith('command')) {
    let limits = DEFAULT_LIMITS;
    let bytes: Buffer;
    let generated: CommandStream | undefined;
    if (kind === 'command-garbage') bytes = garbage(rng, 'command');
    else {
      generated = generateCommandStream(rng, { inline: kind !== 'command-resp', large: kind === 'command-large' });
      bytes = generated.bytes;
      if (kind === 'command-mutated') {
        bytes = mutate(rng, bytes, 'command');
        generated = undefined;
      } else if (kind === 'command-limits') {
        limits = tinyLimits(rng);
        if (rng.chance(0.5)) bytes = mutate(rng, bytes, 'command');
        generated = undefined;
      }
    }
    const prepared: Prepared = {
      kind,
      family: 'command',
      bytes,
      limits,
      cuttings: cuttings(rng, bytes.length, randomCount),
      ...(kind === 'command-limits' ? {} : { commands: decodeCommands(bytes, bytes.length, limits) }),
    };
    if (generated !== undefined) {
      const disagreement = checkCommandOracles(generated, prepared.commands as ReferenceResult);
      if (disagreement !== null) return disagreement;
    }
    return prepared;
  }
  let bytes: Buffer;
  let generated: ReplyStream | undefined;
  if (kind === 'reply-garbage') bytes = garbage(rng, 'reply');
  else {
    generated = generateReplyStream(rng, { resp3: kind !== 'reply-resp2', large: kind === 'reply-large' });
    bytes = generated.bytes;
    if (kind === 'reply-mutated') {
      bytes = mutate(rng, bytes, 'reply');
      generated = undefined;
    }
  }
  const replies = decodeReplies(bytes);
  if (generated !== undefined) {
    const disagreement = checkReplyOracles(generated, replies);
    if (disagreement !== null) return disagreement;
  }
  return {
    kind,
    family: 'reply',
    bytes,
    limits: DEFAULT_LIMITS,
    replies,
    cuttings: cuttings(rng, bytes.length, randomCount),
  };
}

function checkCommandOracles(generated: CommandStream, ref: ReferenceResult): string | null {
  if (ref.outcome !== 'incomplete' || ref.stopAt !== generated.bytes.length) {
    return `oracles disagree: the reference stops at ${ref.stopAt} (${ref.outcome} ${ref.error}) in a valid stream of ${generated.bytes.length} bytes`;
  }
  if (ref.commands.length !== generated.commands.length) {
    return `oracles disagree: the reference reads ${ref.commands.length} commands, the generator wrote ${generated.commands.length}`;
  }
  for (let i = 0; i < ref.commands.length; i++) {
    const got = ref.commands[i];
    const want = generated.commands[i];
    if (got === undefined || want === undefined || got.start !== want.start || got.end !== want.end) {
      return `oracles disagree on command ${i}'s bytes: reference ${got?.start}-${got?.end}, generator ${want?.start}-${want?.end}`;
    }
    if (got.args.length !== want.args.length || got.args.some((arg, j) => !arg.equals(want.args[j] as Buffer))) {
      return `oracles disagree on command ${i}'s arguments: reference ${JSON.stringify(got.args.map((a) => a.toString('latin1')))}, generator ${JSON.stringify(want.args.map((a) => a.toString('latin1')))}`;
    }
  }
  const consumed = [...generated.skips, ...generated.commands.map((c) => c.end)].sort((a, b) => a - b);
  if (consumed.join() !== ref.consumed.join()) return 'oracles disagree on the ignored items (`*0`, blank lines)';
  if (generated.respOnly) {
    const parserSays = checkCommandsWithRedisParser(
      generated.bytes,
      generated.commands.map((c) => c.args),
    );
    if (parserSays !== null) return `oracles disagree: ${parserSays}`;
  }
  return null;
}

function checkReplyOracles(generated: ReplyStream, ref: ReturnType<typeof decodeReplies>): string | null {
  if (ref.outcome !== 'incomplete' || ref.ends.join() !== generated.ends.join()) {
    return `oracles disagree: the reference reads replies ending at [${ref.ends.join()}] (${ref.outcome} ${ref.error}), the generator wrote [${generated.ends.join()}]`;
  }
  if (!generated.resp3) {
    const parserSays = checkRepliesWithRedisParser(generated.bytes, generated.ends);
    if (parserSays !== null) return `oracles disagree: ${parserSays}`;
  }
  return null;
}

/** Runs one case; a sentence when the framer and the reference part. */
function runCase(prepared: Prepared, bytes: Buffer, cuts: readonly number[]): string | null {
  try {
    if (prepared.family === 'reply') return runReplyCase(bytes, cuts, prepared.replies ?? decodeReplies(bytes));
    const ref = prepared.commands ?? decodeCommandsCut(bytes, cuts, prepared.limits);
    return runCommandCase(bytes, cuts, prepared.limits, ref);
  } catch (error) {
    return `threw ${(error as Error).stack ?? String(error)}`;
  }
}

/** The same check on any input (a shrunk one has no precomputed reading). */
function check(prepared: Prepared, bytes: Buffer, cuts: readonly number[]): string | null {
  try {
    if (prepared.family === 'reply') return runReplyCase(bytes, cuts, decodeReplies(bytes));
    return runCommandCase(bytes, cuts, prepared.limits, decodeCommandsCut(bytes, cuts, prepared.limits));
  } catch (error) {
    return `threw ${(error as Error).stack ?? String(error)}`;
  }
}

export function runCampaign(options: FuzzOptions): FuzzResult {
  const stats = emptyStats();
  const started = performance.now();
  let lastProgress = started;
  const first = options.stream ?? 0;
  for (let index = first; options.stream !== undefined ? index === first : stats.cases < options.cases; index++) {
    options.beat?.(index, stats.cases);
    const prepared = prepare(options.seed, index);
    if (typeof prepared === 'string') {
      // The oracles themselves disagree on a valid stream: a harness bug, reported unshrunk.
      const kind = new Rng(streamSeed(options.seed, index)).weighted(KIND_WEIGHTS);
      stats.milliseconds = performance.now() - started;
      return {
        stats,
        failure: {
          seed: options.seed,
          stream: index,
          kind,
          cutting: '-',
          message: prepared,
          reproducer: '(see the stream)',
        },
      };
    }
    stats.streams++;
    for (const cutting of prepared.cuttings) {
      options.beat?.(index, stats.cases);
      const message = runCase(prepared, prepared.bytes, cutting.cuts);
      stats.cases++;
      stats.bytes += prepared.bytes.length;
      stats.casesByKind[prepared.kind] = (stats.casesByKind[prepared.kind] ?? 0) + 1;
      stats.casesByCutting[cutting.kind] = (stats.casesByCutting[cutting.kind] ?? 0) + 1;
      if (message !== null) {
        stats.milliseconds = performance.now() - started;
        const small = shrink(prepared.bytes, cutting.cuts, (bytes, cuts) => check(prepared, bytes, cuts));
        const limits =
          prepared.limits === DEFAULT_LIMITS ? 'default limits' : `limits ${JSON.stringify(prepared.limits)}`;
        return {
          stats,
          failure: {
            seed: options.seed,
            stream: index,
            kind: prepared.kind,
            cutting: `${cutting.kind} [${cutting.cuts.slice(0, 20).join(', ')}${cutting.cuts.length > 20 ? ', ...' : ''}]`,
            message,
            reproducer:
              `${prepared.family} framer, ${limits}\n` +
              `input (${small.bytes.length} bytes, latin1): ${JSON.stringify(small.bytes.toString('latin1'))}\n` +
              `reads end at: [${small.cuts.join(', ')}]\n` +
              `fails with: ${small.message}`,
          },
        };
      }
      const outcome = lastOutcome();
      stats.frames += outcome.frames;
      if (outcome.errored) stats.errorCases++;
      if (outcome.stricter) stats.stricterCases++;
    }
    const now = performance.now();
    if (options.progress !== undefined && now - lastProgress > 2000) {
      lastProgress = now;
      stats.milliseconds = now - started;
      options.progress(stats);
    }
  }
  stats.milliseconds = performance.now() - started;
  return { stats };
}
