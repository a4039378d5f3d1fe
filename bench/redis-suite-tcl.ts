// One unit of Redis's own test suite (tests/test_helper.tcl) run by tclsh
// against an external server, and its output read back into test results.
//
// tclsh starts a second tclsh (the test client) of its own, so the runner is
// spawned in a process group of its own and the whole group is killed when the
// unit runs past its time bound: nothing else is touched.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';

export type TestStatus = 'ok' | 'err' | 'exception' | 'skip' | 'ignore';

export interface TestResult {
  readonly name: string;
  readonly status: TestStatus;
  /** For err and exception: the lines that followed (the assertion), at most a few. */
  readonly detail: string;
}

export interface UnitRun {
  /** done: tclsh finished the unit; timeout: killed at the bound; crashed: it exited without finishing. */
  readonly outcome: 'done' | 'timeout' | 'crashed';
  readonly seconds: number;
  readonly exitCode: number | null;
  readonly tests: TestResult[];
}

export interface TclRunOptions {
  readonly redisDir: string; // the tree holding tests/test_helper.tcl; tclsh runs there
  readonly host: string;
  readonly port: number;
  readonly unit: string; // e.g. unit/type/list
  readonly extraArgs: readonly string[]; // --cluster-mode, --tags ..., as the caller decides
  readonly timeoutMs: number;
  readonly logFile: string; // what tclsh writes, as it writes it (a hung unit can be watched)
}

// eslint-disable-next-line no-control-regex -- the escape of a terminal colour is what it removes
const ANSI = /\x1b\[[0-9;]*m/g;
const DETAIL_LINES = 6;

/** Runs one unit; never rejects for a failing unit (only if tclsh cannot be spawned). */
export function runUnit(options: TclRunOptions): Promise<UnitRun> {
  const args = [
    'tests/test_helper.tcl',
    '--host',
    options.host,
    '--port',
    String(options.port),
    '--single',
    options.unit,
    '--clients',
    '1',
    // The runner's own "no progress" bound, below ours so it usually reports first.
    '--timeout',
    String(Math.max(10, Math.floor(options.timeoutMs / 1000) - 5)),
    ...options.extraArgs,
  ];
  const began = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('tclsh', args, {
      cwd: options.redisDir,
      detached: true, // its own process group: the test client tclsh is in it too
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TERM: 'dumb' },
    });
    const chunks: string[] = [];
    const logFile = createWriteStream(options.logFile);
    const keep = (chunk: string): void => {
      chunks.push(chunk);
      logFile.write(chunk);
    };
    child.stdout.setEncoding('utf8').on('data', keep);
    child.stderr.setEncoding('utf8').on('data', keep);
    let timedOut = false;
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group has already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    // If this process dies meanwhile, the runner must not outlive it.
    process.on('exit', killGroup);
    child.once('error', (error) => {
      logFile.end();
      clearTimeout(timer);
      process.off('exit', killGroup);
      reject(error);
    });
    child.once('close', (code) => {
      logFile.end(timedOut ? `\n[slotway-suite] killed after ${options.timeoutMs} ms\n` : '');
      clearTimeout(timer);
      killGroup(); // the test client, if the server tclsh left it behind
      process.off('exit', killGroup);
      const output = chunks.join('').replace(ANSI, '');
      const finished = /\[\d+\/\d+ done\]/.test(output);
      // [TIMEOUT]: the runner's own bound on a test that made no progress (it then exits).
      const stuck = timedOut || output.includes('[TIMEOUT]');
      resolve({
        outcome: stuck ? 'timeout' : finished ? 'done' : 'crashed',
        seconds: (Date.now() - began) / 1000,
        exitCode: code,
        tests: parseResults(output),
      });
    });
  });
}

/**
 * The test server prints one line per result:
 *   [ok]: NAME (12 ms)
 *   [err]: NAME in tests/unit/x.tcl      followed by the assertion's lines
 *   [exception]: Executing test client: ...
 *   [skip]: NAME       [ignore]: NAME: reason
 */
export function parseResults(output: string): TestResult[] {
  const lines = output.split('\n');
  const results: TestResult[] = [];
  for (let i = 0; i < lines.length; i++) {
    const match = /^\[(ok|err|exception|skip|ignore)\]: (.*)$/.exec(lines[i] ?? '');
    if (match === null) continue;
    const status = match[1] as TestStatus;
    let name = match[2] ?? '';
    let detail = '';
    if (status === 'ok') name = name.replace(/ \(\d+ ms\)$/, '');
    else if (status === 'err') name = name.replace(/ in tests\/\S+\.tcl$/, '');
    else if (status === 'ignore') name = name.replace(/: [^:]*$/, '');
    if (status === 'err' || status === 'exception') {
      const following: string[] = [];
      for (let j = i + 1; j < lines.length && following.length < DETAIL_LINES; j++) {
        const line = lines[j] ?? '';
        if (/^\[(ok|err|exception|skip|ignore|\d+\/\d+ done)\]/.test(line) || line.startsWith('[TIMEOUT]')) break;
        following.push(line);
      }
      detail = following.join('\n').trim();
    }
    results.push({ name, status, detail });
  }
  return results;
}
