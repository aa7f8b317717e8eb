// The metrics package (`nb.metrics`), by kind: classification (tensor accuracies; scikit-learn's
// confusion matrix, accuracy, top-k and ROC AUC), precision/recall/F1 and the classification report,
// regression (MSE, MAE, R²), the Keras metric objects that fit() accumulates, and BLEU for text.
// Helpers the files share (per-sample hits, host-array reading) stay inside the package.

export {
  accuracy,
  binaryAccuracy,
  categoricalAccuracy,
  sparseCategoricalAccuracy,
  topKAccuracy,
  confusionMatrix,
  accuracyScore,
  topKAccuracyScore,
  rocAucScore,
} from './classification.js';
export {
  precisionScore,
  recallScore,
  f1Score,
  precisionRecallF1,
  classificationReport,
  type Average,
  type ScoreOptions,
  type PRF,
} from './precision-recall.js';
export { meanSquaredError, meanAbsoluteError, r2Score, type MultiOutput } from './regression.js';
export {
  Metric,
  SumStateMetric,
  MeanMetricWrapper,
  Mean,
  Accuracy,
  BinaryAccuracy,
  CategoricalAccuracy,
  SparseCategoricalAccuracy,
  TopKCategoricalAccuracy,
  SparseTopKCategoricalAccuracy,
  MeanSquaredError,
  MeanAbsoluteError,
  Precision,
  Recall,
  F1Score,
  AUC,
  R2Score,
  getMetric,
  type F1ScoreOptions,
  type AUCOptions,
  type R2ScoreOptions,
} from './stateful.js';
export type { HostValues, LabelOptions } from './host-arrays.js';
// Corpus and sentence BLEU (sacreBLEU's defaults) live with the text tools; listed here with the other metrics.
export { corpusBleu, sentenceBleu, type BleuScore } from '../text/bleu.js';
