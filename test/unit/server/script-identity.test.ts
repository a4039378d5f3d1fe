// Which rules a client's scripts run with: its own rules, what Slotway sends
// on the connection itself, then --deny-commands; null when nothing narrows
// Slotway's own rights (scripts then stay on the ordinary connections).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandTable } from '../../../src/commands/command-table.js';
import { UserDirectory } from '../../../src/server/client-auth.js';
import { ScriptIdentities, nodeKnows, permissionsText, scriptRulesText } from '../../../src/server/script-identity.js';
import { ScriptUser } from '../../../src/cluster/script-user.js';

const table = new CommandTable();
const DENIED = ['flushall', 'FLUSHDB', 'config', 'debug', 'shutdown', 'keys'];

function users(text: string | null, requirepass = ''): UserDirectory {
  const { directory, errors } = UserDirectory.create(requirepass, text, table);
  assert.deepEqual(errors, []);
  return directory;
}

test('the default user (anonymous or --requirepass): all rights minus the denied commands, lowercased, last', () => {
  for (const directory of [users(null), users(null, 'pw')]) {
    const user = directory.get('default');
    assert.ok(user !== undefined);
    assert.equal(
      scriptRulesText({ allowsEverything: user.allowsEverything, aclRulesText: () => permissionsText(user) }, DENIED),
      '~* &* +@all +asking +script|load -flushall -flushdb -config -debug -shutdown -keys',
    );
  }
});

test("nothing denied and a user without restrictions: no script user (Slotway's own connections)", () => {
  assert.equal(scriptRulesText({ allowsEverything: true, aclRulesText: () => '~* &* +@all' }, []), null);
  // Only Slotway's own commands denied: the node has nothing to deny.
  assert.equal(scriptRulesText({ allowsEverything: true, aclRulesText: () => '~* &* +@all' }, ['proxy']), null);
});

test('users-file users: their command rules in file order, then the denied commands; subcommands kept as such', () => {
  const directory = users(
    [
      'user app on >a ~* &* +@all -@dangerous',
      'user reader on >r ~* &* -@all +get +eval +evalsha',
      'user ops on >o %R~app:* &app:* allcommands -config|set -proxy',
      'user none on >n',
    ].join('\n'),
  );
  const ids = new ScriptIdentities(['flushall', 'config|get', 'proxy'], (rules) => new ScriptUser(rules, '', ''));
  assert.equal(
    ids.of(directory.get('app') ?? null)?.rules,
    '~* &* +@all -@dangerous +asking +script|load -flushall -config|get',
  );
  assert.equal(
    ids.of(directory.get('reader') ?? null)?.rules,
    '~* &* -@all +get +eval +evalsha +asking +script|load -flushall -config|get',
  );
  // -proxy (Slotway's own command) is dropped: a node refuses unknown commands in ACL SETUSER.
  // Key and channel patterns carry over as Redis 7 writes them.
  assert.equal(
    ids.of(directory.get('ops') ?? null)?.rules,
    '%R~app:* resetchannels &app:* +@all -config|set +asking +script|load -flushall -config|get',
  );
  // No rule at all: no keys, no channels, no commands (reset state), as in Redis.
  assert.equal(
    ids.of(directory.get('none') ?? null)?.rules,
    'resetchannels -@all +asking +script|load -flushall -config|get',
  );
  assert.equal(ids.of(null), null);
});

test('one ScriptUser per user, worked out once; users with the same rules share the node user', () => {
  const directory = users(['user a on >a +@all -@dangerous', 'user b on >b +@all -@dangerous'].join('\n'));
  const made: string[] = [];
  const ids = new ScriptIdentities([], (rules) => {
    made.push(rules);
    return new ScriptUser(rules, 'n', 'p');
  });
  const a = ids.of(directory.get('a') ?? null);
  assert.equal(ids.of(directory.get('a') ?? null), a);
  const b = ids.of(directory.get('b') ?? null);
  assert.equal(a?.name, b?.name);
  assert.equal(made.length, 2, 'once per user');
  assert.equal(ids.of(directory.get('default') ?? null), null, 'default user, nothing denied');
});

test('nodeKnows: Redis commands, subcommands and categories yes; PROXY no', () => {
  assert.equal(nodeKnows('flushall'), true);
  assert.equal(nodeKnows('config|set'), true);
  assert.equal(nodeKnows('@dangerous'), true);
  assert.equal(nodeKnows('proxy'), false);
  assert.equal(nodeKnows('proxy|info'), false);
});
