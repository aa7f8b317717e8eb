// Training history as line charts: one panel per metric (loss, accuracy, ...), train solid and
// validation dashed, against the 1-based epoch, like plotting Keras' History.history.

import type { TopLevelSpec } from 'vega-lite';
import { baseConfig, renderFigure, type Figure, type RenderOptions } from './render.js';

/** Keras' History.history shape ({ loss: [...], val_loss: [...], accuracy: [...] }) or a History object. */
export type HistoryLike = Record<string, ArrayLike<number | null>> | { history: Record<string, ArrayLike<number | null>> };

/**
 * Options of {@link plotHistory} and {@link historySpec}: title, panel size (`height` in pixels,
 * default 240) and layout.
 */
export interface HistoryPlotOptions extends RenderOptions {
  /** Figure title (default 'Training history'; '' for none). */
  title?: string;
  /** Size of each panel's plotting area in pixels (default 360 × 240). */
  width?: number;
  height?: number;
  /** Panels per row (default: 2, or 1 for a single metric). */
  columns?: number;
}

const SPLITS = ['train', 'validation'] as const;
const SPLIT_COLOR = { train: '#1f77b4', validation: '#ff7f0e' };
const SPLIT_DASH = { train: [1, 0], validation: [6, 4] };

interface Row {
  metric: string;
  split: 'train' | 'validation';
  epoch: number;
  value: number;
}

/** Rows of the chart and the metric families in panel order (loss first, then as they appear). */
function historyRows(history: HistoryLike): { rows: Row[]; families: string[]; epochs: number } {
  const h =
    history && typeof history === 'object' && 'history' in history && !Array.isArray(history.history) && typeof history.history === 'object'
      ? (history.history as Record<string, ArrayLike<number | null>>)
      : (history as Record<string, ArrayLike<number | null>>);
  if (!h || typeof h !== 'object') throw new Error(`plotHistory: expected an object like { loss: [...], val_loss: [...] }, got ${h === null ? 'null' : typeof h}`);
  const rows: Row[] = [];
  const families: string[] = [];
  let epochs = 0;
  for (const [key, values] of Object.entries(h)) {
    if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
      throw new Error(`plotHistory: history['${key}'] must be an array of numbers (one per epoch), got ${values === null ? 'null' : typeof values}`);
    }
    const split = key.startsWith('val_') ? 'validation' : 'train';
    const metric = split === 'validation' ? key.slice(4) : key;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v !== null && typeof v !== 'number') throw new Error(`plotHistory: history['${key}'][${i}] is ${JSON.stringify(v)}, expected a number`);
      if (v === null || !Number.isFinite(v)) continue; // a diverged (NaN) epoch leaves a gap
      rows.push({ metric, split, epoch: i + 1, value: v });
      epochs = Math.max(epochs, i + 1);
      if (!families.includes(metric)) families.push(metric);
    }
  }
  if (rows.length === 0) {
    const keys = Object.keys(h);
    throw new Error(
      `plotHistory: the history is empty: ${keys.length ? `no finite value in ${keys.map((k) => `'${k}'`).join(', ')}` : 'no metrics'}` +
        ` (expected e.g. { loss: [0.9, 0.5], val_loss: [1.0, 0.7] }, one value per epoch)`,
    );
  }
  const li = families.indexOf('loss');
  if (li > 0) families.unshift(...families.splice(li, 1));
  return { rows, families, epochs };
}

/**
 * The Vega-Lite spec of a training-history chart (data inline); `plotHistory` renders it.
 *
 *     const spec = historySpec(history.history, { title: 'MLP on MNIST' });
 */
export function historySpec(history: HistoryLike, opts: HistoryPlotOptions = {}): TopLevelSpec {
  const { rows, families, epochs } = historyRows(history);
  const width = opts.width ?? 360,
    height = opts.height ?? 240;
  const splits = SPLITS.filter((s) => rows.some((r) => r.split === s));
  const showPoints = epochs <= 50;
  const panel = (metric: string) => ({
    width,
    height,
    ...(families.length > 1 ? { title: { text: metric, fontSize: 14, fontWeight: 'bold' as const } } : {}),
    transform: [{ filter: { field: 'metric', equal: metric } }],
    mark: { type: 'line' as const, strokeWidth: 2, point: showPoints ? { filled: true, size: 36 } : false },
    encoding: {
      x: {
        field: 'epoch',
        type: 'quantitative' as const,
        title: 'epoch',
        scale: { domain: [1, Math.max(2, epochs)], nice: false },
        axis: { tickMinStep: 1, format: 'd' },
      },
      y: { field: 'value', type: 'quantitative' as const, title: metric, scale: { zero: false } },
      color: {
        field: 'split',
        type: 'nominal' as const,
        title: null,
        scale: { domain: splits, range: splits.map((s) => SPLIT_COLOR[s]) },
        legend: { orient: 'right' as const, symbolType: 'stroke', symbolStrokeWidth: 2.5, symbolSize: 400, labelFontSize: 13 },
      },
      strokeDash: { field: 'split', type: 'nominal' as const, title: null, scale: { domain: splits, range: splits.map((s) => SPLIT_DASH[s]) } },
      tooltip: [{ field: 'split' }, { field: 'epoch' }, { field: 'value', format: '.4~g' }],
    },
  });
  const title = opts.title ?? 'Training history';
  const top = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(title ? { title } : {}),
    data: { values: rows },
    config: baseConfig,
  };
  if (families.length === 1) return { ...top, ...panel(families[0]) } as TopLevelSpec;
  const columns = opts.columns ?? Math.min(2, families.length);
  return { ...top, columns, spacing: 30, concat: families.map(panel) } as TopLevelSpec;
}

/**
 * Training history as a chart, SVG and PNG: one panel per metric, train solid, validation dashed.
 *
 *     const h = await model.fit(x, y, { epochs: 10, validationSplit: 0.1 });
 *     await saveFigure(await plotHistory(h.history), 'history.png');
 */
export async function plotHistory(history: HistoryLike, opts: HistoryPlotOptions = {}): Promise<Figure> {
  return renderFigure(historySpec(history, opts), opts);
}
