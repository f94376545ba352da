/**
 * The gate's Prometheus metrics, on a registry passed in (one per process or
 * per test). Scores are observed for every event, so the score histogram is a
 * small collector of our own with fixed buckets in a typed array: prom-client's
 * Histogram.observe costs ~0.6 µs per call, more than scoring an event.
 */
import { Counter, Gauge, Histogram, type Metric, type Registry } from 'prom-client';

export type ForwardReason = 'anomaly' | 'warmup-priority';

export interface GateMetrics {
  /** An event scored by a model (score) or seen during warm-up (undefined). */
  eventScored(score: number | undefined): void;
  eventForwarded(reason: ForwardReason): void;
  modelServing(version: string, sequence: number, threshold: number): void;
  /** The serving model's threshold was recalibrated. */
  thresholdChanged(threshold: number): void;
  retrained(durationSeconds: number, trainingRows: number): void;
  signalOpened(): void;
  feedback(verdict: string, applied: boolean): void;
}

/** Score buckets: dense where thresholds live (0.5–0.8), since IForest scores of normal events sit below 0.5. */
export const SCORE_BUCKETS: readonly number[] = Object.freeze([
  0.3, 0.35, 0.4, 0.45, 0.5, 0.525, 0.55, 0.575, 0.6, 0.625, 0.65, 0.675, 0.7, 0.75, 0.8, 0.9, 1,
]);

/** What prom-client's Registry reads from a metric's get() (its typings declare `type` as an enum; at runtime it is the string). */
interface CollectedMetric {
  name: string;
  help: string;
  type: 'histogram';
  values: { metricName: string; labels: Record<string, string | number>; value: number }[];
  aggregator: 'sum';
}

/** A fixed-bucket histogram that prom-client's Registry serializes like its own. */
class FastHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly bounds: Float64Array;
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(name: string, help: string, buckets: readonly number[]) {
    this.name = name;
    this.help = help;
    this.bounds = Float64Array.from(buckets);
    this.counts = new Float64Array(buckets.length);
  }

  observe(v: number): void {
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]!) {
        this.counts[i]!++;
        break;
      }
    }
    this.sum += v;
    this.count++;
  }

  get(): Promise<CollectedMetric> {
    const values: CollectedMetric['values'] = [];
    let acc = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      acc += this.counts[i]!;
      values.push({ metricName: `${this.name}_bucket`, labels: { le: this.bounds[i]! }, value: acc });
    }
    values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf' }, value: this.count });
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: this.sum });
    values.push({ metricName: `${this.name}_count`, labels: {}, value: this.count });
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: 'histogram',
      values,
      aggregator: this.aggregator,
    });
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

export function createGateMetrics(registry: Registry): GateMetrics {
  const registers = [registry];
  const scored = new Counter({
    name: 'falconer_events_scored_total',
    help: 'Events scored by the gate (warm-up events are counted separately)',
    registers,
  });
  const warmup = new Counter({
    name: 'falconer_gate_warmup_events_total',
    help: 'Events seen while no model was serving yet',
    registers,
  });
  const forwarded = new Counter({
    name: 'falconer_events_forwarded_total',
    help: 'Events forwarded by the gate, by reason',
    labelNames: ['reason'] as const,
    registers,
  });
  const score = new FastHistogram(
    'falconer_gate_score',
    'Isolation Forest anomaly score of each event',
    SCORE_BUCKETS,
  );
  registry.registerMetric(score as unknown as Metric);
  const modelInfo = new Gauge({
    name: 'falconer_gate_model_info',
    help: 'The model serving now (value 1, version as label)',
    labelNames: ['version'] as const,
    registers,
  });
  const modelSequence = new Gauge({
    name: 'falconer_gate_model_version',
    help: 'Sequence number of the model serving now (increases with every swap)',
    registers,
  });
  const threshold = new Gauge({
    name: 'falconer_gate_threshold',
    help: 'Score at or above which events are forwarded',
    registers,
  });
  const retrainDuration = new Histogram({
    name: 'falconer_gate_retrain_duration_seconds',
    help: 'Time to train a new model and calibrate its threshold',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  const trainingRows = new Gauge({
    name: 'falconer_gate_training_rows',
    help: 'Rows the serving model was trained on',
    registers,
  });
  const signals = new Counter({
    name: 'falconer_signals_total',
    help: 'Signals opened (forwarded anomalies grouped per workload and window)',
    registers,
  });
  const feedback = new Counter({
    name: 'falconer_gate_feedback_total',
    help: 'Analyst verdicts received, by verdict and whether the event was still known',
    labelNames: ['verdict', 'applied'] as const,
    registers,
  });
  const forwardedAnomaly = forwarded.labels('anomaly');
  const forwardedWarmup = forwarded.labels('warmup-priority');

  return {
    eventScored(s) {
      if (s === undefined) {
        warmup.inc();
        return;
      }
      scored.inc();
      score.observe(s);
    },
    eventForwarded(reason) {
      (reason === 'anomaly' ? forwardedAnomaly : forwardedWarmup).inc();
    },
    modelServing(version, sequence, t) {
      modelInfo.reset();
      modelInfo.labels(version).set(1);
      modelSequence.set(sequence);
      threshold.set(t);
    },
    thresholdChanged(t) {
      threshold.set(t);
    },
    retrained(durationSeconds, rows) {
      retrainDuration.observe(durationSeconds);
      trainingRows.set(rows);
    },
    signalOpened() {
      signals.inc();
    },
    feedback(verdict, applied) {
      feedback.labels(verdict, applied ? 'true' : 'false').inc();
    },
  };
}
