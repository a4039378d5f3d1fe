// The bytes Slotway holds for all its clients at once, against
// --max-buffer-memory. Sessions add and subtract plain numbers as they go
// (server/reply-queue.ts, session.ts); nothing here runs per command except
// on refusal.
//
//   used = Σ clients ( commands in flight: their payload
//                    + replies settled, waiting for their turn
//                    + replies written to the socket, not yet taken by the kernel
//                    + an incomplete command's bytes )
import { totalmem } from 'node:os';
import type { Logger } from 'pino';
import { Route, type CommandSpec } from '../commands/command-spec.js';

/** One warn line per this many ms at most while commands are refused. */
const WARN_INTERVAL_MS = 10000;
const GIB = 1024 * 1024 * 1024;

export class BufferBudget {
  /** Bytes held for all clients now. */
  used = 0;
  readonly limit: number;
  /** Commands answered -OOM since start. */
  refusals = 0;
  #warnedAt = 0;
  #refusalsWarned = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** A command was refused with -OOM: counted, and logged at most once per 10 s. */
  refused(log: Logger): void {
    this.refusals++;
    const now = Date.now();
    if (now - this.#warnedAt < WARN_INTERVAL_MS) return;
    log.warn(
      { used: this.used, limit: this.limit, refusedSinceLastLine: this.refusals - this.#refusalsWarned },
      'buffer memory exhausted (--max-buffer-memory): commands refused with -OOM until clients read their replies',
    );
    this.#warnedAt = now;
    this.#refusalsWarned = this.refusals;
  }
}

/**
 * Whether a command is refused -OOM while the budget is spent: those that go
 * to the nodes and bring replies back. Commands Slotway answers itself (PING,
 * AUTH, INFO, QUIT ...), refusals and mode changes (EXEC, UNSUBSCRIBE) go on.
 */
export function refusedWhenExhausted(spec: CommandSpec): boolean {
  const route = spec.route;
  return route !== Route.Local && route !== Route.Refused && route !== Route.Session;
}

/**
 * --max-buffer-memory 0: a quarter of the memory this process may use (the
 * cgroup's limit in a container, where os.totalmem() reports the host's),
 * at most 1 GiB. A quarter leaves the rest to V8's heap, Node's own buffers
 * and the kernel's socket buffers; past 1 GiB of replies nobody reads, more
 * buffering only delays the -OOM a stuck workload will get anyway.
 */
export function defaultBufferMemory(): number {
  const total = totalmem();
  const constrained = process.constrainedMemory?.() ?? 0;
  const usable = constrained > 0 && constrained < total ? constrained : total;
  return Math.min(Math.floor(usable / 4), GIB);
}
