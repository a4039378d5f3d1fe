// The policy table is an allow-list: every command and subcommand of the
// generated table (Redis's own COMMAND) has exactly one row, every row names
// a command Redis has (or a newer Redis added), and nothing unclassified is
// ever forwarded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CommandData } from '../../../src/commands/command-data.js';
import { Route } from '../../../src/commands/command-spec.js';
import { CommandTable, UNKNOWN_COMMAND } from '../../../src/commands/command-table.js';
import { COMMAND_DATA } from '../../../src/commands/command-table.generated.js';
import { NEWER_REDIS_NAMES, POLICY_TABLE } from '../../../src/commands/policy-table.js';
import { ADDED_SUBCOMMANDS, SLOTWAY_COMMANDS } from '../../../src/commands/slotway-commands.js';
import { CommandFramer } from '../../../src/protocol/command-framer.js';
import { encodeCommand } from '../../../src/protocol/resp-writer.js';
import { Frame } from '../../../src/protocol/stream-framer.js';

function allNames(data: readonly CommandData[]): string[] {
  return data.flatMap((command) => [command.name, ...command.subcommands.map((sub) => sub.name)]);
}

const KNOWN = new Set([
  ...allNames(COMMAND_DATA),
  ...allNames(SLOTWAY_COMMANDS),
  ...ADDED_SUBCOMMANDS.map((sub) => sub.name),
]);

test('every command and subcommand Redis lists has a policy row', () => {
  const unclassified = [...KNOWN].filter((name) => !POLICY_TABLE.has(name));
  assert.deepEqual(unclassified, [], `commands without a policy row: ${unclassified.join(', ')}`);
  const table = new CommandTable();
  const specs = [...table.specs()];
  assert.equal(specs.length, KNOWN.size, 'the table holds every known name once');
  for (const spec of specs) assert.ok(spec.classified, `${spec.name} is classified`);
});

test('every row names a command Redis has, or one a newer Redis added', () => {
  const strays = [...POLICY_TABLE.keys()].filter((name) => !KNOWN.has(name) && !NEWER_REDIS_NAMES.has(name));
  assert.deepEqual(strays, []);
  for (const name of NEWER_REDIS_NAMES) assert.ok(POLICY_TABLE.has(name), `${name} has a row`);
});

test('a command without a row is refused, never forwarded', () => {
  const [first] = COMMAND_DATA;
  assert.ok(first !== undefined);
  const unlisted: CommandData = { ...first, name: 'not-in-the-policy-table', subcommands: [] };
  const table = new CommandTable([unlisted]);
  const spec = table.get('not-in-the-policy-table');
  assert.ok(spec !== undefined);
  assert.equal(spec.route, Route.Refused);
  assert.equal(spec.classified, false);
  assert.match(spec.refusal, /^ERR NOT-IN-THE-POLICY-TABLE is not known to this version of Slotway/);
  assert.equal(UNKNOWN_COMMAND.route, Route.Refused, 'a name Redis does not know either');
});

test('commands that would change a shared connection or a node are never forwarded as they are', () => {
  const table = new CommandTable();
  const framed = (...words: string[]): CommandFramer => {
    const framer = new CommandFramer();
    framer.push(encodeCommand(words));
    assert.equal(framer.next(), Frame.Ready);
    return framer;
  };
  const neverShared = [
    ['SCRIPT', 'DEBUG', 'YES'],
    ['CLIENT', 'REPLY', 'OFF'],
    ['CLIENT', 'PAUSE', '100'],
    ['CLIENT', 'KILL', 'ID', '1'],
    ['CLIENT', 'TRACKING', 'ON'],
    ['CLIENT', 'SETNAME', 'x'],
    ['ACL', 'SETUSER', 'default', '-get'],
    ['ACL', 'DELUSER', 'x'],
    ['SELECT', '1'],
    ['RESET'],
    ['HELLO', '3'],
    ['AUTH', 'x'],
    ['MULTI'],
    ['MONITOR'],
    ['SUBSCRIBE', 'c'],
    ['PSUBSCRIBE', 'c*'],
    ['SSUBSCRIBE', 'c'],
    ['READONLY'],
    ['QUIT'],
    ['CONFIG', 'SET', 'maxmemory', '1'],
    ['SAVE'],
    ['SHUTDOWN'],
    ['DEBUG', 'SLEEP', '1'],
    ['REPLICAOF', 'NO', 'ONE'],
    ['FAILOVER'],
    ['CLUSTER', 'RESET'],
    ['MODULE', 'LOAD', 'x'],
    ['CLIENT', 'NO-EVICT', 'on'],
    ['CLIENT', 'FOO'],
    ['NOSUCHCOMMAND', 'a'],
  ];
  for (const words of neverShared) {
    const spec = table.lookup(framed(...words));
    assert.ok(
      spec.route !== Route.ByKey && !(spec.route === Route.EveryMaster && !spec.adminOnly),
      `${words.join(' ')} must not go out on a shared connection as it is (route ${spec.route})`,
    );
  }
});

test('the table by policy (the counts the README and the closing note quote)', () => {
  const counts = new Map<string, number>();
  for (const policy of POLICY_TABLE.values()) counts.set(policy.kind, (counts.get(policy.kind) ?? 0) + 1);
  const summary = [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
  console.log(`policy rows: ${POLICY_TABLE.size} (${summary})`);
  assert.equal(
    [...counts.values()].reduce((a, b) => a + b, 0),
    POLICY_TABLE.size,
  );
});
