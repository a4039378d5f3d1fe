// The users file: Redis ACL syntax, rules applied left to right, errors per line.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { CommandTable } from '../../../src/commands/command-table.js';
import { UserDirectory } from '../../../src/server/client-auth.js';

const table = new CommandTable();
const knows = (target: string): boolean => table.knowsRuleTarget(target);
const spec = (name: string) => {
  const found = table.get(name);
  assert.ok(found, name);
  return found;
};

test('no password configured: the default user needs no AUTH and may run everything', () => {
  const { directory, errors } = UserDirectory.create('', null, knows);
  assert.deepEqual(errors, []);
  assert.equal(directory.required, false);
  assert.ok(directory.anonymous?.allowsEverything);
});

test('requirepass: AUTH is required; only the right password authenticates the default user', () => {
  const { directory } = UserDirectory.create('pw', null, knows);
  assert.equal(directory.required, true);
  assert.equal(directory.anonymous, null);
  assert.equal(directory.authenticate('default', 'wrong'), null);
  assert.equal(directory.authenticate('default', 'pw')?.name, 'default');
});

test('rules apply left to right; categories, commands and subcommands', () => {
  const hash = createHash('sha256').update('h').digest('hex');
  const text = [
    'user reader on >r ~* +@read +@connection',
    `user ops on #${hash} +@all -@dangerous +client|list -flushall`,
    'user twice on >t -@all +get +set -set',
    'user off-user off >o +@all',
  ].join('\n');
  const { directory, errors } = UserDirectory.create('pw', text, knows);
  assert.deepEqual(errors, []);
  const reader = directory.authenticate('reader', 'r');
  assert.ok(reader);
  assert.ok(reader.permits(spec('get')) && reader.permits(spec('mget')) && reader.permits(spec('ping')));
  assert.ok(!reader.permits(spec('set')) && !reader.permits(spec('config|get')));
  assert.equal(reader.allowsEverything, false);
  const ops = directory.authenticate('ops', 'h');
  assert.ok(ops);
  assert.ok(ops.permits(spec('set')) && ops.permits(spec('client|list')));
  assert.ok(!ops.permits(spec('client|kill')) && !ops.permits(spec('flushall')));
  const twice = directory.authenticate('twice', 't');
  assert.ok(twice && twice.permits(spec('get')) && !twice.permits(spec('set')), 'the last rule wins');
  assert.equal(directory.authenticate('off-user', 'o'), null, 'a user that is off cannot authenticate');
});

test('bad lines are reported with their line numbers; patterns Slotway cannot enforce are refused', () => {
  const text = ['user a on >x +nosuchcommand', 'person b', 'user c on ~app:* +@read', 'user d on #abc +@nosuchcategory', 'user e on sometimes'].join('\n');
  const { errors } = UserDirectory.create('', text, knows, 'users.acl');
  assert.deepEqual(errors, [
    'users.acl line 1: "+nosuchcommand": unknown command',
    'users.acl line 2: expected "user <name> [rules...]"',
    'users.acl line 3: "~app:*": key and channel patterns other than ~* and &* are not supported by Slotway (let the cluster\'s ACL enforce them)',
    'users.acl line 4: "#abc": a password hash is # and 64 hex digits (SHA-256)',
    'users.acl line 4: "+@nosuchcategory": unknown command category',
    'users.acl line 5: unknown ACL rule "sometimes"',
  ]);
});
