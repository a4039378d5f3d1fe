// The traffic of bench/soak.ts: each workload is a few ioredis clients of
// Slotway looping until stopped, counting operations and errors by kind, and
// keeping what it needs to check afterwards that nothing acknowledged was lost.
import { performance } from 'node:perf_hooks';
import { Redis, type Cluster } from 'ioredis';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Operations and errors of every workload; errors by "workload: kind". */
export class Tally {
  readonly ops = new Map<string, number>();
  readonly errors = new Map<string, number>();
  /** performance.now() of every error, for the timeline around the failover and the reshard. */
  readonly errorTimes: number[] = [];

  op(workload: string, count = 1): void {
    this.ops.set(workload, (this.ops.get(workload) ?? 0) + count);
  }

  error(workload: string, error: unknown): void {
    const key = `${workload}: ${errorKind(error)}`;
    this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
    this.errorTimes.push(performance.now());
  }

  get totalOps(): number {
    let total = 0;
    for (const count of this.ops.values()) total += count;
    return total;
  }
}

/** An error's message without what varies (addresses, slots, numbers), so equal causes group together. */
export function errorKind(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text
    .replace(/\d+\.\d+\.\d+\.\d+:\d+/g, '<node>')
    .replace(/\(.*\)/, '(...)')
    .replace(/\d+/g, 'N')
    .slice(0, 100);
}

export interface Workload {
  readonly name: string;
  /** Stops the loops and waits for them (and for whatever must drain). */
  stop(): Promise<void>;
  /** Figures for the final report. */
  report(direct: Cluster): Promise<Record<string, number>>;
}

/** A plain (non-cluster) ioredis client of Slotway that never gives up reconnecting. */
export function slotwayClient(port: number): Redis {
  const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => 200 });
  client.on('error', () => {});
  return client;
}

/**
 * `callers` clients of Slotway, each running `step(client, callerIndex, iteration)`
 * until stopped, `pauseMs` apart; a step that throws counts as an error of `name`.
 */
function looping(
  name: string,
  tally: Tally,
  callers: number,
  port: number,
  pauseMs: number,
  step: (client: Redis, caller: number, iteration: number) => Promise<void>,
  report: Workload['report'] = () => Promise.resolve({}),
): Workload {
  let running = true;
  const clients = Array.from({ length: callers }, () => slotwayClient(port));
  const loops = clients.map(async (client, caller) => {
    for (let i = 0; running; i++) {
      try {
        await step(client, caller, i);
      } catch (error) {
        tally.error(name, error);
      }
      await sleep(pauseMs);
    }
  });
  return {
    name,
    async stop() {
      running = false;
      await Promise.all(loops);
      for (const client of clients) client.disconnect();
    },
    report,
  };
}

const random = (n: number): number => Math.floor(Math.random() * n);

/** Pipelines of `length` mixed commands on random keys, from `callers` clients, with a short pause between. */
export function pipelines(port: number, tally: Tally, callers = 4, length = 100, pauseMs = 5): Workload {
  const name = 'pipeline';
  return looping(name, tally, callers, port, pauseMs, async (client) => {
    const pipeline = client.pipeline();
    for (let i = 0; i < length; i++) {
      const k = random(10_000);
      switch (i % 8) {
        case 0:
          pipeline.set(`soak:p:${k}`, `value-${k}`);
          break;
        case 1:
          pipeline.get(`soak:p:${k}`);
          break;
        case 2:
          pipeline.incr(`soak:pc:${k}`);
          break;
        case 3:
          pipeline.hset(`soak:ph:${k}`, 'field', String(k));
          break;
        case 4:
          pipeline.hgetall(`soak:ph:${k}`);
          break;
        case 5:
          pipeline.lpush(`soak:pl:${k}`, 'x');
          break;
        case 6:
          pipeline.ltrim(`soak:pl:${k}`, 0, 9);
          break;
        default:
          pipeline.expire(`soak:p:${k}`, 600);
          break;
      }
    }
    const results = (await pipeline.exec()) ?? [];
    for (const [error] of results) {
      if (error === null) tally.op(name);
      else tally.error(name, error);
    }
  });
}

/** MSET of `keys` keys across slots, then MGET of them: the values read must be the ones just written. */
export function fanOut(port: number, tally: Tally, callers = 2, keys = 10, pauseMs = 2): Workload {
  const name = 'fan-out';
  let mismatches = 0;
  const report = (): Promise<Record<string, number>> =>
    Promise.resolve({ 'MGET after an acknowledged MSET read other values': mismatches });
  return looping(
    name,
    tally,
    callers,
    port,
    pauseMs,
    async (client, c, i) => {
      const names = Array.from({ length: keys }, (_, j) => `soak:f:${c}:${j}`);
      const value = `${c}:${i}`;
      await client.mset(...names.flatMap((key) => [key, value]));
      tally.op(name);
      const values = await client.mget(...names);
      tally.op(name);
      if (values.some((v) => v !== value)) mismatches++;
    },
    report,
  );
}

/**
 * Writers SET their own keys (cycling over `keysPerWriter`) to a rising
 * number and remember the last number acknowledged per key. At the end each
 * key is read from the cluster directly: a value below the last acknowledged
 * one (or none) is an acknowledged write lost. A write that failed may still
 * have been applied, which only ever makes the value larger.
 */
