// A session's requests in arrival order, with the bytes they hold counted
// for the per-client bound (--client-buffer-limit) and the process's budget
// (--max-buffer-memory). The client's bound counts what its commands in
// flight are expected to bring; the budget counts only bytes that exist (a
// thousand clients blocked in BLPOP hold a few bytes each, not a thousand
// expected replies).
//
//   [ GET a (settled) | GET b (in flight)          | PING (settled) ]
//     reply 70 B        payload 22 B + estimate      reply 7 B
//   bytes = 70 + (22 + estimate) + 7
//
// A command in flight counts its payload and the reply it is expected to
// bring: this client's largest recent reply, decaying towards smaller ones
// by 1/8 of the gap per reply, and a quarter of the client's bound before any
// reply came (so a new client has at most 4 commands in flight until its
// replies say how large they are). A client that reads 1 MiB values then
// stops being read after a handful of GETs in flight instead of after
// --max-pipeline of them; one that reads small values has an estimate near
// their size within a few dozen replies. Once settled, a request counts its
// reply. `request.held` remembers what was counted, so every transition adds
// or subtracts exactly that: negative while it is a reservation (in flight),
// the reply's length once settled.
//
// An estimate is no promise: a client that switches from small replies to
// large ones can have more in flight than its bound holds. What arrives then
// is counted, and the session closes a client whose settled and unwritten
// replies pass --client-output-limit, as Redis's client-output-buffer-limit.
//
// The queue is itself the ring (it extends util/ring-queue.ts rather than
// owning one: every client has a queue, and a separate ring object cost each
// idle one 56 B more); the ring's array is made at the first push.
import type { Request } from '../router/request.js';
import { RingQueue } from '../util/ring-queue.js';
import type { BufferBudget } from './buffer-budget.js';

export class ReplyQueue extends RingQueue<Request> {
  /** Bytes this queue holds now (see the header). */
  bytes = 0;
  /** The part of `bytes` that commands in flight hold: payloads and expected replies, no reply yet. */
  reserved = 0;
  /** What this queue added to the budget: replies, and payloads of commands in flight. */
  #counted = 0;
  #estimate: number;
  #open = true;
  readonly #budget: BufferBudget;

  /** `clientLimit`: the client's bound (--client-buffer-limit), whose quarter is the first estimate. */
  constructor(budget: BufferBudget, clientLimit: number) {
    super(0);
    this.#budget = budget;
    this.#estimate = Math.floor(clientLimit / 4);
  }

  override push(request: Request): void {
    if (!this.#open) return;
    const reply = request.reply;
    let held: number;
    if (reply !== null) {
      held = reply.length;
      request.held = held;
    } else {
      held = request.payload.length + this.#estimate;
      request.held = -held;
      this.reserved += held;
    }
    this.bytes += held;
    const real = reply !== null ? reply.length : request.payload.length;
    this.#counted += real;
    this.#budget.used += real;
    super.push(request);
  }

  /** `request` (queued here) has its reply: it counts that from now on. */
  settled(request: Request): void {
    const reply = request.reply;
    if (!this.#open || reply === null) return;
    const size = reply.length;
    const held = request.held;
    if (held >= 0) return; // counted as settled already
    this.reserved += held;
    request.held = size;
    this.bytes += size + held;
    const real = size - request.payload.length;
    this.#counted += real;
    this.#budget.used += real;
    const estimate = this.#estimate;
    this.#estimate = size >= estimate ? size : estimate - ((estimate - size) >> 3);
  }

  /** Takes the head off (it is being written). */
  override shift(): Request | undefined {
    const request = super.shift();
    if (request !== undefined) {
      // Settled before it is shifted (flush takes done requests only); abs() keeps a slip from corrupting the count.
      const held = Math.abs(request.held);
      const real = request.held < 0 ? request.payload.length : held;
      if (request.held < 0) this.reserved -= held;
      this.bytes -= held;
      this.#counted -= real;
      this.#budget.used -= real;
      request.held = 0;
    }
    return request;
  }

  /** The client is gone: everything is dropped and uncounted, and nothing is counted again. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#budget.used -= this.#counted;
    this.#counted = 0;
    this.bytes = 0;
    this.reserved = 0;
    while (super.shift() !== undefined); // uncounted: everything was uncounted above
  }
}
