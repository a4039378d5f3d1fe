// socket.io's three Redis adapters through Slotway, pointed at it as at one
// plain Redis: each counts the servers with PUBSUB NUMSUB (or SHARDNUMSUB)
// and waits for that many answers, so a count of one master's share makes
// fetchSockets(), serverSideEmitWithAck() and allRooms() miss servers (or
// time out). Two socket.io servers in this process, one client on each.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import { createAdapter as createStreamsAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { Server } from 'socket.io';
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { eventuallyAsync, startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';

type AdapterFactory = NonNullable<ConstructorParameters<typeof Server>[1]>['adapter'];

let env: ProxyCluster;

before(async () => {
  env = await startProxyCluster();
});

after(async () => {
  await env?.close();
});

/** What one test started, closed in reverse order whatever happens. */
class Cleanups {
  readonly #steps: (() => unknown)[] = [];

  add(step: () => unknown): void {
    this.#steps.push(step);
  }

  async run(): Promise<void> {
    for (const step of this.#steps.reverse()) await Promise.resolve(step()).catch(() => {});
  }
}

/** The classic adapter's allRooms(): every server's rooms, asked over Redis. */
interface RoomLister {
  allRooms(): Promise<Set<string>>;
}

interface Pair {
  readonly servers: [Server, Server];
  readonly clients: [ClientSocket, ClientSocket];
}

/**
 * Two socket.io servers with an adapter each (`adapter(i)`), the first
 * client's socket joining `rooms[0]`, the second's `rooms[1]`.
 */
async function twoServers(
  cleanups: Cleanups,
  adapter: (i: number) => AdapterFactory | Promise<AdapterFactory>,
  rooms: [string[], string[]] = [[], []],
): Promise<Pair> {
  const servers: Server[] = [];
  const clients: ClientSocket[] = [];
  for (let i = 0; i < 2; i++) {
    const http: HttpServer = createServer();
    const io = new Server(http, { adapter: await adapter(i) });
    cleanups.add(() => io.close());
    io.on('connection', (socket) => {
      void socket.join(rooms[i] ?? []);
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    const port = (http.address() as AddressInfo).port;
    const client = connectClient(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false });
    cleanups.add(() => client.disconnect());
    await new Promise((resolve, reject) => {
      client.once('connect', () => resolve(undefined));
      client.once('connect_error', reject);
    });
    servers.push(io);
    clients.push(client);
  }
  return { servers: servers as [Server, Server], clients: clients as [ClientSocket, ClientSocket] };
}

/**
 * fetchSockets() and serverSideEmitWithAck() from the first server see the
 * second. First, the count the adapter reads (`count` = NUMSUB or SHARDNUMSUB
 * of its channel) must reach 2 through Slotway: the adapters subscribe
 * without waiting, so the count settles a moment after they start. A count
 * that never reaches 2 (one master's share) fails here.
 */
async function assertSeesBoth({ servers }: Pair, count: string, channel: string): Promise<void> {
  const probe = ioredis();
  try {
    await eventuallyAsync(
      async () => numsub(await probe.call('PUBSUB', count, channel)) === 2,
      `PUBSUB ${count} ${channel} = 2`,
      5000,
    );
  } finally {
    probe.disconnect();
  }
  const [first, second] = servers;
  second.on('question', (callback: (answer: string) => void) => callback('from the second server'));
  const sockets = await first.fetchSockets();
  assert.equal(sockets.length, 2, 'fetchSockets() sees the socket of each server');
  const answers: unknown = await first.serverSideEmitWithAck('question');
  assert.deepEqual(answers, ['from the second server']);
}

function numsub(reply: unknown): number {
  return Number((reply as unknown[])[1]);
}

function ioredis(): Redis {
  const client = new Redis({ port: env.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  return client;
}

test(
  '@socket.io/redis-adapter (classic, ioredis): fetchSockets, serverSideEmitWithAck, allRooms',
  { timeout: 40000 },
  async () => {
    const cleanups = new Cleanups();
    try {
      const pair = await twoServers(cleanups, () => {
        const pub = ioredis();
        const sub = pub.duplicate();
        sub.on('error', () => {});
        cleanups.add(() => pub.disconnect());
        cleanups.add(() => sub.disconnect());
        return createAdapter(pub, sub, { key: 'sio-classic', requestsTimeout: 4000 });
      }, [['room-a'], ['room-b', 'room-c']]);
      await assertSeesBoth(pair, 'NUMSUB', 'sio-classic-request#/#');
      const rooms = await (pair.servers[0].of('/').adapter as unknown as RoomLister).allRooms();
      assert.deepEqual(
        [...rooms].filter((room) => room.startsWith('room-')).sort(),
        ['room-a', 'room-b', 'room-c'],
        'the rooms of both servers',
      );
    } finally {
      await cleanups.run();
    }
  },
);

test(
  '@socket.io/redis-adapter sharded (node-redis): fetchSockets, serverSideEmitWithAck',
  { timeout: 40000 },
  async () => {
    const cleanups = new Cleanups();
    try {
      const pair = await twoServers(cleanups, async () => {
        const pub = createClient({ socket: { host: '127.0.0.1', port: env.port, reconnectStrategy: false } });
        pub.on('error', () => {});
        const sub = pub.duplicate();
        sub.on('error', () => {});
        await Promise.all([pub.connect(), sub.connect()]);
        // close(), not destroy(): the adapter's last SUNSUBSCRIBE is answered before the connection goes.
        cleanups.add(() => pub.close());
        cleanups.add(() => sub.close());
        return createShardedAdapter(pub, sub, { channelPrefix: 'sio-sharded' });
      });
      await assertSeesBoth(pair, 'SHARDNUMSUB', 'sio-sharded#/#');
    } finally {
      await cleanups.run();
    }
  },
);

test(
  '@socket.io/redis-streams-adapter (ioredis): fetchSockets, serverSideEmitWithAck',
  { timeout: 40000 },
  async () => {
    const cleanups = new Cleanups();
    try {
      const pair = await twoServers(cleanups, () => {
        const client = ioredis();
        cleanups.add(() => client.disconnect());
        // A short XREAD BLOCK so its polling loop ends soon after close().
        return createStreamsAdapter(client, {
          streamName: 'sio-streams',
          channelPrefix: 'sio-streams',
          blockTimeInMs: 300,
        });
      });
      await assertSeesBoth(pair, 'NUMSUB', 'sio-streams#/#');
    } finally {
      await cleanups.run();
    }
  },
);