export function ackedWriters(port: number, tally: Tally, writers = 4, keysPerWriter = 2000, pauseMs = 1): Workload {
  const name = 'acked writes';
  const acked = new Map<string, number>();
  const report = async (direct: Cluster): Promise<Record<string, number>> => {
    const keys = [...acked.keys()];
    let lost = 0;
    for (let at = 0; at < keys.length; at += 1000) {
      const chunk = keys.slice(at, at + 1000);
      const values = await Promise.all(chunk.map((key) => direct.get(key)));
      chunk.forEach((key, i) => {
        if (values[i] === null || Number(values[i]) < (acked.get(key) ?? 0)) lost++;
      });
    }
    return { 'keys checked': keys.length, 'acknowledged writes lost': lost };
  };
  return looping(
    name,
    tally,
    writers,
    port,
    pauseMs,
    async (client, w, i) => {
      const key = `soak:w:${w}:${(i + 1) % keysPerWriter}`;
      if ((await client.set(key, String(i + 1))) !== 'OK') throw new Error('SET not answered OK');
      acked.set(key, i + 1);
      tally.op(name);
    },
    report,
  );
}

/**
 * `queues` consumers in BLPOP (1 s timeout), woken by one producer's LPUSH
 * round-robin over their queues. Each item is unique: at the end, after the
 * consumers have drained the queues, every acknowledged push must have been
 * popped exactly once or still be in its queue.
 */
export function blocking(port: number, tally: Tally, queues = 4, pauseMs = 2): Workload {
  const name = 'blocking';
  let producing = true;
  let consuming = true;
  const pushed = new Set<string>();
  const popped = new Set<string>();
  let duplicates = 0;
  const producer = slotwayClient(port);
  const consumers = Array.from({ length: queues }, () => slotwayClient(port));
  const produce = (async () => {
    for (let n = 0; producing; n++) {
      const item = String(n);
      try {
        await producer.lpush(`soak:q:${n % queues}`, item);
        pushed.add(item);
        tally.op(name);
      } catch (error) {
        tally.error(name, error);
      }
      await sleep(pauseMs);
    }
  })();
  let idleInARow = 0;
  const consume = consumers.map(async (client, q) => {
    while (consuming || idleInARow < queues * 2) {
      try {
        const result = await client.blpop(`soak:q:${q}`, 1);
        if (result === null) {
          idleInARow++;
          continue;
        }
        idleInARow = 0;
        const item = result[1];
        if (popped.has(item)) duplicates++;
        popped.add(item);
        tally.op(name);
      } catch (error) {
        tally.error(name, error);
        await sleep(50);
      }
    }
  });
  return {
    name,
    async stop() {
      producing = false;
      await produce;
      consuming = false; // consumers go on until the queues stay empty
      await Promise.all(consume);
      producer.disconnect();
      for (const client of consumers) client.disconnect();
    },
    async report(direct) {
      const left = new Set<string>();
      for (let q = 0; q < queues; q++) for (const item of await direct.lrange(`soak:q:${q}`, 0, -1)) left.add(item);
      let missing = 0;
      for (const item of pushed) if (!popped.has(item) && !left.has(item)) missing++;
      return {
        'pushes acknowledged': pushed.size,
        popped: popped.size,
        'popped twice': duplicates,
        'acknowledged pushes never popped': missing,
        'left in queues': left.size,
      };
    },
  };
}

/** `subscribers` clients SUBSCRIBEd to one channel; one publisher. Sent counts acknowledged PUBLISHes. */
export function pubSub(port: number, tally: Tally, subscribers = 4, pauseMs = 5): Workload {
  const name = 'pub/sub';
  let running = true;
  let sent = 0;
  let received = 0;
  const publisher = slotwayClient(port);
  const listeners = Array.from({ length: subscribers }, () => {
    const client = slotwayClient(port);
    client.on('message', () => {
      received++;
      tally.op(name);
    });
    return client;
  });
  const ready = Promise.all(listeners.map((client) => client.subscribe('soak:ch')));
  const publish = (async () => {
    await ready;
    for (let n = 0; running; n++) {
      try {
        await publisher.publish('soak:ch', String(n));
        sent++;
        tally.op(name);
      } catch (error) {
        tally.error(name, error);
      }
      await sleep(pauseMs);
    }
  })();
  return {
    name,
    async stop() {
      running = false;
      await publish;
      await sleep(1000); // messages still on their way
      publisher.disconnect();
      for (const client of listeners) client.disconnect();
    },
    report() {
      return Promise.resolve({
        'messages sent': sent,
        subscribers,
        'messages received': received,
        'expected (sent x subscribers)': sent * subscribers,
      });
    },
  };
}

/** PING through Slotway every `everyMs`: answered by Slotway itself, so its latency is Slotway's responsiveness. */
export function pingProbe(port: number, tally: Tally, everyMs = 100): Workload & { readonly latenciesMs: number[] } {
  const name = 'ping probe';
  let running = true;
  const latenciesMs: number[] = [];
  const client = slotwayClient(port);
  const loop = (async () => {
    while (running) {
      const start = performance.now();
      try {
        await client.ping();
        latenciesMs.push(performance.now() - start);
        tally.op(name);
      } catch (error) {
        tally.error(name, error);
      }
      await sleep(everyMs);
    }
  })();
  return {
    name,
    latenciesMs,
    async stop() {
      running = false;
      await loop;
      client.disconnect();
    },
    report() {
      return Promise.resolve({});
    },
  };
}

/** The p-th percentile (0..100) of `values`, NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}
