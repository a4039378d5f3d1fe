// Slotway measured against Redis's own test suite (tests/ of the redis
// repository, tag 7.0.15), in the suite's external cluster mode. Each unit runs
// twice, each time against a fresh target (redis-suite-targets.ts): a single
// redis-server that owns all slots (the baseline), then a throwaway local
// cluster through Slotway. The table lists per unit what passed and failed on
// each, and the tests that pass on the baseline but not through Slotway.
//
//   npm run bench:redis-suite -- --redis-dir /work/scratch/redis-7.0.15 [--units unit/type/list,unit/pubsub]
//
// The redis tree is NOT fetched or built here: give a checkout of the tag (only
// tests/ is used, run by tclsh; redis-server and redis-cli come from PATH).
// Options (all optional but the tree):
//   --redis-dir DIR        or REDIS_SUITE_DIR: the redis tree holding tests/test_helper.tcl
//   --units a,b,...        units to run (default: every unit/ of the suite's all_tests list)
//   --skip-units a,b,...   units to leave out
//   --targets baseline,slotway   which targets (default both)
//   --unit-timeout S       seconds one unit may run on one target before its tclsh is killed (default 120;
//                          the slowest unit takes under a minute on the baseline)
//   --budget-minutes M     start no new unit after M minutes (default 180)
//   --masters N            masters of Slotway's cluster (default 3)
//   --tags "..."           the suite's --tags (default: the needs:* and slow tags of DENIED_TAGS denied)
//   --out DIR              where the JSON and the logs go (default bench/results/local, ignored by git)
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runWithCleanups, type Cleanups } from './run-with-cleanups.js';
import { runUnit, type TestResult, type UnitRun } from './redis-suite-tcl.js';
import { startTarget, type Target, type TargetName } from './redis-suite-targets.js';

const log = (line: string): void => void process.stderr.write(`redis-suite: ${line}\n`);

/** Tests that need what no external server, cluster or not, gives (issue 15's list). */
const DENIED_TAGS = [
  'needs:debug',
  'needs:repl',
  'needs:config-maxmemory',
  'needs:config-resetstat',
  'needs:save',
  'needs:reset',
  'slow',
];

/** The units first measured for issue 15; the rest follow in the suite's own order. */
const FIRST_UNITS = [
  'unit/type/list',
  'unit/info-command',
  'unit/scripting',
  'unit/type/incr',
  'unit/keyspace',
  'unit/pubsub',
  'unit/introspection',
];

interface Options {
  redisDir: string;
  units: string[];
  targets: TargetName[];
  unitTimeoutMs: number;
  budgetMs: number;
  masters: number;
  tags: string;
  out: string;
}

const MISSING_TREE = (dir: string): string =>
  `${dir === '' ? 'no redis tree given' : `${dir} holds no tests/test_helper.tcl`}: ` +
  'give --redis-dir (or REDIS_SUITE_DIR) a checkout of redis 7.0.15 outside this repository, e.g.\n' +
  '  mkdir -p /work/scratch/redis-7.0.15 && curl -sL https://github.com/redis/redis/archive/refs/tags/7.0.15.tar.gz |\n' +
  '    tar -xz --strip-components=1 -C /work/scratch/redis-7.0.15 redis-7.0.15/tests redis-7.0.15/utils redis-7.0.15/runtest';

