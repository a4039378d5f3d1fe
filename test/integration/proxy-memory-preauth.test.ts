// Before AUTH, Slotway holds no more for a client than Redis 7 would: a
// multibulk of more than 10 arguments or a bulk over 16384 bytes is a
// protocol error, answered in Redis's words, and the connection is closed.
// Measured before: 50 such clients sending 64 MiB each raised RSS to 3.4 GB.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { RespSocket } from '../helpers/resp-socket.js';
import { MB, mb, peakSampler, settledMemory } from '../helpers/memory.js';
import { startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';

const CLIENTS = 50;
/** What each client sends after its header: together 200 MiB, which Slotway must not keep. */
const SENT_PER_CLIENT = 4 * MB;
/** Growth allowed while they do (50 clients, their sockets, one 16 KiB bound each, the GC's lag). */
const GROWTH_BOUND = 64 * MB;

let env: ProxyCluster;
before(async () => {
  env = await startProxyCluster({ requirepass: 'secret' });
});
after(() => env.close());

interface Outcome {
  readonly reply: string;
  /** Slotway closed its side (FIN) after the reply. */
  readonly ended: boolean;
}

/** A raw client that sends `header`, then `body`, reads everything and waits for Slotway to end the connection. */
function unauthenticated(port: number, header: string, body: Buffer): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const received: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`not closed within 20 s; received ${JSON.stringify(Buffer.concat(received).toString())}`));
    }, 20000);
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => {}); // a reset after the FIN is fine: what was received counts
    socket.on('end', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ reply: Buffer.concat(received).toString(), ended: true });
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ reply: Buffer.concat(received).toString(), ended: false });
    });
    socket.write(header);
    socket.write(body);
  });
}

test(
  `${CLIENTS} unauthenticated clients announcing 512 MiB bulks get Redis's error and are closed; memory stays flat`,
  { timeout: 60000 },
  async () => {
    const body = Buffer.alloc(SENT_PER_CLIENT, 'x'); // one buffer, written by every client
    const baseline = await settledMemory();
    const sampler = peakSampler();
    const outcomes = await Promise.all(
      Array.from({ length: CLIENTS }, () => unauthenticated(env.port, '*1\r\n$536870912\r\n', body)),
    );
    const peak = sampler.stop();

    for (const outcome of outcomes) {
      assert.equal(outcome.reply, '-ERR Protocol error: unauthenticated bulk length\r\n');
      assert.ok(outcome.ended, 'Slotway closes the connection after the error');
    }
    const grewBuffers = peak.arrayBuffers - baseline.arrayBuffers;
    const grewHeap = peak.heapUsed - baseline.heapUsed;
    process.stdout.write(
      `# pre-AUTH: ${CLIENTS} clients sent ${mb(CLIENTS * SENT_PER_CLIENT)}; peak growth: buffers ${mb(grewBuffers)}, heap ${mb(grewHeap)}, rss ${mb(peak.rss - baseline.rss)}\n`,
    );
    assert.ok(grewBuffers < GROWTH_BOUND, `buffers grew by ${mb(grewBuffers)}`);
    assert.ok(grewHeap < GROWTH_BOUND, `heap grew by ${mb(grewHeap)}`);
  },
);

test('more than 10 arguments before AUTH: the multibulk error; 10 arguments and 16384-byte bulks are fine', async () => {
  const outcome = await unauthenticated(env.port, '*11\r\n', Buffer.alloc(0));
  assert.equal(outcome.reply, '-ERR Protocol error: unauthenticated multibulk length\r\n');
  assert.ok(outcome.ended);

  // Within the limits an unauthenticated command is framed and refused as usual.
  const ten = ['ECHO', 'x'.repeat(16384), ...Array.from({ length: 8 }, (_, i) => String(i))];
  const framed = `*10\r\n${ten.map((a) => `$${a.length}\r\n${a}\r\n`).join('')}`;
  const refused = await new Promise<string>((resolve) => {
    const socket = connect({ port: env.port, host: '127.0.0.1' }, () => socket.write(framed));
    socket.on('data', (chunk: Buffer) => {
      resolve(chunk.toString());
      socket.destroy();
    });
  });
  assert.equal(refused, '-NOAUTH Authentication required.\r\n');
});

test('after AUTH the limits are the configured ones; RESET brings the pre-AUTH ones back', async () => {
  const client = await RespSocket.connect(env.port);
  try {
    assert.equal(await client.call('AUTH', 'secret'), '+OK\r\n');
    const big = 'v'.repeat(100000);
    assert.equal(await client.call('SET', 'preauth:big', big), '+OK\r\n');
    assert.equal(await client.call('STRLEN', 'preauth:big'), ':100000\r\n');
    assert.equal(await client.call('RESET'), '+RESET\r\n');
    assert.equal(await client.call('SET', 'preauth:big', big), '-ERR Protocol error: unauthenticated bulk length\r\n');
  } finally {
    client.close();
  }
});
