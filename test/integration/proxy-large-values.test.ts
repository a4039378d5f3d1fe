// 1 MiB values through Slotway, the client's bytes cut at awkward places:
// inside a bulk header, just before and after a command's end, and in the
// read that completes a large SET and carries the next commands (the command
// framer splits that read: stream-framer.ts, splitsAtFrameEnd). Every reply
// must come back byte for byte.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { encodeCommand } from '../../src/protocol/resp-writer.js';
import { sleep, startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';

const MiB = 1024 * 1024;
let env: ProxyCluster;

before(async () => {
  env = await startProxyCluster();
});

after(async () => {
  await env?.close();
});

function value(length: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 131 + seed) & 0xff;
  return bytes;
}

function bulk(bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n')]);
}

/** Writes `stream` in pieces cut at `cuts`, each after the last was sent, and reads `expected.length` bytes back. */
async function exchange(stream: Buffer, cuts: number[], expected: number): Promise<Buffer> {
  const socket: Socket = connect({ host: '127.0.0.1', port: env.port });
  socket.setNoDelay(true);
  const received: Buffer[] = [];
  let have = 0;
  const done = new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      have += chunk.length;
      if (have >= expected) resolve();
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`closed after ${have} of ${expected} bytes`)));
  });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    if (cut <= from) continue;
    socket.write(stream.subarray(from, cut));
    from = cut;
    await sleep(3); // separate reads on Slotway's side, most of the time
  }
  const timeout = setTimeout(() => socket.destroy(new Error(`timed out with ${have} of ${expected} bytes`)), 10_000);
  try {
    await done;
  } finally {
    clearTimeout(timeout);
    socket.removeAllListeners('close');
    socket.destroy();
  }
  return Buffer.concat(received);
}

test('1 MiB SETs and GETs cut at every awkward boundary come back intact, byte for byte', async () => {
  const big = value(MiB, 9);
  const big2 = value(MiB + 7, 10);
  const commands = [
    encodeCommand([Buffer.from('SET'), Buffer.from('large:{a}'), big]),
    encodeCommand([Buffer.from('GET'), Buffer.from('large:{a}')]),
    encodeCommand([Buffer.from('SET'), Buffer.from('large:{b}'), big2]),
    encodeCommand([Buffer.from('PING')]),
    encodeCommand([Buffer.from('GET'), Buffer.from('large:{b}')]),
  ];
  const stream = Buffer.concat(commands);
  const reply = Buffer.concat([Buffer.from('+OK\r\n'), bulk(big), Buffer.from('+OK\r\n+PONG\r\n'), bulk(big2)]);
  const firstEnd = (commands[0] as Buffer).length;
  const secondSetStart = firstEnd + (commands[1] as Buffer).length;
  const header = 'SET'.length + 40; // inside the value's `$1048576\r\n`
  const cases: number[][] = [
    [],
    [5, header - 3, header, header + 1],
    [65536, firstEnd - 1],
    [65536, firstEnd],
    [65536, firstEnd + 1],
    [65536, firstEnd + 10],
    [65536, secondSetStart + 20],
    [1000, secondSetStart + 70_000, secondSetStart + 70_001],
    [firstEnd - 2, firstEnd + 2, stream.length - 3],
  ];
  for (const cuts of cases) {
    const got = await exchange(stream, cuts, reply.length);
    assert.equal(got.length, reply.length, `cuts ${cuts.join(',')}`);
    assert.ok(got.equals(reply), `cuts ${cuts.join(',')}: the replies differ`);
  }
});
