/**
 * The PrometheusRule's rules through the real promtool: `promtool check
 * rules` on its spec, and `promtool test rules` unit tests that fire each
 * alert on synthetic series (and keep it quiet on healthy ones). The Grafana
 * dashboard's queries are checked as PromQL the same way.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { stringify } from 'yaml';
import { requireComponent } from '../support/components.ts';
import { needHelm, rendered } from './chart-fixture.ts';
import { find, NAMESPACE } from './render.ts';
import { findTool, runTool, WHY_MISSING } from './tools.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are walked as plain JSON */
type Any = any;

const PROMTOOL = findTool('promtool');

function needTools(t: TestContext): boolean {
  return needHelm(t) && requireComponent(t, 'promtool', PROMTOOL !== undefined, WHY_MISSING);
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'falconer-promtool-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function rulesFile(dir: string): string {
  const rule = find(rendered().objects, 'PrometheusRule', 'falconer') as Any;
  const file = join(dir, 'falconer.rules.yaml');
  writeFileSync(file, stringify(rule.spec));
  return file;
}

test('promtool check rules accepts the PrometheusRule', (t) => {
  if (!needTools(t)) return;
  const dir = tempDir(t);
  const run = runTool(PROMTOOL!, ['check', 'rules', rulesFile(dir)]);
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /SUCCESS: \d+ rules found/);
});

const ns = NAMESPACE;
const upSeries = (agent: string, values: string) => ({
  series: `up{namespace="${ns}", job="${agent}", pod="falconer-${agent}-0", instance="10.0.0.1:7500"}`,
  values,
});

