// The top frames of a V8 CPU profile by self time, as a table: what a flame
// graph's widest bottom bars say, in a form that fits a note or a commit message.
//
//   node --cpu-prof --cpu-prof-dir /tmp/prof dist/src/cli.js ...   (stop it with SIGINT/SIGTERM: the file is
//                                                                    written when the process exits normally)
//   node dist/bench/profile-summary.js /tmp/prof/CPU.*.cpuprofile [--top 15] [--skip-ms 2000]
//
// Self time of a frame: the number of samples whose innermost frame it is,
// times the median gap between samples (the sampling interval). Chrome DevTools
// gives each sample the gap to the next one instead; on a loaded machine a gap
// also holds time the process waited for a core, and one sample of a rare frame
// took 59 ms that way in a 13 s profile. --skip-ms leaves out the samples of the
// first milliseconds (start-up: module loading, compiling). Frames with the same
// function, file and line are one row (V8 keeps a node per call path, so one
// function called from several places has several nodes). Percentages are of
// the busy time: everything but "(idle)", the time the process waited in epoll.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The parts of a .cpuprofile (Chrome DevTools protocol Profiler.Profile) this reads. */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: {
      readonly functionName: string;
      readonly url: string;
      readonly lineNumber: number;
    };
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface FrameRow {
  readonly functionName: string;
  /** file:line (1-based), shortened; empty for V8's own pseudo-frames such as "(garbage collector)". */
  readonly location: string;
  readonly selfMs: number;
  /** Of the busy time (all samples but "(idle)"). */
  readonly percent: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly idleMs: number;
  readonly busyMs: number;
  /** Rows by self time, largest first, "(idle)" left out. */
  readonly rows: readonly FrameRow[];
}

const IDLE = '(idle)';

/** Where a frame's code is: a path relative to `base` for files under it, node:* as is, 1-based line. */
function locate(url: string, lineNumber: number, base: string): string {
  if (url === '') return '';
  let file = url;
  if (url.startsWith('file://')) {
    const path = fileURLToPath(url);
    const inside = relative(base, path);
    file = inside.startsWith('..') ? path : inside;
  }
  return `${file}:${lineNumber + 1}`;
}

function medianOf(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

export interface SummaryOptions {
  /** Rows to keep. */
  readonly top: number;
  /** Leave out the samples taken in the first skipMs of the profile. */
  readonly skipMs?: number;
  /** Files under it are shown relative to it. */
  readonly base?: string;
}

export function summarize(profile: CpuProfile, options: SummaryOptions): ProfileSummary {
  const { top, skipMs = 0, base = process.cwd() } = options;
  const keyOf = new Map<number, string>();
  const frameOf = new Map<string, { functionName: string; location: string }>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName === '' ? '(anonymous)' : functionName;
    const location = locate(url, lineNumber, base);
    const key = `${name}\u0000${location}`;
    keyOf.set(node.id, key);
    frameOf.set(key, { functionName: name, location });
  }
  const us = medianOf(profile.timeDeltas.slice(1));
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  let elapsedUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    elapsedUs += profile.timeDeltas[i] ?? 0;
    const key = keyOf.get(profile.samples[i] ?? -1);
    if (key === undefined || elapsedUs < skipMs * 1000) continue;
    selfUs.set(key, (selfUs.get(key) ?? 0) + us);
    totalUs += us;
  }
  let idleUs = 0;
  const frames: { key: string; us: number }[] = [];
  for (const [key, frameUs] of selfUs) {
    if (frameOf.get(key)?.functionName === IDLE) idleUs += frameUs;
    else frames.push({ key, us: frameUs });
  }
  const busyUs = totalUs - idleUs;
  frames.sort((a, b) => b.us - a.us);
  const rows = frames.slice(0, top).map((row) => {
    const frame = frameOf.get(row.key) ?? { functionName: row.key, location: '' };
    return { ...frame, selfMs: row.us / 1000, percent: busyUs > 0 ? (100 * row.us) / busyUs : 0 };
  });
  return { totalMs: totalUs / 1000, idleMs: idleUs / 1000, busyMs: busyUs / 1000, rows };
}

/** A Markdown table, ready for bench/README.md. */
export function formatSummary(summary: ProfileSummary): string {
  const lines = [
    `sampled ${summary.totalMs.toFixed(0)} ms: busy ${summary.busyMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms`,
    '',
    '| # | self ms | % of busy | function | file:line |',
    '|---|---|---|---|---|',
    ...summary.rows.map(
      (row, i) =>
        `| ${i + 1} | ${row.selfMs.toFixed(1)} | ${row.percent.toFixed(1)} | ${row.functionName} | ${row.location} |`,
    ),
  ];
  return lines.join('\n');
}

function main(argv: readonly string[]): void {
  const valueOf = (name: string, fallback: number): number => {
    const index = argv.indexOf(name);
    return index < 0 ? fallback : Number(argv[index + 1]);
  };
  const top = valueOf('--top', 15);
  const skipMs = valueOf('--skip-ms', 0);
  const files = argv.filter((word, i) => !word.startsWith('--') && !(argv[i - 1] ?? '').startsWith('--'));
  if (files.length === 0 || !Number.isInteger(top) || top < 1 || !(skipMs >= 0)) {
    process.stderr.write('usage: node dist/bench/profile-summary.js <file.cpuprofile>... [--top N] [--skip-ms MS]\n');
    process.exit(2);
  }
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    process.stdout.write(`${file}\n${formatSummary(summarize(profile, { top, skipMs }))}\n\n`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv.slice(2));
