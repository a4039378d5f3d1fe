// The nine hostile-client scenarios of issue 14 ("Tenant isolation"), rerun
// with numbers: a throwaway 3-master + 3-replica cluster, Slotway as its own
// process (restarted with the options each scenario needs), one attacker on
// raw sockets and two victims pipelining SET/GET/EVAL of their own keys and
// checking every reply. Each scenario is bounded in time: one that does not
// finish is reported as hung, one that throws or kills Slotway as broken.
//
//   npm run bench:hostile [-- --only 5a,7]
//
// Needs redis-server and redis-cli on PATH and Linux (/proc). Prints a table
// and writes bench/results/local/hostile-latest.json (with --record:
// bench/results/hostile-latest.json, the tracked file).
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalCluster } from '../src/demo/local-cluster.js';
import { findFreePorts } from '../src/demo/loopback-ports.js';
import { authAbuse, unauthenticatedBulk, unreadReplies, userPatterns } from './hostile-abuse.js';
import {
  LogMeter,
  Masters,
  RawClient,
  Victims,
  within,
  type Context,
  type Outcome,
  type Scenario,
  type SlotwayHandle,
} from './hostile-kit.js';
import {
  aclChanges,
  busyFunction,
  busyScript,
  deniedInScripts,
  nodeAdmin,
  scriptDebug,
  waitHolds,
} from './hostile-scenarios.js';
import { startSlotway, stopProcess, type SlotwayProcess } from './slotway-process.js';
import { runWithCleanups } from './run-with-cleanups.js';
import { writeResults } from './results-file.js';

const SCENARIOS: readonly Scenario[] = [
  scriptDebug,
  aclChanges,
  deniedInScripts,
  waitHolds,
  busyScript,
  busyFunction,
  nodeAdmin,
  unauthenticatedBulk,
  unreadReplies,
  userPatterns,
  authAbuse,
];
const RESTORE_MS = 20_000;
const log = (line: string): void => void process.stderr.write(`hostile: ${line}\n`);

interface Row extends Outcome {
  readonly id: string;
  readonly title: string;
  /** ran: finished within its deadline; hung: did not; broken: threw, or Slotway exited. */
  readonly status: 'ran' | 'hung' | 'broken';
  readonly seconds: number;
  readonly problem: string;
}

function onlyOption(argv: readonly string[]): string[] | null {
  const index = argv.indexOf('--only');
  if (index < 0) return null;
  const value = argv[index + 1];
  if (value === undefined || value === '') throw new Error('--only wants scenario ids, e.g. --only 1,5a,7');
  return value.split(',');
}

/** Slotway restarted per scenario, the victims and raw clients each scenario started. */
class Harness {
  current: SlotwayProcess | null = null;
  readonly #victims: Victims[] = [];
  readonly #raws: RawClient[] = [];

  constructor(
    readonly cluster: LocalCluster,
    readonly ports: { port: number; metricsPort: number },
  ) {}

  context(masters: Masters, dir: string, signal: AbortSignal): Context {
    return {
      cluster: this.cluster,
      masters,
      dir,
      signal,
      log,
      slotway: (extraArgs) => this.#restart(extraArgs),
      victims: (port, password = '') => {
        const victims = new Victims(port, password);
        this.#victims.push(victims);
        return victims;
      },
      raw: async (port) => {
        const client = await RawClient.connect(port);
        this.#raws.push(client);
        return client;
      },
    };
  }