function parseOptions(argv: string[]): Options {
  const value = (flag: string): string | undefined => {
    const index = argv.indexOf(flag);
    return index < 0 ? undefined : argv[index + 1];
  };
  const number = (flag: string, fallback: number): number => {
    const text = value(flag);
    const parsed = text === undefined ? fallback : Number(text);
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${flag} wants a positive number, got ${text}`);
    return parsed;
  };
  const list = (flag: string): string[] | undefined =>
    value(flag)
      ?.split(',')
      .map((unit) =>
        unit
          .trim()
          .replace(/\.tcl$/, '')
          .replace(/^tests\//, ''),
      )
      .filter((unit) => unit !== '');
  const redisDir = resolve(value('--redis-dir') ?? process.env.REDIS_SUITE_DIR ?? '');
  if (!existsSync(join(redisDir, 'tests', 'test_helper.tcl'))) throw new Error(MISSING_TREE(redisDir));
  const skipped = new Set(list('--skip-units') ?? []);
  const units = (list('--units') ?? defaultUnits(redisDir)).filter((unit) => !skipped.has(unit));
  for (const unit of units)
    if (!existsSync(join(redisDir, 'tests', `${unit}.tcl`))) throw new Error(`no tests/${unit}.tcl in ${redisDir}`);
  const targetList = value('--targets') ?? 'baseline,slotway';
  const targets = targetList
    .split(',')
    .filter((target): target is TargetName => ['baseline', 'slotway'].includes(target));
  if (targets.length === 0 || targets.length !== targetList.split(',').length)
    throw new Error(`--targets: baseline and/or slotway, not ${targetList}`);
  return {
    redisDir,
    units,
    targets,
    unitTimeoutMs: number('--unit-timeout', 120) * 1000,
    budgetMs: number('--budget-minutes', 180) * 60_000,
    masters: number('--masters', 3),
    tags: value('--tags') ?? DENIED_TAGS.map((tag) => `-${tag}`).join(' '),
    out: resolve(value('--out') ?? join('bench', 'results', 'local')),
  };
}

/** FIRST_UNITS, then every other unit/ entry of test_helper.tcl's all_tests, in its order. */
function defaultUnits(redisDir: string): string[] {
  const helper = readFileSync(join(redisDir, 'tests', 'test_helper.tcl'), 'utf8');
  const listed = /set ::all_tests \{([^}]*)\}/.exec(helper)?.[1] ?? '';
  const all = listed.split(/\s+/).filter((unit) => unit.startsWith('unit/'));
  return [...FIRST_UNITS.filter((unit) => all.includes(unit)), ...all.filter((unit) => !FIRST_UNITS.includes(unit))];
}

interface Tally {
  outcome: UnitRun['outcome'];
  seconds: number;
  ok: number;
  failed: number; // err and exception
  skipped: number; // skip and ignore (tags, external:skip, cluster:skip)
  tests: TestResult[];
}

interface UnitReport {
  unit: string;
  results: Partial<Record<TargetName, Tally>>;
  /** Passed on the baseline, did not pass through Slotway (failed, or never ran because the unit stopped). */
  regressions: { name: string; status: string; detail: string }[];
}

const isFailure = (test: TestResult): boolean => test.status === 'err' || test.status === 'exception';

function tally(run: UnitRun): Tally {
  return {
    outcome: run.outcome,
    seconds: Math.round(run.seconds),
    ok: run.tests.filter((test) => test.status === 'ok').length,
    failed: run.tests.filter(isFailure).length,
    skipped: run.tests.filter((test) => test.status === 'skip' || test.status === 'ignore').length,
    tests: run.tests,
  };
}

/** Test names repeat (loops over encodings): the k-th test of a name on one side meets the k-th on the other. */
function keyed(tests: TestResult[]): Map<string, TestResult> {
  const seen = new Map<string, number>();
  const byKey = new Map<string, TestResult>();
  for (const test of tests) {
    if (test.status === 'skip' || test.status === 'ignore') continue;
    const k = (seen.get(test.name) ?? 0) + 1;
    seen.set(test.name, k);
    byKey.set(k === 1 ? test.name : `${test.name} #${k}`, test);
  }
  return byKey;
}

function regressions(baseline: Tally | undefined, slotway: Tally | undefined): UnitReport['regressions'] {
  if (baseline === undefined || slotway === undefined) return [];
  const through = keyed(slotway.tests);
  const found: UnitReport['regressions'] = [];
  for (const [key, test] of keyed(baseline.tests)) {
    if (test.status !== 'ok') continue;
    const other = through.get(key);
    if (other?.status === 'ok') continue;
    found.push({ name: key, status: other?.status ?? 'not run', detail: other?.detail ?? '' });
  }
  return found;
}

function cell(result: Tally | undefined): string {
  if (result === undefined) return '-';
  const note = result.outcome === 'done' ? '' : ` (${result.outcome})`;
  return `${result.ok} / ${result.failed}${note}`;
}

