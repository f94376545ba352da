/**
 * The gate's model on disk: a versioned JSON document that carries, next to
 * the forest, the feature schema it was trained on, so a model is never used
 * with vectors it does not understand. Loading validates everything before a
 * model can serve; a bad file is refused with the offending path.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { readTextFile } from '../util/read-text-file.ts';
import { FalconerError } from '../errors.ts';
import { IsolationForest } from './iforest.ts';

export const MODEL_FORMAT = 'falconer.gate-model';
export const MODEL_FORMAT_VERSION = 1;

export interface FeatureSchemaRef {
  schemaVersion: string;
  names: readonly string[];
}

export interface GateThreshold {
  /** Events scoring at or above this are forwarded. */
  score: number;
  /** The forward rate the threshold was calibrated for, when it was. */
  forwardRate?: number;
}

export interface GateModel {
  forest: IsolationForest;
  modelVersion: string;
  createdAt: string;
  features: FeatureSchemaRef;
  threshold?: GateThreshold;
  /** Rows the forest was trained on. */
  nTrain: number;
}

const paramsSchema = z.strictObject({
  trees: z.number().int().min(1),
  sampleSize: z.number().int().min(2),
  seed: z.number().int(),
  maxDepth: z.number().int().min(0),
});

const modelFileSchema = z.strictObject({
  format: z.literal(MODEL_FORMAT),
  formatVersion: z.literal(MODEL_FORMAT_VERSION),
  modelVersion: z.string().min(1).max(200),
  createdAt: z.iso.datetime({ offset: true }),
  features: z.strictObject({
    schemaVersion: z.string().min(1).max(200),
    names: z.array(z.string().min(1).max(200)).min(1),
  }),
  params: paramsSchema,
  threshold: z
    .strictObject({
      score: z.number().min(0).max(1),
      forwardRate: z.number().min(0).max(1).optional(),
    })
    .optional(),
  nTrain: z.number().int().min(0),
  forest: z.unknown(),
});

function formatPath(path: readonly PropertyKey[]): string {
  let out = '$';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  return out;
}

export function serializeModel(model: GateModel): string {
  const doc = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    modelVersion: model.modelVersion,
    createdAt: model.createdAt,
    features: { schemaVersion: model.features.schemaVersion, names: [...model.features.names] },
    params: { ...model.forest.params },
    ...(model.threshold ? { threshold: { ...model.threshold } } : {}),
    nTrain: model.nTrain,
    forest: model.forest.toJSON(),
  };
  return JSON.stringify(doc);
}

/**
 * Parses and validates a model document. With `expected`, also checks that it
 * was trained on exactly that feature schema (MODEL_SCHEMA_MISMATCH otherwise).
 */
export function parseModel(text: string, expected?: FeatureSchemaRef): GateModel {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new FalconerError(
      'MODEL_INVALID',
      'model file is not valid JSON',
      { path: '$', why: (err as Error).message },
      { cause: err },
    );
  }
  const parsed = modelFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = formatPath(issue.path);
    throw new FalconerError('MODEL_INVALID', `invalid model file at ${path}: ${issue.message}`, {
      path,
      why: issue.message,
    });
  }
  const doc = parsed.data;
  let forest: IsolationForest;
  try {
    forest = IsolationForest.fromJSON(doc.forest);
  } catch (err) {
    if (err instanceof FalconerError && typeof err.context.path === 'string') {
      const path = `$.forest.${err.context.path.replace(/^\$\.?/, '')}`.replace(/\.$/, '');
      throw new FalconerError('MODEL_INVALID', `invalid model file at ${path}: ${String(err.context.why)}`, {
        path,
        why: err.context.why,
      });
    }
    throw err;
  }
  if (forest.dimensions !== doc.features.names.length) {
    throw new FalconerError('MODEL_INVALID', 'forest dimensions differ from the number of feature names', {
      path: '$.features.names',
      why: `forest has ${forest.dimensions} dimensions, ${doc.features.names.length} names are listed`,
    });
  }
  for (const key of ['trees', 'sampleSize', 'seed', 'maxDepth'] as const) {
    if (doc.params[key] !== forest.params[key]) {
      throw new FalconerError('MODEL_INVALID', `params.${key} differs from the forest's`, {
        path: `$.params.${key}`,
        why: `file says ${doc.params[key]}, forest says ${forest.params[key]}`,
      });
    }
  }
  if (expected) checkSchema(doc.features, expected);
  return {
    forest,
    modelVersion: doc.modelVersion,
    createdAt: doc.createdAt,
    features: { schemaVersion: doc.features.schemaVersion, names: Object.freeze([...doc.features.names]) },
    ...(doc.threshold ? { threshold: doc.threshold } : {}),
    nTrain: doc.nTrain,
  };
}

function checkSchema(found: FeatureSchemaRef, expected: FeatureSchemaRef): void {
  if (found.schemaVersion !== expected.schemaVersion) {
    throw new FalconerError('MODEL_SCHEMA_MISMATCH', 'model was trained on another feature schema version', {
      path: '$.features.schemaVersion',
      expected: expected.schemaVersion,
      found: found.schemaVersion,
    });
  }
  const n = Math.max(found.names.length, expected.names.length);
  for (let i = 0; i < n; i++) {
    if (found.names[i] !== expected.names[i]) {
      throw new FalconerError('MODEL_SCHEMA_MISMATCH', 'model features differ from the featurizer', {
        path: `$.features.names[${i}]`,
        expected: expected.names[i] ?? null,
        found: found.names[i] ?? null,
      });
    }
  }
}

/** Writes atomically: a temp file in the same directory, then rename over the target. */
export async function saveModel(path: string, model: GateModel): Promise<void> {
  const text = serializeModel(model);
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, text, { encoding: 'utf8', flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new FalconerError(
      'IO_ERROR',
      `cannot write model file: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
}

export async function loadModel(path: string, expected?: FeatureSchemaRef): Promise<GateModel> {
  const text = await readTextFile(path, 'model file');
  try {
    return parseModel(text, expected);
  } catch (err) {
    if (err instanceof FalconerError) {
      throw new FalconerError(err.code, err.message, { file: path, ...err.context }, { cause: err });
    }
    throw err;
  }
}
