// Malformed input gets Redis's protocol error and a close, disturbs nothing
// else, and does not make Slotway's memory grow.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';

let env: ProxyCluster;

before(async () => {
  env = await startProxyCluster();
});

after(async () => {
  await env?.close();
});

/** Sends raw bytes, collects everything until the server closes (or the timeout). */
function exchange(
  port: number,
  input: Buffer | string,
  timeoutMs = 3000,
): Promise<{ output: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ output: Buffer.concat(chunks).toString('latin1'), closed: false });
    }, timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ output: Buffer.concat(chunks).toString('latin1'), closed: true });
    });
    socket.write(input);
  });
}

const cases: [string, Buffer | string, string][] = [
  ['negative bulk length', '*1\r\n$-5\r\n', '-ERR Protocol error: invalid bulk length\r\n'],
  ['huge multibulk count', '*99999999999\r\n', '-ERR Protocol error: invalid multibulk length\r\n'],
  ['bad bulk length', '*2\r\n$3\r\nGET\r\n$x1\r\n', '-ERR Protocol error: invalid bulk length\r\n'],
  [
    'binary garbage',
    Buffer.from([0x2a, 0x31, 0x0d, 0x0a, 0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a]),
    "-ERR Protocol error: expected '$', got '\u0000'\r\n",
  ],
  ['unbalanced quotes inline', 'SET "a b\r\n', '-ERR Protocol error: unbalanced quotes in request\r\n'],
  // The offending byte is quoted raw, as Redis's '%c' does.
  [
    'byte 0xff where a bulk header belongs',
    Buffer.from('*2\r\n\xff\x13garbage\r\n', 'latin1'),
    "-ERR Protocol error: expected '$', got '\xff'\r\n",
  ],
];

for (const [name, input, reply] of cases) {
  test(`${name}: Redis's protocol error, then the connection closes; a new connection works`, async () => {
    const { output, closed } = await exchange(env.port, input);
    assert.equal(output, reply);
    assert.ok(closed, 'connection closed after the error');
    const ok = await exchange(env.port, 'PING\r\nQUIT\r\n');
    assert.equal(ok.output, '+PONG\r\n+OK\r\n');
  });
}

test('inline quotes open anywhere in an argument, as Redis splits them', async () => {
  const { output } = await exchange(env.port, 'SET inline:q a"b c"\r\nGET inline:q\r\nQUIT\r\n');
  assert.equal(output, '+OK\r\n$4\r\nab c\r\n+OK\r\n');
});

test('replies to commands before the bad input come first', async () => {
  const { output, closed } = await exchange(
    env.port,
    '*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n*1\r\n$-5\r\n',
  );
  assert.equal(output, '+PONG\r\n$-1\r\n-ERR Protocol error: invalid bulk length\r\n');
  assert.ok(closed);
});

test('inline commands as telnet sends them', async () => {
  const { output } = await exchange(env.port, 'PING\r\nset inline:k "a b"\nget inline:k\r\nQUIT\r\n');
  assert.equal(output, '+PONG\r\n+OK\r\n$3\r\na b\r\n+OK\r\n');
});

test('hundreds of malformed or abandoned connections do not make memory grow', { timeout: 120000 }, async () => {
  // Two that close at once, and two left hanging: a huge announced value, and a
  // half-sent inline line.
  const bad = [
    '*1\r\n$-5\r\n',
    '*99999999999\r\n',
    Buffer.from('*3\r\n$3\r\nSET\r\n$500000000\r\nxxxx'),
    Buffer.alloc(2000, 0xfe),
  ];
  for (let i = 0; i < 20; i++) await exchange(env.port, bad[i % bad.length] as Buffer | string, 200);
  global.gc?.();
  const before = process.memoryUsage().rss;
  for (let i = 0; i < 200; i++) await exchange(env.port, bad[i % bad.length] as Buffer | string, 200);
  global.gc?.();
  const grown = process.memoryUsage().rss - before;
  assert.ok(grown < 50 * 1024 * 1024, `rss grew by ${grown} bytes`);
  assert.equal(env.proxy.stats.sessions.size <= 1, true, 'no sessions left open');
});
