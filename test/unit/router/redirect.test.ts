import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorAction, classifyError, parseRedirect } from '../../../src/router/redirect.js';

function line(text: string): Buffer {
  return Buffer.from(`${text}\r\n`);
}

function classify(text: string): ErrorAction {
  const buffer = line(text);
  return classifyError(buffer, 0, buffer.length);
}

test('errors are classified by their code', () => {
  assert.equal(classify('-MOVED 3999 127.0.0.1:6381'), ErrorAction.Moved);
  assert.equal(classify('-ASK 3999 127.0.0.1:6381'), ErrorAction.Ask);
  assert.equal(classify('-TRYAGAIN Multiple keys request during rehashing of slot'), ErrorAction.Retry);
  assert.equal(classify('-CLUSTERDOWN The cluster is down'), ErrorAction.Retry);
  assert.equal(classify('-LOADING Redis is loading the dataset in memory'), ErrorAction.Retry);
  assert.equal(
    classify('-UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)'),
    ErrorAction.Retry,
  );
  assert.equal(classify('-UNBLOCKED client unblocked via CLIENT UNBLOCK'), ErrorAction.Deliver);
  assert.equal(classify('-ERR MOVED is not a code here'), ErrorAction.Deliver);
  assert.equal(classify('-WRONGTYPE Operation against a key holding the wrong kind of value'), ErrorAction.Deliver);
});

test('redirects are parsed and validated', () => {
  const parse = (text: string, answeredBy = '10.0.0.9:7000') => {
    const buffer = line(text);
    return parseRedirect(buffer, 0, buffer.length, answeredBy);
  };
  assert.deepEqual(parse('-MOVED 3999 127.0.0.1:6381'), { slot: 3999, host: '127.0.0.1', port: 6381 });
  assert.deepEqual(parse('-ASK 0 ::1:6381'), { slot: 0, host: '::1', port: 6381 });
  assert.deepEqual(parse('-MOVED 16383 :6390'), { slot: 16383, host: '10.0.0.9', port: 6390 });
  assert.equal(parse('-MOVED 16384 127.0.0.1:6381'), null);
  assert.equal(parse('-MOVED -1 127.0.0.1:6381'), null);
  assert.equal(parse('-MOVED 12 127.0.0.1'), null);
  assert.equal(parse('-MOVED 12 ?:6380'), null);
  assert.equal(parse('-MOVED x 127.0.0.1:1'), null);
});
