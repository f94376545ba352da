/**
 * Loads Falco rules files as Falco does: items in file order, files in the
 * given order; `append: true` and `override:` merge into earlier definitions;
 * a rule item with only `enabled` toggles an existing rule. Problems are
 * collected (not thrown) with file:line:column and the offending text, so one
 * validation run reports all of them.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';
import { excerpt, type RulesIssue, type SourceLocation } from './errors.ts';
import { nodeLocation, scalarLocator } from './locate.ts';
import type {
  ConditionPart,
  ExceptionDef,
  FileSummary,
  ListDef,
  MacroDef,
  RuleDef,
  RulesModel,
} from './model.ts';
import { PRIORITY_NAMES } from './model.ts';

export interface RulesSource {
  file: string;
  text: string;
}

const ITEM_KINDS = ['rule', 'macro', 'list', 'required_engine_version', 'required_plugin_versions'] as const;
const APPENDABLE = new Set(['condition', 'exceptions', 'items', 'output', 'desc', 'tags']);
const RULE_OVERRIDABLE = new Set([
  'condition',
  'exceptions',
  'output',
  'desc',
  'tags',
  'priority',
  'enabled',
  'source',
]);

class FileLoader {
  readonly lines = new LineCounter();
  readonly summary: FileSummary;

  constructor(
    private readonly src: RulesSource,
    private readonly model: RulesModel,
  ) {
    this.summary = { file: src.file, rules: 0, macros: 0, lists: 0 };
  }

  private loc(node: Node | null | undefined): SourceLocation {
    return nodeLocation(this.lines, this.src.file, node?.range?.[0] ?? 0);
  }

  private issue(node: Node | null | undefined, message: string): void {
    const at = node?.range?.[0] ?? 0;
    const end = node?.range?.[1] ?? at + 40;
    const text = this.src.text.slice(at, Math.min(end, at + 200)).split('\n')[0] ?? '';
    this.model.issues.push({ ...this.loc(node), message, text: excerpt(text) });
  }

  load(): void {
    const doc = parseDocument(this.src.text, { lineCounter: this.lines, uniqueKeys: false });
    for (const err of doc.errors) {
      const at = err.pos[0];
      this.model.issues.push({
        ...nodeLocation(this.lines, this.src.file, at),
        message: `invalid YAML: ${err.message.split('\n')[0] ?? err.code}`,
        text: excerpt(this.src.text.slice(at, at + 80).split('\n')[0] ?? ''),
      });
    }
    if (doc.errors.length > 0) return;
    const root = doc.contents;
    if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) return;
    if (!isSeq(root)) {
      this.issue(root, 'rules content is not a sequence of items');
      return;
    }
    for (const item of root.items) {
      if (item === null || (isScalar(item) && item.value === null)) continue; // a bare `-` is ignored, as Falco does
      if (!isMap(item)) {
        this.issue(
          item as Node,
          'unexpected item: expected a map with one of rule, macro, list, required_engine_version',
        );
        continue;
      }
      const kinds = ITEM_KINDS.filter((k) => item.has(k));
      if (kinds.length !== 1) {
        this.issue(
          item,
          kinds.length === 0 ? 'unknown top level item' : `item has several kinds: ${kinds.join(', ')}`,
        );
        continue;
      }
      const kind = kinds[0]!;
      if (kind === 'rule') this.loadRule(item);
      else if (kind === 'macro') this.loadMacro(item);
      else if (kind === 'list') this.loadList(item);
      else if (kind === 'required_engine_version') {
        const v = item.get(kind, true);
        if (!isScalar(v) || v.value === null)
          this.issue(v as Node, 'required_engine_version must be a number or version');
        else this.model.requiredEngineVersion = String(v.value);
      } else {
        const v = item.get(kind, true);
        if (!isSeq(v)) {
          this.issue(v as Node, 'required_plugin_versions must be a sequence');
          continue;
        }
        for (const p of v.items) {
          const name = isMap(p) ? p.get('name') : undefined;
          const version = isMap(p) ? p.get('version') : undefined;
          if (typeof name !== 'string' || (typeof version !== 'string' && typeof version !== 'number'))
            this.issue(p as Node, 'a plugin requirement needs a name and a version');
          else this.model.requiredPluginVersions.push({ name, version: String(version) });
        }
      }
    }
  }

  private str(item: YAMLMap, key: string, required: boolean): string | undefined {
    const node = item.get(key, true);
    if (node === undefined) {
      if (required) this.issue(item, `item has no mandatory key '${key}'`);
      return undefined;
    }
    if (!isScalar(node) || node.value === null || typeof node.value === 'object') {
      this.issue(node as Node, `'${key}' must be a string`);
      return undefined;
    }
    return String(node.value);
  }

  private condition(item: YAMLMap, required: boolean): ConditionPart | undefined {
    const node = item.get('condition', true);
    if (node === undefined) {
      if (required) this.issue(item, "item has no mandatory key 'condition'");
      return undefined;
    }
    if (!isScalar(node) || node.value === null || typeof node.value === 'object') {
      this.issue(node as Node, "'condition' must be a string");
      return undefined;
    }
    return {
      text: String(node.value),
      locate: scalarLocator(this.src.text, node, this.lines, this.src.file),
    };
  }

  private bool(item: YAMLMap, key: string): boolean | undefined {
    const node = item.get(key, true);
    if (node === undefined) return undefined;
    if (!isScalar(node) || typeof node.value !== 'boolean') {
      this.issue(node as Node, `'${key}' must be true or false`);
      return undefined;
    }
    return node.value;
  }

  private strings(item: YAMLMap, key: string): string[] | undefined {
    const node = item.get(key, true);
    if (node === undefined) return undefined;
    if (!isSeq(node)) {
      this.issue(node as Node, `'${key}' must be a sequence`);
      return undefined;
    }
    const out: string[] = [];
    for (const v of node.items) {
      if (!isScalar(v) || v.value === null || typeof v.value === 'object')
        this.issue(v as Node, `'${key}' items must be strings`);
      else out.push(String(v.value));
    }
    return out;
  }

  /** `override: {key: append|replace}`; returns the mode per key, or null when the item has none. */
  private override(item: YAMLMap, allowed: Set<string>): Map<string, 'append' | 'replace'> | null {
    const node = item.get('override', true);
    if (node === undefined) return null;
    const modes = new Map<string, 'append' | 'replace'>();
    if (!isMap(node)) {
      this.issue(node as Node, "'override' must be a map of key: append|replace");
      return modes;
    }
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const mode = isScalar(pair.value) ? pair.value.value : undefined;
      if (!allowed.has(key)) this.issue(pair.key as Node, `key '${key}' cannot be overridden`);
      else if (mode !== 'append' && mode !== 'replace')
        this.issue(pair.value as Node, `override of '${key}' must be append or replace`);
      else if (mode === 'append' && !APPENDABLE.has(key))
        this.issue(pair.value as Node, `key '${key}' cannot be appended, only replaced`);
      else if (!item.has(key))
        this.issue(pair.key as Node, `override of '${key}' but the item has no '${key}'`);
      else modes.set(key, mode);
    }
    return modes;
  }

  private loadList(item: YAMLMap): void {
    const name = this.str(item, 'list', true);
    if (name === undefined) return;
    this.summary.lists++;
    const items = this.strings(item, 'items');
    const append = this.bool(item, 'append') === true;
    const override = this.override(item, new Set(['items']));
    const existing = this.model.lists.get(name);
    if (append || override !== null) {
      if (existing === undefined) {
        this.issue(item, `list '${name}' has 'append' or 'override' but no list by that name already exists`);
        return;
      }
      const mode = append ? 'append' : override?.get('items');
      if (items !== undefined && mode === 'append') existing.items.push(...items);
      else if (items !== undefined && mode === 'replace') existing.items = items;
      return;
    }
    if (items === undefined) {
      this.issue(item, "item has no mandatory key 'items'");
      return;
    }
    const def: ListDef = { name, items, loc: this.loc(item) };
    this.model.lists.delete(name); // a redefinition replaces, and moves to the end
    this.model.lists.set(name, def);
  }

  private loadMacro(item: YAMLMap): void {
    const name = this.str(item, 'macro', true);
    if (name === undefined) return;
    this.summary.macros++;
    const append = this.bool(item, 'append') === true;
    const override = this.override(item, new Set(['condition']));
    const cond = this.condition(item, !append && override === null);
    const existing = this.model.macros.get(name);
    if (append || override !== null) {
      if (existing === undefined) {
        this.issue(
          item,
          `macro '${name}' has 'append' or 'override' but no macro by that name already exists`,
        );
        return;
      }
      const mode = append ? 'append' : override?.get('condition');
      if (cond !== undefined && mode === 'append') existing.condition.push(cond);
      else if (cond !== undefined && mode === 'replace') existing.condition = [cond];
      return;
    }
    if (cond === undefined) return;
    this.model.macros.set(name, { name, condition: [cond], loc: this.loc(item) } satisfies MacroDef);
  }

  private exceptions(item: YAMLMap): ExceptionDef[] | undefined {
    const node = item.get('exceptions', true);
    if (node === undefined) return undefined;
    if (!isSeq(node)) {
      this.issue(node as Node, "'exceptions' must be a sequence");
      return undefined;
    }
    const out: ExceptionDef[] = [];
    for (const ex of node.items) {
      if (!isMap(ex)) {
        this.issue(ex as Node, 'an exception must be a map');
        continue;
      }
      const name = ex.get('name');
      const fieldsNode = ex.get('fields', true);
      const fields = fieldsNode === undefined ? undefined : ((fieldsNode as Node).toJSON() as unknown);
      const comps = (ex.get('comps', true) as Node | undefined)?.toJSON() as unknown;
      const values = (ex.get('values', true) as Node | undefined)?.toJSON() as unknown;
      if (typeof name !== 'string') {
        this.issue(ex, "an exception needs a 'name'");
        continue;
      }
      const fieldsOk =
        typeof fields === 'string' || (Array.isArray(fields) && fields.every((f) => typeof f === 'string'));
      if (fields !== undefined && !fieldsOk) {
        this.issue(fieldsNode as Node, `exception '${name}': 'fields' must be a string or a list of strings`);
        continue;
      }
      if (Array.isArray(fields)) {
        if (comps !== undefined && !(Array.isArray(comps) && comps.length === fields.length)) {
          this.issue(ex, `exception '${name}': 'comps' must be a list as long as 'fields'`);
          continue;
        }
      } else if (comps !== undefined && typeof comps !== 'string') {
        this.issue(ex, `exception '${name}': 'comps' must be a string when 'fields' is a string`);
        continue;
      }
      if (values !== undefined && !Array.isArray(values)) {
        this.issue(ex, `exception '${name}': 'values' must be a list`);
        continue;
      }
      out.push({
        name,
        fields: (fields as string | string[] | undefined) ?? [],
        comps: comps as string | string[] | undefined,
        values: (values as unknown[] | undefined) ?? [],
        loc: this.loc(ex),
      });
    }
    return out;
  }

  private loadRule(item: YAMLMap): void {
    const name = this.str(item, 'rule', true);
    if (name === undefined) return;
    this.summary.rules++;
    const append = this.bool(item, 'append') === true;
    const override = this.override(item, RULE_OVERRIDABLE);
    const enabled = this.bool(item, 'enabled');
    const keys = item.items.map((p) => (isScalar(p.key) ? String(p.key.value) : ''));
    const existing = this.model.rules.get(name);
    const onlyEnabled = keys.every((k) => k === 'rule' || k === 'enabled') && enabled !== undefined;
    if (onlyEnabled && !append && override === null) {
      if (existing === undefined)
        this.issue(item, `rule '${name}' enables/disables a rule that does not exist`);
      else existing.enabled = enabled;
      return;
    }
    const merging = append || override !== null;
    const cond = this.condition(item, !merging);
    const desc = this.str(item, 'desc', !merging);
    const output = this.str(item, 'output', !merging);
    const priorityText = this.str(item, 'priority', !merging);
    const source = this.str(item, 'source', false);
    const tags = this.strings(item, 'tags');
    const exceptions = this.exceptions(item);
    let priority: string | undefined;
    if (priorityText !== undefined) {
      priority = PRIORITY_NAMES[priorityText.toLowerCase()];
      if (priority === undefined)
        this.issue(item.get('priority', true) as Node, `invalid priority '${priorityText}'`);
    }
    if (merging) {
      if (existing === undefined) {
        this.issue(item, `rule '${name}' has 'append' or 'override' but no rule by that name already exists`);
        return;
      }
      const mode = (key: string): 'append' | 'replace' | undefined =>
        append ? 'append' : override?.get(key);
      if (cond !== undefined) {
        if (mode('condition') === 'append') existing.condition.push(cond);
        else if (mode('condition') === 'replace') existing.condition = [cond];
      }
      if (exceptions !== undefined) {
        if (mode('exceptions') === 'append') {
          for (const ex of exceptions) {
            const same = existing.exceptions.find((e) => e.name === ex.name);
            if (same !== undefined) same.values.push(...ex.values);
            else existing.exceptions.push(ex);
          }
        } else if (mode('exceptions') === 'replace') existing.exceptions = exceptions;
      }
      const text = (key: 'output' | 'desc', v: string | undefined): void => {
        if (v === undefined) return;
        if (mode(key) === 'append') existing[key] = `${existing[key]} ${v}`;
        else if (mode(key) === 'replace') existing[key] = v;
      };
      text('output', output);
      text('desc', desc);
      if (tags !== undefined && mode('tags') !== undefined)
        existing.tags = mode('tags') === 'append' ? [...existing.tags, ...tags] : tags;
      if (priority !== undefined && override?.get('priority') === 'replace') existing.priority = priority;
      if (source !== undefined && override?.get('source') === 'replace') existing.source = source;
      if (enabled !== undefined && (override?.get('enabled') === 'replace' || append))
        existing.enabled = enabled;
      return;
    }
    if (cond === undefined || desc === undefined || output === undefined || priority === undefined) return;
    const def: RuleDef = {
      name,
      desc,
      condition: [cond],
      output,
      priority,
      source: source ?? 'syscall',
      tags: tags ?? [],
      enabled: enabled ?? true,
      exceptions: exceptions ?? [],
      loc: this.loc(item),
    };
    this.model.rules.delete(name);
    this.model.rules.set(name, def);
  }
}

export function emptyModel(): RulesModel {
  return {
    lists: new Map(),
    macros: new Map(),
    rules: new Map(),
    requiredEngineVersion: undefined,
    requiredPluginVersions: [],
    files: [],
    issues: [],
  };
}

/** Load rules files in order into one model (later files append to / override earlier ones). */
export function loadRules(sources: readonly RulesSource[], into: RulesModel = emptyModel()): RulesModel {
  for (const src of sources) {
    const loader = new FileLoader(src, into);
    loader.load();
    into.files.push(loader.summary);
  }
  return into;
}

export type { RulesIssue };
