// Slotway's own slow log: commands whose time in Slotway (read to reply
// written: queueing behind the client's earlier commands, the node's work,
// redirects and retries) reached --slowlog-log-slower-than microseconds.
// SLOWLOG GET shows them among the masters' entries (router/fan-out.ts),
// each in Redis's entry format, told apart by its client-name field:
// `slotway` (or `slotway:<name>` for a client that set a name).
//
//   ring (--slowlog-max-len entries):  [ e5 | e6 | e3 | e4 ]
//                                              ^ next write overwrites the oldest
//
// The hot path pays one number compare (ServerStats.onReply); only a slow
// command builds an entry, from the request's payload, which the request
// holds until it is done (retries resend it). A fan-out's parent holds none:
// its entry names the command only.
import type { Request } from '../router/request.js';

/** Redis's bounds on a slow log entry (slowlog.h). */
const MAX_ARGS = 32;
const MAX_STRING = 128;

/** What a slow entry shows of the client, when the request's owner has it (a session does). */
interface SlowClient {
  readonly name?: string;
  readonly peerAddress?: string;
}

export class ProxySlowlog {
  /** In milliseconds, as request times are; Infinity when disabled (a negative option, as in Redis). */
  readonly thresholdMs: number;
  readonly #maxLength: number;
  readonly #ring: Buffer[] = [];
  /** Where the next entry goes once the ring is full. */
  #next = 0;
  #nextId = 0;

  /** `slowerThanUs` as Redis's slowlog-log-slower-than: negative disables, 0 logs every command. */
  constructor(slowerThanUs = 10000, maxLength = 128) {
    this.thresholdMs = slowerThanUs < 0 || maxLength === 0 ? Number.POSITIVE_INFINITY : slowerThanUs / 1000;
    this.#maxLength = maxLength;
  }

  get length(): number {
    return this.#ring.length;
  }

  /** Records a request that took `ms` (already known to be at least thresholdMs). */
  record(request: Request, ms: number): void {
    // WAIT waits for replicas by design, as a blocked command does: Redis does not log that wait either.
    if (request.spec.waitsForReplicas) return;
    const owner = request.owner as SlowClient;
    const args = request.payload.length > 0 ? payloadArgs(request.payload) : specWords(request.spec.name);
    const name = owner.name !== undefined && owner.name !== '' ? `slotway:${owner.name}` : 'slotway';
    this.#push(
      encodeEntry(
        this.#nextId++,
        Math.floor(Date.now() / 1000),
        Math.round(ms * 1000),
        args,
        owner.peerAddress ?? '',
        name,
      ),
    );
  }

  /** Entries, newest first. */
  entries(): Buffer[] {
    const ring = this.#ring;
    const out: Buffer[] = [];
    for (let i = 1; i <= ring.length; i++) out.push(ring[(this.#next - i + ring.length) % ring.length] as Buffer);
    return out;
  }

  reset(): void {
    this.#ring.length = 0;
    this.#next = 0;
  }

  #push(entry: Buffer): void {
    if (this.#ring.length < this.#maxLength) {
      this.#ring.push(entry);
      this.#next = this.#ring.length % this.#maxLength;
      return;
    }
    this.#ring[this.#next] = entry;
    this.#next = (this.#next + 1) % this.#maxLength;
  }
}

/** A slow log entry as Redis encodes one: id, unix time, µs, args, client address, client name. */
export function encodeEntry(
  id: number,
  time: number,
  micros: number,
  args: readonly Buffer[],
  address: string,
  name: string,
): Buffer {
  const shown = cutArgs(args);
  return Buffer.concat([
    Buffer.from(`*6\r\n:${id}\r\n:${time}\r\n:${micros}\r\n*${shown.length}\r\n`),
    ...shown.flatMap((arg) => [Buffer.from(`$${arg.length}\r\n`), arg, CRLF]),
    Buffer.from(`$${Buffer.byteLength(address)}\r\n${address}\r\n$${Buffer.byteLength(name)}\r\n${name}\r\n`),
  ]);
}

/** At most 32 arguments (the last saying how many more), each at most 128 bytes (saying how many more), as Redis. */
export function cutArgs(args: readonly Buffer[]): Buffer[] {
  const count = Math.min(args.length, MAX_ARGS);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    if (count < args.length && i === count - 1) {
      out.push(Buffer.from(`... (${args.length - count + 1} more arguments)`));
      break;
    }
    const arg = args[i] as Buffer;
    out.push(
      arg.length > MAX_STRING
        ? Buffer.concat([arg.subarray(0, MAX_STRING), Buffer.from(`... (${arg.length - MAX_STRING} more bytes)`)])
        : arg,
    );
  }
  return out;
}

/** The arguments of a RESP command (`*N\r\n$len\r\n...`); what cannot be read is left out. */
export function payloadArgs(payload: Buffer): Buffer[] {
  const args: Buffer[] = [];
  let at = payload.indexOf(CRLF) + 2;
  while (at > 1 && at < payload.length && payload[at] === 36 /* '$' */) {
    const lineEnd = payload.indexOf(CRLF, at);
    if (lineEnd < 0) break;
    const length = Number(payload.toString('latin1', at + 1, lineEnd));
    const start = lineEnd + 2;
    if (!(length >= 0) || start + length > payload.length) break;
    args.push(payload.subarray(start, start + length));
    at = start + length + 2;
  }
  return args;
}

/** `pubsub|numsub` -> PUBSUB NUMSUB (a fan-out's parent keeps no payload). */
function specWords(name: string): Buffer[] {
  return name.split('|').map((word) => Buffer.from(word.toUpperCase()));
}

const CRLF = Buffer.from('\r\n');
