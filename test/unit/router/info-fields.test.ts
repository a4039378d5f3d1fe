// The INFO field rules are complete and documented: every field a real
// 7.0.15 master lists in `INFO everything` has a rule, and the README's INFO
// table is the one made from the rules.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { INFO_SECTIONS, infoFieldTable } from '../../../src/router/info-fields.js';
import { parseInfo } from '../../../src/router/info-merge.js';
import { MASTER_INFO } from './info-fixture.js';

const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');

test('every section and field of a real master has a rule', () => {
  const missing: string[] = [];
  for (const text of MASTER_INFO) {
    for (const [name, fields] of parseInfo(text)) {
      const section = INFO_SECTIONS.find((s) => s.name === name);
      if (section === undefined) {
        missing.push(`# ${name}`);
        continue;
      }
      for (const [field] of fields) {
        const ruled = section.fields.some((rule) =>
          rule.name.endsWith('*') ? field.startsWith(rule.name.slice(0, -1)) : rule.name === field,
        );
        if (!ruled && !missing.includes(field)) missing.push(`${name}.${field}`);
      }
    }
  }
  assert.deepEqual(missing, []);
});

test('each field has one rule; human forms follow their field', () => {
  for (const section of INFO_SECTIONS) {
    const names = section.fields.map((f) => f.name);
    assert.equal(new Set(names).size, names.length, `${section.name}: a field named twice`);
    for (const field of section.fields.filter((f) => f.rule === 'human')) {
      const base = names.indexOf(field.name.slice(0, -'_human'.length));
      assert.ok(base >= 0 && base < names.indexOf(field.name), field.name);
    }
  }
});

test('README lists every field with its rule (the table infoFieldTable makes)', () => {
  assert.ok(readme.includes(infoFieldTable()), `README lacks the INFO table:\n${infoFieldTable()}`);
});
