// Answers that Redis's own test suite (bench/redis-suite.ts) found to differ
// through Slotway from a direct client, kept true on a real cluster.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import type { Redis } from 'ioredis';
import { sleep, startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';

let env: ProxyCluster;
let client: Redis;

before(async () => {
  env = await startProxyCluster({ allowMonitor: true }, { replicasPerMaster: 0 });
  client = env.client();
});

after(async () => {
  await env?.close();
});

/** The error text of a command that must fail, or 'no error'. */
async function errorOf(run: Promise<unknown>): Promise<string> {
  try {
    await run;
    return 'no error';
  } catch (error) {
    return (error as Error).message;
  }
}

test('SORT_RO with STORE is the node syntax error, not CROSSSLOT (unit/sort "SORT_RO - Cannot run with STORE arg")', async () => {
  // foolist and bar hash to different slots (1026 and 5061): the word after STORE is no key of SORT_RO.
  const direct = env.direct();
  const expected = await errorOf(direct.call('SORT_RO', 'foolist', 'STORE', 'bar'));
  assert.equal(expected, 'ERR syntax error');
  assert.equal(await errorOf(client.call('SORT_RO', 'foolist', 'STORE', 'bar')), expected);
});

test('SORT stores into its last STORE key only, as Redis does, so an earlier one in another slot is no CROSSSLOT', async () => {
  await client.rpush('{s}list', '3', '1', '2');
  assert.equal(await client.call('SORT', '{s}list', 'STORE', 'elsewhere', 'STORE', '{s}dest'), 3);
  assert.deepEqual(await client.lrange('{s}dest', 0, -1), ['1', '2', '3']);
  assert.equal(await client.exists('elsewhere'), 0);
});

test('a client that writes on after a protocol error is closed, as Redis closes it (unit/protocol "Protocol desync")', async () => {
  // allowHalfOpen: like the suite's Tcl socket, this client does not end its side when Slotway ends
  // its own; it only learns of the close when a write fails.
  const socket = connect({ port: env.port, host: '127.0.0.1', allowHalfOpen: true });
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise<string>((resolve) => {
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code ?? ''}`));
    socket.on('close', () => resolve('closed'));
  });
  socket.write('\x00'); // an inline command that never ends: too big after 64 KB
  const writer = setInterval(() => {
    if (socket.writable) socket.write('payload'.repeat(1000));
  }, 5);
  const outcome = await Promise.race([closed, sleep(8000).then(() => 'still open after 8 s')]);
  clearInterval(writer);
  socket.destroy();
  assert.notEqual(outcome, 'still open after 8 s');
  assert.equal(Buffer.concat(chunks).toString('latin1'), '-ERR Protocol error: too big inline request\r\n');
});

test('MONITOR shows a transaction\'s MULTI as the client sent it (unit/introspection "MONITOR correctly handles multi-exec cases")', async () => {
  const monitor = await env.client().monitor();
  const seen: string[][] = [];
  monitor.on('monitor', (_time: string, args: string[]) => seen.push(args));
  // ioredis sends command names in lower case, as the suite's client does.
  await client.multi().set('{m}foo', 'bar').exec();
  await sleep(200); // MONITOR lines come on their own connection
  monitor.disconnect();
  const names = seen.map((args) => args[0]);
  assert.deepEqual(names.slice(names.indexOf('multi')), ['multi', 'set', 'exec']);
});
