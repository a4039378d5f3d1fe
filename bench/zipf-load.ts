// A zipf load generator for `npm run bench` (bench/zipf-workload.ts starts it as
// its own process, so that its CPU is not the proxy's). redis-benchmark draws
// keys uniformly; a cache is judged on skewed keys, so this draws them from a
// zipf distribution: N clients, one request in flight each (pipelining 1),
// GET or SET of `zipf:<rank, 7 digits>`, until a request count or a time limit.
// It prints one line of JSON on stdout: ops/s, p50/p99 latency, errors.
//
//   node dist/bench/zipf-load.js --target 127.0.0.1:7777 [--cluster] --clients 50 --requests 200000
//        --seconds 60 --value-size 16 [--keys 1000000 --skew 0.99 --read-share 0.95 --seed 1]
//   node dist/bench/zipf-load.js --target 127.0.0.1:7000 --cluster --fill 100000 --value-size 16
//
// --cluster: the target is a cluster node; the generator reads CLUSTER SLOTS and
// routes each key to its master itself, with one connection per master for every
// client, as a cluster-aware client library does ("direct"). Without it every
// client has one connection to the target (a proxy). --fill SETs ranks 1..n
// (the hottest keys) first, pipelined, and exits.
//
// Commands are templates patched in place: the key is always 12 bytes, so only
// its 7 digits change. A connection has one request in flight, so its template
// is free again once the reply has come (the server has read all its bytes).
// Replies are counted by a byte scanner that knows only +, -, :, and $ replies.
import { connect, type Socket } from 'node:net';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { Zipf } from './zipf.js';

const KEY_PREFIX = 'zipf:';
const KEY_DIGITS = 7;
const KEY_LENGTH = KEY_PREFIX.length + KEY_DIGITS;
/** Requests in flight per master connection while filling. */
const FILL_BATCH = 500;

interface Options {
  readonly host: string;
  readonly port: number;
  readonly cluster: boolean;
  readonly clients: number;
  readonly requests: number;
  readonly seconds: number;
  readonly valueSize: number;
  readonly keys: number;
  readonly skew: number;
  readonly readShare: number;
  readonly seed: number;
  /** 0: run the workload; n: SET ranks 1..n and exit. */
  readonly fill: number;
}

function parseOptions(argv: readonly string[]): Options {
  const value = (name: string): string | undefined => {
    const index = argv.indexOf(`--${name}`);
    return index < 0 ? undefined : argv[index + 1];
  };
  const number = (name: string, fallback: number): number => {
    const text = value(name);
    if (text === undefined) return fallback;
    const parsed = Number(text);
    if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`--${name} wants a number, got ${text}`);
    return parsed;
  };
  const target = value('target') ?? '127.0.0.1:6379';
  const colon = target.lastIndexOf(':');
  const keys = number('keys', 1_000_000);
  if (keys >= 10 ** KEY_DIGITS) throw new Error(`--keys must be below ${10 ** KEY_DIGITS}`);
  return {
    host: target.slice(0, colon),
    port: Number(target.slice(colon + 1)),
    cluster: argv.includes('--cluster'),
    clients: Math.max(1, Math.round(number('clients', 50))),
    requests: Math.max(1, Math.round(number('requests', 100_000))),
    seconds: number('seconds', 60),
    valueSize: Math.round(number('value-size', 16)),
    keys,
    skew: number('skew', 0.99),
    readShare: number('read-share', 0.95),
    seed: Math.round(number('seed', 1)),
    fill: Math.round(number('fill', 0)),
  };
}

// ---------------------------------------------------------------- commands

/** A GET and a SET template for one connection, and where their key digits sit. */
export class Templates {
  readonly get: Buffer;
  readonly set: Buffer;
  readonly #getDigits: number;
  readonly #setDigits: number;

  constructor(valueSize: number) {
    const key = `${KEY_PREFIX}${'0'.repeat(KEY_DIGITS)}`;
    const getHead = `*2\r\n$3\r\nGET\r\n$${KEY_LENGTH}\r\n`;
    const setHead = `*3\r\n$3\r\nSET\r\n$${KEY_LENGTH}\r\n`;
    this.get = Buffer.from(`${getHead}${key}\r\n`, 'latin1');
    this.set = Buffer.from(`${setHead}${key}\r\n$${valueSize}\r\n${'v'.repeat(valueSize)}\r\n`, 'latin1');
    this.#getDigits = getHead.length + KEY_PREFIX.length;
    this.#setDigits = setHead.length + KEY_PREFIX.length;
  }

