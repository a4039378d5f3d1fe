// Slotway's key extraction (key specs + policy table) against the real Redis's own
// answer, COMMAND GETKEYS, for commands of every key-spec shape.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { KeyIndices } from '../../src/commands/command-spec.js';
import { CommandTable } from '../../src/commands/command-table.js';
import { INVALID_KEYS, extractKeys } from '../../src/commands/key-extractor.js';
import { CommandFramer } from '../../src/protocol/command-framer.js';
import { encodeCommand } from '../../src/protocol/resp-writer.js';
import { Frame } from '../../src/protocol/stream-framer.js';
import { findFreePorts } from '../../src/demo/loopback-ports.js';

const CORPUS: string[][] = [
  ['GET', 'k'],
  ['SET', 'k', 'v', 'GET'],
  ['MSET', 'a', '1', 'b', '2', 'c', '3'],
  ['MGET', 'a', 'b', 'c'],
  ['DEL', 'a', 'b'],
  ['EVAL', 'return 1', '2', 'k1', 'k2', 'arg'],
  ['EVALSHA_RO', 'abc', '1', 'k1'],
  ['FCALL', 'f', '1', 'k1', 'x'],
  ['ZUNIONSTORE', 'd', '2', 'a', 'b', 'WEIGHTS', '1', '2'],
  ['ZINTER', '2', 'a', 'b'],
  ['ZDIFFSTORE', 'd', '2', 'a', 'b'],
  ['XREAD', 'COUNT', '2', 'STREAMS', 's1', 's2', '0', '0'],
  ['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '1', 'STREAMS', 's1', '>'],
  ['SORT', 'k', 'BY', 'w*', 'LIMIT', '0', '1', 'GET', '#', 'STORE', 'd'],
  ['SORT_RO', 'k', 'ALPHA'],
  ['SORT_RO', 'k', 'STORE', 'd'], // no key but k: Redis answers a syntax error (redis suite, unit/sort)
  ['SORT', 'k', 'STORE', 'a', 'STORE', 'b'], // the last STORE only
  ['SORT', 'k', 'STORE', 'store', 'd'],
  ['GEORADIUS', 'k', '0', '0', '1', 'km', 'STORE', 'd'],
  ['GEORADIUSBYMEMBER', 'k', 'm', '1', 'km', 'STOREDIST', 'd'],
  ['GEOSEARCHSTORE', 'd', 's', 'FROMMEMBER', 'm', 'BYRADIUS', '1', 'km'],
  ['LMPOP', '2', 'a', 'b', 'LEFT'],
  ['BLMPOP', '0', '2', 'a', 'b', 'LEFT'],
  ['SINTERCARD', '2', 'a', 'b', 'LIMIT', '1'],
  ['BLPOP', 'a', 'b', '0'],
  ['BZPOPMIN', 'a', 'b', '0'],
  ['OBJECT', 'ENCODING', 'k'],
  ['MEMORY', 'USAGE', 'k'],
  ['XINFO', 'STREAM', 'k'],
  ['XGROUP', 'CREATE', 'k', 'g', '$'],
  ['BITOP', 'AND', 'd', 'a', 'b'],
  ['RENAME', 'a', 'b'],
  ['SMOVE', 'a', 'b', 'm'],
  ['LMOVE', 'a', 'b', 'LEFT', 'RIGHT'],
  ['PFMERGE', 'd', 'a', 'b'],
  ['COPY', 'a', 'b'],
  ['LCS', 'a', 'b'],
  ['XADD', 's', '*', 'f', 'v'],
  ['PING'],
];

let server: ReturnType<typeof spawn>;
let client: Redis;

before(async () => {
  const [port] = await findFreePorts(1);
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  client = new Redis({ port, host: '127.0.0.1', retryStrategy: (n) => (n > 100 ? null : 50) });
  client.on('error', () => {});
  await client.ping();
});

after(() => {
  client.disconnect();
  server.kill('SIGKILL');
});

function slotwayKeys(table: CommandTable, command: string[]): string[] {
  const framer = new CommandFramer();
  framer.push(encodeCommand(command));
  assert.equal(framer.next(), Frame.Ready);
  const keys = new KeyIndices();
  const count = extractKeys(table.lookup(framer), framer, keys);
  if (count === INVALID_KEYS) return [];
  return Array.from(keys.indices.subarray(0, count), (index) => command[index] as string);
}

test('key extraction agrees with COMMAND GETKEYS of a real Redis', async () => {
  const table = new CommandTable();
  for (const command of CORPUS) {
    let expected: string[];
    try {
      expected = (await client.call('COMMAND', 'GETKEYS', ...command)) as string[];
    } catch {
      expected = []; // Redis: "The command has no key arguments"
    }
    assert.deepEqual(slotwayKeys(table, command), expected, command.join(' '));
  }
});

test('shard channels route like keys, though COMMAND GETKEYS omits them (not_key)', () => {
  assert.deepEqual(slotwayKeys(new CommandTable(), ['SPUBLISH', 'ch', 'm']), ['ch']);
});
