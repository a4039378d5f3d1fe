// Which pub/sub names Slotway subscribes on every master: keyspace
// notifications are node-local, so a channel or pattern that can match one
// must be heard from each master (router/subscriber.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isKeyspaceName, mayMatchKeyspace } from '../../../src/router/subscriber.js';
import { stringMatch } from '../../../src/util/stringmatch.js';

const CHANNELS = ['__keyspace@0__:user:1', '__keyevent@0__:set', 'orders', '_x', '__key'];

test('a pattern that matches some keyspace channel is one mayMatchKeyspace accepts', () => {
  const patterns = [
    '*',
    '_*',
    '__key*',
    '__keyspace@*',
    '__keyevent@0__:s?t',
    '__keyspace@0__:user:*',
    '[_]*',
    '?_key*',
  ];
  for (const pattern of patterns) {
    const matches = CHANNELS.filter(
      (channel) => isKeyspaceName(channel) && stringMatch(Buffer.from(pattern), Buffer.from(channel)),
    );
    assert.ok(matches.length > 0, `${pattern} matches no keyspace channel of the sample`);
    assert.equal(mayMatchKeyspace(pattern), true, pattern);
  }
});

test('patterns that cannot match a keyspace channel stay on one link', () => {
  for (const pattern of ['orders*', 'news.?', '_y*', '__kez*', 'a*'])
    assert.equal(mayMatchKeyspace(pattern), false, pattern);
});
