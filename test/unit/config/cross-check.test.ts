// Options that parse one by one but do not go together: one clear line each.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { crossCheckOptions, withDefaults, type ProxyOptions } from '../../../src/config/options.js';
import { issueCert, makeCa, type CertFiles, type TestCa } from '../../helpers/tls-certs.js';

let dir = '';
let ca: TestCa;
let server: CertFiles;
let other: CertFiles;
let garbage = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slotway-cross-check-'));
  ca = await makeCa(dir);
  server = await issueCert(ca, 'server', 'server', '01');
  other = await issueCert(ca, 'other', 'other', '02');
  garbage = join(dir, 'garbage.pem');
  await writeFile(garbage, 'not a certificate\n');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const check = (options: Partial<ProxyOptions>): string[] => crossCheckOptions(withDefaults(options));

test('defaults and complete TLS settings pass', () => {
  assert.deepEqual(check({}), []);
  assert.deepEqual(check({ tlsPort: 7778, tlsCert: server.certFile, tlsKey: server.keyFile, tlsCa: ca.certFile }), []);
  assert.deepEqual(check({ clusterTls: true }), []);
  assert.deepEqual(
    check({
      clusterTls: true,
      clusterTlsCa: ca.certFile,
      clusterTlsCert: server.certFile,
      clusterTlsKey: server.keyFile,
      clusterTlsServername: 'redis',
    }),
    [],
  );
  assert.deepEqual(check({ clusterUser: 'app', clusterPassword: 'secret' }), []);
  assert.deepEqual(check({ clusterPassword: 'secret' }), []);
});

test('each bad combination is one line naming the flags', () => {
  assert.deepEqual(check({ tlsPort: 7778 }), ['--tls-port 7778 needs --tls-cert and --tls-key']);
  assert.deepEqual(check({ tlsPort: 7778, tlsCert: server.certFile }), [
    '--tls-port 7778 needs --tls-cert and --tls-key',
  ]);
  assert.deepEqual(check({ tlsPort: 7777, tlsCert: server.certFile, tlsKey: server.keyFile }), [
    '--tls-port and --port must differ (both are 7777)',
  ]);
  assert.deepEqual(check({ tlsCert: server.certFile, tlsKey: server.keyFile }), [
    '--tls-cert, --tls-key given but --tls-port is 0 (the TLS listener is off)',
  ]);
  assert.deepEqual(check({ clusterTlsCa: ca.certFile, clusterTlsServername: 'x' }), [
    '--cluster-tls-ca, --cluster-tls-servername given but --cluster-tls is off',
  ]);
  assert.deepEqual(check({ clusterTls: true, clusterTlsCert: server.certFile }), [
    '--cluster-tls-cert and --cluster-tls-key go together: give both or neither',
  ]);
  assert.deepEqual(check({ clusterUser: 'app' }), ['--cluster-user needs --cluster-password']);
  // Every problem at once: no cert (and same port as --port), user without password, CA without --cluster-tls.
  assert.equal(check({ tlsPort: 7777, clusterUser: 'app', clusterTlsCa: ca.certFile }).length, 4);
});

test('files that do not make a TLS context are caught at start', () => {
  const [mismatch] = check({ tlsPort: 7778, tlsCert: server.certFile, tlsKey: other.keyFile });
  assert.match(mismatch ?? '', /^--tls-cert\/--tls-key: cannot use these files \(.*key values mismatch.*\)$/);
  const [notPem] = check({ clusterTls: true, clusterTlsCa: garbage });
  assert.match(
    notPem ?? '',
    /^--cluster-tls-ca\/--cluster-tls-cert\/--cluster-tls-key: cannot use these files \(.+\)$/,
  );
});
