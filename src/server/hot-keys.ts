// Hot keys and big keys, sampled (PROXY HOTKEYS, PROXY BIGKEYS, slotway_hot_key_reads,
// slotway_big_key_bytes). Works with or without a cache.
//
// The hot path pays one decrement and one branch per command routed by key
// (command-dispatcher.ts):   if (--hotKeys.countdown === 0) hotKeys.sample(...)
// and one pointer comparison per reply written (server-stats.ts onReply):
//                            if (request === hotKeys.awaiting) hotKeys.onReply(...)
// Only a sampled command (1 in --hotkeys-sample-rate on average; the gap is
// drawn at random, so a pipeline that repeats every N commands is not seen
// through one phase) builds key strings:
//
//   - a read (a command flagged readonly) counts each of its keys once in
//     `reads`, a space-saving top-K (util/top-keys.ts): estimated reads are
//     sampled counts times the rate;
//   - a command with exactly one key offers its bytes to `bytes`: the larger
//     of the command as sent (a SET's value) and its reply (a GET's value),
//     so a big key is seen when it is written or read whole. The reply's size
//     is taken when it is written to the client: the sampled request is
//     remembered in `awaiting` until then (one at a time; a newer sample takes
//     the place of one whose reply has not come).
//
// Keys are kept as latin1 strings (one char per byte, so any key round-trips)
// cut to --hotkeys-key-bytes: two long keys with the same first bytes count as
// one. Memory: 2 x --hotkeys-capacity entries of at most that many bytes.
import type { CommandArgs, CommandSpec, KeyIndices } from '../commands/command-spec.js';
import { keySlot } from '../commands/key-slot.js';
import type { Request } from '../router/request.js';
import { LargestKeys, SpaceSaving, type TopEntry } from '../util/top-keys.js';

export interface HotKeysOptions {
  /** 1 in this many commands routed by key is sampled on average; 0: never. */
  readonly hotkeysSampleRate: number;
  /** Keys kept by each top-K. */
  readonly hotkeysCapacity: number;
  /** Bytes of a key kept (and shown). */
  readonly hotkeysKeyBytes: number;
  /** Keys each metric exports (its label count bound). */
  readonly hotkeysMetricKeys?: number;
}

/** What the countdown restarts from when sampling is off: reached after 2^31 commands, then restarted. */
const OFF = 0x7fffffff;

export class HotKeys {
  readonly rate: number;
  readonly keyBytes: number;
  /** Keys slotway_hot_key_reads and slotway_big_key_bytes export. */
  readonly metricKeys: number;
  readonly reads: SpaceSaving;
  readonly bytes: LargestKeys;
  /** Commands routed by key until the next sample (the hot path decrements it). */
  countdown: number;
  /** The sampled one-key request whose reply size is wanted, or null. */
  awaiting: Request | null = null;
  #awaitingKey = '';
  #awaitingSlot = 0;
  #awaitingBytes = 0;
  /** Commands sampled, for the README's cost figures and tests. */
  samples = 0;

  constructor(options: HotKeysOptions) {
    this.rate = options.hotkeysSampleRate;
    this.keyBytes = options.hotkeysKeyBytes;
    this.metricKeys = this.rate === 0 ? 0 : (options.hotkeysMetricKeys ?? 0);
    this.reads = new SpaceSaving(options.hotkeysCapacity);
    this.bytes = new LargestKeys(options.hotkeysCapacity);
    this.countdown = this.#gap();
  }

  /**
   * The countdown reached 0: note the keys of this command. `keys` holds its
   * key indices (commandSlot filled them); `slot` is theirs, CROSS_SLOT (-2)
   * when they span slots, NO_KEYS (-1) when it has none. `request` is the
   * command's request when it was routed whole (null for a split one).
   */
  sample(spec: CommandSpec, args: CommandArgs, keys: KeyIndices, slot: number, request: Request | null): void {
    this.countdown = this.#gap();
    if (this.rate === 0 || slot === -1) return;
    this.samples++;
    const count = keys.count;
    const indices = keys.indices;
    if (spec.readonly) {
      for (let i = 0; i < count; i++) {
        const index = indices[i] as number;
        this.reads.offer(this.#key(args, index), slot >= 0 ? slot : slotOfKey(args, index));
      }
    }
    if (count !== 1 || request === null) return;
    this.#awaitingKey = this.#key(args, indices[0] as number);
    this.#awaitingSlot = slot;
    this.#awaitingBytes = request.payload.length;
    this.awaiting = request;
  }

  /** The awaited request's reply is being written: its key is offered with the larger size. */
  onReply(replyBytes: number): void {
    this.awaiting = null;
    this.bytes.offer(this.#awaitingKey, Math.max(this.#awaitingBytes, replyBytes), this.#awaitingSlot);
  }

  /** The most read keys: estimated reads (sampled count times the rate), largest first. */
  hottest(count: number): TopEntry[] {
    return this.reads
      .top(count)
      .map((entry) => ({ ...entry, value: entry.value * this.rate, error: entry.error * this.rate }));
  }

  /** The keys with the largest values seen, in bytes, largest first. */
  biggest(count: number): TopEntry[] {
    return this.bytes.top(count);
  }

  /** Forgets every key (PROXY HOTKEYS RESET). */
  reset(): void {
    this.reads.clear();
    this.bytes.clear();
    this.awaiting = null;
  }

  #key(args: CommandArgs, index: number): string {
    const start = args.argStart[index] as number;
    const end = Math.min(args.argEnd[index] as number, start + this.keyBytes);
    return args.frameBuffer.toString('latin1', start, end);
  }

  /** 1 to 2 x rate - 1 commands, N on average; OFF when sampling is off. */
  #gap(): number {
    const rate = this.rate;
    if (rate === 0) return OFF;
    return rate === 1 ? 1 : 1 + Math.floor(Math.random() * (2 * rate - 1));
  }
}

/** The slot of one key of a command split over slots (of the whole key, not the part kept). */
function slotOfKey(args: CommandArgs, index: number): number {
  return keySlot(args.frameBuffer, args.argStart[index] as number, args.argEnd[index] as number);
}
