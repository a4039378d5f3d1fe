// Slotway's clients by id, for the CLIENT subcommands that act on other
// clients (LIST, KILL, UNBLOCK), and the state of CLIENT PAUSE.
//
// CLIENT PAUSE holds Slotway's own clients, never the nodes: a command that
// the pause covers (every command under ALL; writes, EVAL, PUBLISH ... under
// WRITE: commands/pause-policy.ts) stalls its session at dispatch, which then
// stops reading from its socket, as Redis leaves a paused client's input
// unread. So what waits is one framed command per client plus what its
// socket had already delivered: bounded. Slotway's own traffic (topology
// refresh, stall probes, leases' handshakes) never passes through a session
// and is not held. At the end (the timeout, or CLIENT UNPAUSE) every held
// session is resumed; each re-dispatches its command from where it stopped.
//
//   paused: mode ALL|WRITE, until (ms)   held: { session, session, ... }
//                 │                              ^ holdForPause()
//                 └─ timer at `until` ─> end() ─> resumeFromPause() each
import type { CommandSpec } from '../commands/command-spec.js';
import { heldByWritePause } from '../commands/pause-policy.js';
import type { ClientView } from './client-list.js';

/** A client as the registry and the CLIENT subcommands act on it. */
export interface RegisteredClient extends ClientView {
  /** Closes it now; its leases go back or are closed, as when it disconnects. */
  destroy(): void;
  /** Closes it once the replies already owed are written. */
  closeAfterReplies(): void;
  /** The pause ended: run the command it was held at (if any) and read again. */
  resumeFromPause(): void;
}

/** What CLIENT PAUSE holds: nothing, write commands, or every command (the order is Redis's: ALL covers WRITE). */
export const enum PauseMode {
  None = 0,
  Write = 1,
  All = 2,
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export class ClientRegistry {
  readonly #clients = new Map<number, RegisteredClient>();
  /** Read by the dispatcher per command: one comparison while no pause is on. */
  pauseMode = PauseMode.None;
  /** Date.now() when the pause ends. */
  #pausedUntil = 0;
  #timer: NodeJS.Timeout | null = null;
  readonly #held = new Set<RegisteredClient>();

  add(client: RegisteredClient): void {
    this.#clients.set(client.id, client);
  }

  delete(client: RegisteredClient): void {
    this.#clients.delete(client.id);
    this.#held.delete(client);
  }

  get(id: number): RegisteredClient | undefined {
    return this.#clients.get(id);
  }

  /** Every client, oldest first (Redis lists them in the order they connected). */
  all(): IterableIterator<RegisteredClient> {
    return this.#clients.values();
  }

  /** The pause covers this command now; `queuedWrites`: the client's transaction queued a write (EXEC is held then). */
  pauses(spec: CommandSpec, queuedWrites: boolean): boolean {
    return (
      this.pauseMode === PauseMode.All || (this.pauseMode === PauseMode.Write && heldByWritePause(spec, queuedWrites))
    );
  }

  /** Held by CLIENT PAUSE now (INFO counts it in blocked_clients, as Redis counts a postponed client). */
  isHeld(client: RegisteredClient): boolean {
    return this.#held.has(client);
  }

  /** `client` stalled at a command the pause covers: resumed when it ends. */
  hold(client: RegisteredClient): void {
    this.#held.add(client);
  }

  /**
   * CLIENT PAUSE: as Redis, a second pause keeps the stronger mode and the
   * later end of the two.
   */
  pause(ms: number, mode: PauseMode): void {
    const until = Date.now() + ms;
    if (mode > this.pauseMode) this.pauseMode = mode;
    if (until <= this.#pausedUntil && this.#timer !== null) return;
    this.#pausedUntil = until;
    this.#schedule(ms);
  }

  /** Node's timers take at most 2^31-1 ms (a longer delay fires at once): a long pause wakes up and sleeps again. */
  #schedule(ms: number): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(this.#end, Math.min(ms, MAX_TIMER_MS));
    this.#timer.unref();
  }

  /** CLIENT UNPAUSE, or the pause's timeout. */
  unpause(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#pausedUntil = 0;
    this.pauseMode = PauseMode.None;
    const held = [...this.#held];
    this.#held.clear();
    for (const client of held) client.resumeFromPause();
  }

  readonly #end = (): void => {
    this.#timer = null;
    const left = this.#pausedUntil - Date.now();
    if (left > 0) this.#schedule(left);
    else this.unpause();
  };
}
