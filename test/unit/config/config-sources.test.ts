// Flags, environment and config file: precedence, secrets from files, one error per bad value.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseCommandLine } from '../../../src/config/cli-args.js';

const dir = mkdtempSync(join(tmpdir(), 'slotway-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

test('precedence: flag > environment > config file > default', () => {
  const config = file(
    'precedence.yaml',
    ['port: 7001', 'bind: 127.0.0.2', 'max-pipeline: 500', 'cluster: [10.0.0.1:6379, 10.0.0.2:6379]'].join('\n'),
  );
  const parsed = parseCommandLine(['--config', config, '--port', '7003'], {
    SLOTWAY_PORT: '7002',
    SLOTWAY_BIND: '127.0.0.3',
  });
  assert.deepEqual(parsed.errors, []);
  assert.equal(parsed.options.port, 7003, 'flag beats environment and file');
  assert.equal(parsed.options.bind, '127.0.0.3', 'environment beats file');
  assert.equal(parsed.options.maxPipeline, 500, 'file beats default');
  assert.deepEqual(parsed.options.seeds, ['10.0.0.1:6379', '10.0.0.2:6379'], 'a YAML list');
  assert.equal(parsed.options.maxRedirects, 5, 'default');
});

test('SLOTWAY_CONFIG names the file; JSON is read too', () => {
  const config = file('options.json', JSON.stringify({ port: 7100, 'deny-commands': [], timeout: 30 }));
  const parsed = parseCommandLine([], { SLOTWAY_CONFIG: config });
  assert.deepEqual(parsed.errors, []);
  assert.equal(parsed.options.port, 7100);
  assert.deepEqual(parsed.options.denyCommands, []);
  assert.equal(parsed.options.idleTimeoutSeconds, 30);
});

test('a secret may come from a file, by flag, environment or config key; the trailing newline is dropped', () => {
  const secret = file('password', 's3cret\n');
  assert.equal(parseCommandLine(['--requirepass-file', secret], {}).options.requirepass, 's3cret');
  assert.equal(parseCommandLine([], { SLOTWAY_REQUIREPASS_FILE: secret }).options.requirepass, 's3cret');
  const config = file('secret.yaml', `requirepass-file: ${secret}\n`);
  assert.equal(parseCommandLine(['--config', config], {}).options.requirepass, 's3cret');
  assert.equal(
    parseCommandLine(['--requirepass', 'flag'], { SLOTWAY_REQUIREPASS_FILE: secret }).options.requirepass,
    'flag',
    'flag beats environment',
  );
  const both = parseCommandLine(['--requirepass', 'a', '--requirepass-file', secret], {});
  assert.deepEqual(both.errors, ['--requirepass and --requirepass-file are both given: give one']);
  const missing = parseCommandLine(['--requirepass-file', join(dir, 'absent')], {});
  assert.equal(missing.errors.length, 1);
  assert.match(missing.errors[0] as string, /^--requirepass-file: cannot read ".*absent" \(ENOENT\)$/);
});

test('every bad value in every source is reported, one line each, naming where it came from', () => {
  const config = file('bad.yaml', ['port: 70000', 'no-such-option: 1', 'timeout: [1, 2]', 'timeout-x: 1'].join('\n'));
  const parsed = parseCommandLine(
    ['--config', config, '--maxclients', '0', '--users-file', join(dir, 'absent.acl'), '--bogus'],
    { SLOTWAY_MAX_REDIRECTS: 'many' },
  );
  assert.deepEqual(
    parsed.errors.slice().sort(),
    [
      `${config}: port: --port must be at most 65535 (got 70000)`,
      `${config}: unknown option "no-such-option" (see --help)`,
      `${config}: unknown option "timeout-x" (see --help)`,
      `${config}: timeout: --timeout must be an integer (got "1,2")`,
      `--maxclients must be at least 1 (got 0)`,
      `--users-file: cannot read file "${join(dir, 'absent.acl')}"`,
      `SLOTWAY_MAX_REDIRECTS: --max-redirects must be an integer (got "many")`,
      'unknown option --bogus (see --help)',
    ].sort(),
  );
});

test('a config file that is not a mapping, or not there, is one clear error', () => {
  assert.deepEqual(parseCommandLine(['--config', file('list.yaml', '- a\n- b\n')], {}).errors, [
    `--config: "${join(dir, 'list.yaml')}" must be a mapping of option names to values`,
  ]);
  assert.deepEqual(parseCommandLine(['--config', join(dir, 'nope.yaml')], {}).errors, [
    `--config: cannot read "${join(dir, 'nope.yaml')}" (ENOENT)`,
  ]);
  assert.equal(parseCommandLine(['--config', file('broken.yaml', 'port: [1\n')], {}).errors.length, 1);
});
