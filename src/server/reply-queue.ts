// A session's requests in arrival order, with the bytes they hold counted
// for the per-client bound (--client-buffer-limit) and the process's budget
// (--max-buffer-memory).
//
//   [ GET a (settled) | GET b (in flight)          | PING (settled) ]
//     reply 70 B        payload 22 B + estimate      reply 7 B
//   bytes = 70 + (22 + estimate) + 7
//
// A command in flight counts its payload and the reply it is expected to
// bring: this client's largest recent reply, decaying by 1/16 per reply. A
// client that reads 1 MiB values then stops being read after a handful of
// GETs in flight instead of after --max-pipeline of them; one that reads
// small values soon has an estimate near their size. Once settled, a
// request counts its reply. `request.held` remembers what was counted, so
// every transition adds or subtracts exactly that.
import type { Request } from '../router/request.js';
import { RingQueue } from '../util/ring-queue.js';
import type { BufferBudget } from './buffer-budget.js';

/**
 * The estimate of a new client: a socket read's worth. With the default
 * --client-buffer-limit (8 MiB) its first burst is 128 commands, whatever
 * their replies turn out to be.
 */
const FIRST_ESTIMATE = 64 * 1024;

export class ReplyQueue {
  /** Bytes this queue holds now (see the header). */
  bytes = 0;
  #estimate = FIRST_ESTIMATE;
  #open = true;
  readonly #ring = new RingQueue<Request>(4);
  readonly #budget: BufferBudget;

  constructor(budget: BufferBudget) {
    this.#budget = budget;
  }

  get length(): number {
    return this.#ring.length;
  }

  peek(): Request | undefined {
    return this.#ring.peek();
  }

  push(request: Request): void {
    if (!this.#open) return;
    const reply = request.reply;
    const held = reply !== null ? reply.length : request.payload.length + this.#estimate;
    request.held = held;
    this.bytes += held;
    this.#budget.used += held;
    this.#ring.push(request);
  }

  /** `request` (queued here) has its reply: it counts that from now on. */
  settled(request: Request): void {
    const reply = request.reply;
    if (!this.#open || reply === null) return;
    const size = reply.length;
    const delta = size - request.held;
    request.held = size;
    this.bytes += delta;
    this.#budget.used += delta;
    const estimate = this.#estimate;
    this.#estimate = size > estimate ? size : estimate - (estimate >> 4);
  }

  /** Takes the head off (it is being written). */
  shift(): Request | undefined {
    const request = this.#ring.shift();
    if (request !== undefined) {
      this.bytes -= request.held;
      this.#budget.used -= request.held;
      request.held = 0;
    }
    return request;
  }

  /** The client is gone: everything is dropped and uncounted, and nothing is counted again. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#budget.used -= this.bytes;
    this.bytes = 0;
    while (this.#ring.shift() !== undefined);
  }
}