  /** The template for rank's GET or SET, its key digits written in place. */
  command(rank: number, read: boolean): Buffer {
    const buffer = read ? this.get : this.set;
    let at = (read ? this.#getDigits : this.#setDigits) + KEY_DIGITS - 1;
    for (let i = 0, rest = rank; i < KEY_DIGITS; i++, rest = Math.floor(rest / 10)) buffer[at--] = 48 + (rest % 10);
    return buffer;
  }
}

export function keyOf(rank: number): string {
  return `${KEY_PREFIX}${String(rank).padStart(KEY_DIGITS, '0')}`;
}

// ---------------------------------------------------------------- replies

const CR = 13;
const LF = 10;
const enum Scan {
  Type,
  /** The rest of a +, - or : line. */
  Line,
  /** A $ reply's length. */
  Length,
  /** A bulk string's bytes and its CRLF. */
  Body,
}

export const enum Reply {
  Value,
  Nil,
  Error,
}

/**
 * Counts whole replies in a byte stream that holds only simple strings, errors,
 * integers and bulk strings (what GET and SET answer), across chunk boundaries.
 */
export class ReplyScanner {
  #state = Scan.Type;
  #error = false;
  #length = 0;
  #negative = false;
  #remaining = 0;
  /** The first error reply's text, for the report. */
  firstError = '';
  errors = 0;

