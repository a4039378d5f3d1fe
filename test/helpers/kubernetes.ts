// Tools for the Kubernetes-realities tests (proxy-kubernetes-*.test.ts):
// loopback addresses standing for pod IPs, a hosts entry standing for a
// headless Service name, timed commands that cannot hang, /readyz and
// /metrics over HTTP, and a pino logger whose lines the test can read.
import { accessSync, chmodSync, constants, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { parsePrometheusText, type Family } from './prometheus-text.js';

const HOSTS = '/etc/hosts';

/**
 * One name of our own in /etc/hosts (the name a headless Service would give),
 * touching only the lines that name it. The new file replaces the old one by
 * rename, so other processes resolving `localhost` meanwhile never read a
 * half-written file; where /etc/hosts is a bind mount (Docker) that cannot be
 * replaced, it is rewritten in place instead.
 */
export class HostsEntry {
  readonly name: string;
  #active = false;

  private constructor(name: string) {
    this.name = name;
  }

  /** Adds `name` -> each of `addresses`; throws with what to do when /etc/hosts is not writable. */
  static add(name: string, addresses: readonly string[]): HostsEntry {
    try {
      accessSync(HOSTS, constants.R_OK | constants.W_OK);
    } catch (error) {
      throw new Error(
        `this test resolves a seed name through ${HOSTS} and must append "${name}" to it, but cannot write it (${(error as Error).message}): run the tests as root (as CI does) or make ${HOSTS} writable`,
        { cause: error },
      );
    }
    const entry = new HostsEntry(name);
    entry.set(addresses);
    return entry;
  }

  /** Points the name at `addresses` now (one line each: getaddrinfo returns them all with `multi on`). */
  set(addresses: readonly string[]): void {
    const kept = HostsEntry.#others(this.name);
    const ours = addresses.map((address) => `${address} ${this.name}`);
    HostsEntry.#write([...kept, ...ours].join('\n') + '\n');
    this.#active = ours.length > 0;
  }

  /** Removes our lines (idempotent). */
  remove(): void {
    if (!this.#active) return;
    HostsEntry.#write(HostsEntry.#others(this.name).join('\n') + '\n');
    this.#active = false;
  }

  static #write(text: string): void {
    const temporary = `${HOSTS}.slotway-${process.pid}`;
    try {
      writeFileSync(temporary, text);
      chmodSync(temporary, statSync(HOSTS).mode & 0o777);
      renameSync(temporary, HOSTS);
    } catch {
      rmSync(temporary, { force: true });
      writeFileSync(HOSTS, text);
    }
  }

  static #others(name: string): string[] {
    return readFileSync(HOSTS, 'utf8')
      .split('\n')
      .filter(
        (line) =>
          line.trim() !== '' &&
          line
            .trim()
            .split(/\s+/)
            .slice(1)
            .every((alias) => alias !== name),
      );
  }
}

/**
 * A random /24 of 127.0.0.0/8 away from the addresses other tests use
 * (127.0.0.1, 127.0.0.2): pod IPs for one test, `${prefix}.${n}`.
 */
export function podNetwork(): string {
  return `127.${100 + Math.floor(Math.random() * 100)}.${1 + Math.floor(Math.random() * 250)}`;
}

export interface Timed {
  readonly ms: number;
  readonly value: unknown;
  readonly error: string | null;
}

/** Runs `call`, timing it; a call still pending after `hangMs` counts as an error saying HANG. */
export async function timed(call: () => Promise<unknown>, hangMs = 30000): Promise<Timed> {
  const start = performance.now();
  let watchdog: NodeJS.Timeout | undefined;
  try {
    const value = await Promise.race([
      call(),
      new Promise(
        (_, reject) => (watchdog = setTimeout(() => reject(new Error(`HANG: no reply in ${hangMs} ms`)), hangMs)),
      ),
    ]);
    return { ms: performance.now() - start, value, error: null };
  } catch (error) {
    return {
      ms: performance.now() - start,
      value: undefined,
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    clearTimeout(watchdog);
  }
}

/** The sum of the backoffs a command waits before Slotway gives up (router's #retryLater). */
export function retryBudgetMs(attempts: number, delayMs: number, maxDelayMs: number): number {
  let total = 0;
  for (let attempt = 1; attempt <= attempts; attempt++) total += Math.min(maxDelayMs, delayMs * 2 ** (attempt - 1));
  return total;
}

export async function http(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

export async function scrape(port: number): Promise<Map<string, Family>> {
  const response = await http(port, '/metrics');
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return parsePrometheusText(response.body);
}

/** A pino logger at `level` whose JSON lines are kept in `lines`. */
export function capturingLogger(level = 'info'): {
  logger: Logger;
  lines: string[];
  find(msg: RegExp): Record<string, unknown>[];
} {
  const lines: string[] = [];
  let partial = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts.filter((line) => line !== ''));
      done();
    },
  });
  const logger = pino({ level }, stream);
  return {
    logger,
    lines,
    find(msg) {
      return lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((entry) => msg.test(String(entry.msg)));
    },
  };
}
