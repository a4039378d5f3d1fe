// The zipf workload of `npm run bench` and the "slotway+cache" side's options.
// bench/run.ts keeps the table; this file starts bench/zipf-load.ts (its own
// process, so its CPU is not the proxy's) and reads the JSON it prints.
//
// Before a zipf test's runs the hottest FILL_RANKS keys are SET with values of
// the test's size, through the cluster directly (the generator routes by slot),
// so that GETs read real 16 B / 1 KB values and not mostly nils. The key names
// are the same on every side (the generator routes them itself on the direct
// side, unlike redis-benchmark's --cluster, which hash-tags them), so one fill
// serves every side. Ranks beyond it answer nil until a SET of the run writes
// them (about 17% of GETs at zipf 0.99 over a million keys).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** The hottest ranks filled before a zipf test: 100,000 x 1 KB is about 100 MB per copy on the masters. */
export const FILL_RANKS = 100_000;
/** The zipf workloads' key space, skew and read share (issue 17). */
export const ZIPF_KEYS = 1_000_000;
export const ZIPF_SKEW = 0.99;
export const ZIPF_READ_SHARE = 0.95;

/** What one run reports: as redis-benchmark's rows (ms). */
export interface LoadSample {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
}

export interface LoadTarget {
  readonly host: string;
  readonly port: number;
  /** A cluster node: the generator routes by slot itself (one connection per master per client). */
  readonly direct: boolean;
}

/** A test run by a program of our own instead of redis-benchmark. */
export interface CustomTest {
  /** Before the test's first run, once for every side. */
  prepare(cluster: { readonly host: string; readonly port: number }): Promise<void>;
  run(target: LoadTarget, requests: number, clients: number): Promise<LoadSample>;
}

/** The generator's report (bench/zipf-load.ts). */
interface LoadReport {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly reads: number;
  readonly nils: number;
  readonly errors: number;
  readonly firstError: string;
}

async function generator(args: readonly string[], timeoutMs: number): Promise<string> {
  try {
    const { stdout } = await exec(process.execPath, ['dist/bench/zipf-load.js', ...args], {
      timeout: timeoutMs,
      maxBuffer: 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const { stderr, killed } = error as { stderr?: string; killed?: boolean };
    const why = killed === true ? `timed out after ${timeoutMs} ms` : (stderr ?? String(error)).trim();
    throw new Error(`zipf-load ${args.join(' ')}: ${why}`, { cause: error });
  }
}

/** 95% GET / 5% SET of zipf(0.99) keys out of a million, `valueSize`-byte values, pipelining 1. */
export function zipfTest(valueSize: number): CustomTest {
  const common = [
    '--value-size',
    String(valueSize),
    '--keys',
    String(ZIPF_KEYS),
    '--skew',
    String(ZIPF_SKEW),
    '--read-share',
    String(ZIPF_READ_SHARE),
  ];
  return {
    async prepare(cluster) {
      const stdout = await generator(
        ['--target', `${cluster.host}:${cluster.port}`, '--cluster', '--fill', String(FILL_RANKS), ...common],
        120_000,
      );
      const report = JSON.parse(stdout) as { filled: number; seconds: number; errors: number; firstError: string };
      if (report.errors > 0) throw new Error(`zipf fill: ${report.errors} errors, first: ${report.firstError}`);
      process.stderr.write(
        `bench:   filled ranks 1-${report.filled} with ${valueSize} B values in ${report.seconds.toFixed(2)} s\n`,
      );
    },
    async run(target, requests, clients) {
      // Generous, as redisBenchmark's: a run cut short would give per-op figures for requests never made.
      const seconds = 60 + requests / 1000;
      const stdout = await generator(
        [
          '--target',
          `${target.host}:${target.port}`,
          ...(target.direct ? ['--cluster'] : []),
          '--clients',
          String(clients),
          '--requests',
          String(requests),
          '--seconds',
          String(seconds),
          ...common,
        ],
        (seconds + 60) * 1000,
      );
      const report = JSON.parse(stdout) as LoadReport;
      if (report.errors > 0) throw new Error(`zipf load: ${report.errors} error replies, first: ${report.firstError}`);
      if (report.requests < requests)
        throw new Error(
          `zipf load: stopped at the ${seconds} s limit after ${report.requests} of ${requests} requests`,
        );
      process.stderr.write(
        `bench:   ${report.reads} GETs (${((100 * report.nils) / Math.max(1, report.reads)).toFixed(1)}% nil), ${report.requests - report.reads} SETs in ${report.seconds.toFixed(2)} s\n`,
      );
      return { rps: report.rps, p50: report.p50, p99: report.p99 };
    },
  };
}

// ---------------------------------------------------------------- the slotway+cache side

/** Slotway's options for the "slotway+cache" side unless --cache-args says otherwise: a 64 MiB cache. */
export const DEFAULT_CACHE_ARGS = '--cache --cache-max-memory 67108864';

/**
 * The extra Slotway options of the "slotway+cache" side, or null for no such
 * side. It runs whenever a workload meant for it (zipf, hot-key) is chosen,
 * unless --no-cache-side; --cache-args '<options>' replaces the default
 * options (`--cache-args ''`: a second plain Slotway, to try the mechanism).
 */
export function cacheSideArgs(argv: readonly string[], anyCachedWorkload: boolean): readonly string[] | null {
  if (!anyCachedWorkload || argv.includes('--no-cache-side')) return null;
  const index = argv.indexOf('--cache-args');
  const text = index < 0 ? DEFAULT_CACHE_ARGS : (argv[index + 1] ?? '');
  return text.split(' ').filter((word) => word !== '');
}
