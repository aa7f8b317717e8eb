// Confusion-matrix heatmap: rows are true classes, columns predicted (scikit-learn's layout, as
// metrics.confusionMatrix returns it), each cell coloured by and labelled with its count.

import type { TopLevelSpec } from 'vega-lite';
import { baseConfig, renderFigure, type Figure, type RenderOptions } from './render.js';

/** Options of {@link plotConfusionMatrix} and {@link confusionMatrixSpec}. */
export interface ConfusionPlotOptions extends RenderOptions {
  /** Class names, one per row/column (default '0', '1', ...). */
  labels?: string[];
  /** Divide each row by its total, so a cell is the fraction of that true class (scikit-learn's normalize='true'). */
  normalize?: boolean;
  /** Figure title (default 'Confusion matrix'; '' for none). */
  title?: string;
  /** Side of one cell in pixels (default: 44 for up to 10 classes, shrinking to fit about 520 px, at least 8). */
  cellSize?: number;
}

/** ColorBrewer's Blues, from near-white (no samples) to dark blue, so a few errors still stand out. */
const BLUES = ['#f7fbff', '#c6dbef', '#6baed6', '#2171b5', '#08306b'];

interface Cell {
  actual: string;
  predicted: string;
  count: number;
  value: number;
  text: string;
}

function checkMatrix(matrix: number[][], labels: string[] | undefined): number {
  if (!Array.isArray(matrix) || matrix.length === 0) {
    throw new Error('plotConfusionMatrix: the matrix is empty; expected n rows of n counts (rows true class, columns predicted)');
  }
  const n = matrix.length;
  matrix.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== n) {
      throw new Error(
        `plotConfusionMatrix: row ${i} has ${Array.isArray(row) ? row.length : 'no'} entries, expected ${n}: ` +
          `the matrix must be square (${n} × ${n}: rows true class, columns predicted)`,
      );
    }
    row.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new Error(`plotConfusionMatrix: entry [${i}][${j}] is ${JSON.stringify(v)}, expected a count (a finite number ≥ 0)`);
      }
    });
  });
  if (labels !== undefined && labels.length !== n) {
    throw new Error(`plotConfusionMatrix: ${labels.length} labels for a ${n} × ${n} matrix`);
  }
  if (labels && new Set(labels).size !== labels.length) throw new Error('plotConfusionMatrix: the labels must be distinct');
  return n;
}

/**
 * The Vega-Lite spec of a confusion-matrix heatmap; `plotConfusionMatrix` renders it.
 *
 *     const spec = confusionMatrixSpec(nb.metrics.confusionMatrix(yTrue, yPred), { normalize: true });
 */
export function confusionMatrixSpec(matrix: number[][], opts: ConfusionPlotOptions = {}): TopLevelSpec {
  const n = checkMatrix(matrix, opts.labels);
  const labels = opts.labels ?? Array.from({ length: n }, (_, i) => String(i));
  const normalize = opts.normalize ?? false;
  const cells: Cell[] = [];
  let max = 0;
  for (let i = 0; i < n; i++) {
    const total = matrix[i].reduce((s, v) => s + v, 0);
    for (let j = 0; j < n; j++) {
      const count = matrix[i][j];
      const value = normalize ? (total ? count / total : 0) : count;
      max = Math.max(max, value);
      const text = normalize ? value.toFixed(2) : String(count);
      cells.push({ actual: labels[i], predicted: labels[j], count, value, text });
    }
  }
  const cell = opts.cellSize ?? Math.max(8, Math.min(44, Math.floor(520 / n)));
  const longest = Math.max(...labels.map((l) => l.length));
  const longestText = Math.max(...cells.map((c) => c.text.length));
  const fontSize = Math.min(13, Math.floor(cell / 3));
  // Numbers only where they fit: roughly 0.6 em per digit plus a margin.
  const showText = fontSize >= 8 && longestText * fontSize * 0.6 + 4 <= cell;
  const top = normalize ? 1 : max || 1; // colour scale 0..top
  const mid = top * 0.45; // white numbers from the mid blue on
  const axisLabels = { labelLimit: 160, labelFontSize: Math.min(12, Math.max(8, cell - 2)) };
  const title = opts.title ?? 'Confusion matrix';
  const xy = {
    x: {
      field: 'predicted',
      type: 'ordinal',
      sort: labels,
      title: 'predicted label',
      axis: { ...axisLabels, labelAngle: longest > 2 ? -45 : 0, orient: 'bottom', domain: false, ticks: false },
    },
    y: { field: 'actual', type: 'ordinal', sort: labels, title: 'true label', axis: { ...axisLabels, domain: false, ticks: false } },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(title ? { title } : {}),
    data: { values: cells },
    width: { step: cell },
    height: { step: cell },
    config: { ...baseConfig, view: { stroke: null }, scale: { bandPaddingInner: 0 } },
    encoding: xy,
    layer: [
      {
        mark: { type: 'rect', stroke: '#dddddd', strokeWidth: cell >= 16 ? 1 : 0 },
        encoding: {
          color: {
            field: 'value',
            type: 'quantitative',
            title: normalize ? 'fraction of true class' : 'count',
            scale: { domain: [0, top], range: BLUES, interpolate: 'rgb' },
            legend: { gradientLength: Math.max(120, Math.min(300, n * cell)), format: normalize ? '.0%' : '~s', titleOrient: 'left' },
          },
          tooltip: [
            { field: 'actual', title: 'true' },
            { field: 'predicted', title: 'predicted' },
            { field: 'count' },
            ...(normalize ? [{ field: 'value', title: 'fraction', format: '.3f' }] : []),
          ],
        },
      },
      ...(showText
        ? [
            {
              mark: { type: 'text', fontSize, baseline: 'middle' },
              encoding: {
                text: { field: 'text' },
                color: { condition: { test: `datum.value > ${mid}`, value: '#ffffff' }, value: '#1a1a1a' },
              },
            },
          ]
        : []),
    ],
  } as TopLevelSpec;
}

/**
 * A confusion matrix as a heatmap with class names on the axes and the count (or fraction) in each cell.
 *
 *     const m = nb.metrics.confusionMatrix(yTrue, yPred, 10);
 *     await saveFigure(await plotConfusionMatrix(m, { labels: classNames }), 'confusion.png');
 */
export async function plotConfusionMatrix(matrix: number[][], opts: ConfusionPlotOptions = {}): Promise<Figure> {
  return renderFigure(confusionMatrixSpec(matrix, opts), opts);
}
