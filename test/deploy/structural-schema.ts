/**
 * A validator for Kubernetes structural schemas (the OpenAPI v3 subset that
 * CRDs' `openAPIV3Schema` uses), so rendered manifests can be checked against
 * the real CRDs offline. Unknown fields are errors (as with `kubectl apply
 * --validate=strict`) unless the schema preserves them. CEL rules
 * (`x-kubernetes-validations`) are not evaluated; they are counted so a
 * caller can see what was not checked.
 */

export interface StructuralSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, StructuralSchema>;
  additionalProperties?: StructuralSchema | boolean;
  required?: string[];
  items?: StructuralSchema;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  nullable?: boolean;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  multipleOf?: number;
  uniqueItems?: boolean;
  anyOf?: StructuralSchema[];
  oneOf?: StructuralSchema[];
  allOf?: StructuralSchema[];
  not?: StructuralSchema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-validations'?: unknown[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
}

export interface SchemaProblem {
  readonly path: string;
  readonly message: string;
}

export interface ValidationResult {
  readonly problems: SchemaProblem[];
  /** CEL rules met on the way and not evaluated. */
  readonly celRulesSkipped: number;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

const DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;
const FORMATS: Record<string, (s: string) => boolean> = {
  // Kubernetes checks a few formats; these are the ones the CRDs here use on fields we set.
  'date-time': (s) => !Number.isNaN(Date.parse(s)),
  duration: (s) => DURATION.test(s),
  int32: () => true,
  int64: () => true,
  byte: (s) => /^[A-Za-z0-9+/]*={0,2}$/.test(s),
};

class Walker {
  readonly problems: SchemaProblem[] = [];
  celRulesSkipped = 0;

  /** Lenient walkers check value constraints only: unknown fields are the structural walk's business. */
  constructor(private readonly lenient = false) {}

  private fail(path: string, message: string): void {
    this.problems.push({ path: path || '(root)', message });
  }