  async #restart(extraArgs: readonly string[]): Promise<SlotwayHandle> {
    await this.stopSlotway();
    const passwordAt = extraArgs.indexOf('--requirepass');
    const password = passwordAt < 0 ? '' : (extraArgs[passwordAt + 1] ?? '');
    const slotway = await startSlotway(
      this.cluster.seeds,
      this.ports.port,
      this.ports.metricsPort,
      extraArgs,
      200,
      password,
    );
    this.current = slotway;
    // startSlotway keeps only the last lines: count every byte and line here.
    const meter = new LogMeter([slotway.child.stdout, slotway.child.stderr], ['authentication']);
    return { pid: slotway.pid, port: slotway.port, metricsPort: slotway.metricsPort, log: meter };
  }

  /** Closes what the last scenario left open. */
  async release(): Promise<void> {
    for (const client of this.#raws.splice(0)) client.close();
    await Promise.all(this.#victims.splice(0).map((victims) => victims.stop(1000)));
  }

  async stopSlotway(): Promise<void> {
    const slotway = this.current;
    this.current = null;
    if (slotway !== null) await stopProcess(slotway.child, 3000);
  }
}

async function runScenario(scenario: Scenario, harness: Harness, masters: Masters, dir: string): Promise<Row> {
  log(`scenario ${scenario.id}: ${scenario.title}`);
  const abort = new AbortController();
  const ctx = harness.context(masters, dir, abort.signal);
  const started = performance.now();
  let status: Row['status'] = 'ran';
  let problem = '';
  let outcome: Outcome = { tried: '', attacker: '', victims: '', numbers: {} };
  try {
    const result = await within(scenario.run(ctx), scenario.deadlineMs, 'hung' as const);
    if (result === 'hung') {
      status = 'hung';
      problem = `no result within ${scenario.deadlineMs / 1000} s`;
    } else outcome = result;
  } catch (error) {
    status = 'broken';
    problem = error instanceof Error ? error.message.split('\n').slice(0, 3).join(' ') : String(error);
  }
  const slotway = harness.current;
  if (slotway !== null && (slotway.child.exitCode !== null || slotway.child.signalCode !== null)) {
    status = 'broken';
    const said = slotway.output.slice(-3).join(' ');
    problem =
      `${problem} Slotway exited (${slotway.child.exitCode ?? slotway.child.signalCode ?? '?'})${said === '' ? '' : `: ${said}`}`.trim();
  }
  const seconds = (performance.now() - started) / 1000;
  abort.abort();
  await harness.release();
  if (scenario.restore !== undefined) {
    const restored = await within(
      scenario.restore(ctx).then(
        () => 'ok',
        (error: unknown) => String(error),
      ),
      RESTORE_MS,
      'timed out',
    );
    if (restored !== 'ok') log(`scenario ${scenario.id}: restoring the nodes: ${restored}`);
  }
  log(`scenario ${scenario.id}: ${status} in ${seconds.toFixed(1)} s${problem === '' ? '' : `: ${problem}`}`);
  return { id: scenario.id, title: scenario.title, status, seconds, problem, ...outcome };
}

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function table(rows: readonly Row[]): string {
  const lines = ['| # | scenario | tried | attacker got | victims saw | numbers |', '|---|---|---|---|---|---|'];
  for (const row of rows) {
    const numbers = Object.entries(row.numbers)
      .map(
        ([name, value]) =>
          `${name}=${typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(1) : String(value)}`,
      )
      .join(', ');
    const attacker = row.status === 'ran' ? row.attacker : `${row.status.toUpperCase()}: ${row.problem}`;
    lines.push(
      `| ${row.id} | ${cell(row.title)} | ${cell(row.tried)} | ${cell(attacker)} | ${cell(row.victims)} | ${cell(numbers)} |`,
    );
  }
  return lines.join('\n');
}

async function main(cleanups: (() => Promise<void>)[]): Promise<void> {
  const only = onlyOption(process.argv.slice(2));
  const chosen = SCENARIOS.filter((scenario) => only === null || only.some((id) => scenario.id.startsWith(id)));
  if (chosen.length === 0)
    throw new Error(
      `--only ${only?.join(',') ?? ''} names no scenario (ids: ${SCENARIOS.map((s) => s.id).join(', ')})`,
    );
  const machine = `${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.version}, ${new Date().toISOString()}`;
  const loadAtStart = loadavg();
  log(`${machine}; load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}`);
  // startSlotway adds an 'exit' listener per start; a dozen restarts are expected.
  process.setMaxListeners(100);
  const began = performance.now();

  const dir = await mkdtemp(join(tmpdir(), 'slotway-hostile-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const cluster = await LocalCluster.start({ nodeTimeoutMs: 2000, log: (line) => log(line) });
  cleanups.push(() => cluster.stop());
  const [port, metricsPort] = await findFreePorts(2);
  if (port === undefined || metricsPort === undefined) throw new Error('no free ports');
  const harness = new Harness(cluster, { port, metricsPort });
  cleanups.push(() => harness.stopSlotway());
  const masters = await Masters.of(cluster);

  const rows: Row[] = [];
  for (const scenario of chosen) rows.push(await runScenario(scenario, harness, masters, dir));
  await harness.stopSlotway();

  const seconds = (performance.now() - began) / 1000;
  const result = { machine, loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg(), seconds, scenarios: rows };
  process.stdout.write(`Hostile clients (issue 14): ${machine}\n`);
  process.stdout.write(
    `load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}, at end ${result.loadAverageAtEnd.map((l) => l.toFixed(2)).join(' ')}; ${seconds.toFixed(0)} s\n\n`,
  );
  process.stdout.write(`${table(rows)}\n`);
  const path = await writeResults('hostile-latest.json', result, process.argv.slice(2));
  log(`results written to ${path}`);
}

await runWithCleanups(main, log);
