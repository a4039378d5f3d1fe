// Commands that must reach every master past whatever the shared connections
// are stuck behind: SCRIPT KILL and FUNCTION KILL. A busy script holds the
// shared pipelined connection of its master (Redis reads nothing more from the
// client running it), and a lease may be exhausted, so each master gets the
// command at once on a fresh connection of its own, authenticated as the shared
// ones are (NodeConnection's handshake: AUTH or TLS from NodeSecurity), which is
// closed as soon as it answered. Each call is bounded by --kill-timeout.
//
//   client ── SCRIPT KILL ──> Request (session queue, settled by merge)
//                               ├─ fresh connection ─> master A  -NOTBUSY
//                               ├─ fresh connection ─> master B  +OK
//                               └─ fresh connection ─> master C  -NOTBUSY
//                                                      merged: +OK
//
// Merged as one Redis would answer: +OK when any master killed a script;
// else -UNKILLABLE (a script that wrote); else -BUSY (a function is running and
// SCRIPT KILL was asked, or the other way round: Redis names the right KILL);
// else the first failure to reach a master (a script might still run there);
// else -NOTBUSY No scripts in execution right now.
import {
  NodeConnection,
  type ConnectionEvents,
  type ConnectionOptions,
  type PendingCommand,
} from '../backend/node-connection.js';
import { parseAddress } from '../cluster/node-address.js';
import * as errors from '../protocol/errors.js';
import { errorReply } from '../protocol/resp-writer.js';
import type { Request } from './request.js';

export interface OutOfBandOptions extends ConnectionOptions {
  /** Ms each master has to answer, connect and handshake included. */
  readonly killTimeoutMs: number;
}

/** Merge rank of a reply: lower wins. */
const enum Rank {
  Killed = 0,
  Unkillable = 1,
  WrongKill = 2,
  Failed = 3,
  NotBusy = 4,
}

function rankOf(reply: Buffer): Rank {
  if (reply[0] === 43 /* '+' */) return Rank.Killed;
  if (startsWith(reply, '-UNKILLABLE')) return Rank.Unkillable;
  if (startsWith(reply, '-BUSY')) return Rank.WrongKill;
  if (startsWith(reply, '-NOTBUSY')) return Rank.NotBusy;
  return Rank.Failed;
}

function startsWith(reply: Buffer, prefix: string): boolean {
  return reply.length >= prefix.length && reply.toString('latin1', 0, prefix.length) === prefix;
}

/** Merges the masters' replies as described above (exported for its unit test). */
export function mergeKillReplies(replies: readonly Buffer[]): Buffer {
  // The lowest rank wins; on a tie the first master's reply.
  let best: Buffer | null = null;
  let bestRank = Rank.NotBusy;
  for (const reply of replies) {
    const rank = rankOf(reply);
    if (best === null || rank < bestRank) [best, bestRank] = [reply, rank];
  }
  return best ?? errorReply(errors.SLOT_NOT_SERVED);
}

/** Sends each out-of-band command; one instance per router. */
export class OutOfBand {
  readonly #options: OutOfBandOptions;

  constructor(options: OutOfBandOptions) {
    this.#options = options;
  }

  /** Sends `request.payload` to every address in `masters`; settles `request` with the merged reply. */
  send(request: Request, masters: readonly string[]): void {
    new KillRound(request, masters, this.#options);
  }

  /** One command to one node on a fresh connection; `done` gets its reply (an error line when it could not be had). */
  ask(address: string, payload: Buffer, command: string, done: (reply: Buffer) => void): void {
    new OneShot(address, payload, command, this.#options, done);
  }
}

/** One client's command to every master: the replies gathered, then merged once all are in. */
class KillRound {
  readonly #request: Request;
  readonly #replies: Buffer[] = [];
  #pending: number;

  constructor(request: Request, masters: readonly string[], options: OutOfBandOptions) {
    this.#request = request;
    this.#pending = masters.length;
    if (masters.length === 0) {
      this.#settle();
      return;
    }
    const command = request.spec.name.replace('|', ' ');
    for (const address of masters) new OneShot(address, request.payload, command, options, this.#onAnswer);
  }

  readonly #onAnswer = (reply: Buffer): void => {
    this.#replies.push(reply);
    if (--this.#pending === 0) this.#settle();
  };

  #settle(): void {
    this.#request.settle(mergeKillReplies(this.#replies));
  }
}

/** The command on a connection of its own to one node; closed once answered, failed or timed out. */
class OneShot implements PendingCommand, ConnectionEvents {
  readonly payload: Buffer;
  readonly #done: (reply: Buffer) => void;
  readonly #address: string;
  readonly #command: string;
  readonly #connection: NodeConnection | null = null;
  readonly #timer: NodeJS.Timeout | null = null;
  #answered = false;

  constructor(
    address: string,
    payload: Buffer,
    command: string,
    options: OutOfBandOptions,
    done: (reply: Buffer) => void,
  ) {
    this.#done = done;
    this.#address = address;
    this.#command = command;
    this.payload = payload;
    const parsed = parseAddress(address);
    if (parsed === null) {
      this.#answer(errorReply(errors.outOfBandFailed(command, address, 'bad address')));
      return;
    }
    this.#connection = new NodeConnection(parsed.host, parsed.port, options, this);
    this.#connection.send(this);
    this.#timer = setTimeout(
      () => this.#connection?.close(`no answer within ${options.killTimeoutMs} ms (--kill-timeout)`),
      options.killTimeoutMs,
    );
  }

  onNodeReply(buffer: Buffer, start: number, end: number): void {
    // Copied: the connection's read buffer is not ours once it is closed.
    this.#answer(Buffer.from(buffer.subarray(start, end)));
  }

  onNodeFailure(_sent: boolean, reason: string): void {
    this.#answer(errorReply(errors.outOfBandFailed(this.#command, this.#address, reason)));
  }

  onConnectionReady(): void {}

  onConnectionClosed(): void {}

  #answer(reply: Buffer): void {
    if (this.#answered) return;
    this.#answered = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#connection?.close('answered');
    this.#done(reply);
  }
}
