// Pictures of training: history charts, confusion-matrix heatmaps and sample-image grids, as SVG
// (Vega-Lite rendered headless by vega) and PNG (resvg compiled to WebAssembly, bundled font).
// Rendering libraries load on first use; only saveFigure touches the file system (Node).

export { plotHistory, historySpec, type HistoryLike, type HistoryPlotOptions } from './history.js';
export { plotConfusionMatrix, confusionMatrixSpec, type ConfusionPlotOptions } from './confusion.js';
export { plotImageGrid, imageGridSpec, type ImageBatch, type ImageGridOptions } from './image-grid.js';
export { saveFigure } from './save.js';
export { renderFigure, renderSvg, svgToPng, type Figure, type RenderOptions } from './render.js';
export { configureViz, type VizAssets, type VizFonts, type WasmSource } from './assets.js';
