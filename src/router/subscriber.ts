// Pub/sub for one client: the node connections its subscriptions live on.
//
//   client ── SUBSCRIBE/PSUBSCRIBE ──> main link (one master; the cluster bus
//          │                           carries PUBLISH to every node)
//          ├─ keyspace channels ─────> + a keyspace link per other master:
//          │                           notifications are node-local, so
//          │                           Slotway fans them in from every master
//          └─ SSUBSCRIBE ────────────> a shard link per master owning a
//                                      channel's slot; moved with the slot
//
// Messages are forwarded as the bytes they arrive as. Confirmations come from
// the main link as Redis counts them; the keyspace links' are dropped (the
// client asked once); shard confirmations are re-counted across shard links.
// When a link dies its subscriptions are made again elsewhere (logged).
import { keySlot } from '../commands/key-slot.js';
import type { Logger } from 'pino';
import type { FrameSink, NodeConnection } from '../backend/node-connection.js';
import { arrayElements, bulkValue, firstWordOf } from '../protocol/reply-elements.js';
import { encodeCommand, pubsubReply } from '../protocol/resp-writer.js';
import { parseRedirect } from './redirect.js';
import type { Lease, Router } from './router.js';

/** The client side: the session. */
export interface SubscriberClient {
  readonly id: number;
  readonly resp3: boolean;
  /** Writes one frame to the client as it is. */
  deliver(frame: Buffer): void;
  /** Every confirmation asked for has come: commands held behind them may go on. */
  onSubscriberSettled(): void;
  /** Handling a frame for this client threw (a Slotway bug): the client is closed, logged and counted. */
  onInternalError(error: unknown): void;
}

const enum Role {
  Main,
  Keyspace,
  Shard,
}

/** Replies one command sent on a link still owes, and whether the client sees them. */
interface Expected {
  remaining: number;
  readonly forward: boolean;
  /** SSUBSCRIBE's channels, to subscribe again elsewhere after -MOVED. */
  readonly channels: readonly string[];
}

interface Link {
  readonly lease: Lease;
  readonly role: Role;
  readonly expected: Expected[];
  /** Shard links: the channels subscribed on it. */
  readonly channels: Set<string>;
}

const WORDS = [
  'message',
  'pmessage',
  'smessage',
  'subscribe',
  'psubscribe',
  'ssubscribe',
  'unsubscribe',
  'punsubscribe',
  'sunsubscribe',
  'pong',
] as const;
const MESSAGE_KINDS = 3; // WORDS[0..2]
const PMESSAGE = 1;
const SSUBSCRIBE = 5;
const SUNSUBSCRIBE = 8;

const KEYSPACE_PREFIXES = ['__keyspace@', '__keyevent@'] as const;

/** Channels and patterns of keyspace notifications, which each node sends only for its own keys. */
export function isKeyspaceName(name: string): boolean {
  return name.startsWith(KEYSPACE_PREFIXES[0]) || name.startsWith(KEYSPACE_PREFIXES[1]);
}

/**
 * A pattern that may match keyspace notification channels (`*`, `__key*`,
 * `__keyspace@0__:user:*` ...): its literal start, up to the first glob
 * character, fits one of the two prefixes. Such a pattern is subscribed on
 * every master too; those links forward only its keyspace messages.
 */
export function mayMatchKeyspace(pattern: string): boolean {
  let literal = 0;
  while (literal < pattern.length && !GLOB_CHARACTERS.includes(pattern[literal] as string)) literal++;
  const head = pattern.slice(0, literal);
  return KEYSPACE_PREFIXES.some((prefix) => prefix.startsWith(head) || head.startsWith(prefix));
}

const GLOB_CHARACTERS = '*?[\\';

/** Names of `kind` that go to every master: keyspace channels, patterns that may match one. */
function reachesEveryMaster(kind: 'subscribe' | 'psubscribe' | 'unsubscribe' | 'punsubscribe', name: string): boolean {
  return kind === 'psubscribe' || kind === 'punsubscribe' ? mayMatchKeyspace(name) : isKeyspaceName(name);
}

