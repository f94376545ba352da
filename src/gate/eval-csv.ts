/**
 * Unsupervised evaluation on a labelled numeric table: the forest is trained
 * on all rows with the labels withheld, then every row is scored and the
 * labels are used only for the AUC.
 */
import { performance } from 'node:perf_hooks';
import { FalconerError } from '../errors.ts';
import { rocAuc } from './auc.ts';
import type { NumericTable } from './csv.ts';
import { IsolationForest, type IsolationForestParams } from './iforest.ts';

export interface CsvEvalResult {
  /** ROC AUC of the anomaly score against the labels (null when one class is absent). */
  auc: number | null;
  n: number;
  d: number;
  /** Wall time of IsolationForest.fit, in milliseconds. */
  trainMs: number;
  /** Wall time of scoring all n rows, in milliseconds. */
  scoreMs: number;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export function evaluateTable(table: NumericTable, params: Partial<IsolationForestParams>): CsvEvalResult {
  if (!table.labels) {
    throw new FalconerError('CSV_INVALID', 'the table has no label column, so no AUC can be computed', {
      columns: table.names,
    });
  }
  const t0 = performance.now();
  const forest = IsolationForest.fit(table.data, table.n, table.d, params);
  const t1 = performance.now();
  const scores = forest.scoreBatch(table.data, table.n);
  const t2 = performance.now();
  const auc = rocAuc(scores, table.labels);
  return {
    auc: Number.isNaN(auc) ? null : auc,
    n: table.n,
    d: table.d,
    trainMs: round3(t1 - t0),
    scoreMs: round3(t2 - t1),
  };
}
