// Fuzzing the framers: random valid command and reply streams cut into reads
// at every boundary and at random, garbage, and mutated streams, each case
// checked against the reference decoders and redis-parser (see
// test/helpers/fuzz/ and bench/README.md, "Fuzzing the framers").
//
//   npm run bench:fuzz [-- --cases 1000000] [--seed S] [--stream I] [--stall-seconds 30]
//
// Prints cases/s and the counts by kind; on the first mismatch prints the seed,
// the stream, a shrunk reproducer and the command that replays the stream, and
// exits 1. A case that makes no progress for --stall-seconds is reported as a
// hang (exit 1).
import { availableParallelism, cpus, loadavg } from 'node:os';
import type { FuzzStats } from '../test/helpers/fuzz/campaign.js';
import { runFuzzInWorker } from '../test/helpers/fuzz/in-worker.js';

interface Args {
  cases: number;
  seed: number;
  stream?: number;
  stallSeconds: number;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { cases: 1_000_000, seed: Math.floor(Math.random() * 2 ** 32), stallSeconds: 30 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = Number(argv[i + 1]);
    const valid = Number.isSafeInteger(value) && value >= 0;
    if (flag === '--cases' && valid) args.cases = value;
    else if (flag === '--seed' && valid && value < 2 ** 32) args.seed = value;
    else if (flag === '--stream' && valid) args.stream = value;
    else if (flag === '--stall-seconds' && valid && value > 0) args.stallSeconds = value;
    else {
      process.stderr.write(
        `usage: fuzz [--cases N] [--seed 0..2^32-1] [--stream I] [--stall-seconds S]; bad argument ${flag}\n`,
      );
      process.exit(2);
    }
    i++;
  }
  return args;
}

function machineLine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const load = loadavg()[0] ?? Number.NaN;
  return `${cpu}, ${availableParallelism()} cores, Node ${process.version}, load ${load.toFixed(2)}, ${new Date().toISOString()}`;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

function table(title: string, counts: Record<string, number>, total: number): string {
  const lines = [`${title}:`];
  for (const [name, count] of Object.entries(counts)) {
    lines.push(
      `  ${name.padEnd(16)} ${fmt(count).padStart(11)}  ${((100 * count) / Math.max(1, total)).toFixed(1).padStart(5)}%`,
    );
  }
  return lines.join('\n');
}

function summary(stats: FuzzStats): string {
  const seconds = stats.milliseconds / 1000;
  return [
    `cases: ${fmt(stats.cases)} in ${seconds.toFixed(1)} s = ${fmt(stats.cases / seconds)} cases/s`,
    `streams: ${fmt(stats.streams)}, bytes framed: ${fmt(stats.bytes)}, frames checked: ${fmt(stats.frames)}`,
    `cases ending in a protocol error (as the reference): ${fmt(stats.errorCases)}; stopped on a header Redis reads and Slotway refuses: ${fmt(stats.stricterCases)}`,
    table('cases by stream kind', stats.casesByKind, stats.cases),
    table('cases by cutting', stats.casesByCutting, stats.cases),
  ].join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  process.stdout.write(`machine: ${machineLine()}\n`);
  const what = args.stream !== undefined ? `stream ${args.stream} only` : `${fmt(args.cases)} cases`;
  process.stdout.write(`seed: ${args.seed}, ${what}\n`);
  const run = await runFuzzInWorker({
    seed: args.seed,
    cases: args.cases,
    ...(args.stream !== undefined ? { stream: args.stream } : {}),
    stallMs: args.stallSeconds * 1000,
    onProgress: (stats) =>
      process.stderr.write(`  ${fmt(stats.cases)} cases, ${fmt(stats.cases / (stats.milliseconds / 1000))}/s\n`),
  });
  if (run.hang !== undefined) {
    const { stream, cases, stalledMs } = run.hang;
    process.stdout.write(
      `HANG: no progress for ${(stalledMs / 1000).toFixed(0)} s in stream ${stream} (after ${fmt(cases)} cases), seed ${args.seed}\n` +
        `replay: npm run bench:fuzz -- --seed ${args.seed} --stream ${stream}\n`,
    );
    process.exit(1);
  }
  const result = run.result;
  if (result === undefined) throw new Error('the fuzz worker ended without a result');
  process.stdout.write(`${summary(result.stats)}\n`);
  const failure = result.failure;
  if (failure !== undefined) {
    process.stdout.write(
      `\nMISMATCH in case ${fmt(result.stats.cases)}: seed ${failure.seed}, stream ${failure.stream} (${failure.kind}), cutting ${failure.cutting}\n` +
        `${failure.message}\n\nshrunk reproducer:\n${failure.reproducer}\n\n` +
        `replay: npm run bench:fuzz -- --seed ${failure.seed} --stream ${failure.stream}\n`,
    );
    process.exit(1);
  }
}

await main();
