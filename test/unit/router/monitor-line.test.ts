// The client address of a MONITOR line, which Slotway reads to leave its own
// topology probes out of a client's MONITOR stream (router/monitor.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lineAddress } from '../../../src/router/monitor.js';

const address = (line: string): string => lineAddress(Buffer.from(line), 0, line.length);

test('lineAddress reads IPv4, IPv6, unix and lua sources, and nothing from a line without one', () => {
  assert.equal(address('+1700000000.123456 [0 127.0.0.1:54321] "GET" "k"\r\n'), '127.0.0.1:54321');
  assert.equal(address('+1700000000.123456 [0 [::1]:6000] "SET" "[a] b" "v"\r\n'), '[::1]:6000');
  assert.equal(address('+1700000000.123456 [0 unix:/tmp/redis.sock] "PING"\r\n'), 'unix:/tmp/redis.sock');
  assert.equal(address('+1700000000.123456 [0 lua] "GET" "k"\r\n'), 'lua');
  assert.equal(address('+OK\r\n'), '');
});
