/**
 * Validates core Kubernetes objects against the API's own model: the
 * attribute maps that @kubernetes/client-node generates from the Kubernetes
 * OpenAPI spec (field names and types), plus the required fields of the
 * kinds Falconer renders (the generated maps do not say which are required).
 */
import * as k8s from '@kubernetes/client-node';

interface Attribute {
  baseName: string;
  type: string;
}
type Model = { getAttributeTypeMap(): Attribute[] } | undefined;

const MODELS = k8s as unknown as Record<string, Model>;

/** apiVersion/kind → the generated model class name. */
const CORE_MODELS: Record<string, string> = {
  'v1/Pod': 'V1Pod',
  'v1/Event': 'CoreV1Event',
  'networking.k8s.io/v1/NetworkPolicy': 'V1NetworkPolicy',
  'apps/v1/Deployment': 'V1Deployment',
  'apps/v1/StatefulSet': 'V1StatefulSet',
  'apps/v1/ReplicaSet': 'V1ReplicaSet',
};

const REQUIRED: Record<string, string[]> = {
  'v1/Event': ['metadata', 'involvedObject'],
  'networking.k8s.io/v1/NetworkPolicy': ['metadata'],
};

export function coreModelFor(apiVersion: string, kind: string): string | undefined {
  return CORE_MODELS[`${apiVersion}/${kind}`];
}

function checkType(value: unknown, type: string, path: string, errors: string[]): void {
  if (value === null || value === undefined) return;
  const arr = /^Array<(.+)>$/.exec(type);
  if (arr) {
    if (!Array.isArray(value)) errors.push(`${path}: must be an array`);
    else value.forEach((v, i) => checkType(v, arr[1] as string, `${path}[${i}]`, errors));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value !== 'object' || Array.isArray(value)) errors.push(`${path}: must be an object`);
    else for (const [k, v] of Object.entries(value)) checkType(v, map[1] as string, `${path}.${k}`, errors);
    return;
  }
  switch (type) {
    case 'string':
      if (typeof value !== 'string') errors.push(`${path}: must be a string`);
      return;
    case 'number':
      if (typeof value !== 'number') errors.push(`${path}: must be a number`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') errors.push(`${path}: must be a boolean`);
      return;
    case 'Date':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value)))
        errors.push(`${path}: must be an RFC 3339 time`);
      return;
    case 'IntOrString':
      if (typeof value !== 'string' && !Number.isInteger(value))
        errors.push(`${path}: must be an integer or a string`);
      return;
    case 'any':
    case 'object':
      return;
  }
  validateModel(value, type, path, errors);
}

function validateModel(value: unknown, modelName: string, path: string, errors: string[]): void {
  const model = MODELS[modelName];
  if (model === undefined || typeof model.getAttributeTypeMap !== 'function') {
    errors.push(`${path}: no model ${modelName}`);
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors.push(`${path || '<root>'}: must be an object (${modelName})`);
    return;
  }
  const attrs = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, child] of Object.entries(value)) {
    const type = attrs.get(key);
    const childPath = path ? `${path}.${key}` : key;
    if (type === undefined) errors.push(`${childPath}: unknown field`);
    else checkType(child, type, childPath, errors);
  }
}

export function validateCoreObject(obj: Record<string, unknown>, apiVersion: string, kind: string): string[] {
  const key = `${apiVersion}/${kind}`;
  const modelName = CORE_MODELS[key];
  if (modelName === undefined) return [`no core model for ${key}`];
  const errors: string[] = [];
  validateModel(obj, modelName, '', errors);
  for (const field of REQUIRED[key] ?? [])
    if (!(field in obj)) errors.push(`missing required field '${field}'`);
  return errors;
}
