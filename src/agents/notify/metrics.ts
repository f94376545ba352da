/** The notify agent's Prometheus metrics. */
import { Counter, Histogram, type Registry } from 'prom-client';

export interface NotifyMetrics {
  /** One per notification per sink: delivered | failed; sink="-" outcome=duplicate for dedupe hits. */
  readonly notifications: Counter<'sink' | 'outcome'>;
  /** One per HTTP/file attempt: ok | retryable | failed | timeout. */
  readonly attempts: Counter<'sink' | 'outcome'>;
  /** Time from the first attempt to the final outcome, per sink. */
  readonly latency: Histogram<'sink' | 'outcome'>;
}

export function createNotifyMetrics(registry: Registry): NotifyMetrics {
  return {
    notifications: new Counter({
      name: 'falconer_notifications_total',
      help: 'Notifications by sink and final outcome (delivered, failed, duplicate).',
      labelNames: ['sink', 'outcome'],
      registers: [registry],
    }),
    attempts: new Counter({
      name: 'falconer_notification_attempts_total',
      help: 'Delivery attempts by sink and outcome (ok, retryable, failed, timeout).',
      labelNames: ['sink', 'outcome'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'falconer_notification_duration_seconds',
      help: 'Time to deliver (or give up on) one notification on one sink, retries included.',
      labelNames: ['sink', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
  };
}
