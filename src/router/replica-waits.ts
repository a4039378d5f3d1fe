// WAIT numreplicas timeout, on connections every client shares.
//
// WAIT must run on the connection that carried the client's writes: Redis
// waits for the replication offset of that connection's last write. On a
// leased (or fresh) connection that offset is 0 and WAIT would answer at once
// without waiting for anything. The client's shared connection to a master
// carried its writes, and other clients' writes too; waiting for that
// connection's offset waits for this client's writes and possibly a few more:
// the count is never too high. So WAIT stays on the shared connection, and what
// must change is how long it may hold it, since every command behind it waits:
//
// 1. numreplicas is capped at the replicas that master has (healthy ones in the
//    last topology): once they all acked, WAIT returns at once, as Redis does
//    when the count is reached, instead of holding the connection until its
//    timeout for replicas that do not exist (the client gets the same count).
// 2. At most one WAIT per master is on the wire; further ones wait here, in
//    Slotway, not on the connection (ten pipelined WAITs no longer stack up).
// 3. Each send may hold the connection --wait-slice ms at most: WAIT n slice.
//    Not satisfied yet and the client's own timeout not over: it is sent again,
//    behind the commands other clients queued meanwhile. A client's WAIT thus
//    still waits up to its timeout (capped at --max-wait by the session), while
//    another client's command waits one slice at most behind it. (Redis ends a
//    blocked WAIT at its event loop's pace: with hz 10 a slice can last ~100 ms.)
//
//
// A WAIT's timeout counts from when Slotway read it, as its client measures
// it: one client's pipelined WAITs overlap instead of adding up (Redis runs
// them one after another), and a WAIT waiting its turn here spends its own time.
//
//   per master:  waiting: [ W2 W3 ]   on the wire: W1 (WAIT 1 20)
//                W1 answers :0, its timeout not over -> waiting: [ W2 W3 W1 ]
import type { NodePool } from '../backend/node-pool.js';
import type { PendingCommand } from '../backend/node-connection.js';
import { CommandFramer } from '../protocol/command-framer.js';
import { encodeCommand } from '../protocol/resp-writer.js';
import { Frame, parseInteger } from '../protocol/stream-framer.js';
import { RingQueue } from '../util/ring-queue.js';
import type { Request } from './request.js';

/** One master's WAITs: the one on the wire, and those waiting for their turn. */
interface Lane {
  busy: boolean;
  readonly waiting: RingQueue<WaitJob>;
}

export class ReplicaWaits {
  readonly #sliceMs: number;
  readonly #lanes = new Map<NodePool, Lane>();

  constructor(sliceMs: number) {
    this.#sliceMs = sliceMs;
  }

  /** WAITs held here now (on the wire or waiting), for tests and views. */
  get pending(): number {
    let count = 0;
    for (const lane of this.#lanes.values()) count += lane.waiting.length + (lane.busy ? 1 : 0);
    return count;
  }

  /** Sends `request` (a WAIT) to `pool`'s master when its turn comes; `replicas`: how many that master has. */
  submit(request: Request, pool: NodePool, replicas: number): void {
    let lane = this.#lanes.get(pool);
    if (lane === undefined) {
      lane = { busy: false, waiting: new RingQueue<WaitJob>(4) };
      this.#lanes.set(pool, lane);
    }
    lane.waiting.push(new WaitJob(this, request, pool, replicas));
    if (!lane.busy) this.#next(pool, lane);
  }

  /** The job on the wire to `pool` is answered (or failed); `again`: it goes back in line. */
  onTurnOver(job: WaitJob, again: boolean): void {
    const lane = this.#lanes.get(job.pool);
    if (lane === undefined) return;
    lane.busy = false;
    if (again) lane.waiting.push(job);
    this.#next(job.pool, lane);
  }

  #next(pool: NodePool, lane: Lane): void {
    const job = lane.waiting.shift();
    if (job === undefined) {
      this.#lanes.delete(pool); // no lane kept for a pool that may be retired
      return;
    }
    lane.busy = true;
    job.send(this.#sliceMs);
  }
}

/** One client WAIT to one master, possibly sent several times. */
class WaitJob implements PendingCommand {
  readonly pool: NodePool;
  payload: Buffer;
  readonly #owner: ReplicaWaits;
  readonly #request: Request;
  /** The count asked for, capped at the master's replicas; negative: sent as received (Redis answers at once, or its error). */
  readonly #wanted: number;
  /** performance.now() after which the client's timeout is over (Infinity: WAIT n 0). */
  readonly #deadline: number;
  /** The current send asks for the whole time left: its answer is final. */
  #lastRound = false;

  constructor(owner: ReplicaWaits, request: Request, pool: NodePool, replicas: number) {
    this.#owner = owner;
    this.#request = request;
    this.pool = pool;
    this.payload = request.payload;
    const [wanted, timeout] = waitArguments(request.payload);
    this.#wanted = Number.isNaN(wanted) || Number.isNaN(timeout) || timeout < 0 ? -1 : Math.min(wanted, replicas);
    this.#deadline = timeout === 0 ? Infinity : request.startedAt + timeout;
  }

  send(sliceMs: number): void {
    const request = this.#request;
    const busy = this.pool.busy;
    if (busy !== null) {
      // A busy script holds the connection: Redis answers a WAIT -BUSY too (the router passes it on).
      this.#lastRound = true;
      this.onNodeReply(busy, 0, busy.length);
      return;
    }
    if (this.#wanted <= 0) {
      // Malformed or negative (the node answers at once), or nothing to wait for: one send settles it.
      this.#lastRound = true;
      if (this.#wanted === 0) this.payload = encodeCommand(['WAIT', '0', '0']);
    } else {
      const left = Math.max(1, Math.ceil(this.#deadline - performance.now()));
      this.#lastRound = left <= sliceMs;
      this.payload = encodeCommand(['WAIT', String(this.#wanted), String(Math.min(left, sliceMs))]);
    }
    request.node = this.pool.address;
    this.pool.send(this, request.owner.id, request.resp3);
  }

  onNodeReply(buffer: Buffer, start: number, end: number): void {
    const count = buffer[start] === 58 /* ':' */ ? parseInteger(buffer, start + 1, end - 2) : Number.NaN;
    const again =
      !this.#lastRound && !Number.isNaN(count) && count < this.#wanted && performance.now() < this.#deadline;
    if (!again) this.#request.onNodeReply(buffer, start, end);
    this.#owner.onTurnOver(this, again);
  }

  onNodeFailure(sent: boolean, reason: string): void {
    // The router retries or fails it; a retry comes back through submit().
    this.#owner.onTurnOver(this, false);
    this.#request.onNodeFailure(sent, reason);
  }
}

/** numreplicas and timeout of a `WAIT n t` payload; NaN where one is missing or not an integer. */
function waitArguments(payload: Buffer): [number, number] {
  const framer = new CommandFramer();
  framer.push(payload);
  if (framer.next() !== Frame.Ready || framer.argc !== 3) return [Number.NaN, Number.NaN];
  const buffer = framer.frameBuffer;
  return [
    parseInteger(buffer, framer.argStart[1] as number, framer.argEnd[1] as number),
    parseInteger(buffer, framer.argStart[2] as number, framer.argEnd[2] as number),
  ];
}
