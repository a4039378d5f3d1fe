import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeKillReplies } from '../../../src/router/out-of-band.js';

const OK = Buffer.from('+OK\r\n');
const NOTBUSY = Buffer.from('-NOTBUSY No scripts in execution right now.\r\n');
const UNKILLABLE = Buffer.from(
  '-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n',
);
const BUSY = Buffer.from(
  '-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n',
);
const FAILED = Buffer.from(
  '-ERR Slotway could not deliver SCRIPT KILL to 127.0.0.1:1 (ECONNREFUSED); a script may still run there\r\n',
);

test('SCRIPT KILL / FUNCTION KILL replies of every master merge as one Redis would answer', () => {
  assert.equal(mergeKillReplies([NOTBUSY, OK, NOTBUSY]).toString(), '+OK\r\n');
  assert.equal(mergeKillReplies([NOTBUSY, NOTBUSY, NOTBUSY]).toString(), NOTBUSY.toString());
  assert.equal(mergeKillReplies([NOTBUSY, UNKILLABLE, NOTBUSY]).toString(), UNKILLABLE.toString());
  assert.equal(
    mergeKillReplies([UNKILLABLE, OK]).toString(),
    '+OK\r\n',
    'a script killed anywhere is what the client asked for',
  );
  assert.equal(
    mergeKillReplies([NOTBUSY, BUSY]).toString(),
    BUSY.toString(),
    'the wrong KILL for what runs: Redis names the right one',
  );
  assert.equal(
    mergeKillReplies([NOTBUSY, FAILED]).toString(),
    FAILED.toString(),
    'an unreachable master may run the script: not NOTBUSY',
  );
  assert.match(mergeKillReplies([]).toString(), /^-CLUSTERDOWN/);
});
