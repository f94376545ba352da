import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IsolationForest } from '../../src/gate/iforest.ts';
import {
  loadModel,
  parseModel,
  saveModel,
  serializeModel,
  type GateModel,
} from '../../src/gate/model-file.ts';
import { isFalconerError, type ErrorCode } from '../../src/errors.ts';

/** The parsed document, loosely typed so tests can break it on purpose. */
interface LooseDoc {
  [key: string]: unknown;
  features: { names: unknown[] };
  threshold: { score: unknown };
  params: Record<string, unknown>;
  forest: { [key: string]: unknown; left: unknown[] } | null;
}

const names = ['rule_rarity', 'proc_rarity', 'priority'];
const schema = { schemaVersion: 'v1', names };

function model(): GateModel {
  const data = new Float64Array(60 * 3).map((_, i) => (i * 7919) % 101);
  return {
    forest: IsolationForest.fit(data, 60, 3, { trees: 5, seed: 9 }),
    modelVersion: '2024-05-01T00:00:00Z#1',
    createdAt: '2024-05-01T00:00:00.000Z',
    features: schema,
    threshold: { score: 0.62, forwardRate: 0.005 },
    nTrain: 60,
  };
}

function expectError(fn: () => unknown, code: ErrorCode, path: string) {
  assert.throws(fn, (e) => {
    assert.ok(isFalconerError(e, code), String(e));
    assert.equal(e.context.path, path);
    return true;
  });
}

test('serialize / parse round trip keeps the forest and metadata', () => {
  const m = model();
  const text = serializeModel(m);
  const doc = JSON.parse(text);
  assert.equal(doc.format, 'falconer.gate-model');
  assert.equal(doc.formatVersion, 1);
  assert.deepEqual(doc.params, { trees: 5, sampleSize: 256, seed: 9, maxDepth: 6 });
  const back = parseModel(text, schema);
  assert.equal(back.modelVersion, m.modelVersion);
  assert.equal(back.createdAt, m.createdAt);
  assert.deepEqual(back.threshold, m.threshold);
  assert.deepEqual([...back.features.names], names);
  assert.equal(back.nTrain, 60);
  assert.equal(JSON.stringify(back.forest), JSON.stringify(m.forest));
  assert.equal(serializeModel(back), text);
  const noThreshold = parseModel(serializeModel({ ...model(), threshold: undefined }));
  assert.equal(noThreshold.threshold, undefined);
});

test('invalid documents are refused with MODEL_INVALID and the offending path', () => {
  const base = () => JSON.parse(serializeModel(model()));
  const bad = (mutate: (d: LooseDoc) => void, path: string) => {
    const d = base() as LooseDoc;
    mutate(d);
    expectError(() => parseModel(JSON.stringify(d)), 'MODEL_INVALID', path);
  };
  expectError(() => parseModel('{not json'), 'MODEL_INVALID', '$');
  bad((d) => (d.format = 'other'), '$.format');
  bad((d) => (d.formatVersion = 2), '$.formatVersion');
  bad((d) => (d.createdAt = 'yesterday'), '$.createdAt');
  bad((d) => (d.features.names[1] = 3), '$.features.names[1]');
  bad((d) => (d.threshold.score = 1.5), '$.threshold.score');
  bad((d) => (d.extra = true), '$');
  bad((d) => (d.forest!.left[0] = 0), '$.forest.left[0]');
  bad((d) => (d.forest!.dimensions = 'x'), '$.forest.dimensions');
  bad((d) => (d.forest = null), '$.forest');
  bad((d) => d.features.names.pop(), '$.features.names');
  bad((d) => (d.params.seed = 10), '$.params.seed');
});

test('a model for another feature schema is refused with MODEL_SCHEMA_MISMATCH', () => {
  const text = serializeModel(model());
  expectError(
    () => parseModel(text, { schemaVersion: 'v2', names }),
    'MODEL_SCHEMA_MISMATCH',
    '$.features.schemaVersion',
  );
  expectError(
    () => parseModel(text, { schemaVersion: 'v1', names: ['rule_rarity', 'cmd_len', 'priority'] }),
    'MODEL_SCHEMA_MISMATCH',
    '$.features.names[1]',
  );
  expectError(
    () => parseModel(text, { schemaVersion: 'v1', names: [...names, 'hour'] }),
    'MODEL_SCHEMA_MISMATCH',
    '$.features.names[3]',
  );
});

test('saveModel writes atomically and loadModel reads it back', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'falconer-model-'));
  try {
    const path = join(dir, 'gate-model.json');
    await writeFile(path, 'old');
    const m = model();
    await saveModel(path, m);
    assert.deepEqual(await readdir(dir), ['gate-model.json']); // no temp file left behind
    assert.equal(await readFile(path, 'utf8'), serializeModel(m));
    const back = await loadModel(path, schema);
    assert.equal(JSON.stringify(back.forest), JSON.stringify(m.forest));
    await assert.rejects(loadModel(join(dir, 'missing.json')), (e) => isFalconerError(e, 'IO_ERROR'));
    await writeFile(path, '{}');
    await assert.rejects(
      loadModel(path),
      (e) => isFalconerError(e, 'MODEL_INVALID') && e.context.file === path,
    );
    await assert.rejects(saveModel(join(dir, 'no', 'such', 'dir.json'), m), (e) =>
      isFalconerError(e, 'IO_ERROR'),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
