/**
 * Validates built-in Kubernetes objects (Deployment, Service, Role…) offline
 * against the typed models that `@kubernetes/client-node` generates from the
 * Kubernetes OpenAPI (v1.34): every field name and type, recursively, and the
 * fields the OpenAPI marks required (the non-optional properties of each
 * generated class, read from its .d.ts). Unknown fields are errors.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import type { SchemaProblem } from './structural-schema.ts';

interface Attribute {
  readonly name: string;
  readonly baseName: string;
  readonly type: string;
  readonly format: string;
}

interface ModelClass {
  getAttributeTypeMap(): Attribute[];
}

const MODELS_DIR = join(
  dirname(fileURLToPath(import.meta.resolve('@kubernetes/client-node'))),
  'gen',
  'models',
);
const registry = k8s as unknown as Record<string, unknown>;

function modelClass(name: string): ModelClass | undefined {
  const candidate = registry[name] as Partial<ModelClass> | undefined;
  return typeof candidate?.getAttributeTypeMap === 'function' ? (candidate as ModelClass) : undefined;
}

const requiredCache = new Map<string, Set<string>>();

/** The properties declared without `?` in the model's generated declaration file. */
function requiredFields(model: string): Set<string> {
  let found = requiredCache.get(model);
  if (found === undefined) {
    const dts = readFileSync(join(MODELS_DIR, `${model}.d.ts`), 'utf8');
    found = new Set([...dts.matchAll(/^\s+'([^']+)':\s/gm)].map((m) => m[1]!));
    requiredCache.set(model, found);
  }
  return found;
}

/** `apps/v1` + `Deployment` → `V1Deployment`; `v1` + `Event` → `CoreV1Event`. */
export function modelNameFor(apiVersion: string, kind: string): string | undefined {
  const version = apiVersion.includes('/') ? apiVersion.slice(apiVersion.indexOf('/') + 1) : apiVersion;
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : 'core';
  const v = version.charAt(0).toUpperCase() + version.slice(1);
  const plain = `${v}${kind}`;
  const prefix = group.split('.')[0]!;
  const qualified = `${prefix.charAt(0).toUpperCase()}${prefix.slice(1)}${v}${kind}`;
  for (const name of [plain, qualified]) {
    const model = modelClass(name);
    if (model === undefined) continue;
    // The model must really describe this kind: its apiVersion/kind attributes exist.
    const attrs = model.getAttributeTypeMap().map((a) => a.baseName);
    if (attrs.includes('apiVersion') && attrs.includes('kind')) return name;
  }
  return undefined;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

class ModelWalker {
  readonly problems: SchemaProblem[] = [];

  private fail(path: string, message: string): void {
    this.problems.push({ path: path || '(root)', message });
  }

  checkType(type: string, format: string, value: unknown, path: string): void {
    if (value === null || value === undefined) return; // null means "unset" in the API
    const t = jsonType(value);
    if (type === 'any' || type === 'object') return;
    if (type === 'string') {
      if (t !== 'string') this.fail(path, `expected string, got ${t}`);
      return;
    }
    if (type === 'number') {
      if (t !== 'number') this.fail(path, `expected number, got ${t}`);
      else if (format.startsWith('int') && !Number.isInteger(value)) this.fail(path, `expected an integer`);
      return;
    }
    if (type === 'boolean') {
      if (t !== 'boolean') this.fail(path, `expected boolean, got ${t}`);
      return;
    }
    if (type === 'Date' || format === 'date-time-micro') {
      if (t !== 'string' || Number.isNaN(Date.parse(value as string)))
        this.fail(path, 'expected a date-time');
      return;
    }
    if (type === 'IntOrString') {
      if (t !== 'string' && !(t === 'number' && Number.isInteger(value))) {
        this.fail(path, `expected integer or string, got ${t}`);
      }
      return;
    }
    const array = /^Array<(.+)>$/.exec(type);
    if (array) {
      if (t !== 'array') return this.fail(path, `expected array, got ${t}`);
      (value as unknown[]).forEach((item, i) => this.checkType(array[1]!, format, item, `${path}[${i}]`));
      return;
    }
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
    if (map) {
      if (t !== 'object') return this.fail(path, `expected object, got ${t}`);
      for (const [k, v] of Object.entries(value as object))
        this.checkType(map[1]!, format, v, `${path}.${k}`);
      return;
    }
    const model = modelClass(type);
    if (model === undefined) return this.fail(path, `no model named ${type} (validator gap)`);
    if (t !== 'object') return this.fail(path, `expected ${type} object, got ${t}`);
    this.checkModel(type, model, value as Record<string, unknown>, path);
  }

  checkModel(name: string, model: ModelClass, value: Record<string, unknown>, path: string): void {
    const attrs = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a]));
    const byTsName = new Map(model.getAttributeTypeMap().map((a) => [a.name, a]));
    for (const tsName of requiredFields(name)) {
      const attr = byTsName.get(tsName);
      if (attr !== undefined && !(attr.baseName in value)) {
        this.fail(path, `missing required field "${attr.baseName}" (${name})`);
      }
    }
    for (const [key, child] of Object.entries(value)) {
      const attr = attrs.get(key);
      const childPath = path ? `${path}.${key}` : key;
      if (attr === undefined) this.fail(childPath, `unknown field (not in ${name})`);
      else this.checkType(attr.type, attr.format, child, childPath);
    }
  }
}

/** Validates one built-in object; undefined when its apiVersion/kind has no model here. */
export function validateBuiltin(object: Record<string, unknown>): SchemaProblem[] | undefined {
  const name = modelNameFor(String(object.apiVersion), String(object.kind));
  if (name === undefined) return undefined;
  const walker = new ModelWalker();
  walker.checkModel(name, modelClass(name)!, object, '');
  return walker.problems;
}

/** Validates a value against a named model (e.g. `V1ObjectMeta`). */
export function validateAgainstModel(model: string, value: unknown, path: string): SchemaProblem[] {
  const walker = new ModelWalker();
  walker.checkType(model, '', value, path);
  return walker.problems;
}
