// One line of CLIENT LIST / CLIENT INFO for a Slotway client, with Redis's
// fields in Redis's order (redis-server 7.0.15's line, plus lib-name and
// lib-ver of 7.2, since Slotway takes CLIENT SETINFO):
//
//   id addr laddr fd name age idle flags db sub psub ssub multi qbuf qbuf-free
//   argv-mem multi-mem rbs rbp obl oll omem tot-mem events cmd user redir resp
//   lib-name lib-ver
//
// The values are Slotway's, read from the session when asked (nothing is
// kept for them on the hot path but the last command's spec and the time of
// the last read). Fields of Redis's memory allocator that Slotway has no
// counterpart for (qbuf-free, argv-mem, multi-mem, rbs, rbp, obl) are 0.
import { formatPeer } from '../util/peer-address.js';
import type { CommandSpec } from '../commands/command-spec.js';
import type { Request } from '../router/request.js';
import type { Subscriber } from '../router/subscriber.js';
import type { User } from './client-auth.js';
import type { Transaction } from './transaction.js';

/** The modes a CLIENT LIST line reads (session-modes.ts has them). */
export interface ClientModes {
  readonly subscriber: Pick<Subscriber, 'count' | 'channels' | 'patterns' | 'shardChannels'> | null;
  readonly transaction: Pick<Transaction, 'inMulti' | 'queued'> | null;
  readonly monitoring: boolean;
  /** The blocking command in flight on its own lease. */
  readonly blocked: Request | null;
}

/** What a CLIENT LIST line reads of a client session. */
export interface ClientView {
  readonly id: number;
  /** CLIENT SETNAME's value, CLIENT SETINFO's. */
  readonly name: string;
  readonly libName: string;
  readonly libVersion: string;
  readonly resp3: boolean;
  readonly user: User | null;
  /** Date.now() when it connected. */
  readonly connectedAt: number;
  /** performance.now() of its last input. */
  readonly lastInputAt: number;
  /** The last command it sent (null: none yet). */
  readonly lastCommand: CommandSpec | null;
  /** The client's address and port, and those it reached Slotway at. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** The socket's file descriptor, -1 when Node does not say. */
  readonly fd: number;
  readonly modes: ClientModes;
  /** Replies owed, in order (oll). */
  readonly pendingReplies: number;
  /** Bytes held for it: commands in flight, replies waiting or unwritten (omem). */
  readonly heldBytes: number;
  /** Input read but not yet a whole command (qbuf). */
  readonly inputBytes: number;
  /** Reply bytes the socket has not written yet. */
  readonly unwrittenBytes: number;
  /** Its socket is read from now (not paused by backpressure, a stall or CLIENT PAUSE). */
  readonly reading: boolean;
  /** Closes once its replies are written (QUIT, CLIENT KILL of itself). */
  readonly closing: boolean;
  /**
   * CLIENT TRACKING's flags (t, R, B, in that order) and redirection: absent
   * without tracking. Client tracking provides them; clientFlags puts them
   * where Redis does.
   */
  readonly trackingFlags?: string;
  readonly trackingRedirect?: number;
}

/** Redis's client types (CLIENT LIST TYPE, CLIENT KILL TYPE); Slotway has no master or replica clients. */
export const enum ClientType {
  Normal = 0,
  Replica = 1,
  Pubsub = 2,
  Master = 3,
}

/** The type of a name as Redis reads it (case-insensitive), or -1. */
export function clientTypeByName(name: string): ClientType | -1 {
  switch (name.toLowerCase()) {
    case 'normal':
      return ClientType.Normal;
    case 'slave':
    case 'replica':
      return ClientType.Replica;
    case 'pubsub':
      return ClientType.Pubsub;
    case 'master':
      return ClientType.Master;
    default:
      return -1;
  }
}

/** Redis's getClientType: subscribed clients are pubsub, the rest (MONITOR too) normal. */
export function clientType(client: ClientView): ClientType {
  return subscriptions(client) > 0 ? ClientType.Pubsub : ClientType.Normal;
}

function subscriptions(client: ClientView): number {
  return client.modes.subscriber?.count ?? 0;
}

/** The flags field, letters in Redis's order (networking.c catClientInfoString); N when none. */
export function clientFlags(client: ClientView): string {
  const modes = client.modes;
  let flags = '';
  if (modes.monitoring) flags += 'O';
  if (subscriptions(client) > 0) flags += 'P';
  if (modes.transaction?.inMulti === true) flags += 'x';
  if (modes.blocked !== null) flags += 'b';
  if (client.trackingFlags !== undefined) flags += client.trackingFlags;
  if (client.closing) flags += 'c';
  return flags === '' ? 'N' : flags;
}

/** The client's line, without the newline. `now` is Date.now(), `perfNow` performance.now(). */
export function clientLine(client: ClientView, now: number, perfNow: number): string {
  const modes = client.modes;
  const subscriber = modes.subscriber;
  const transaction = modes.transaction;
  const multi = transaction?.inMulti === true ? transaction.queued : -1;
  const qbuf = client.inputBytes;
  const events = (client.reading ? 'r' : '') + (client.unwrittenBytes > 0 ? 'w' : '');
  return (
    `id=${client.id} addr=${formatPeer(client.remoteAddress, client.remotePort)}` +
    ` laddr=${formatPeer(client.localAddress, client.localPort)} fd=${client.fd} name=${client.name}` +
    ` age=${Math.max(0, Math.floor((now - client.connectedAt) / 1000))}` +
    ` idle=${Math.max(0, Math.floor((perfNow - client.lastInputAt) / 1000))}` +
    ` flags=${clientFlags(client)} db=0 sub=${subscriber?.channels.size ?? 0}` +
    ` psub=${subscriber?.patterns.size ?? 0} ssub=${subscriber?.shardChannels.size ?? 0} multi=${multi}` +
    ` qbuf=${qbuf} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=${client.pendingReplies}` +
    ` omem=${client.heldBytes} tot-mem=${client.heldBytes + qbuf} events=${events}` +
    ` cmd=${client.lastCommand === null || client.lastCommand.name === '' ? 'NULL' : client.lastCommand.name}` +
    ` user=${client.user?.name ?? 'default'} redir=${client.trackingRedirect ?? -1} resp=${client.resp3 ? 3 : 2}` +
    ` lib-name=${client.libName} lib-ver=${client.libVersion}`
  );
}
