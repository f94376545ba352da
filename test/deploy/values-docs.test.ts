/**
 * values.yaml is documented (`# --` on every value, helm-docs style), covered
 * by values.schema.json, and docs/deploy.md's values table is the one
 * generated from it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as prettier from 'prettier';
import { parse } from 'yaml';
import { CHART_DIR } from './render.ts';
import { DEPLOY_DOC, docWithTable, documentedValues, leafPaths, VALUES_FILE } from './values-table.ts';

const text = readFileSync(VALUES_FILE, 'utf8');
const values = parse(text) as Record<string, unknown>;

test('every value in values.yaml has a `# --` comment, on itself or on the map it belongs to', () => {
  const documented = new Set(documentedValues(text).map((d) => d.path));
  const undocumented = leafPaths(values).filter((leaf) => {
    const parts = leaf.split('.');
    return !parts.some((_, i) => documented.has(parts.slice(0, i + 1).join('.')));
  });
  assert.deepEqual(undocumented, []);
  for (const d of documentedValues(text))
    assert.ok(d.description.length >= 10, `${d.path} says what it does`);
});

interface JsonSchemaNode {
  properties?: Record<string, JsonSchemaNode>;
  additionalProperties?: boolean | JsonSchemaNode;
  type?: string;
}

test('values.schema.json describes every value', () => {
  const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as JsonSchemaNode;
  const missing = leafPaths(values).filter((leaf) => {
    let node: JsonSchemaNode | undefined = schema;
    for (const key of leaf.split('.')) {
      if (node === undefined) return true;
      // A free-form object (type object without properties) covers whatever is below it.
      if (node.properties === undefined && node.type === 'object') return false;
      node =
        node.properties?.[key] ??
        (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined);
    }
    return node === undefined;
  });
  assert.deepEqual(missing, []);
});

test('docs/deploy.md carries the values table generated from values.yaml', async () => {
  const doc = readFileSync(DEPLOY_DOC, 'utf8');
  const options = (await prettier.resolveConfig(DEPLOY_DOC)) ?? {};
  const expected = await prettier.format(docWithTable(doc), { ...options, filepath: DEPLOY_DOC });
  assert.equal(
    doc,
    expected,
    'run: node --import tsx test/deploy/values-table.ts --write && npx prettier --write docs/deploy.md',
  );
});
