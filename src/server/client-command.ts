// The CLIENT subcommands that look at or act on Slotway's own clients, in
// Redis's formats and words: LIST, INFO, KILL, UNBLOCK, PAUSE, UNPAUSE and
// REPLY. The nodes' clients (Slotway's connections) are never listed, killed
// or paused; the one thing sent to a node is CLIENT UNBLOCK for the lease a
// blocked client waits on, so the node itself answers the blocked command.
//
// Who may act on whom: a users-file admin (User.administersNodes) on every
// client; any other user only on clients authenticated as the same user
// (without a users file every client is the default user, as in a Redis
// without ACL users). Others are not counted, as clients that do not match.
// CLIENT PAUSE and UNPAUSE hold every client: users-file admins only, like
// the node administration rows of the policy table.
import { argumentText } from '../commands/command-args.js';
import type { CommandArgs } from '../commands/command-spec.js';
import * as errors from '../protocol/errors.js';
import { OK, encodeCommand, errorReply, integerReply } from '../protocol/resp-writer.js';
import { parseInteger } from '../protocol/stream-framer.js';
import { formatPeer } from '../util/peer-address.js';
import { ClientType, clientLine, clientType, clientTypeByName, type ClientView } from './client-list.js';
import { PauseMode, type ClientRegistry, type RegisteredClient } from './client-registry.js';
import type { UserDirectory } from './client-auth.js';
import { ReplyMode } from './reply-mode.js';

/** What the CLIENT subcommands need of the client that sends them. */
export interface ClientCommandHost extends ClientView {
  readonly clients: ClientRegistry;
  /** Every user Slotway knows (CLIENT KILL USER names one). */
  readonly users: UserDirectory;
  /** CLIENT REPLY's mode, applied as its requests join the reply queue (reply-mode.ts). */
  replyMode: ReplyMode;
  closeAfterReplies(): void;
}

const ZERO = integerReply(0);

function argInteger(args: CommandArgs, index: number): number {
  return parseInteger(args.frameBuffer, args.argStart[index] as number, args.argEnd[index] as number);
}

/** Redis's words for a subcommand given the wrong number of arguments by its own rules. */
function subcommandSyntax(name: string): string {
  return `ERR unknown subcommand or wrong number of arguments for '${name}'. Try CLIENT HELP.`;
}

/** A reply of text lines: a bulk string, or RESP3's verbatim string (txt), as Redis sends CLIENT LIST. */
function textReply(host: ClientCommandHost, text: string): Buffer {
  const body = Buffer.from(host.resp3 ? `txt:${text}` : text);
  return Buffer.concat([Buffer.from(`${host.resp3 ? '=' : '$'}${body.length}\r\n`), body, Buffer.from('\r\n')]);
}

/** CLIENT LIST [TYPE type] [ID id ...]. */
export function clientList(host: ClientCommandHost, args: CommandArgs): Buffer {
  const now = Date.now();
  const perfNow = performance.now();
  let text = '';
  const option = args.argc > 2 ? argumentText(args, 2).toLowerCase() : '';
  if (args.argc === 4 && option === 'type') {
    const name = argumentText(args, 3);
    const type = clientTypeByName(name);
    if (type === -1) return errorReply(`ERR Unknown client type '${name}'`);
    for (const client of host.clients.all())
      if (clientType(client) === type) text += `${clientLine(client, now, perfNow)}\n`;
  } else if (args.argc > 3 && option === 'id') {
    const ids: number[] = [];
    for (let i = 3; i < args.argc; i++) {
      const id = argInteger(args, i);
      if (!(id >= 1)) return errorReply('ERR Invalid client ID');
      ids.push(id);
    }
    for (const id of ids) {
      const client = host.clients.get(id);
      if (client !== undefined) text += `${clientLine(client, now, perfNow)}\n`;
    }
  } else if (args.argc !== 2) {
    return errorReply(errors.SYNTAX);
  } else {
    for (const client of host.clients.all()) text += `${clientLine(client, now, perfNow)}\n`;
  }
  return textReply(host, text);
}

/** CLIENT INFO: the sender's own line. */
export function clientInfo(host: ClientCommandHost): Buffer {
  return textReply(host, `${clientLine(host, Date.now(), performance.now())}\n`);
}

/** `host` may act on `client` (KILL, UNBLOCK): see the header. */
function mayActOn(host: ClientCommandHost, client: ClientView): boolean {
  const user = host.user;
  if (user === null) return false;
  return user.administersNodes || client.user?.name === user.name;
}

/** Closes `client`; the sender itself once this reply is written, as Redis does. */
function kill(host: ClientCommandHost, client: RegisteredClient): void {
  if (client.id === host.id) host.closeAfterReplies();
  else client.destroy();
}

interface KillFilter {
  id: number;
  type: ClientType | -1;
  addr: string | null;
  laddr: string | null;
  user: string | null;
  skipMe: boolean;
}

