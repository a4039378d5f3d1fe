// AUTH hardening: --max-auth-failures closes a guessing connection after the
// last -WRONGPASS; failures are logged once per connection with the user name
// cut short; an unknown user costs what a wrong password costs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { createProxy, type Proxy } from '../../src/index.js';
import { UserDirectory } from '../../src/server/client-auth.js';
import { CommandTable } from '../../src/commands/command-table.js';
import { LOOPBACK_LISTENERS, sleep, startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';
import { RespSocket } from '../helpers/resp-socket.js';

const WRONGPASS = '-WRONGPASS invalid username-password pair or user is disabled.\r\n';
let env: ProxyCluster;
/** Every log line the Slotway under test wrote. */
const logLines: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'slotway-auth-'));

before(async () => {
  const usersFile = join(dir, 'users.acl');
  writeFileSync(usersFile, 'user app on >right ~* &* +@all\n');
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(
        ...chunk
          .toString()
          .split('\n')
          .filter((line) => line !== ''),
      );
      done();
    },
  });
  env = await startProxyCluster({ usersFile, requirepass: 'secret' }, {}, { logger: pino({ level: 'info' }, sink) });
});

after(async () => {
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Log lines about authentication written since `from`. */
function authLines(from: number): string[] {
  return logLines.slice(from).filter((line) => /AUTH|authentication/.test(line));
}

test('the 10th failed AUTH of a pipeline is answered, then the connection closes; the rest is never run', async () => {
  const from = logLines.length;
  const socket = await RespSocket.connect(env.port);
  for (let i = 0; i < 15; i++) socket.send('AUTH', 'app', `wrong-${i}`);
  socket.send('AUTH', 'app', 'right');
  const replies: string[] = [];
  try {
    for (;;) replies.push((await socket.next(3000)).toString());
  } catch (error) {
    assert.match((error as Error).message, /connection closed/);
  }
  assert.deepEqual(replies, Array(10).fill(WRONGPASS));
  assert.equal(socket.closed, true);
  await sleep(50);
  const lines = authLines(from);
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.match(lines[0] as string, /authentication failed/);
  assert.match(lines[1] as string, /"failures":10.*too many failed AUTH/);
});

test('fewer failures than the limit: logged once, then one line with the count when the client leaves', async () => {
  const from = logLines.length;
  const socket = await RespSocket.connect(env.port);
  for (let i = 0; i < 4; i++) assert.equal(await socket.call('AUTH', 'app', 'wrong'), WRONGPASS);
  assert.equal(await socket.call('AUTH', 'app', 'right'), '+OK\r\n', 'below the limit the connection stays usable');
  socket.close();
  await sleep(200);
  const lines = authLines(from);
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.match(lines[1] as string, /"failures":4.*client closed after failed AUTH attempts/);
});

test('a long user name is logged cut short; a 5 MiB one is a protocol error before AUTH, as in Redis 7', async () => {
  const from = logLines.length;
  const huge = await RespSocket.connect(env.port);
  try {
    // Before AUTH, Redis 7 refuses bulks over 16 KiB and closes: nothing of it is logged.
    assert.equal(
      await huge.call('AUTH', 'u'.repeat(5 * 1024 * 1024), 'x'),
      '-ERR Protocol error: unauthenticated bulk length\r\n',
    );
  } finally {
    huge.close();
  }
  const socket = await RespSocket.connect(env.port);
  try {
    assert.equal(await socket.call('AUTH', 'u'.repeat(16000), 'x'), WRONGPASS);
  } finally {
    socket.close();
  }
  await sleep(100);
  const lines = authLines(from);
  assert.equal(lines.length, 1);
  const bytes = lines.reduce((sum, line) => sum + Buffer.byteLength(line), 0);
  assert.ok(bytes <= 400, `${bytes} bytes logged`);
  assert.match(lines[0] as string, /u{64}\.\.\. \(16000 bytes\)/);
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

test('unknown users take as long as wrong passwords (medians of 200 AUTHs each, through Slotway)', async () => {
  // A 256 KiB password makes the hash the visible part of the work; a
  // shortcut for unknown users would answer them faster by that much.
  const password = 'p'.repeat(256 * 1024);
  const proxy: Proxy = createProxy(
    { seeds: env.cluster.seeds, ...LOOPBACK_LISTENERS, usersFile: join(dir, 'users.acl'), maxAuthFailures: 0 },
    { logger: pino({ level: 'silent' }) },
  );
  const { port } = await proxy.listen();
  const socket = await RespSocket.connect(port);
  try {
    const timed = async (user: string): Promise<number> => {
      const start = process.hrtime.bigint();
      assert.equal(await socket.call('AUTH', user, password), WRONGPASS);
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 200; i++) {
      known.push(await timed('app'));
      unknown.push(await timed(`nobody-${i}`));
    }
    const ratio = median(unknown) / median(known);
    console.log(
      `AUTH medians: wrong password ${median(known).toFixed(3)} ms, unknown user ${median(unknown).toFixed(3)} ms (ratio ${ratio.toFixed(2)})`,
    );
    assert.ok(ratio > 0.5 && ratio < 2, `ratio ${ratio}`);
  } finally {
    socket.close();
    await proxy.close();
  }
});

test('UserDirectory.authenticate: unknown, disabled and wrong-password users cost the same hash and compare', () => {
  const { directory } = UserDirectory.create(
    '',
    'user app on >right +@all\nuser gone off >right +@all',
    new CommandTable(),
  );
  const password = 'p'.repeat(1024 * 1024); // ~1 ms of SHA-256: far above the rest of the call
  const timed = (user: string): number => {
    const start = process.hrtime.bigint();
    assert.equal(directory.authenticate(user, password), null);
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  const samples: Record<string, number[]> = { app: [], gone: [], nobody: [] };
  for (let i = 0; i < 200; i++) for (const user of Object.keys(samples)) samples[user]?.push(timed(user));
  const wrong = median(samples.app as number[]);
  for (const user of ['gone', 'nobody']) {
    const ratio = median(samples[user] as number[]) / wrong;
    assert.ok(ratio > 0.5 && ratio < 2, `${user}: ratio ${ratio}`);
  }
});
