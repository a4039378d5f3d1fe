// Reading a framed command's arguments in place, and the slot its keys hash to.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import calculateSlot from 'cluster-key-slot';
import {
  CROSS_SLOT,
  NO_KEYS,
  argument,
  argumentText,
  commandSlot,
  hasArgument,
} from '../../../src/commands/command-args.js';
import { KeyIndices } from '../../../src/commands/command-spec.js';
import { CommandTable } from '../../../src/commands/command-table.js';
import { CommandFramer } from '../../../src/protocol/command-framer.js';
import { encodeCommand } from '../../../src/protocol/resp-writer.js';
import { Frame } from '../../../src/protocol/stream-framer.js';

const table = new CommandTable();

function framed(...command: (string | Buffer)[]): CommandFramer {
  const framer = new CommandFramer();
  framer.push(encodeCommand(command));
  assert.equal(framer.next(), Frame.Ready);
  return framer;
}

function slotOf(...command: string[]): number {
  const framer = framed(...command);
  return commandSlot(table.lookup(framer), framer, new KeyIndices());
}

test('arguments are views of the received bytes; text as latin1 by default, utf8 on request', () => {
  const framer = framed('SET', 'clé', Buffer.from([0xff, 0x00, 0x41]));
  const key = argument(framer, 1);
  assert.equal(key.buffer, framer.frameBuffer.buffer, 'a view, not a copy');
  assert.equal(argumentText(framer, 1, 'utf8'), 'clé');
  assert.equal(argumentText(framer, 1), Buffer.from('clé').toString('latin1'));
  assert.deepEqual([...argument(framer, 2)], [0xff, 0x00, 0x41]);
  assert.equal(argumentText(framer, 0), 'SET');
});

test('hasArgument looks past the command name, ignoring ASCII case', () => {
  assert.ok(hasArgument(framed('XREAD', 'Block', '0', 'STREAMS', 's', '$'), 'block'));
  assert.ok(!hasArgument(framed('XREAD', 'COUNT', '1', 'STREAMS', 's', '$'), 'block'));
  assert.ok(!hasArgument(framed('BLOCK'), 'block'), 'the name itself is not an argument');
  assert.ok(!hasArgument(framed('XREAD', 'BLOCKS'), 'block'));
  assert.ok(hasArgument(framed('HELLO', '3', 'AUTH', 'u', 'p'), 'auth', 2), 'from a later index');
  assert.ok(!hasArgument(framed('HELLO', 'auth'), 'auth', 2));
});

test('commandSlot: one slot for keys that agree, CROSS_SLOT when they differ, NO_KEYS without keys', () => {
  assert.equal(slotOf('GET', 'user:1'), calculateSlot('user:1'));
  assert.equal(slotOf('MGET', '{u}a', '{u}b', '{u}c'), calculateSlot('u'));
  assert.equal(slotOf('MGET', 'a', 'b'), CROSS_SLOT);
  assert.equal(slotOf('EVAL', 'return 1', '2', '{t}x', '{t}y', 'notakey'), calculateSlot('t'));
  assert.equal(slotOf('PING'), NO_KEYS);
  assert.equal(slotOf('EVAL', 'return 1', '0'), NO_KEYS);
  assert.equal(
    slotOf('EVAL', 'return 1', '5', 'k'),
    NO_KEYS,
    'numkeys beyond the arguments: the node answers the syntax error',
  );
});