  /** Calls done(kind) for every reply that ends in this chunk. */
  scan(chunk: Buffer, done: (kind: Reply) => void): void {
    let i = 0;
    const end = chunk.length;
    while (i < end) {
      switch (this.#state) {
        case Scan.Type: {
          const type = chunk[i++];
          if (type === 0x24) {
            this.#state = Scan.Length;
            this.#length = 0;
            this.#negative = false;
          } else if (type === 0x2b || type === 0x3a || type === 0x2d) {
            this.#error = type === 0x2d;
            this.#state = Scan.Line;
          } else {
            throw new Error(`unexpected reply type byte ${String(type)}`);
          }
          break;
        }
        case Scan.Line: {
          const lf = chunk.indexOf(LF, i);
          const stop = lf < 0 ? end : lf;
          if (this.#error && this.errors === 0) this.firstError += chunk.toString('latin1', i, stop);
          i = stop;
          if (lf < 0) break;
          i++;
          this.#state = Scan.Type;
          if (this.#error) {
            this.errors++;
            this.firstError = this.firstError.replace(/\r$/, '');
          }
          done(this.#error ? Reply.Error : Reply.Value);
          break;
        }
        case Scan.Length: {
          const byte = chunk[i++] as number;
          if (byte === 0x2d) this.#negative = true;
          else if (byte >= 0x30 && byte <= 0x39) this.#length = this.#length * 10 + byte - 0x30;
          else if (byte === LF) {
            if (this.#negative) {
              this.#state = Scan.Type;
              done(Reply.Nil); // the key is not there
            } else {
              this.#state = Scan.Body;
              this.#remaining = this.#length + 2;
            }
          } else if (byte !== CR) throw new Error(`unexpected byte ${byte} in a bulk length`);
          break;
        }
        case Scan.Body: {
          const take = Math.min(this.#remaining, end - i);
          i += take;
          this.#remaining -= take;
          if (this.#remaining === 0) {
            this.#state = Scan.Type;
            done(Reply.Value);
          }
          break;
        }
      }
    }
  }
}

// ---------------------------------------------------------------- topology

interface Route {
  readonly masters: readonly { readonly host: string; readonly port: number }[];
  /** Master index of each slot. */
  readonly masterOfSlot: Uint8Array;
}

async function readRoute(options: Options): Promise<Route> {
  const masterOfSlot = new Uint8Array(16384);
  if (!options.cluster) return { masters: [{ host: options.host, port: options.port }], masterOfSlot };
  const node = new Redis({ host: options.host, port: options.port, lazyConnect: true });
  try {
    await node.connect();
    const slots = (await node.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const masters: { host: string; port: number }[] = [];
    for (const [first, last, [host, port]] of slots) {
      let index = masters.findIndex((m) => m.host === host && m.port === port);
      if (index < 0) index = masters.push({ host, port }) - 1;
      masterOfSlot.fill(index, first, last + 1);
    }
    return { masters, masterOfSlot };
  } finally {
    node.disconnect();
  }
}

function open(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.setNoDelay(true);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

// ---------------------------------------------------------------- the run

interface Report {
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

/** One client: a connection per master (one in all through a proxy), one request in flight. */
class Client {
  readonly #sockets: Socket[] = [];
  readonly #templates: Templates[] = [];
  #sentAt = 0;

  constructor(
    readonly run: Run,
    sockets: readonly Socket[],
  ) {
    for (const socket of sockets) {
      const scanner = new ReplyScanner();
      this.#sockets.push(socket);
      this.#templates.push(new Templates(run.options.valueSize));
      socket.on('data', (chunk: Buffer) => scanner.scan(chunk, (kind) => this.#replied(kind, scanner)));
    }
  }

  /** Sends the next request, or tells the run this client is done. */
  next(): void {
    const run = this.run;
    if (run.issued >= run.options.requests || performance.now() > run.deadline) {
      run.clientDone();
      return;
    }
    run.issued++;
    const rank = run.zipf.next();
    const read = run.zipf.uniform() < run.options.readShare;
    if (read) run.reads++;
    const master = run.route.masterOfSlot[run.slotOfRank[rank] as number] as number;
    const index = this.#sockets.length === 1 ? 0 : master;
    this.#sentAt = performance.now();
    (this.#sockets[index] as Socket).write((this.#templates[index] as Templates).command(rank, read));
  }

  #replied(kind: Reply, scanner: ReplyScanner): void {
    const run = this.run;
    run.latencies[run.completed++] = performance.now() - this.#sentAt;
    if (kind === Reply.Nil) run.nils++;
    else if (kind === Reply.Error) {
      run.errors++;
      if (run.firstError === '') run.firstError = scanner.firstError;
    }
    this.next();
  }
}

class Run {
  readonly zipf: Zipf;
  readonly slotOfRank: Uint16Array;
  readonly latencies: Float64Array;
  issued = 0;
  completed = 0;
  reads = 0;
  /** GETs of a key that is not there (beyond the filled ranks, or removed). */
  nils = 0;
  errors = 0;
  firstError = '';
  deadline = Infinity;
  #running = 0;
  #finished: () => void = () => {};

  constructor(
    readonly options: Options,
    readonly route: Route,
  ) {
    this.zipf = new Zipf(options.keys, options.skew, options.seed);
    this.latencies = new Float64Array(options.requests);
    this.slotOfRank = new Uint16Array(options.keys + 1);
    if (options.cluster) for (let r = 1; r <= options.keys; r++) this.slotOfRank[r] = calculateSlot(keyOf(r));
  }

  start(clients: readonly Client[]): Promise<void> {
    this.deadline = performance.now() + this.options.seconds * 1000;
    this.#running = clients.length;
    const finished = new Promise<void>((resolve) => (this.#finished = resolve));
    for (const client of clients) client.next();
    return finished;
  }

  clientDone(): void {
    if (--this.#running === 0) this.#finished();
  }
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

async function load(options: Options): Promise<Report> {
  const route = await readRoute(options);
  const run = new Run(options, route);
  const sockets = await Promise.all(
    Array.from({ length: options.clients }, () => Promise.all(route.masters.map((m) => open(m.host, m.port)))),
  );
  const clients = sockets.map((set) => new Client(run, set));
  const started = performance.now();
  await run.start(clients);
  const seconds = (performance.now() - started) / 1000;
  for (const set of sockets) for (const socket of set) socket.destroy();
  const sorted = run.latencies.slice(0, run.completed).sort();
  return {
    requests: run.completed,
    seconds,
    rps: run.completed / seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    reads: run.reads,
    nils: run.nils,
    errors: run.errors,
    firstError: run.firstError,
  };
}

/** SETs ranks 1..fill through one pipelined connection per master, FILL_BATCH in flight on each. */
async function fill(
  options: Options,
): Promise<{ filled: number; seconds: number; errors: number; firstError: string }> {
  const route = await readRoute(options);
  const started = performance.now();
  const perMaster: number[][] = route.masters.map(() => []);
  for (let rank = 1; rank <= options.fill; rank++) {
    const master = options.cluster ? (route.masterOfSlot[calculateSlot(keyOf(rank))] as number) : 0;
    perMaster[master]?.push(rank);
  }
  let errors = 0;
  let firstError = '';
  await Promise.all(
    route.masters.map(async (m, index) => {
      const socket = await open(m.host, m.port);
      const ranks = perMaster[index] ?? [];
      const templates = new Templates(options.valueSize);
      const scanner = new ReplyScanner();
      let next = 0;
      await new Promise<void>((resolve, reject) => {
        let outstanding = 0;
        const sendBatch = (): void => {
          const batch: Buffer[] = [];
          while (next < ranks.length && batch.length < FILL_BATCH) {
            // A copy: the template is patched again for the next one at once.
            batch.push(Buffer.from(templates.command(ranks[next++] as number, false)));
          }
          outstanding = batch.length;
          if (outstanding === 0) resolve();
          else socket.write(Buffer.concat(batch));
        };
        socket.on('error', reject);
        socket.on('data', (chunk: Buffer) =>
          scanner.scan(chunk, (kind) => {
            if (kind === Reply.Error) errors++;
            if (--outstanding === 0) sendBatch();
          }),
        );
        sendBatch();
      });
      if (firstError === '') firstError = scanner.firstError;
      socket.destroy();
    }),
  );
  return { filled: options.fill, seconds: (performance.now() - started) / 1000, errors, firstError };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const report = options.fill > 0 ? await fill(options) : await load(options);
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

// Run as a program, not when a test imports the scanner.
if (process.argv[1]?.endsWith('zipf-load.js') === true) {
  try {
    await main();
  } catch (error) {
    process.stderr.write(`zipf-load: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
