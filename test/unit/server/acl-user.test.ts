// ACL rules checked as Redis 7.0 checks them: commands, keys with read/write
// access from the key specs, channels; the canonical text of the rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyIndices } from '../../../src/commands/command-spec.js';
import { CommandTable } from '../../../src/commands/command-table.js';
import { CommandFramer } from '../../../src/protocol/command-framer.js';
import { encodeCommand } from '../../../src/protocol/resp-writer.js';
import { Frame } from '../../../src/protocol/stream-framer.js';
import { UserDirectory, type User } from '../../../src/server/client-auth.js';

const table = new CommandTable();
const keys = new KeyIndices();

function usersOf(...lines: string[]): UserDirectory {
  const { directory, errors } = UserDirectory.create('', lines.join('\n'), table);
  assert.deepEqual(errors, []);
  return directory;
}

function userOf(rules: string): User {
  const user = usersOf(`user u ${rules}`).get('u');
  assert.ok(user);
  return user;
}

/** The user's verdict on a command: null (allowed) or the error line. */
function check(user: User, ...command: string[]): string | null {
  const framer = new CommandFramer();
  framer.push(encodeCommand(command));
  assert.equal(framer.next(), Frame.Ready);
  return user.check(table.lookup(framer), framer, keys);
}

const KEY = 'NOPERM this user has no permissions to access one of the keys used as arguments';
const CHANNEL = 'NOPERM this user has no permissions to access one of the channels used as arguments';

test('key patterns: every key of the command must match; %R~ and %W~ by the access the key spec needs', () => {
  const user = userOf('on nopass ~app:* %R~ro:* %W~wo:* +@all');
  assert.equal(check(user, 'GET', 'app:1'), null);
  assert.equal(check(user, 'GET', 'other'), KEY);
  assert.equal(check(user, 'MGET', 'app:1', 'app:2', 'other'), KEY, 'one key outside is enough');
  assert.equal(check(user, 'GET', 'ro:1'), null);
  assert.equal(check(user, 'SET', 'ro:1', 'x'), KEY, 'write needs W');
  assert.equal(check(user, 'SET', 'wo:1', 'x'), null, 'SET without GET only writes (variable flags)');
  assert.equal(check(user, 'SET', 'wo:1', 'x', 'GET'), KEY, 'SET ... GET also reads');
  assert.equal(check(user, 'GET', 'wo:1'), KEY);
  assert.equal(check(user, 'EXISTS', 'wo:1'), null, 'RO without access needs neither read nor write');
  assert.equal(check(user, 'BITFIELD', 'ro:1', 'GET', 'u8', '0'), null, 'BITFIELD GET only reads');
  assert.equal(check(user, 'BITFIELD', 'ro:1', 'SET', 'u8', '0', '1'), KEY);
  assert.equal(check(user, 'LMOVE', 'app:a', 'ro:b', 'LEFT', 'RIGHT'), KEY, 'the destination is written');
  assert.equal(check(user, 'EVAL', 'return 1', '1', 'other'), KEY, 'script keys are keys (keynum)');
  assert.equal(check(user, 'EVAL', 'return 1', '1', 'app:x'), null);
  assert.equal(check(user, 'EVAL', 'return 1', '0', 'other'), null, 'arguments are not keys');
  assert.equal(check(user, 'SORT', 'ro:1', 'STORE', 'app:x'), null);
  assert.equal(check(user, 'SORT', 'ro:1', 'STORE', 'ro:x'), KEY, 'the STORE key is written');
  assert.equal(check(user, 'PING'), null, 'keyless commands pass');
});

test('resetkeys: no key at all; the command rule comes first', () => {
  const user = userOf('on nopass resetkeys resetchannels -@all +get +publish');
  assert.equal(check(user, 'GET', 'k'), KEY);
  assert.equal(check(user, 'SET', 'k', 'v'), "NOPERM this user has no permissions to run the 'set' command");
  assert.equal(check(user, 'PUBLISH', 'c', 'm'), CHANNEL);
  assert.equal(check(user, 'AUTH', 'u', 'p'), null, 'no_auth commands are never refused');
});

