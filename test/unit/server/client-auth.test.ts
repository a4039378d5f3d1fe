// The users file: Redis ACL syntax, rules applied left to right, errors per line.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { CommandTable } from '../../../src/commands/command-table.js';
import { UserDirectory } from '../../../src/server/client-auth.js';

const table = new CommandTable();
const spec = (name: string) => {
  const found = table.get(name);
  assert.ok(found, name);
  return found;
};

test('no password configured: the default user needs no AUTH and may run everything', () => {
  const { directory, errors } = UserDirectory.create('', null, table);
  assert.deepEqual(errors, []);
  assert.equal(directory.required, false);
  assert.ok(directory.anonymous?.allowsEverything);
});

test('requirepass: AUTH is required; only the right password authenticates the default user', () => {
  const { directory } = UserDirectory.create('pw', null, table);
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
  const { directory, errors } = UserDirectory.create('pw', text, table);
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

test("bad lines are reported with their line numbers, in Redis's words where it has them", () => {
  const text = [
    'user a on >x +nosuchcommand',
    'person b',
    'user c on ~app:* %X~k +@read',
    'user d on #ABC +@nosuchcategory',
    'user e on sometimes',
    'user f on ~* ~more &* &more',
    'user g on <never +select|0 +client|id|x',
    'user h on (~x +get) +set',
    'user a on',
    'node-user nobody n p',
    'node-user c n',
  ].join('\n');
  const { errors } = UserDirectory.create('', text, table, 'users.acl');
  assert.deepEqual(errors, [
    "users.acl line 1: Error in ACL rule '+nosuchcommand': Unknown command or category name in ACL",
    'users.acl line 2: expected "user <name> [rules...]" or "node-user <user> <node ACL user> <password>"',
    "users.acl line 3: Error in ACL rule '%X~k': Syntax error",
    "users.acl line 4: Error in ACL rule '#ABC': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
    "users.acl line 4: Error in ACL rule '+@nosuchcategory': Unknown command or category name in ACL",
    "users.acl line 5: Error in ACL rule 'sometimes': Syntax error",
    "users.acl line 6: Error in ACL rule '~more': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
    "users.acl line 6: Error in ACL rule '&more': Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
    "users.acl line 7: Error in ACL rule '<never': The password you are trying to remove from the user does not exist",
    "users.acl line 7: Error in ACL rule '+select|0': first-argument rules (+command|argument for a command without subcommands) are not supported by Slotway",
    "users.acl line 7: Error in ACL rule '+client|id|x': Allowing first-arg of a subcommand is not supported",
    'users.acl line 8: Error in ACL rule \'(~x\': selectors "(...)" are not supported by Slotway: give each user one set of rules',
    "users.acl line 9: Duplicate user 'a' found",
    "users.acl line 10: node-user: no user 'nobody' in this file",
    'users.acl line 11: expected "node-user <user> <node ACL user> <password>"',
  ]);
});
