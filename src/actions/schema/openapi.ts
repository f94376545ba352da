/**
 * A structural validator for a CRD's openAPIV3Schema: the subset that
 * Kubernetes structural schemas use (types, properties, required, items,
 * additionalProperties, enums, bounds, patterns, int-or-string, preserve
 * unknown fields, oneOf/anyOf/allOf/not of value validations). Stricter than
 * the API server in one way, on purpose: unknown fields are errors, where the
 * server would silently prune them (a pruned field is a silent bug).
 */
export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  enum?: unknown[];
  pattern?: string;
  format?: string;
  maxLength?: number;
  minLength?: number;
  maxItems?: number;
  minItems?: number;
  minimum?: number;
  maximum?: number;
  nullable?: boolean;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  not?: JsonSchema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
}

const patternCache = new Map<string, RegExp | null>();

function regex(pattern: string): RegExp | null {
  let re = patternCache.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(pattern, 'u');
    } catch {
      re = null; // An RE2 construct JS lacks: the pattern is not checked (said in the error list? no: skipped).
    }
    patternCache.set(pattern, re);
  }
  return re;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Returns the problems found (empty: valid). `structural` is false inside
 * oneOf/anyOf/not, whose branches list value validations only and must not
 * flag fields as unknown.
 */
export function validateSchema(value: unknown, schema: JsonSchema, path = '', structural = true): string[] {
  const errors: string[] = [];
  const at = path || '<root>';
  if (value === null) {
    if (schema.nullable || schema.type === undefined) return errors;
    errors.push(`${at}: must not be null`);
    return errors;
  }
  const t = typeOf(value);
  if (schema['x-kubernetes-int-or-string']) {
    if (t !== 'integer' && t !== 'string') errors.push(`${at}: must be an integer or a string`);
  } else if (schema.type !== undefined) {
    const ok =
      schema.type === t ||
      (schema.type === 'number' && t === 'integer') ||
      (schema.type === 'object' && t === 'object');
    if (!ok) {
      errors.push(`${at}: must be ${schema.type}, got ${t}`);
      return errors;
    }
  }
  if (schema.enum !== undefined && !schema.enum.some((e) => e === value)) {
    errors.push(`${at}: must be one of ${JSON.stringify(schema.enum).slice(0, 200)}`);
  }
  if (typeof value === 'string') {
    if (schema.maxLength !== undefined && value.length > schema.maxLength)
      errors.push(`${at}: longer than ${schema.maxLength}`);
    if (schema.minLength !== undefined && value.length < schema.minLength)
      errors.push(`${at}: shorter than ${schema.minLength}`);
    if (schema.pattern !== undefined) {
      const re = regex(schema.pattern);
      if (re !== null && !re.test(value)) errors.push(`${at}: does not match ${schema.pattern}`);
    }
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${at}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${at}: above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      errors.push(`${at}: more than ${schema.maxItems} items`);
    if (schema.minItems !== undefined && value.length < schema.minItems)
      errors.push(`${at}: fewer than ${schema.minItems} items`);
    if (schema.items !== undefined) {
      value.forEach((item, i) =>
        errors.push(...validateSchema(item, schema.items as JsonSchema, `${path}[${i}]`, structural)),
      );
    }
  }
  if (isPlainObject(value)) {
    for (const key of schema.required ?? []) {
      if (!(key in value)) errors.push(`${at}: missing required field '${key}'`);
    }
    const props = schema.properties ?? {};
    for (const [key, child] of Object.entries(value)) {
      const sub = props[key];
      const childPath = path ? `${path}.${key}` : key;
      if (sub !== undefined) errors.push(...validateSchema(child, sub, childPath, structural));
      else if (isPlainObject(schema.additionalProperties)) {
        errors.push(...validateSchema(child, schema.additionalProperties, childPath, structural));
      } else if (
        structural &&
        schema.additionalProperties !== true &&
        !schema['x-kubernetes-preserve-unknown-fields'] &&
        !schema['x-kubernetes-embedded-resource'] &&
        (schema.properties !== undefined || schema.additionalProperties === false)
      ) {
        errors.push(`${childPath}: unknown field`);
      }
    }
  }
  if (schema.allOf) for (const s of schema.allOf) errors.push(...validateSchema(value, s, path, false));
  if (schema.anyOf && !schema.anyOf.some((s) => validateSchema(value, s, path, false).length === 0)) {
    errors.push(`${at}: matches none of anyOf`);
  }
  if (schema.oneOf) {
    const matches = schema.oneOf.filter((s) => validateSchema(value, s, path, false).length === 0).length;
    if (matches !== 1) errors.push(`${at}: must match exactly one of oneOf (matched ${matches})`);
  }
  if (schema.not && validateSchema(value, schema.not, path, false).length === 0)
    errors.push(`${at}: matches 'not'`);
  return errors;
}
