// Every master's `INFO everything`, fetched once for many readers: INFO
// through Slotway needs the masters' numbers, and tools poll it (exporters,
// `redis-cli --stat` every second, from many clients at once). Within
// --info-cache-ms of a fetch its replies are reused; readers that come while
// a fetch is out wait for it (single flight), so the masters see at most one
// INFO per interval whatever the number of clients.
//
//   read() ─┬─ fresh replies (< interval old) ──────────> callback now
//           ├─ a fetch in flight ─────────────> waiters ─> callback when it lands
//           └─ otherwise: INFO everything to every master, this reader first waiter
//
// The fetch's requests belong to this object, not to a client: a client that
// leaves does not take the others' answer with it.
import type { CommandSpec } from '../commands/command-spec.js';
import { encodeCommand } from '../protocol/resp-writer.js';
import { Request, type RequestOwner } from './request.js';

/** What the cache needs of the router. */
export interface MasterInfoRouter {
  masterAddresses(): string[];
  dispatch(request: Request): void;
}

/** The masters' INFO texts (masters that answered with an error are left out). */
export type MasterInfoReader = (texts: readonly string[]) => void;

export class MasterInfo implements RequestOwner {
  readonly id = 0;
  readonly resp3 = false;
  readonly closed = false;
  readonly #router: MasterInfoRouter;
  readonly #intervalMs: number;
  readonly #now: () => number;
  /** The last fetch's replies and when it was sent. */
  #texts: readonly string[] = [];
  #fetchedAt = Number.NEGATIVE_INFINITY;
  /** The fetch in flight: its requests, how many are still out, who waits for it. */
  #requests: Request[] = [];
  #pending = 0;
  #waiters: MasterInfoReader[] = [];
  /** Inside read()'s dispatch loop: a fetch that lands at once is returned, not told. */
  #dispatching = false;
  /** Fetches sent so far (a unit test tells the cache works by it). */
  fetches = 0;

  constructor(router: MasterInfoRouter, intervalMs: number, now: () => number = Date.now) {
    this.#router = router;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /**
   * Every master's INFO: returned when fresh enough (or when no master is
   * known), else null and `reader` is called when the (shared) fetch lands.
   */
  read(spec: CommandSpec, reader: MasterInfoReader): readonly string[] | null {
    if (this.#pending === 0) {
      if (this.#now() - this.#fetchedAt < this.#intervalMs) return this.#texts;
      if (this.#router.masterAddresses().length === 0) return NO_TEXTS;
    }
    this.#waiters.push(reader);
    if (this.#pending > 0) return null;
    const addresses = this.#router.masterAddresses();
    this.fetches++;
    this.#fetchedAt = this.#now();
    this.#requests = addresses.map((address) => {
      const request = new Request(this, spec, INFO_EVERYTHING, -1);
      request.target = address;
      return request;
    });
    this.#pending = this.#requests.length;
    this.#dispatching = true;
    for (const request of this.#requests) this.#router.dispatch(request);
    this.#dispatching = false;
    if (this.#pending > 0) return null;
    // Every master answered at once (-BUSY): this reader is the only one, and not told.
    this.#waiters = [];
    return this.#texts;
  }

  onRequestDone(_request: Request): void {
    if (--this.#pending > 0) return;
    const texts: string[] = [];
    for (const request of this.#requests) {
      const reply = request.reply as Buffer;
      if (reply[0] === 36 /* '$' */ || reply[0] === 61 /* '=' verbatim */) texts.push(bulkText(reply));
    }
    this.#requests = [];
    this.#texts = texts;
    if (this.#dispatching) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const reader of waiters) reader(texts);
  }
}

/** The text of a bulk (or verbatim: after its `txt:`) string reply: after the length line, before the final CRLF. */
function bulkText(reply: Buffer): string {
  const start = reply.indexOf(13 /* '\r' */) + (reply[0] === 61 ? 6 : 2);
  return reply.toString('utf8', start, reply.length - 2);
}

const NO_TEXTS: readonly string[] = [];
const INFO_EVERYTHING = encodeCommand(['INFO', 'everything']);
