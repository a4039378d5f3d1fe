// Tools of bench/hostile.ts: a raw RESP client for the attacker (exact replies,
// timeouts on every wait, never hangs), the two victim clients that pipeline
// SET/GET/EVAL of their own keys and check every reply, the masters as seen
// directly, and small figures (percentiles, deadlines).
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import type { LocalCluster, LocalClusterNode } from '../src/demo/local-cluster.js';
import { ReplyFramer } from '../src/protocol/reply-framer.js';
import { encodeCommand } from '../src/protocol/resp-writer.js';
import { Frame } from '../src/protocol/stream-framer.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

export const ms = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(value < 10 ? 1 : 0)} ms` : '-');

/** Resolves to `promise`'s value, or to `onTimeout` once `timeoutMs` have passed (the promise is left to settle alone). */
export async function within<T, U>(promise: Promise<T>, timeoutMs: number, onTimeout: U): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<U>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A RESP value decoded for a report line: at most `max` characters. */
export function summarize(frame: Buffer, max = 160): string {
  const text = decode(frame, 0).text;
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

function decode(frame: Buffer, start: number): { text: string; end: number } {
  const lineEnd = frame.indexOf('\r\n', start);
  if (lineEnd < 0) return { text: '(truncated)', end: frame.length };
  const type = String.fromCharCode(frame[start] ?? 0);
  const head = frame.toString('latin1', start + 1, lineEnd);
  const after = lineEnd + 2;
  switch (type) {
    case '+':
    case ':':
    case ',':
    case '#':
    case '(':
      return { text: head, end: after };
    case '-':
      return { text: `-${head}`, end: after };
    case '_':
      return { text: '(nil)', end: after };
    case '$':
    case '=':
    case '!': {
      const length = Number(head);
      if (length < 0) return { text: '(nil)', end: after };
      const body = frame.toString('latin1', after, Math.min(after + length, after + 200));
      return { text: `"${body}${length > 200 ? '...' : ''}"`, end: after + length + 2 };
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      const count = Number(head) * (type === '%' || type === '|' ? 2 : 1);
      if (count < 0) return { text: '(nil)', end: after };
      const items: string[] = [];
      let pos = after;
      for (let i = 0; i < count; i++) {
        const item = decode(frame, pos);
        if (items.length < 8) items.push(item.text);
        pos = item.end;
      }
      return { text: `[${items.join(', ')}${count > 8 ? `, ... ${count} items` : ''}]`, end: pos };
    }
    default:
      return { text: `(type ${type})`, end: after };
  }
}

/** Resolves once `socket`'s write buffer has drained (true), or it closed or `timeoutMs` passed (false). */
export function drained(socket: Socket, timeoutMs: number): Promise<boolean> {
  if (socket.writableLength === 0) return Promise.resolve(true);
  if (socket.destroyed) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const done = (result: boolean): void => {
      clearTimeout(timer);
      socket.off('drain', onDrain);
      socket.off('close', onClose);
      resolve(result);
    };
    const onDrain = (): void => done(true);
    const onClose = (): void => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('drain', onDrain);
    socket.on('close', onClose);
  });
}

/** A plain socket speaking RESP: replies are framed and kept; every wait has a timeout. */
export class RawClient {
  readonly #socket: Socket;
  readonly #framer = new ReplyFramer();
  readonly #frames: Buffer[] = [];
  #waiter: (() => void) | null = null;
  closed = false;
  /** Replies framed so far, read or not, and when the last one arrived (performance.now()). */
  replies = 0;
  lastReplyAt = Number.NaN;
  /** A framing error of the reply stream, if any. */
  protocolError = '';

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#framer.push(chunk);
      for (;;) {
        const state = this.#framer.next();
        if (state === Frame.Ready) {
          this.replies++;
          this.lastReplyAt = performance.now();
          // Only the first replies of a flood are worth keeping.
          if (this.#frames.length < 20_000) {
            const { frameBuffer, frameStart, frameEnd } = this.#framer;
            this.#frames.push(Buffer.from(frameBuffer.subarray(frameStart, frameEnd)));
          }
          continue;
        }
        if (state === Frame.Error) {
          this.protocolError = this.#framer.error;
          socket.destroy();
        }
        break;
      }
      this.#waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#waiter?.();
    });
    socket.on('error', () => {});
  }

  static connect(port: number, timeoutMs = 3000): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new RawClient(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  send(...args: (string | Buffer)[]): boolean {
    return this.#socket.write(encodeCommand(args));
  }

  sendRaw(bytes: Buffer | string): boolean {
    return this.#socket.write(bytes);
  }

  /** Resolves once the socket's write buffer has drained (true), or it closed or `timeoutMs` passed (false). */
  drained(timeoutMs: number): Promise<boolean> {
    return drained(this.#socket, timeoutMs);
  }

  /** The next reply, or null when the connection closed or nothing came within `timeoutMs`. */
  async next(timeoutMs: number): Promise<Buffer | null> {
    const deadline = performance.now() + timeoutMs;
    while (this.#frames.length === 0) {
      const left = deadline - performance.now();
      if (this.closed || left <= 0) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiter = null;
    }
    return this.#frames.shift() ?? null;
  }

  /** What the next reply says, or "(connection closed)" / "(no reply within N ms)". */
  async answer(timeoutMs: number): Promise<string> {
    const frame = await this.next(timeoutMs);
    if (frame !== null) return summarize(frame);
    return this.closed
      ? `(connection closed${this.protocolError === '' ? '' : `: ${this.protocolError}`})`
      : `(no reply within ${timeoutMs} ms)`;
  }

  /** Sends a command and returns what its reply says. */
  async call(timeoutMs: number, ...args: (string | Buffer)[]): Promise<string> {
    this.send(...args);
    return this.answer(timeoutMs);
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** One short-lived raw connection: AUTH first when a password is given, then `args`; the reply summarized. */
export async function once(port: number, timeoutMs: number, password: string, ...args: string[]): Promise<string> {
  let client: RawClient;
  try {
    client = await RawClient.connect(port);
  } catch (error) {
    return `(cannot connect: ${(error as Error).message})`;
  }
  try {
    if (password !== '') await client.call(timeoutMs, 'AUTH', password);
    return await client.call(timeoutMs, ...args);
  } finally {
    client.close();
  }
}

export interface VictimReport {
  /** Replies compared with what the victim expected. */
  checked: number;
  /** Replies that were not the victim's own: another value, another type, another client's. */
  foreign: number;
  /** Error replies and timeouts, by message. */
  errors: Record<string, number>;
  /** Round trip of each pipeline (ms). */
  latenciesMs: number[];
  p50Ms: number;
  p100Ms: number;
  /** First few foreign replies, for the report. */
  examples: string[];
}

const VICTIM_KEYS = 6;

/**
 * Two clients pipelining SET/GET/EVAL of their own keys (spread over every
 * master) through Slotway, each reply checked against what that client sent.
 * An error is not counted as foreign: it is counted by message.
 */
export class Victims {
  readonly #clients: Redis[] = [];
  readonly #loops: Promise<void>[] = [];
  readonly #report: VictimReport = {
    checked: 0,
    foreign: 0,
    errors: {},
    latenciesMs: [],
    p50Ms: 0,
    p100Ms: 0,
    examples: [],
  };
  #running = true;
  #stopping: Promise<VictimReport> | null = null;

  constructor(port: number, password = '') {
    for (let id = 1; id <= 2; id++) {
      const client = new Redis({
        host: '127.0.0.1',
        port,
        password: password === '' ? undefined : password,
        commandTimeout: 20_000,
        connectTimeout: 3000,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: true,
        retryStrategy: () => 200,
      });
      client.on('error', () => {});
      this.#clients.push(client);
      this.#loops.push(this.#loop(client, id));
    }
  }

  /** Keys the victims own: about DBSIZE's share of them. */
  static get keyCount(): number {
    return 2 * VICTIM_KEYS;
  }

  async #loop(client: Redis, id: number): Promise<void> {
    for (let round = 0; this.#running; round++) {
      const pipeline = client.pipeline();
      for (let i = 0; i < VICTIM_KEYS; i++) {
        const key = `hostile:victim${id}:${i}`;
        pipeline.set(key, `v:${id}:${round}:${i}`).get(key).eval('return ARGV[1]', 1, key, `e:${id}:${round}:${i}`);
      }
      const started = performance.now();
      let replies: [Error | null, unknown][];
      try {
        replies = (await pipeline.exec()) ?? [];
      } catch (error) {
        this.#error(`(pipeline failed: ${(error as Error).message})`);
        await sleep(50);
        continue;
      }
      this.#report.latenciesMs.push(performance.now() - started);
      for (let i = 0; i < VICTIM_KEYS; i++) {
        const expected = ['OK', `v:${id}:${round}:${i}`, `e:${id}:${round}:${i}`];
        for (let j = 0; j < 3; j++) {
          const [error, reply] = replies[3 * i + j] ?? [new Error('(missing reply)'), null];
          this.#report.checked++;
          if (error !== null) this.#error(error.message);
          else if (reply !== expected[j]) {
            this.#report.foreign++;
            if (this.#report.examples.length < 3)
              this.#report.examples.push(`${expected[j] ?? ''} <- ${JSON.stringify(reply)}`);
          }
        }
      }
      await sleep(2);
    }
  }

  #error(message: string): void {
    const short = message.length > 80 ? `${message.slice(0, 77)}...` : message;
    this.#report.errors[short] = (this.#report.errors[short] ?? 0) + 1;
  }

  /** Stops the loops (waiting at most `graceMs` for a pipeline in flight) and reports; again: the same report. */
  stop(graceMs = 3000): Promise<VictimReport> {
    return (this.#stopping ??= this.#stop(graceMs));
  }

  async #stop(graceMs: number): Promise<VictimReport> {
    this.#running = false;
    const settled = await within(Promise.all(this.#loops), graceMs, 'timeout');
    if (settled === 'timeout') this.#error('(a pipeline still unanswered when the scenario ended)');
    for (const client of this.#clients) client.disconnect();
    this.#report.p50Ms = percentile(this.#report.latenciesMs, 50);
    this.#report.p100Ms = percentile(this.#report.latenciesMs, 100);
    return this.#report;
  }
}

/** One line about what the victims saw. */
export function victimLine(report: VictimReport): string {
  const errors = Object.entries(report.errors);
  const errorText =
    errors.length === 0 ? 'no errors' : `errors ${errors.map(([message, count]) => `${count}x ${message}`).join('; ')}`;
  const examples = report.examples.length === 0 ? '' : ` (e.g. ${report.examples.join('; ')})`;
  return `${report.checked} replies checked, ${report.foreign} foreign${examples}, ${errorText}; pipeline p50 ${ms(report.p50Ms)}, p100 ${ms(report.p100Ms)}`;
}

/** The cluster's masters, asked directly (not through Slotway), with the slots each serves. */
export class Masters {
  readonly #cluster: LocalCluster;
  readonly nodes: LocalClusterNode[];
  readonly #ranges: { node: LocalClusterNode; first: number; last: number }[];

  private constructor(
    cluster: LocalCluster,
    nodes: LocalClusterNode[],
    ranges: { node: LocalClusterNode; first: number; last: number }[],
  ) {
    this.#cluster = cluster;
    this.nodes = nodes;
    this.#ranges = ranges;
  }

  static async of(cluster: LocalCluster): Promise<Masters> {
    const nodes = await cluster.masters();
    const first = nodes[0];
    if (first === undefined) throw new Error('the cluster has no master');
    const slots = (await cluster.ask(first, (client) => client.call('CLUSTER', 'SLOTS'))) as [
      number,
      number,
      [string, number],
    ][];
    const ranges = slots.map(([from, to, [, port]]) => {
      const node = nodes.find((candidate) => candidate.port === port);
      if (node === undefined) throw new Error(`slots ${from}-${to} are on ${port}, not a master`);
      return { node, first: from, last: to };
    });
    return new Masters(cluster, nodes, ranges);
  }

  /** The master serving `key`. */
  ownerOf(key: string): LocalClusterNode {
    const slot = calculateSlot(key);
    const range = this.#ranges.find((candidate) => slot >= candidate.first && slot <= candidate.last);
    if (range === undefined) throw new Error(`no master serves slot ${slot}`);
    return range.node;
  }

  /** A key named `prefix`N that lives on `node`. */
  keyOn(node: LocalClusterNode, prefix: string): string {
    for (let i = 0; ; i++) if (this.ownerOf(`${prefix}${i}`) === node) return `${prefix}${i}`;
  }

  /** Runs `command` on every master directly; a failure is returned as its message. */
  each(...command: [string, ...string[]]): Promise<unknown[]> {
    return Promise.all(
      this.nodes.map((node) =>
        within(
          this.#cluster
            .ask(node, (client) => client.call(...command))
            .catch((error: unknown) => `(error: ${(error as Error).message})`),
          5000,
          '(no reply within 5000 ms)',
        ),
      ),
    );
  }

  /** Sum of DBSIZE over the masters. */
  async keys(): Promise<number> {
    return (await this.each('DBSIZE')).reduce((sum: number, count) => sum + Number(count), 0);
  }
}

/** What a scenario found, one table row. */
export interface Outcome {
  readonly tried: string;
  readonly attacker: string;
  readonly victims: string;
  readonly numbers: Readonly<Record<string, string | number | boolean | null>>;
}

/** What main() gives each scenario: a fresh Slotway with the options it needs, the masters, tracked clients. */
export interface Context {
  readonly cluster: LocalCluster;
  readonly masters: Masters;
  /** (Re)starts Slotway with these extra CLI arguments; its port, metrics port and log meter. */
  slotway(extraArgs: readonly string[]): Promise<SlotwayHandle>;
  /** Starts the two victim clients; main() stops them if the scenario does not. */
  victims(port: number, password?: string): Victims;
  /** A raw attacker connection to Slotway; main() closes it after the scenario. */
  raw(port: number): Promise<RawClient>;
  /** Aborted once the scenario's deadline has passed: loops stop, so a hung scenario does not run into the next. */
  readonly signal: AbortSignal;
  /** A temporary directory for files the scenario writes. */
  readonly dir: string;
  log(line: string): void;
}

export interface SlotwayHandle {
  readonly pid: number;
  readonly port: number;
  readonly metricsPort: number;
  readonly log: LogMeter;
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** Bound on run(); past it the scenario is reported as hung. */
  readonly deadlineMs: number;
  run(ctx: Context): Promise<Outcome>;
  /** Puts the nodes back whatever run() did or left half done (bounded by main()). */
  restore?(ctx: Context): Promise<void>;
}

/** Counts what Slotway writes: bytes, and lines containing a word. */
export class LogMeter {
  bytes = 0;
  readonly #counts = new Map<string, number>();
  #carry = '';

  constructor(
    streams: readonly (NodeJS.ReadableStream | null)[],
    readonly words: readonly string[],
  ) {
    for (const word of words) this.#counts.set(word, 0);
    for (const stream of streams) {
      stream?.on('data', (chunk: string | Buffer) => {
        const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
        this.bytes += Buffer.byteLength(text);
        const lines = (this.#carry + text).split('\n');
        this.#carry = lines.pop() ?? '';
        for (const line of lines)
          for (const word of words) if (line.includes(word)) this.#counts.set(word, (this.#counts.get(word) ?? 0) + 1);
      });
    }
  }

  /** Whole lines seen so far that contain `word`. */
  lines(word: string): number {
    return this.#counts.get(word) ?? 0;
  }
}

/** GET /readyz on Slotway's metrics port: "200 ready" or "503 <why>", or what went wrong. */
export async function readyz(metricsPort: number): Promise<string> {
  try {
    const response = await fetch(`http://127.0.0.1:${metricsPort}/readyz`, { signal: AbortSignal.timeout(3000) });
    return `${response.status} ${(await response.text()).trim()}`;
  } catch (error) {
    return `(${(error as Error).message})`;
  }
}
