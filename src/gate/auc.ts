/**
 * Area under the ROC curve through the Mann–Whitney U statistic: the
 * probability that a random positive scores above a random negative, ties
 * counting one half (average ranks), which is what scikit-learn's
 * roc_auc_score computes as well.
 */
import { FalconerError } from '../errors.ts';

/**
 * AUC of `scores` (higher = more anomalous) against `labels` (1 = positive).
 * Returns NaN when either class is absent, as the AUC is undefined then.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  if (labels.length !== n) {
    throw new FalconerError('USAGE', 'scores and labels differ in length', {
      scores: n,
      labels: labels.length,
    });
  }
  let positives = 0;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(scores[i]!)) throw new FalconerError('USAGE', 'score is NaN', { index: i });
    if (labels[i] === 1) positives++;
    else if (labels[i] !== 0) throw new FalconerError('USAGE', 'labels must be 0 or 1', { index: i });
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;

  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => {
    const sa = scores[a]!;
    const sb = scores[b]!;
    return sa < sb ? -1 : sa > sb ? 1 : 0; // not sa - sb: Infinity - Infinity is NaN
  });

  // Sum of the (1-based, tie-averaged) ranks of the positives.
  let rankSum = 0;
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && scores[order[j]!] === scores[order[i]!]) j++;
    const averageRank = (i + 1 + j) / 2; // ranks i+1 .. j
    for (let k = i; k < j; k++) if (labels[order[k]!] === 1) rankSum += averageRank;
    i = j;
  }
  const u = rankSum - (positives * (positives + 1)) / 2;
  return u / (positives * negatives);
}
