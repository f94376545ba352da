/**
 * Conformance against Falco's own k8s audit test oracle
 * (falco_k8s_audit_tests.yaml): for each case whose rules files and trace file
 * are available, evaluate its rules over its audit events and compare with the
 * expected detections (`detect_counts` when `detect: True`; no detection at
 * all when `detect: False`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseDocument } from 'yaml';
import { auditEvents } from './events-file.ts';
import { compileRuleSources, matchEvent } from './ruleset.ts';

export interface ConformanceCase {
  name: string;
  status: 'matched' | 'mismatched' | 'unavailable';
  /** Why unavailable (missing rules or trace file). */
  reason?: string;
  expected?: Record<string, number> | 'none';
  actual?: Record<string, number>;
}

/** Where the oracle's rules files are here: the stable rules, and the legacy k8s audit rules for k8s_audit_rules.yaml. */
function mapRulesFile(path: string, rulesDir: string): string | null {
  const name = basename(path);
  if (name === 'falco_rules.yaml') return join(rulesDir, 'falco_rules.yaml');
  if (name === 'k8s_audit_rules.yaml') return join(rulesDir, 'k8s_audit_rules_legacy.yaml');
  return null;
}

export function runK8sAuditConformance(dataDir: string): ConformanceCase[] {
  const rulesDir = join(dataDir, 'falco', 'rules');
  const auditDir = join(dataDir, 'k8s_audit');
  const doc = parseDocument(readFileSync(join(auditDir, 'falco_k8s_audit_tests.yaml'), 'utf8'), {
    customTags: [{ tag: '!mux', collection: 'map', resolve: (v) => v }],
  });
  const cases = (doc.toJS() as { trace_files: Record<string, Record<string, unknown>> }).trace_files;
  const out: ConformanceCase[] = [];
  for (const [name, spec] of Object.entries(cases)) {
    const rulesFiles = (spec.rules_file as string[] | undefined) ?? [];
    const mapped = rulesFiles.map((f) => mapRulesFile(f, rulesDir));
    const missing = rulesFiles.filter((_, i) => mapped[i] === null);
    const trace = /open_params=trace_files\/k8s_audit\/(\S+)/.exec(String(spec.addl_cmdline_opts ?? ''))?.[1];
    if (missing.length > 0) {
      out.push({ name, status: 'unavailable', reason: `rules file(s) not available: ${missing.join(', ')}` });
      continue;
    }
    if (trace === undefined || !existsSync(join(auditDir, trace))) {
      out.push({ name, status: 'unavailable', reason: `trace file not available: ${trace ?? '(none)'}` });
      continue;
    }
    const rules = compileRuleSources(
      mapped.map((f) => ({ file: basename(f!), text: readFileSync(f!, 'utf8') })),
    );
    const actual: Record<string, number> = {};
    for (const ev of auditEvents(readFileSync(join(auditDir, trace), 'utf8'), trace))
      for (const r of matchEvent(rules, 'k8s_audit', ev)) actual[r] = (actual[r] ?? 0) + 1;
    let expected: Record<string, number> | 'none';
    let ok: boolean;
    if (spec.detect === true) {
      expected = Object.assign(
        {},
        ...((spec.detect_counts as Record<string, number>[] | undefined) ?? []),
      ) as Record<string, number>;
      ok = Object.entries(expected).every(([rule, n]) => actual[rule] === n);
    } else {
      expected = 'none';
      ok = Object.keys(actual).length === 0;
    }
    out.push({ name, status: ok ? 'matched' : 'mismatched', expected, actual });
  }
  return out;
}
