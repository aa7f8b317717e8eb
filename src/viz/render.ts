// Vega-Lite spec → SVG (vega, headless) → PNG (resvg, WebAssembly). Both libraries load on first use,
// so importing nabla stays cheap.

import type { TopLevelSpec, Config } from 'vega-lite';
import { importOptional, loadFonts, loadWasm } from './assets.js';
import { parseFontMetrics } from './font-metrics.js';

/** A rendered picture: the Vega-Lite spec it came from, SVG text and PNG bytes. */
export interface Figure {
  /** The Vega-Lite spec (data inline), e.g. to open in the Vega editor or restyle and re-render. */
  spec: TopLevelSpec;
  svg: string;
  /** PNG at `pixelRatio` times the SVG size. */
  png: Uint8Array;
  /** Size of the SVG in CSS pixels. */
  width: number;
  height: number;
}

/** Options of rendering a figure to PNG, shared by every plot function. */
export interface RenderOptions {
  /** PNG pixels per SVG pixel (default 2, sharp on high-density screens and in documents). */
  pixelRatio?: number;
}

/** Shared look: white background, legible sizes, light grid. */
export const baseConfig: Config = {
  background: 'white',
  font: 'sans-serif',
  padding: 12,
  title: { fontSize: 16, fontWeight: 'bold', anchor: 'middle', offset: 12 },
  axis: { labelFontSize: 12, titleFontSize: 13, titleFontWeight: 'normal', gridColor: '#e6e6e6', domainColor: '#888', tickColor: '#888' },
  legend: { labelFontSize: 12, titleFontSize: 13, titleFontWeight: 'normal' },
  header: { labelFontSize: 13, titleFontSize: 13 },
  view: { stroke: '#ccc' },
};

type VegaModule = typeof import('vega');
let metricsInstalled: Promise<void> | null = null;

/**
 * Without a canvas (Node) Vega guesses 0.8 em per character, which pushes axis titles and legends
 * far from their labels. Measure with the bundled font's advance widths instead, the same font the
 * PNG is drawn with. Browsers (and Node with the `canvas` package) keep measuring with their canvas.
 */
function installTextMetrics(vega: VegaModule): Promise<void> {
  metricsInstalled ??= (async () => {
    // textMetrics is exported by vega (from vega-scenegraph) but missing from its typings.
    const tm = (vega as unknown as { textMetrics: { width: (item: unknown, text?: unknown) => number; estimateWidth: unknown } }).textMetrics;
    if (tm.width !== tm.estimateWidth) return;
    let fonts: Awaited<ReturnType<typeof loadFonts>>;
    try {
      fonts = await loadFonts();
    } catch {
      return; // no font here (a browser without configureViz): keep Vega's estimate
    }
    const regular = parseFontMetrics(fonts.regular);
    const bold = fonts.bold ? parseFontMetrics(fonts.bold) : regular;
    tm.width = (item: unknown, text?: unknown) => {
      const it = item as { text?: unknown; fontSize?: number; fontWeight?: string | number; limit?: number };
      const t = text ?? it.text ?? '';
      const lines = Array.isArray(t) ? t.map(String) : [String(t)];
      const size = it.fontSize != null ? +it.fontSize || 0 : 11;
      const w = it.fontWeight === 'bold' || +(it.fontWeight ?? 400) >= 600 ? bold : regular;
      const width = Math.max(...lines.map((l) => w.width(l.trim(), size)));
      return it.limit && it.limit > 0 ? Math.min(width, it.limit) : width;
    };
  })();
  return metricsInstalled;
}

/**
 * Compile a Vega-Lite spec and render it headless to an SVG string.
 *
 *     const svg = await renderSvg({ data: { values }, mark: 'line', encoding: { ... } });
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vl] = await Promise.all([importOptional('vega', () => import('vega')), importOptional('vega-lite', () => import('vega-lite'))]);
  await installTextMetrics(vega);
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

let resvgReady: Promise<typeof import('@resvg/resvg-wasm')> | null = null;

function resvg(): Promise<typeof import('@resvg/resvg-wasm')> {
  resvgReady ??= (async () => {
    const mod = await importOptional('@resvg/resvg-wasm', () => import('@resvg/resvg-wasm'));
    try {
      await mod.initWasm(await loadWasm());
    } catch (e) {
      // Someone else in this process initialised resvg-wasm already: that instance is fine.
      if (!/already initiali[sz]ed/i.test(String((e as Error).message))) throw e;
    }
    return mod;
  })().catch((e) => {
    resvgReady = null;
    throw e;
  });
  return resvgReady;
}

/**
 * Rasterize an SVG to PNG bytes with resvg (WebAssembly), drawing text with the bundled font.
 *
 *     const png = await svgToPng(svg, { pixelRatio: 2 });
 */
export async function svgToPng(svg: string, opts: RenderOptions = {}): Promise<Uint8Array> {
  const pixelRatio = opts.pixelRatio ?? 2;
  if (!(pixelRatio > 0) || !Number.isFinite(pixelRatio)) throw new Error(`svgToPng: pixelRatio must be a positive number, got ${pixelRatio}`);
  const [{ Resvg }, fonts] = await Promise.all([resvg(), loadFonts()]);
  const fontBuffers = fonts.bold ? [fonts.regular, fonts.bold] : [fonts.regular];
  const family = fonts.family ?? 'Roboto';
  const r = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: pixelRatio },
    font: { fontBuffers, defaultFontFamily: family, sansSerifFamily: family },
    imageRendering: 1, // optimizeSpeed = nearest neighbour, so small images stay crisp pixels
  });
  try {
    const img = r.render();
    try {
      return img.asPng();
    } finally {
      img.free();
    }
  } finally {
    r.free();
  }
}

/** The width and height attributes of an SVG root element. */
export function svgSize(svg: string): { width: number; height: number } {
  const m = /<svg\b[^>]*>/.exec(svg);
  const attr = (name: string) => Number(new RegExp(`\\s${name}="([\\d.]+)"`).exec(m?.[0] ?? '')?.[1] ?? NaN);
  return { width: attr('width'), height: attr('height') };
}

/** Spec → Figure with both SVG and PNG. */
export async function renderFigure(spec: TopLevelSpec, opts: RenderOptions = {}): Promise<Figure> {
  const svg = await renderSvg(spec);
  const png = await svgToPng(svg, opts);
  return { spec, svg, png, ...svgSize(svg) };
}
