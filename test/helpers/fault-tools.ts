// Counting tools for the fault tests (proxy-faults-*.test.ts): open file
// descriptors of this process, each node's client connections, and raw
// one-command clients that can leave at awkward moments.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { TOPOLOGY_PROBE_NAME } from '../../src/cluster/discovery.js';
import type { LocalClusterNode } from '../../src/demo/local-cluster.js';
import { encodeCommand } from '../../src/protocol/resp-writer.js';

/** File descriptors this process has open now (Linux: /proc/self/fd). */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/**
 * What this process's descriptors are, counted by kind: TCP sockets by their
 * local and remote address and state (from /proc/net/tcp; ephemeral ports as
 * *, so a connection to a node stays one kind when it is replaced), the rest
 * by what they link to. For failure messages: a leak says what leaked.
 */
export function describeFds(): Map<string, number> {
  const tcp = new Map<string, string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      tcp.set(
        fields[9] as string,
        `tcp ${procAddress(fields[1] as string)}->${procAddress(fields[2] as string)} ${TCP_STATES[parseInt(fields[3] as string, 16)] ?? fields[3]}`,
      );
    }
  }
  const kinds = new Map<string, number>();
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed meanwhile (readdir's own descriptor among them)
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    const kind = inode === undefined ? target.replace(/\d+/g, 'N') : (tcp.get(inode) ?? 'socket (not TCP)');
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return kinds;
}

/** The kinds of descriptor whose count differs between `before` and `now`, one line. */
export function fdsChanged(before: Map<string, number>, now: Map<string, number>): string {
  const changed: string[] = [];
  for (const kind of new Set([...before.keys(), ...now.keys()])) {
    const [was = 0, is = 0] = [before.get(kind), now.get(kind)];
    if (was !== is) changed.push(`${kind}: ${was} -> ${is}`);
  }
  return changed.length === 0 ? 'none' : changed.join('; ');
}

/** Linux's default ip_local_port_range starts here; node ports in the tests stay below 22768. */
const EPHEMERAL_PORTS_START = 32768;
const TCP_STATES = [
  '',
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
];

/** /proc/net/tcp's "0100007F:1F90" as 127.0.0.1:8080 (IPv4; IPv6 left in hex). */
function procAddress(hex: string): string {
  const [host = '', port = ''] = hex.split(':');
  const address =
    host.length === 8 ? [3, 2, 1, 0].map((i) => parseInt(host.slice(i * 2, i * 2 + 2), 16)).join('.') : host;
  const number = parseInt(port, 16);
  return `${address}:${number >= EPHEMERAL_PORTS_START ? '*' : number}`;
}

/**
 * Client connections a node has, from CLIENT LIST, without the one asking,
 * without replication links (flags S/M) and without Slotway's topology
 * probes, which come and go every refresh: Slotway's node connections and
 * whatever else our tests hold open.
 */
export async function nodeClients(node: LocalClusterNode): Promise<number> {
  const client = new Redis({
    host: node.host,
    port: node.port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    const self = await client.client('ID');
    const lines = String(await client.client('LIST'))
      .trim()
      .split('\n');
    return lines.filter((line) => {
      const id = Number(/(?:^|\s)id=(\d+)/.exec(line)?.[1]);
      const flags = /(?:^|\s)flags=(\S+)/.exec(line)?.[1] ?? '';
      const name = /(?:^|\s)name=(\S*)/.exec(line)?.[1] ?? '';
      return id !== self && !flags.includes('S') && !flags.includes('M') && name !== TOPOLOGY_PROBE_NAME;
    }).length;
  } finally {
    client.disconnect();
  }
}

/** nodeClients of every node given, as "address=count" pairs in the given order. */
export async function clientsPerNode(nodes: readonly LocalClusterNode[]): Promise<string> {
  const counts = await Promise.all(nodes.map((node) => nodeClients(node)));
  return nodes.map((node, i) => `${node.address}=${counts[i]}`).join(' ');
}

/** Runs `tasks` with at most `limit` in flight; resolves when all are done (rejects on the first failure). */
export async function withConcurrency(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

/** How a raw client leaves. */
export const enum Leave {
  /** Reads the whole reply, then half-closes (FIN). */
  AfterReplyEnd,
  /** Reads the whole reply, then resets (destroy). */
  AfterReplyDestroy,
  /** Writes the command and resets at once, reply still in flight. */
  BeforeReply,
  /** Writes the command and resets after `delayMs`, without reading (a client blocked or subscribed). */
  AfterDelay,
}

/** A TCP connection to `port`, resolved once connected. */
export function openSocket(port: number, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host, noDelay: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => {});
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/**
 * Reads from `socket` until `until(received)` holds; rejects after `timeoutMs`
 * or when the socket closes first. Returns what was received.
 */
export function readUntil(socket: Socket, until: (received: string) => boolean, timeoutMs = 10000): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const done = (error: Error | null): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (error === null) resolve(received);
      else reject(error);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.toString('latin1');
      if (until(received)) done(null);
    };
    const onClose = (): void => done(new Error(`connection closed after ${JSON.stringify(received)}`));
    const timer = setTimeout(
      () => done(new Error(`no complete reply within ${timeoutMs} ms: ${JSON.stringify(received)}`)),
      timeoutMs,
    );
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

/** One connection, `commands` written at once, `replies` CRLF-ended lines awaited (unless leaving early), then gone. */
export async function rawCycle(
  port: number,
  commands: string[][],
  replyLines: number,
  leave: Leave,
  delayMs = 0,
): Promise<string> {
  const socket = await openSocket(port);
  try {
    socket.write(Buffer.concat(commands.map((args) => encodeCommand(args))));
    if (leave === Leave.BeforeReply) return '';
    if (leave === Leave.AfterDelay) {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return '';
    }
    const reply = await readUntil(socket, (text) => text.split('\r\n').length > replyLines);
    if (leave === Leave.AfterReplyEnd) {
      await new Promise<void>((resolve) => socket.end(resolve));
    }
    return reply;
  } finally {
    socket.destroy();
  }
}
