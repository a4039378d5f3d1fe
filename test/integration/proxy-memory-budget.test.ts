// --max-buffer-memory: when the bytes held for all clients pass it, commands
// for the nodes get -OOM instead of holding more; once the clients that hold
// replies read them, commands work again.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import type { Redis } from 'ioredis';
import { ReplyFramer } from '../../src/protocol/reply-framer.js';
import { encodeCommand } from '../../src/protocol/resp-writer.js';
import { Frame } from '../../src/protocol/stream-framer.js';
import { MB, mb } from '../helpers/memory.js';
import { sleep, startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';

const CLIENT_LIMIT = 1 * MB;
const BUDGET = 1 * MB;
const VALUE = 256 * 1024;
const GETS = 200; // 50 MiB of replies per client: more than the kernel's socket buffers take

let env: ProxyCluster;
before(async () => {
  env = await startProxyCluster({ clientBufferLimit: CLIENT_LIMIT, maxBufferMemory: BUDGET });
});
after(() => env.close());

async function until(what: string, ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(20);
  }
}

test(
  'clients holding replies exhaust a small --max-buffer-memory: -OOM for new commands, then they work again',
  { timeout: 60000 },
  async () => {
    const probe: Redis = env.client();
    await probe.set('budget:big', Buffer.alloc(VALUE, 'b'));
    const stats = env.proxy.stats;

    // Four clients pipeline GETs and do not read: each ends up holding about its bound.
    const replies = [0, 0, 0, 0];
    const get = encodeCommand(['GET', 'budget:big']);
    const holders: Socket[] = replies.map(() => {
      const socket = connect({ port: env.port, host: '127.0.0.1' });
      socket.on('error', () => {});
      socket.write(Buffer.concat(Array.from({ length: GETS }, () => get)));
      return socket;
    });
    await until('buffer memory past the budget', 20000, () => stats.buffers.used > BUDGET);
    process.stdout.write(`# held for all clients: ${mb(stats.buffers.used)} (budget ${mb(BUDGET)})\n`);

    await assert.rejects(probe.get('budget:big'), (error: Error) => {
      assert.equal(
        error.message,
        "OOM command not allowed when Slotway's buffer memory (--max-buffer-memory) is exhausted",
      );
      return true;
    });
    assert.equal(await probe.ping(), 'PONG', 'commands Slotway answers itself still work');
    assert.match(await probe.info('proxy'), /buffer_memory_refusals:[1-9]/);

    // The holders read what they asked for: values, and -OOM for the GETs Slotway framed while the budget was spent.
    const oom = [0, 0, 0, 0];
    holders.forEach((socket, i) => {
      const framer = new ReplyFramer();
      socket.on('data', (chunk: Buffer) => {
        framer.push(chunk);
        while (framer.next() === Frame.Ready) {
          replies[i] = (replies[i] as number) + 1;
          if (framer.frameBuffer[framer.frameStart] === 45 /* '-' */) oom[i] = (oom[i] as number) + 1;
        }
      });
    });
    await until('the holders read their replies', 30000, () => replies.every((count) => count === GETS));
    process.stdout.write(`# holders: ${GETS} replies each, -OOM among them: ${oom.join(', ')}\n`);
    await until('buffer memory below the budget', 5000, () => stats.buffers.used <= BUDGET);
    const value = await probe.getBuffer('budget:big');
    assert.equal(value?.length, VALUE);
    for (const socket of holders) socket.destroy();
    await until('nothing held once the holders left', 5000, () => stats.buffers.used === 0);
  },
);