/** Ran no test on any target (all external:skip, or all of a denied tag): one line instead of rows. */
function ranNothing(report: UnitReport): boolean {
  return Object.values(report.results).every((result) => result.outcome === 'done' && result.ok + result.failed === 0);
}

function table(reports: UnitReport[]): string {
  const lines = [
    '| unit | baseline ok / failed | Slotway ok / failed | pass on baseline, not through Slotway |',
    '|---|---|---|---|',
  ];
  for (const report of reports.filter((candidate) => !ranNothing(candidate)))
    lines.push(
      `| ${report.unit} | ${cell(report.results.baseline)} | ${cell(report.results.slotway)} | ${report.regressions.length} |`,
    );
  const empty = reports.filter(ranNothing).map((report) => report.unit);
  if (empty.length > 0) lines.push('', `No test ran (external:skip or denied tags): ${empty.join(', ')}.`);
  return lines.join('\n');
}

function currentCommit(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    return dirty === '' ? commit : `${commit}+local changes`;
  } catch {
    return 'unknown';
  }
}

async function main(options: Options, cleanups: Cleanups): Promise<void> {
  let running: Target | null = null;
  // An interrupted run stops the target it was using (the tclsh group dies with this process).
  cleanups.push(async () => running?.stop());
  const began = Date.now();
  const stamp = new Date(began).toISOString().replace(/[:.]/g, '-');
  const logDir = join(options.out, `redis-suite-${stamp}`);
  await mkdir(logDir, { recursive: true });
  const extraArgs = ['--cluster-mode', '--singledb', '--durable', '--ignore-digest', '--tags', options.tags];
  const reports: UnitReport[] = [];
  const commit = currentCommit();
  const save = async (): Promise<void> => {
    const json = {
      date: new Date(began).toISOString(),
      commit,
      redisDir: options.redisDir,
      suiteArgs: extraArgs,
      unitTimeoutSeconds: options.unitTimeoutMs / 1000,
      masters: options.masters,
      units: reports,
    };
    await writeFile(join(logDir, 'results.json'), `${JSON.stringify(json, null, 1)}\n`);
  };
  log(`${options.units.length} unit(s), targets ${options.targets.join(', ')}; logs and JSON in ${logDir}`);
  for (const unit of options.units) {
    if (Date.now() - began > options.budgetMs) {
      log(`budget of ${options.budgetMs / 60_000} min spent: ${unit} and later units not run`);
      break;
    }
    const report: UnitReport = { unit, results: {}, regressions: [] };
    for (const name of options.targets) {
      const target = await startTarget(name, options.masters);
      running = target;
      try {
        const run = await runUnit({
          redisDir: options.redisDir,
          host: '127.0.0.1',
          port: target.port,
          unit,
          extraArgs,
          timeoutMs: options.unitTimeoutMs,
          logFile: join(logDir, `${unit.replace(/\//g, '_')}.${name}.log`),
        });
        report.results[name] = tally(run);
        log(`${unit} ${name}: ${cell(report.results[name])} in ${Math.round(run.seconds)} s`);
      } finally {
        running = null;
        await target.stop();
      }
    }
    report.regressions = regressions(report.results.baseline, report.results.slotway);
    for (const regression of report.regressions)
      log(`  ${unit}: "${regression.name}" ${regression.status} through Slotway`);
    reports.push(report);
    await save();
  }
  await save();
  process.stdout.write(`\nRedis ${options.redisDir} test suite, commit ${commit}, ${new Date(began).toISOString()}\n`);
  process.stdout.write(`${table(reports)}\n\n`);
  for (const report of reports)
    for (const regression of report.regressions)
      process.stdout.write(
        `${report.unit}: ${regression.name} [${regression.status}] ${regression.detail.split('\n')[0] ?? ''}\n`,
      );
  process.stdout.write(`\nfull results: ${join(logDir, 'results.json')}\n`);
}

let options: Options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  log(error instanceof Error ? error.message : String(error));
  process.exit(2);
}
await runWithCleanups((cleanups) => main(options, cleanups), log);
