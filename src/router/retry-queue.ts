// Requests waiting to be resent after a backoff. One timer for all of them,
// set for the earliest due time, instead of a timer per request.
import type { Request } from './request.js';

export class RetryQueue {
  #waiting: Request[] = [];
  #timer: NodeJS.Timeout | null = null;
  #timerDue = 0;
  readonly #resend: (request: Request) => void;

  constructor(resend: (request: Request) => void) {
    this.#resend = resend;
  }

  get size(): number {
    return this.#waiting.length;
  }

  add(request: Request, delayMs: number): void {
    request.retryAt = Date.now() + delayMs;
    this.#waiting.push(request);
    this.#arm(request.retryAt);
  }

  close(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#waiting = [];
  }

  #arm(due: number): void {
    if (this.#timer !== null && this.#timerDue <= due) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timerDue = due;
    this.#timer = setTimeout(this.#fire, Math.max(0, due - Date.now()));
  }

  readonly #fire = (): void => {
    this.#timer = null;
    const now = Date.now();
    const due = this.#waiting.filter((r) => r.retryAt <= now);
    this.#waiting = this.#waiting.filter((r) => r.retryAt > now);
    let next = Infinity;
    for (const request of this.#waiting) next = Math.min(next, request.retryAt);
    if (next !== Infinity) this.#arm(next);
    for (const request of due) this.#resend(request);
  };
}