/** CLIENT KILL ip:port (old form: +OK or an error) or CLIENT KILL <filter> <value> ... (new form: the count). */
export function clientKill(host: ClientCommandHost, args: CommandArgs): Buffer {
  if (args.argc === 3) {
    const addr = argumentText(args, 2);
    for (const client of host.clients.all()) {
      if (formatPeer(client.remoteAddress, client.remotePort) !== addr || !mayActOn(host, client)) continue;
      kill(host, client);
      return OK;
    }
    return errorReply('ERR No such client');
  }
  const filter: KillFilter = { id: 0, type: -1, addr: null, laddr: null, user: null, skipMe: true };
  for (let i = 2; i < args.argc; i += 2) {
    if (i + 1 >= args.argc) return errorReply(errors.SYNTAX);
    const option = argumentText(args, i).toLowerCase();
    const value = argumentText(args, i + 1);
    switch (option) {
      case 'id': {
        const id = argInteger(args, i + 1);
        if (!(id >= 1)) return errorReply('ERR client-id should be greater than 0');
        filter.id = id;
        break;
      }
      case 'type':
        filter.type = clientTypeByName(value);
        if (filter.type === -1) return errorReply(`ERR Unknown client type '${value}'`);
        break;
      case 'addr':
        filter.addr = value;
        break;
      case 'laddr':
        filter.laddr = value;
        break;
      case 'user':
        if (host.users.get(value) === undefined) return errorReply(`ERR No such user '${value}'`);
        filter.user = value;
        break;
      case 'skipme': {
        const answer = value.toLowerCase();
        if (answer !== 'yes' && answer !== 'no') return errorReply(errors.SYNTAX);
        filter.skipMe = answer === 'yes';
        break;
      }
      default:
        return errorReply(errors.SYNTAX);
    }
  }
  const matched: RegisteredClient[] = [];
  for (const client of host.clients.all()) if (matches(host, client, filter)) matched.push(client);
  for (const client of matched) kill(host, client);
  return integerReply(matched.length);
}

function matches(host: ClientCommandHost, client: RegisteredClient, filter: KillFilter): boolean {
  if (filter.id !== 0 && client.id !== filter.id) return false;
  if (filter.type !== -1 && clientType(client) !== filter.type) return false;
  if (filter.addr !== null && formatPeer(client.remoteAddress, client.remotePort) !== filter.addr) return false;
  if (filter.laddr !== null && formatPeer(client.localAddress, client.localPort) !== filter.laddr) return false;
  if (filter.user !== null && (client.user?.name ?? 'default') !== filter.user) return false;
  if (filter.skipMe && client.id === host.id) return false;
  return mayActOn(host, client);
}

/**
 * CLIENT UNBLOCK id [TIMEOUT|ERROR]. A Slotway client blocked (BLPOP, XREAD
 * BLOCK ...) waits on a lease; the node's CLIENT UNBLOCK of that lease's id
 * (learnt before its first blocking command: NodeConnection.learnClientId) makes the
 * node answer the blocked command itself, nil or -UNBLOCKED, so an element it
 * has just served still reaches the client. The node's :1 or :0 is the reply.
 */
export function clientUnblock(host: ClientCommandHost, args: CommandArgs): Buffer | Promise<Buffer> {
  if (args.argc !== 3 && args.argc !== 4) return errorReply(subcommandSyntax('unblock'));
  let reason = 'TIMEOUT';
  if (args.argc === 4) {
    reason = argumentText(args, 3).toUpperCase();
    if (reason !== 'TIMEOUT' && reason !== 'ERROR')
      return errorReply('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
  }
  const id = argInteger(args, 2);
  if (Number.isNaN(id)) return errorReply(errors.NOT_INTEGER);
  const client = host.clients.get(id);
  if (client === undefined || !mayActOn(host, client)) return ZERO;
  const blocked = client.modes.blocked;
  const lease = blocked?.lease ?? null;
  const pool = blocked?.leasePool ?? null;
  if (blocked === null || blocked.done || lease === null || pool === null || !(lease.nodeClientId >= 0)) return ZERO;
  const payload = encodeCommand(['CLIENT', 'UNBLOCK', String(lease.nodeClientId), reason]);
  return new Promise<Buffer>((resolve) => {
    // On the node's shared connection: CLIENT UNBLOCK changes nothing of the connection it is sent on.
    pool.send(
      {
        payload,
        onNodeReply: (buffer, start, end) => resolve(Buffer.from(buffer.subarray(start, end))),
        onNodeFailure: () => resolve(ZERO),
      },
      host.id,
    );
  });
}

/** CLIENT PAUSE timeout [WRITE|ALL]: Slotway holds its own clients (client-registry.ts), not the nodes. */
export function clientPause(host: ClientCommandHost, args: CommandArgs): Buffer {
  if (host.user?.administersNodes !== true) return errorReply(errors.clientAdminOnly('CLIENT PAUSE'));
  if (args.argc !== 3 && args.argc !== 4) return errorReply(subcommandSyntax('pause'));
  const timeout = argInteger(args, 2);
  if (Number.isNaN(timeout)) return errorReply('ERR timeout is not an integer or out of range');
  if (timeout < 0) return errorReply('ERR timeout is negative');
  let mode = PauseMode.All;
  if (args.argc === 4) {
    const word = argumentText(args, 3).toLowerCase();
    if (word === 'write') mode = PauseMode.Write;
    else if (word !== 'all') return errorReply('ERR CLIENT PAUSE mode must be WRITE or ALL');
  }
  host.clients.pause(timeout, mode);
  return OK;
}

export function clientUnpause(host: ClientCommandHost): Buffer {
  if (host.user?.administersNodes !== true) return errorReply(errors.clientAdminOnly('CLIENT UNPAUSE'));
  host.clients.unpause();
  return OK;
}

/** CLIENT REPLY ON|OFF|SKIP: the reply of OFF and SKIP is never written (reply-mode.ts). */
export function clientReply(host: ClientCommandHost, args: CommandArgs): Buffer {
  const word = argumentText(args, 2).toLowerCase();
  if (word === 'on') host.replyMode = ReplyMode.On;
  else if (word === 'off') host.replyMode = ReplyMode.Off;
  else if (word === 'skip') {
    if (host.replyMode !== ReplyMode.Off) host.replyMode = ReplyMode.SkipNext;
  } else return errorReply(errors.SYNTAX);
  return OK;
}