  /** Validates `value` at `path`; returns the number of problems it added. */
  check(schema: StructuralSchema, value: unknown, path: string): number {
    const before = this.problems.length;
    this.celRulesSkipped += schema['x-kubernetes-validations']?.length ?? 0;

    if (value === null) {
      if (!schema.nullable) this.fail(path, 'null is not allowed here');
      return this.problems.length - before;
    }

    if (schema['x-kubernetes-int-or-string']) {
      const t = typeOf(value);
      if (t !== 'integer' && t !== 'string') this.fail(path, `expected integer or string, got ${t}`);
    } else if (schema.type !== undefined) {
      const t = typeOf(value);
      const ok = schema.type === t || (schema.type === 'number' && t === 'integer');
      if (!ok) {
        this.fail(path, `expected ${schema.type}, got ${t}`);
        return this.problems.length - before;
      }
    }

    if (schema.enum !== undefined && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
      this.fail(path, `${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
    }

    if (typeof value === 'string') this.checkString(schema, value, path);
    if (typeof value === 'number') this.checkNumber(schema, value, path);
    if (Array.isArray(value)) this.checkArray(schema, value, path);
    else if (typeof value === 'object') this.checkObject(schema, value as Record<string, unknown>, path);

    for (const sub of schema.allOf ?? []) this.check(sub, value, path);
    if (schema.anyOf !== undefined && !schema.anyOf.some((s) => this.probe(s, value, path))) {
      this.fail(path, 'matches none of anyOf');
    }
    if (schema.oneOf !== undefined) {
      const n = schema.oneOf.filter((s) => this.probe(s, value, path)).length;
      if (n !== 1) this.fail(path, `matches ${n} of oneOf (exactly 1 required)`);
    }
    if (schema.not !== undefined && this.probe(schema.not, value, path)) {
      this.fail(path, 'matches the schema under not');
    }
    return this.problems.length - before;
  }

  /** Does `value` satisfy `schema`, as value-validation (anyOf/oneOf/not) in structural schemas? */
  private probe(schema: StructuralSchema, value: unknown, path: string): boolean {
    // Logical junctors in structural schemas only restrict values: fields they do not name are not "unknown".
    const sub = new Walker(true);
    sub.check(schema, value, path);
    return sub.problems.length === 0;
  }

  private checkString(schema: StructuralSchema, value: string, path: string): void {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) {
      this.fail(path, `shorter than ${schema.minLength}`);
    }
    if (schema.maxLength !== undefined && length > schema.maxLength) {
      this.fail(path, `longer than ${schema.maxLength}`);
    }
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
      this.fail(path, `${JSON.stringify(value)} does not match ${schema.pattern}`);
    }
    const format = schema.format !== undefined ? FORMATS[schema.format] : undefined;
    if (format !== undefined && !format(value)) {
      this.fail(path, `${JSON.stringify(value)} is not a valid ${schema.format}`);
    }
  }

  private checkNumber(schema: StructuralSchema, value: number, path: string): void {
    if (schema.minimum !== undefined) {
      if (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum) {
        this.fail(path, `${value} is below the minimum ${schema.minimum}`);
      }
    }
    if (schema.maximum !== undefined) {
      if (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum) {
        this.fail(path, `${value} is above the maximum ${schema.maximum}`);
      }
    }
    if (schema.multipleOf !== undefined && value % schema.multipleOf !== 0) {
      this.fail(path, `${value} is not a multiple of ${schema.multipleOf}`);
    }
  }

  private checkArray(schema: StructuralSchema, value: unknown[], path: string): void {
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      this.fail(path, `fewer than ${schema.minItems} items`);
    }
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      this.fail(path, `more than ${schema.maxItems} items`);
    }
    if (schema.items !== undefined) {
      value.forEach((item, i) => this.check(schema.items!, item, `${path}[${i}]`));
    }
    const listType = schema['x-kubernetes-list-type'];
    if (listType === 'set' || schema.uniqueItems) {
      const seen = new Set(value.map((v) => JSON.stringify(v)));
      if (seen.size !== value.length) this.fail(path, 'items are not unique (list-type set)');
    }
    if (listType === 'map') {
      const keys = schema['x-kubernetes-list-map-keys'] ?? [];
      const seen = new Set(
        value.map((v) => JSON.stringify(keys.map((k) => (v as Record<string, Json>)[k] ?? null))),
      );
      if (seen.size !== value.length) this.fail(path, `duplicate map keys ${keys.join(',')}`);
    }
  }

  private checkObject(schema: StructuralSchema, value: Record<string, unknown>, path: string): void {
    for (const key of schema.required ?? []) {
      if (!(key in value)) this.fail(path, `missing required field "${key}"`);
    }
    const n = Object.keys(value).length;
    if (schema.minProperties !== undefined && n < schema.minProperties) {
      this.fail(path, `fewer than ${schema.minProperties} properties`);
    }
    if (schema.maxProperties !== undefined && n > schema.maxProperties) {
      this.fail(path, `more than ${schema.maxProperties} properties`);
    }
    // metadata of an embedded resource is ObjectMeta; the API server checks it, not the CRD.
    const embedded = schema['x-kubernetes-embedded-resource'] === true;
    for (const [key, child] of Object.entries(value)) {
      const childPath = path ? `${path}.${key}` : key;
      const prop = schema.properties?.[key];
      if (prop !== undefined) {
        this.check(prop, child, childPath);
      } else if (typeof schema.additionalProperties === 'object') {
        this.check(schema.additionalProperties, child, childPath);
      } else if (
        schema.additionalProperties === true ||
        schema['x-kubernetes-preserve-unknown-fields'] ||
        this.lenient ||
        (embedded && ['apiVersion', 'kind', 'metadata'].includes(key))
      ) {
        continue;
      } else {
        this.fail(childPath, 'unknown field');
      }
    }
  }
}

export function validateStructural(schema: StructuralSchema, value: unknown): ValidationResult {
  const walker = new Walker();
  walker.check(schema, value, '');
  return { problems: walker.problems, celRulesSkipped: walker.celRulesSkipped };
}
