// The script user's name and password follow from the rules and the node
// credentials alone (pods with one configuration converge on one user), and
// its ACL SETUSER is the one atomic command the header promises.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { test } from 'node:test';
import { NodeSecurity } from '../../../src/cluster/node-security.js';
import { ScriptUser, scriptUserName, scriptUserPassword } from '../../../src/cluster/script-user.js';
import { CommandFramer } from '../../../src/protocol/command-framer.js';
import { Frame } from '../../../src/protocol/stream-framer.js';

const RULES = '~* &* +@all +asking +script|load -flushall -keys';

/** The arguments of an encoded command, as text. */
function words(payload: Buffer): string[] {
  const framer = new CommandFramer();
  framer.push(payload);
  assert.equal(framer.next(), Frame.Ready);
  const out: string[] = [];
  for (let i = 0; i < framer.argc; i++)
    out.push(framer.frameBuffer.toString('utf8', framer.argStart[i], framer.argEnd[i]));
  return out;
}

test('the name is slotway-script- and the first 12 hex digits of SHA-256 of the rules', () => {
  const expected = `slotway-script-${createHash('sha256').update(RULES).digest('hex').slice(0, 12)}`;
  assert.equal(scriptUserName(RULES), expected);
  assert.match(scriptUserName(RULES), /^slotway-script-[0-9a-f]{12}$/);
  assert.equal(scriptUserName(RULES), scriptUserName(RULES));
  assert.notEqual(scriptUserName(RULES), scriptUserName(`${RULES} -flushdb`));
});

test('the password is an HMAC keyed by the node credentials: same inputs, same password; any change, another', () => {
  const password = scriptUserPassword('slotway', 'node-secret', RULES);
  assert.match(password, /^[0-9a-f]{64}$/);
  assert.equal(
    password,
    createHmac('sha256', 'slotway\u0000node-secret').update(`slotway script user\u0000${RULES}`).digest('hex'),
  );
  assert.equal(scriptUserPassword('slotway', 'node-secret', RULES), password);
  assert.notEqual(scriptUserPassword('slotway', 'other-secret', RULES), password);
  assert.notEqual(scriptUserPassword('other', 'node-secret', RULES), password);
  assert.notEqual(scriptUserPassword('slotway', 'node-secret', `${RULES} -flushdb`), password);
  // The user and password fields are separated: ("ab","c") and ("a","bc") differ.
  assert.notEqual(scriptUserPassword('ab', 'c', RULES), scriptUserPassword('a', 'bc', RULES));
  // A node without a password still gives the user one: never nopass.
  assert.match(scriptUserPassword('', '', RULES), /^[0-9a-f]{64}$/);
  assert.ok(!password.includes('node-secret'));
});

test('ACL SETUSER resets, enables, sets the password and the rules in one command; AUTH uses the same password', () => {
  const user = new ScriptUser(RULES, 'slotway', 'node-secret');
  const password = scriptUserPassword('slotway', 'node-secret', RULES);
  assert.equal(user.name, scriptUserName(RULES));
  assert.ok(user.setUser !== null);
  assert.deepEqual(words(user.setUser), [
    'ACL',
    'SETUSER',
    user.name,
    'reset',
    'on',
    `>${password}`,
    '~*',
    '&*',
    '+@all',
    '+asking',
    '+script|load',
    '-flushall',
    '-keys',
  ]);
  assert.deepEqual(words(user.auth), ['AUTH', user.name, password]);
});

test('a node user the operator made (users-file node-user): AUTH as it, no ACL SETUSER', () => {
  const user = new ScriptUser('(node user app-scripts)', 'slotway', 'node-secret', {
    name: 'app-scripts',
    password: 'pw',
  });
  assert.equal(user.setUser, null);
  assert.equal(user.name, 'app-scripts');
  assert.deepEqual(words(user.auth), ['AUTH', 'app-scripts', 'pw']);
});

test('NodeSecurity derives from its own credentials and hands out one ScriptUser per rule text', () => {
  const security = new NodeSecurity({
    clusterUser: 'slotway',
    clusterPassword: 'node-secret',
    clusterTls: false,
    clusterTlsCa: '',
    clusterTlsCert: '',
    clusterTlsKey: '',
    clusterTlsServername: '',
  });
  const user = security.scriptUser(RULES);
  assert.equal(security.scriptUser(RULES), user);
  assert.deepEqual(words(user.auth), [
    'AUTH',
    scriptUserName(RULES),
    scriptUserPassword('slotway', 'node-secret', RULES),
  ]);
  assert.notEqual(security.scriptUser(`${RULES} -flushdb`), user);
});
