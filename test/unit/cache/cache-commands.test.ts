import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cacheCommands } from '../../../src/cache/cache-commands.js';
import { CommandTable } from '../../../src/commands/command-table.js';
import { DEFAULT_OPTIONS } from '../../../src/config/options.js';

const table = new CommandTable();

test('the default --cache-commands are all accepted', () => {
  assert.deepEqual([...cacheCommands(DEFAULT_OPTIONS.cacheCommands, table)].sort(), [
    'exists',
    'get',
    'hget',
    'hgetall',
    'hmget',
    'strlen',
    'type',
  ]);
  assert.deepEqual([...cacheCommands(['GET', ' LRange '], table)], ['get', 'lrange']);
});

test('time-dependent, random, writing, blocking, keyless and unknown commands are refused at start', () => {
  for (const name of [
    'ttl',
    'pttl',
    'expiretime',
    'object',
    'srandmember',
    'hrandfield',
    'touch',
    'set',
    'getex',
    'blpop',
    'randomkey',
    'ping',
    'sort_ro',
    'xread',
    'nope',
  ]) {
    assert.throws(() => cacheCommands(['get', name], table), new RegExp(`--cache-commands: ${name}:`), name);
  }
});