test('promtool test rules: agent down, agent absent, forward rate out of band, LLM budget, notification failures', (t) => {
  if (!needTools(t)) return;
  const dir = tempDir(t);
  const rules = rulesFile(dir);
  const healthy = ['coordinator', 'analyse', 'remediate', 'mcp'].map((a) => upSeries(a, '1x60'));
  const tests = {
    rule_files: [rules],
    evaluation_interval: '1m',
    tests: [
      {
        name: 'detect goes down at 2m; notify was never scraped',
        interval: '1m',
        input_series: [...healthy, upSeries('detect', '1 1 0x58')],
        alert_rule_test: [
          { eval_time: '4m', alertname: 'FalconerAgentDown', exp_alerts: [] },
          {
            eval_time: '10m',
            alertname: 'FalconerAgentDown',
            exp_alerts: [
              {
                exp_labels: {
                  severity: 'critical',
                  namespace: ns,
                  job: 'detect',
                  pod: 'falconer-detect-0',
                  instance: '10.0.0.1:7500',
                },
                exp_annotations: {
                  summary: 'Falconer agent detect is down (falconer-detect-0)',
                  description: `Prometheus has not scraped 10.0.0.1:7500 of the detect agent in namespace ${ns} for more than 5m.`,
                },
              },
            ],
          },
          {
            eval_time: '10m',
            alertname: 'FalconerAgentAbsent',
            exp_alerts: [
              {
                exp_labels: { severity: 'critical', agent: 'notify', namespace: ns, job: 'notify' },
                exp_annotations: {
                  summary: 'Falconer agent notify has no scrape target',
                  description: `No notify pod of namespace ${ns} has been scraped; the Deployment may be scaled to zero or its pods may not start.`,
                },
              },
            ],
          },
        ],
      },
      {
        name: 'the gate forwards 10% (band 0.05%–5%), then a healthy 0.5%',
        interval: '1m',
        input_series: [
          {
            series: `falconer_events_scored_total{namespace="${ns}", pod="falconer-detect-0"}`,
            values: '0+6000x120',
          },
          {
            series: `falconer_events_forwarded_total{namespace="${ns}", pod="falconer-detect-0", reason="anomaly"}`,
            values: '0+600x60 36000+30x60',
          },
        ],
        alert_rule_test: [
          { eval_time: '30m', alertname: 'FalconerGateForwardRateOutOfBand', exp_alerts: [] },
          {
            eval_time: '50m',
            alertname: 'FalconerGateForwardRateOutOfBand',
            exp_alerts: [
              {
                exp_labels: { severity: 'warning', namespace: ns },
                exp_annotations: {
                  summary: 'The gate forwards 10% of scored events, outside its band (0.0005–0.05)',
                  description:
                    "The Isolation Forest gate's forward rate left its band for 30 minutes. Too high floods the agents and the LLM budget; too low may hide attacks. Check the threshold (falconer_gate_threshold) and recent retraining.",
                },
              },
            ],
          },
          { eval_time: '110m', alertname: 'FalconerGateForwardRateOutOfBand', exp_alerts: [] },
        ],
      },
      {
        name: 'the LLM budget runs low; notifications fail',
        interval: '1m',
        input_series: [
          {
            series: `falconer_llm_budget_remaining_ratio{namespace="${ns}", pod="falconer-analyse-0"}`,
            values: '0.5 0.2 0.05x30',
          },
          {
            series: `falconer_notifications_total{namespace="${ns}", pod="falconer-notify-0", outcome="failed"}`,
            values: '0x10 0+1x30',
          },
          {
            series: `falconer_notifications_total{namespace="${ns}", pod="falconer-notify-0", outcome="sent"}`,
            values: '0+5x40',
          },
        ],
        alert_rule_test: [
          { eval_time: '3m', alertname: 'FalconerLLMBudgetNearlyExhausted', exp_alerts: [] },
          {
            eval_time: '10m',
            alertname: 'FalconerLLMBudgetNearlyExhausted',
            exp_alerts: [
              {
                exp_labels: { severity: 'warning', namespace: ns, pod: 'falconer-analyse-0' },
                exp_annotations: {
                  summary: 'The LLM budget of falconer-analyse-0 is nearly exhausted (5% left)',
                  description:
                    'When the budget runs out, analyse falls back to its offline analyst. Raise the budget or reduce the forwarded signals.',
                },
              },
            ],
          },
          { eval_time: '9m', alertname: 'FalconerNotificationsFailing', exp_alerts: [] },
          {
            eval_time: '40m',
            alertname: 'FalconerNotificationsFailing',
            exp_alerts: [
              {
                exp_labels: { severity: 'warning', namespace: ns },
                exp_annotations: {
                  summary: '15 Falconer notifications failed in the last 15 minutes',
                  description:
                    "The notify agent could not deliver chat or webhook notifications; people may not see incidents or approval requests. Check notify's logs and the chat endpoints' egress.",
                },
              },
            ],
          },
        ],
      },
    ],
  };
  const file = join(dir, 'falconer.tests.yaml');
  writeFileSync(file, stringify(tests));
  const run = runTool(PROMTOOL!, ['test', 'rules', file]);
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /SUCCESS/);
});

test('promtool parses every query of the Grafana dashboard', (t) => {
  if (!needTools(t)) return;
  const cm = find(rendered().objects, 'ConfigMap', 'falconer-grafana-dashboard') as Any;
  const dashboard = JSON.parse(cm.data['falconer.json']);
  const exprs: string[] = dashboard.panels.flatMap((p: Any) => p.targets.map((q: Any) => q.expr));
  // Grafana's variables are substituted before Prometheus sees a query.
  const promql = exprs.map((e) => e.replaceAll('$__rate_interval', '5m').replaceAll('$namespace', ns));
  const groups = [
    { name: 'dashboard', rules: promql.map((expr, i) => ({ record: `dashboard:query_${i}`, expr })) },
  ];
  const dir = tempDir(t);
  const file = join(dir, 'dashboard.rules.yaml');
  writeFileSync(file, stringify({ groups }));
  const run = runTool(PROMTOOL!, ['check', 'rules', file]);
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.ok(exprs.length >= 15);
});