test('channels: glob match for PUBLISH/SUBSCRIBE, the identical pattern for PSUBSCRIBE', () => {
  const user = userOf('on nopass ~* resetchannels &news:* &exact +@all');
  assert.equal(check(user, 'PUBLISH', 'news:1', 'm'), null);
  assert.equal(check(user, 'PUBLISH', 'other', 'm'), CHANNEL);
  assert.equal(check(user, 'SPUBLISH', 'news:1', 'm'), null, 'the shard channel is not checked as a key');
  assert.equal(check(user, 'SUBSCRIBE', 'news:1', 'exact'), null);
  assert.equal(check(user, 'SUBSCRIBE', 'news:1', 'other'), CHANNEL);
  assert.equal(check(user, 'SSUBSCRIBE', 'other'), CHANNEL);
  assert.equal(check(user, 'PSUBSCRIBE', 'news:*'), null);
  assert.equal(check(user, 'PSUBSCRIBE', 'news:1*'), CHANNEL, 'a narrower pattern is still not identical');
  assert.equal(check(user, 'PSUBSCRIBE', '*'), CHANNEL);
  assert.equal(check(user, 'UNSUBSCRIBE', 'other'), null, 'leaving is never refused');
});

test('commands: categories, subcommands, last rule wins; allowsEverything only with ~* &* and no refusal', () => {
  const user = userOf('on nopass ~* &* -@all +@read -get +client|id +client -client|kill');
  assert.equal(check(user, 'GET', 'k'), "NOPERM this user has no permissions to run the 'get' command");
  assert.equal(check(user, 'STRLEN', 'k'), null);
  assert.equal(check(user, 'CLIENT', 'ID'), null);
  assert.equal(
    check(user, 'CLIENT', 'KILL', 'ID', '1'),
    "NOPERM this user has no permissions to run the 'client|kill' command",
  );
  assert.equal(user.allowsEverything, false);
  assert.equal(userOf('on nopass ~* &* +@all').allowsEverything, true);
  assert.equal(userOf('on nopass ~* +@all').allowsEverything, false, 'channels restricted');
  assert.equal(userOf('on nopass &* +@all').allowsEverything, false, 'keys restricted');
});

test('aclRulesText: canonical ACL text, as ACL LIST prints it', () => {
  const user = userOf('on >pw ~app:* %R~ro:* %W~wo:* %R~app:* &chan:* -@all +@hash +get +client|id resetpass nopass');
  assert.equal(
    user.aclRulesText(),
    'on nopass ~app:* %R~ro:* %W~wo:* resetchannels &chan:* -@all +@hash +get +client|id',
  );
  const hashed = userOf('reset on >a >a %R~x %W~x allchannels +@all -@dangerous');
  assert.equal(
    hashed.aclRulesText(),
    'on sanitize-payload #ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb ~x &* +@all -@dangerous',
  );
  assert.equal(userOf('on nopass allkeys allcommands').aclRulesText(), 'on nopass ~* resetchannels +@all');
});

test('isAdmin: the rules allow every @admin command', () => {
  assert.equal(userOf('on nopass +@all').isAdmin, true);
  assert.equal(userOf('on nopass +@all -@dangerous').isAdmin, false);
  assert.equal(userOf('on nopass -@all +@admin').isAdmin, true);
  assert.equal(userOf('on nopass +@all -acl|list').isAdmin, false);
});

test('node-user lines map a user to the node ACL user its scripts run as', () => {
  const users = usersOf('user app on nopass ~app:* +@all', 'node-user app app-scripts s3cret', 'user other on nopass');
  assert.deepEqual(users.get('app')?.nodeUser, { name: 'app-scripts', password: 's3cret' });
  assert.equal(users.get('other')?.nodeUser, null);
});

test('passwords are bytes: a non-ASCII password from the file matches the bytes a client sends', () => {
  const users = usersOf('user u on >pässwörd +@all');
  const sent = Buffer.from('pässwörd', 'utf8').toString('latin1'); // as the session reads an argument
  assert.equal(users.authenticate('u', sent)?.name, 'u');
  assert.equal(users.authenticate('u', 'pässwörd'), null);
  assert.equal(users.authenticate('nobody', sent), null);
});
