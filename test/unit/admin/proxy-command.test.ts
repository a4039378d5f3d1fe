// PROXY's parts that need no cluster: argument handling, HELP, CONFIG GET.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { HIDDEN, configPairs, isSecret, proxyCommand, type AdminFacts } from '../../../src/admin/proxy-command.js';
import { withDefaults } from '../../../src/config/options.js';
import { createProxy } from '../../../src/index.js';
import { CommandFramer } from '../../../src/protocol/command-framer.js';
import { encodeCommand } from '../../../src/protocol/resp-writer.js';

const proxy = createProxy({ seeds: ['127.0.0.1:1'], metricsPort: 0 }, { logger: pino({ level: 'silent' }) });
after(() => proxy.close());

function run(...words: string[]): string {
  const framer = new CommandFramer();
  framer.push(encodeCommand(words));
  framer.next();
  const facts: AdminFacts = {
    version: '9.9.9',
    options: withDefaults({ seeds: ['127.0.0.1:1'] }),
    stats: proxy.stats,
    router: proxy.router,
    refresher: { refresh: () => Promise.resolve(false), refreshing: false, stats: { refreshes: 0, failures: 0 } },
    readiness: () => proxy.readiness(),
    topologyRefusal: () => null,
    tcpPort: () => 7777,
    metricsPort: () => 9121,
  };
  const reply = proxyCommand(framer, false, facts);
  assert.ok(reply instanceof Buffer, 'answered at once');
  return reply.toString();
}

test('unknown subcommands and wrong arity in Redis words', () => {
  assert.equal(run('PROXY'), "-ERR wrong number of arguments for 'proxy' command\r\n");
  assert.equal(run('PROXY', 'FROB'), "-ERR unknown subcommand 'FROB'. Try PROXY HELP.\r\n");
  assert.equal(run('proxy', 'config', 'set', 'x', 'y'), "-ERR unknown subcommand 'config set'. Try PROXY HELP.\r\n");
  assert.equal(run('PROXY', 'INFO', 'extra'), "-ERR wrong number of arguments for 'proxy|info' command\r\n");
  assert.equal(run('PROXY', 'CONFIG'), "-ERR wrong number of arguments for 'proxy|config' command\r\n");
  assert.equal(run('PROXY', 'CONFIG', 'GET'), "-ERR wrong number of arguments for 'proxy|config|get' command\r\n");
  assert.match(run('PROXY', 'HELP'), /^\*16\r\n\+PROXY <subcommand> /);
  assert.equal(run('PROXY', 'HOTKEYS', '1', '2'), "-ERR wrong number of arguments for 'proxy|hotkeys' command\r\n");
  assert.equal(run('PROXY', 'BIGKEYS', '-1'), '-ERR value is not an integer or out of range\r\n');
  assert.equal(run('PROXY', 'hotkeys', 'many'), '-ERR value is not an integer or out of range\r\n');
});

test('PROXY INFO reads as INFO: sections of field:value lines', () => {
  const info = run('PROXY', 'INFO');
  const body = info.slice(info.indexOf('\r\n') + 2);
  for (const line of body.split('\r\n').filter((l) => l !== '')) assert.match(line, /^(# \w+|[a-z_]+:.*)$/, line);
  assert.match(body, /slotway_version:9\.9\.9\r\n/);
  assert.match(body, /ready:0\r\nready_reason:no topology read from the cluster yet\r\n/);
  assert.match(body, /metrics_port:9121\r\n/);
  assert.match(body, /class_single_slot:ok=\d+,error=\d+,failed=\d+,redirects_exhausted=\d+\r\n/);
});

test('CONFIG GET: glob patterns, several at once, secrets hidden when set', () => {
  const options = withDefaults({
    seeds: ['10.0.0.1:6379', '10.0.0.2:6379'],
    requirepass: 's3cret',
    clusterPassword: '',
  });
  assert.deepEqual(configPairs(options, ['metrics-*']), [
    ['metrics-port', '9121'],
    ['metrics-bind', '0.0.0.0'],
  ]);
  assert.deepEqual(configPairs(options, ['CLUSTER', 'port']), [
    ['cluster', '10.0.0.1:6379,10.0.0.2:6379'],
    ['port', '7777'],
  ]);
  assert.deepEqual(configPairs(options, ['requirepass', 'cluster-password']), [
    ['requirepass', HIDDEN],
    ['cluster-password', ''],
  ]);
  assert.deepEqual(configPairs(options, ['no-such-*']), []);
  assert.ok(configPairs(options, ['*']).length > 30);
  assert.ok(isSecret({ flag: 'cluster-password', kind: 'string' }));
  assert.ok(!isSecret({ flag: 'port', kind: 'integer' }));
  assert.equal(run('PROXY', 'CONFIG', 'GET', 'metrics-port'), '*2\r\n$12\r\nmetrics-port\r\n$4\r\n9121\r\n');
});