export class Subscriber implements FrameSink {
  /** Names as latin1 strings: one character per byte, so binary names survive. */
  readonly channels = new Set<string>();
  readonly patterns = new Set<string>();
  /** Shard channel -> its slot. */
  readonly shardChannels = new Map<string, number>();
  /** Shard channels the nodes have confirmed: what shard counts report. */
  readonly #shardConfirmed = new Set<string>();
  readonly #client: SubscriberClient;
  readonly #router: Router;
  readonly #log: Logger;
  #main: Link | null = null;
  readonly #keyspace = new Map<string, Link>();
  readonly #shards = new Map<string, Link>();
  #resyncTimer: NodeJS.Timeout | null = null;
  #resyncDelayMs = RESYNC_MIN_MS;
  #closed = false;

  constructor(client: SubscriberClient, router: Router, log: Logger) {
    this.#client = client;
    this.#router = router;
    this.#log = log;
    router.onTopologyChange(this.#onTopologyChange);
  }

  /** Subscriptions the client holds (as it asked; confirmations may be on their way). */
  get count(): number {
    return this.channels.size + this.patterns.size + this.shardChannels.size;
  }

  /** No confirmation or PING reply is owed to the client. */
  get settled(): boolean {
    for (const link of this.#links()) if (link.expected.some((e) => e.forward)) return false;
    return true;
  }

  /**
   * Whether a command for the main link may go now, before replies still
   * owed: only if those are the main link's too (then they come in order).
   */
  get mainMayGoNow(): boolean {
    for (const link of this.#links()) if (link !== this.#main && link.expected.some((e) => e.forward)) return false;
    return this.#main !== null || this.settled;
  }

  /** Where PING goes: the main link while it holds channels or patterns. */
  get pingsMain(): boolean {
    return this.channels.size + this.patterns.size > 0;
  }

  /** SUBSCRIBE or PSUBSCRIBE: on the main link; keyspace names on every master. */
  subscribe(kind: 'subscribe' | 'psubscribe', names: readonly Buffer[]): void {
    const set = kind === 'subscribe' ? this.channels : this.patterns;
    const keyspace: Buffer[] = [];
    for (const name of names) {
      const text = name.toString('latin1');
      set.add(text);
      if (reachesEveryMaster(kind, text)) keyspace.push(name);
    }
    const main = this.#mainLink();
    if (main === null) return this.#answerUnreachable(kind, names);
    this.#send(main, encodeCommand([kind, ...names]), names.length, true);
    if (keyspace.length > 0) this.#syncKeyspaceLinks(encodeCommand([kind, ...keyspace]));
  }

  /** UNSUBSCRIBE or PUNSUBSCRIBE, of the names or (none given) of all. */
  unsubscribe(kind: 'unsubscribe' | 'punsubscribe', names: readonly Buffer[]): void {
    const set = kind === 'unsubscribe' ? this.channels : this.patterns;
    const expected = names.length > 0 ? names.length : Math.max(1, set.size);
    let keyspace = names.length === 0;
    for (const name of names) {
      const text = name.toString('latin1');
      set.delete(text);
      if (reachesEveryMaster(kind, text)) keyspace = true;
    }
    if (names.length === 0) set.clear();
    const payload = encodeCommand([kind, ...names]);
    if (this.#main === null) {
      // Nothing is subscribed on a node: Redis's answer, with the client's count.
      const list = names.length > 0 ? names : [null];
      for (const name of list)
        this.#client.deliver(pubsubReply(this.#client.resp3, kind, name, this.channels.size + this.patterns.size));
      return;
    }
    this.#send(this.#main, payload, expected, true);
    if (keyspace) for (const link of this.#keyspace.values()) this.#send(link, payload, 0, false);
  }

  /** SSUBSCRIBE of channels in one slot (the session checked): on the slot's master. */
  ssubscribe(names: readonly Buffer[]): void {
    const texts = names.map((name) => name.toString('latin1'));
    const first = names[0] as Buffer;
    const slot = keySlot(first, 0, first.length);
    for (const text of texts) this.shardChannels.set(text, slot);
    const link = this.#shardLinkFor(slot);
    if (link === null) return this.#answerUnreachable('ssubscribe', names);
    for (const text of texts) link.channels.add(text);
    this.#send(link, encodeCommand(['ssubscribe', ...names]), names.length, true, texts);
  }

  /** SUNSUBSCRIBE of the channels or (none given) of all, on the links holding them. */
  sunsubscribe(names: readonly Buffer[]): void {
    const texts = names.length > 0 ? names.map((name) => name.toString('latin1')) : [...this.shardChannels.keys()];
    if (texts.length === 0) {
      this.#client.deliver(pubsubReply(this.#client.resp3, 'sunsubscribe', null, this.#shardConfirmed.size));
      return;
    }
    for (const text of texts) {
      this.shardChannels.delete(text);
      const link = [...this.#shards.values()].find((l) => l.channels.has(text));
      if (link === undefined) {
        this.#shardConfirmed.delete(text);
        this.#client.deliver(
          pubsubReply(this.#client.resp3, 'sunsubscribe', Buffer.from(text, 'latin1'), this.#shardConfirmed.size),
        );
        continue;
      }
      link.channels.delete(text);
      this.#send(link, encodeCommand(['sunsubscribe', Buffer.from(text, 'latin1')]), 1, true);
    }
  }

  /** PING in subscribed mode: answered by a node in order with the confirmations (`pong` array in RESP2). */
  ping(payload: Buffer, message: Buffer | null): void {
    const link = this.pingsMain
      ? this.#main
      : ([...this.#shards.values()].find((l) => l.channels.size > 0) ?? this.#main);
    if (link === null || link.lease.connection.state === 'closed') {
      this.#client.deliver(encodeCommand(['pong', message ?? '']));
      return;
    }
    this.#send(link, payload, 1, true);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#router.offTopologyChange(this.#onTopologyChange);
    if (this.#resyncTimer !== null) clearTimeout(this.#resyncTimer);
    for (const link of this.#links()) link.lease.pool.release(link.lease.connection, false);
    this.#main = null;
    this.#keyspace.clear();
    this.#shards.clear();
  }

  onFrame(connection: NodeConnection, buffer: Buffer, start: number, end: number): void {
    const link = this.#linkOf(connection);
    if (link === undefined) return;
    const word = firstWordOf(buffer, start, end, WORDS);
    if (word >= 0 && word < MESSAGE_KINDS) {
      // A keyspace link forwards keyspace notifications only: the bus brings every other message to the main link too.
      if (link.role === Role.Keyspace && !isKeyspaceMessage(buffer.subarray(start, end), word)) return;
      this.#client.deliver(buffer.subarray(start, end));
      return;
    }
    if (link.role === Role.Keyspace) return; // its confirmations: the client has the main link's
    this.#resyncDelayMs = RESYNC_MIN_MS;
    const expected = link.expected[0];
    if (buffer[start] === 45 /* '-' */) {
      link.expected.shift();
      if (link.role === Role.Shard && this.#movedAway(buffer, start, end, expected)) return this.#afterReply();
      if (expected?.forward === true) this.#client.deliver(buffer.subarray(start, end));
      return this.#afterReply();
    }
    if (link.role === Role.Shard && (word === SSUBSCRIBE || word === SUNSUBSCRIBE)) {
      this.#shardConfirmation(link, word, buffer.subarray(start, end), expected);
      return this.#afterReply();
    }
    if (expected !== undefined && --expected.remaining <= 0) link.expected.shift();
    if (expected?.forward === true) this.#client.deliver(buffer.subarray(start, end));
    this.#afterReply();
  }

  onInternalError(error: unknown): void {
    this.#client.onInternalError(error);
  }

  onClosed(connection: NodeConnection, reason: string): void {
    const link = this.#linkOf(connection);
    if (link === undefined || this.#closed) return;
    link.lease.pool.release(connection, false);
    if (link === this.#main) this.#main = null;
    this.#keyspace.delete(link.lease.pool.address);
    this.#shards.delete(link.lease.pool.address);
    this.#log.warn({ node: link.lease.pool.address, reason }, 'pub/sub connection lost; subscribing again elsewhere');
    // Subscriptions on it are made again by the resync; shard channels are looked up anew.
    for (const channel of link.channels) this.#shardConfirmed.delete(channel);
    this.#router.requestRefresh('pub/sub connection lost');
    this.#scheduleResync();
    this.#afterReply();
  }

  #afterReply(): void {
    if (this.settled) this.#client.onSubscriberSettled();
  }

  /** ssubscribe/sunsubscribe from a shard link: re-counted; an unasked sunsubscribe means the slot moved. */
  #shardConfirmation(link: Link, word: number, frame: Buffer, expected: Expected | undefined): void {
    const channelElement = arrayElements(frame)[1];
    const channel = channelElement === undefined ? null : bulkValue(channelElement);
    const text = channel === null ? '' : channel.toString('latin1');
    if (expected === undefined) {
      // Not asked for: the node gave the slot away and dropped the channel (Redis 7 does this).
      link.channels.delete(text);
      if (this.shardChannels.has(text)) {
        this.#log.info(
          { channel: text, node: link.lease.pool.address },
          'shard channel left its node; subscribing at the new owner',
        );
        this.#router.requestRefresh('shard channel moved');
        this.#scheduleResync();
      }
      return;
    }
    if (--expected.remaining <= 0) link.expected.shift();
    if (word === SSUBSCRIBE) this.#shardConfirmed.add(text);
    else this.#shardConfirmed.delete(text);
    if (expected.forward)
      this.#client.deliver(pubsubReply(this.#client.resp3, WORDS[word] as string, channel, this.#shardConfirmed.size));
  }

  /** -MOVED to an SSUBSCRIBE: learn the owner and subscribe there (confirmations still owed go with it). */
  #movedAway(buffer: Buffer, start: number, end: number, expected: Expected | undefined): boolean {
    if (expected === undefined || expected.channels.length === 0) return false;
    const redirect = parseRedirect(buffer, start, end, '', this.#router.addresses);
    if (redirect === null) return false;
    this.#router.noteMoved(redirect.slot, redirect.host, redirect.port);
    for (const link of this.#shards.values()) for (const channel of expected.channels) link.channels.delete(channel);
    const link = this.#shardLinkFor(redirect.slot);
    if (link === null) return false;
    const channels = expected.channels.filter((c) => this.shardChannels.has(c));
    if (channels.length === 0) return true;
    for (const channel of channels) link.channels.add(channel);
    const names = channels.map((c) => Buffer.from(c, 'latin1'));
    this.#send(link, encodeCommand(['ssubscribe', ...names]), names.length, expected.forward, channels);
    return true;
  }

  /** Writes a command on a link, expecting `replies` frames back (keyspace links: none are read). */
  #send(link: Link, payload: Buffer, replies: number, forward: boolean, channels: readonly string[] = []): void {
    if (link.role !== Role.Keyspace) link.expected.push({ remaining: replies, forward, channels });
    link.lease.connection.write(payload);
  }

  #mainLink(): Link | null {
    if (this.#main !== null) return this.#main;
    const lease = this.#router.lease(-1, this.#client.id, this.#client.resp3);
    if (typeof lease === 'string') return null;
    this.#main = this.#open(lease, Role.Main);
    return this.#main;
  }

  #shardLinkFor(slot: number): Link | null {
    const owner = this.#router.ownerOf(slot);
    if (owner === undefined) return null;
    let link = this.#shards.get(owner);
    if (link === undefined) {
      const lease = this.#router.leaseAt(owner, this.#client.resp3);
      if (typeof lease === 'string') return null;
      link = this.#open(lease, Role.Shard);
      this.#shards.set(owner, link);
    }
    return link;
  }

  #open(lease: Lease, role: Role): Link {
    lease.connection.streamTo(this);
    return { lease, role, expected: [], channels: new Set() };
  }

  /** Keyspace links to every master but the main link's; `payload` goes to those already open. */
  #syncKeyspaceLinks(payload: Buffer | null): void {
    const wanted = new Set(
      this.#keyspaceNames('subscribe').length + this.#keyspaceNames('psubscribe').length > 0
        ? this.#router.masterAddresses()
        : [],
    );
    if (this.#main !== null) wanted.delete(this.#main.lease.pool.address);
    for (const [address, link] of this.#keyspace) {
      if (wanted.has(address)) continue;
      this.#keyspace.delete(address);
      link.lease.pool.release(link.lease.connection, false);
    }
    for (const address of wanted) {
      const existing = this.#keyspace.get(address);
      if (existing !== undefined) {
        if (payload !== null) this.#send(existing, payload, 0, false);
        continue;
      }
      const lease = this.#router.leaseAt(address, this.#client.resp3);
      if (typeof lease === 'string') continue;
      const link = this.#open(lease, Role.Keyspace);
      this.#keyspace.set(address, link);
      this.#resubscribe(link, this.#keyspaceNames('subscribe'), this.#keyspaceNames('psubscribe'));
    }
  }

  #keyspaceNames(kind: 'subscribe' | 'psubscribe'): Buffer[] {
    const set = kind === 'subscribe' ? this.channels : this.patterns;
    return [...set].filter((name) => reachesEveryMaster(kind, name)).map((name) => Buffer.from(name, 'latin1'));
  }

  #resubscribe(link: Link, channels: readonly Buffer[], patterns: readonly Buffer[]): void {
    if (channels.length > 0) this.#send(link, encodeCommand(['subscribe', ...channels]), channels.length, false);
    if (patterns.length > 0) this.#send(link, encodeCommand(['psubscribe', ...patterns]), patterns.length, false);
  }

  readonly #onTopologyChange = (): void => {
    this.#resync();
  };

  #scheduleResync(): void {
    if (this.#resyncTimer !== null || this.#closed) return;
    this.#resyncTimer = setTimeout(() => {
      this.#resyncTimer = null;
      this.#resync();
    }, this.#resyncDelayMs);
    this.#resyncTimer.unref();
    this.#resyncDelayMs = Math.min(RESYNC_MAX_MS, this.#resyncDelayMs * 2);
  }

  /** Puts every subscription where it belongs now: after a lost link or a topology change. */
  #resync(): void {
    if (this.#closed) return;
    let missing = false;
    if (this.#main === null && this.channels.size + this.patterns.size > 0) {
      const main = this.#mainLink();
      if (main === null) missing = true;
      else {
        this.#log.info({ node: main.lease.pool.address }, 'pub/sub subscriptions made again');
        const all = (set: Set<string>): Buffer[] => [...set].map((name) => Buffer.from(name, 'latin1'));
        this.#resubscribe(main, all(this.channels), all(this.patterns));
      }
    }
    this.#syncKeyspaceLinks(null);
    for (const [channel, slot] of this.shardChannels) {
      const owner = this.#router.ownerOf(slot);
      const current = [...this.#shards.values()].find((link) => link.channels.has(channel));
      if (current !== undefined && current.lease.pool.address === owner) continue;
      if (current !== undefined) {
        current.channels.delete(channel);
        this.#send(current, encodeCommand(['sunsubscribe', Buffer.from(channel, 'latin1')]), 1, false);
      }
      const link = this.#shardLinkFor(slot);
      if (link === null) {
        missing = true;
        continue;
      }
      link.channels.add(channel);
      this.#send(link, encodeCommand(['ssubscribe', Buffer.from(channel, 'latin1')]), 1, false, [channel]);
    }
    // Shard links left with nothing to carry are closed.
    for (const [address, link] of this.#shards) {
      if (link.channels.size > 0 || link.expected.length > 0) continue;
      this.#shards.delete(address);
      link.lease.pool.release(link.lease.connection, false);
    }
    // The delay goes back down only when a node answers (see onFrame): a
    // lease on a node that just died "succeeds" and fails a moment later.
    if (missing) this.#scheduleResync();
  }

  /** No node could take the subscription now: the client hears the same error Redis gives a cluster without owner. */
  #answerUnreachable(kind: string, names: readonly Buffer[]): void {
    this.#log.warn({ kind }, 'no node to subscribe on; will retry');
    this.#scheduleResync();
    for (const name of names) this.#client.deliver(pubsubReply(this.#client.resp3, kind, name, this.count));
  }

  #linkOf(connection: NodeConnection): Link | undefined {
    if (this.#main?.lease.connection === connection) return this.#main;
    for (const link of this.#keyspace.values()) if (link.lease.connection === connection) return link;
    for (const link of this.#shards.values()) if (link.lease.connection === connection) return link;
    return undefined;
  }

  *#links(): Iterable<Link> {
    if (this.#main !== null) yield this.#main;
    yield* this.#keyspace.values();
    yield* this.#shards.values();
  }
}

/** A `message` (channel second) or `pmessage` (channel third) on a keyspace notification channel. */
function isKeyspaceMessage(frame: Buffer, word: number): boolean {
  const channel = arrayElements(frame)[word === PMESSAGE ? 2 : 1];
  const name = channel === undefined ? null : bulkValue(channel);
  return name !== null && isKeyspaceName(name.toString('latin1'));
}

const RESYNC_MIN_MS = 100;
const RESYNC_MAX_MS = 2000;
