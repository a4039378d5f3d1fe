import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { OPTION_DEFINITIONS, envName, shownDefault } from '../../../src/config/options.js';
import { helpText, parseCommandLine } from '../../../src/config/cli-args.js';

const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');

test('README documents every option with its environment variable and default', () => {
  for (const definition of OPTION_DEFINITIONS) {
    const row = `| \`--${definition.flag}\` | \`${envName(definition)}\` | ${shownDefault(definition)} |`;
    assert.ok(readme.includes(row), `README lacks: ${row}`);
  }
});

test('--help lists every option', () => {
  const help = helpText();
  for (const definition of OPTION_DEFINITIONS) assert.ok(help.includes(`--${definition.flag}`), definition.flag);
});

test('flags beat environment, positional seeds are accepted, bad values are all reported', () => {
  const parsed = parseCommandLine(['--port', '7000', '10.0.0.1:6379', '--cluster=10.0.0.2:6379'], {
    SLOTWAY_PORT: '7001',
    SLOTWAY_BIND: '127.0.0.1',
  });
  assert.deepEqual(parsed.errors, []);
  assert.equal(parsed.options.port, 7000);
  assert.equal(parsed.options.bind, '127.0.0.1');
  assert.deepEqual(parsed.options.seeds, ['10.0.0.2:6379', '10.0.0.1:6379']);
  const bad = parseCommandLine(['--port', 'x', '--max-redirects', '-1', '--nope', '1'], {});
  assert.equal(bad.errors.length, 3);
});
