// A grid of sample images (MNIST digits, CIFAR pictures ...) with "pred 7 / true 7" captions under
// each, wrong predictions in red. Images go into the Vega-Lite spec as PNG data URLs.

import type { TopLevelSpec } from 'vega-lite';
import type { Tensor } from '../tensor/tensor.js';
import { baseConfig, renderFigure, type Figure, type RenderOptions } from './render.js';
import { importOptional } from './assets.js';

/** N images: a Tensor [N, H, W], [N, C, H, W], [N, H, W, C] or [N, H*W]; or one flat array per image. */
export type ImageBatch = Tensor | ArrayLike<number>[] | { data: ArrayLike<number>; shape: readonly number[] };

/** Options of {@link plotImageGrid} and {@link imageGridSpec}: captions, layout and size. */
export interface ImageGridOptions extends RenderOptions {
  /** Predicted class of each image (shown as "pred …"). */
  predicted?: ArrayLike<number>;
  /** True class of each image (shown as "true …"); with `predicted`, mismatches are drawn in red. */
  actual?: ArrayLike<number>;
  /** Class names indexed by class (default: the class number). */
  labels?: string[];
  /** Images per row (default min(count, 8)). */
  columns?: number;
  /** Integer zoom of each image, nearest neighbour (default: about 84 px on the longer side). */
  scale?: number;
  /** How many images from the start of the batch to show (default min(N, 64)). */
  count?: number;
  /** Channel axis of 4-D input (default: 'nchw' when dim 1 is 1, 3 or 4, else 'nhwc' when the last is). */
  layout?: 'nchw' | 'nhwc';
  /** Shape of one image, [H, W] or [C, H, W], for flat input (default: a square grayscale image). */
  imageShape?: number[];
  /** Figure title (default 'Predicted vs true labels' when both are given; '' for none). */
  title?: string;
}

/** Images as planar float data in 0..1: n images of c × h × w. */
interface Planar {
  n: number;
  c: number;
  h: number;
  w: number;
  pixels: Float32Array[];
}

const isTensor = (x: unknown): x is Tensor => typeof x === 'object' && x !== null && typeof (x as Tensor).data === 'function' && Array.isArray((x as Tensor).shape);

function imageDims(len: number, imageShape: number[] | undefined): [number, number, number] {
  if (imageShape) {
    const [c, h, w] = imageShape.length === 2 ? [1, imageShape[0], imageShape[1]] : imageShape.length === 3 ? imageShape : [NaN, NaN, NaN];
    if (!(c * h * w === len)) throw new Error(`plotImageGrid: imageShape [${imageShape}] does not hold ${len} values per image`);
    return [c, h, w];
  }
  const side = Math.round(Math.sqrt(len));
  if (side * side !== len) {
    throw new Error(`plotImageGrid: ${len} values per image is not a square grayscale image; pass imageShape: [H, W] or [C, H, W]`);
  }
  return [1, side, side];
}

/** Split the batch into per-image planar arrays (C, H, W) of the first `count` images. */
function toPlanar(flat: ArrayLike<number>, shape: readonly number[], count: number, opts: ImageGridOptions): Planar {
  let c: number,
    h: number,
    w: number,
    nhwc = false;
  if (shape.length === 2) [c, h, w] = imageDims(shape[1], opts.imageShape);
  else if (shape.length === 3) [c, h, w] = [1, shape[1], shape[2]];
  else if (shape.length === 4) {
    const layout = opts.layout ?? ([1, 3, 4].includes(shape[1]) ? 'nchw' : [1, 3, 4].includes(shape[3]) ? 'nhwc' : undefined);
    if (!layout) throw new Error(`plotImageGrid: cannot tell the channel axis of [${shape}]: neither dim 1 nor dim 3 is 1, 3 or 4; pass layout`);
    nhwc = layout === 'nhwc';
    [c, h, w] = nhwc ? [shape[3], shape[1], shape[2]] : [shape[1], shape[2], shape[3]];
  } else {
    throw new Error(`plotImageGrid: expected images of shape [N, H, W], [N, C, H, W], [N, H, W, C] or [N, H*W], got [${shape}]`);
  }
  if (![1, 3, 4].includes(c)) throw new Error(`plotImageGrid: images need 1, 3 or 4 channels, got ${c} (shape [${shape}])`);
  const per = c * h * w,
    pixels: Float32Array[] = [];
  for (let i = 0; i < count; i++) {
    const img = new Float32Array(per);
    for (let k = 0; k < per; k++) {
      // planar index k = ch*h*w + y*w + x; for NHWC input read (y*w + x)*c + ch
      const src = nhwc ? (k % (h * w)) * c + Math.floor(k / (h * w)) : k;
      img[k] = flat[i * per + src];
    }
    pixels.push(img);
  }
  return { n: count, c, h, w, pixels };
}

async function readImages(images: ImageBatch, opts: ImageGridOptions): Promise<Planar> {
  let flat: ArrayLike<number>, shape: readonly number[];
  if (isTensor(images)) {
    shape = images.shape;
    flat = await images.data();
  } else if (Array.isArray(images)) {
    if (images.length === 0) throw new Error('plotImageGrid: no images');
    const len = images[0].length;
    images.forEach((im, i) => {
      if (im.length !== len) throw new Error(`plotImageGrid: image ${i} has ${im.length} values, image 0 has ${len}`);
    });
    const [c, h, w] = imageDims(len, opts.imageShape);
    const count = Math.min(images.length, opts.count ?? 64);
    return { n: count, c, h, w, pixels: images.slice(0, count).map((im) => Float32Array.from(im)) };
  } else if (images && typeof images === 'object' && 'shape' in images && 'data' in images) {
    ({ data: flat, shape } = images);
  } else {
    throw new Error('plotImageGrid: expected a Tensor, an array of images or { data, shape }');
  }
  if (shape.length < 2 || shape.length > 4) {
    throw new Error(`plotImageGrid: expected images of shape [N, H, W], [N, C, H, W], [N, H, W, C] or [N, H*W], got [${shape}]`);
  }
  if (shape[0] === 0) throw new Error(`plotImageGrid: no images (shape [${shape}])`);
  if (flat.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`plotImageGrid: ${flat.length} values for shape [${shape}]`);
  return toPlanar(flat, shape, Math.min(shape[0], opts.count ?? 64), opts);
}

/**
 * Map values to 0..1: kept if already in 0..1, divided by 255 if in 0..255, else stretched from the
 * batch's min..max (standardized inputs).
 */
function normalizer(p: Planar): (v: number) => number {
  let lo = Infinity,
    hi = -Infinity;
  p.pixels.forEach((img, i) => {
    for (const v of img) {
      if (!Number.isFinite(v)) throw new Error(`plotImageGrid: image ${i} has a non-finite value (${v})`);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  });
  if (lo >= 0 && hi <= 1) return (v) => v;
  if (lo >= 0 && hi <= 255) return (v) => v / 255;
  const range = hi - lo || 1;
  return (v) => (v - lo) / range;
}

type PngEncode = typeof import('fast-png').encode;

/** One image as a PNG data URL, zoomed `scale` times with nearest neighbour. */
function imageDataUrl(encode: PngEncode, img: Float32Array, c: number, h: number, w: number, scale: number, norm: (v: number) => number): string {
  const W = w * scale,
    H = h * scale,
    data = new Uint8Array(W * H * c);
  for (let y = 0; y < H; y++) {
    const sy = Math.floor(y / scale);
    for (let x = 0; x < W; x++) {
      const sx = Math.floor(x / scale);
      for (let ch = 0; ch < c; ch++) {
        const v = norm(img[ch * h * w + sy * w + sx]);
        data[(y * W + x) * c + ch] = Math.round(Math.min(1, Math.max(0, v)) * 255);
      }
    }
  }
  return `data:image/png;base64,${base64(encode({ width: W, height: H, data, channels: c, depth: 8 }))}`;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Base64 without Buffer or btoa, so it runs the same in Node and browsers. */
export function base64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i],
      b = bytes[i + 1],
      c = bytes[i + 2];
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + (b === undefined ? '=' : B64[(n >> 6) & 63]) + (c === undefined ? '=' : B64[n & 63]);
  }
  return out;
}

export const WRONG_COLOR = '#d62728';
const CAPTION_COLOR = '#222222';

function checkLabels(name: string, xs: ArrayLike<number> | undefined, n: number, numLabels: number | undefined): void {
  if (!xs) return;
  if (xs.length < n) throw new Error(`plotImageGrid: ${xs.length} ${name} labels for ${n} images`);
  for (let i = 0; i < n; i++) {
    const v = xs[i];
    if (!Number.isInteger(v) || v < 0 || (numLabels !== undefined && v >= numLabels)) {
      throw new Error(`plotImageGrid: ${name}[${i}] = ${v} is not a class index${numLabels !== undefined ? ` in 0..${numLabels - 1}` : ''}`);
    }
  }
}

/** The Vega-Lite spec of an image grid from images already read (see plotImageGrid). */
function gridSpec(p: Planar, opts: ImageGridOptions, encode: PngEncode): TopLevelSpec {
  const { n, c, h, w } = p;
  const { predicted, actual, labels } = opts;
  checkLabels('predicted', predicted, n, labels?.length);
  checkLabels('actual', actual, n, labels?.length);
  const scale = opts.scale ?? Math.max(1, Math.round(84 / Math.max(h, w)));
  if (!Number.isInteger(scale) || scale < 1) throw new Error(`plotImageGrid: scale must be a positive integer, got ${scale}`);
  const columns = Math.max(1, Math.min(n, opts.columns ?? 8));
  const name = (k: number) => labels?.[k] ?? String(k);
  const captions = Array.from({ length: n }, (_, i) => {
    if (predicted && actual) return `pred ${name(predicted[i])} / true ${name(actual[i])}`;
    if (predicted) return `pred ${name(predicted[i])}`;
    if (actual) return `true ${name(actual[i])}`;
    return '';
  });
  const hasCaption = captions.some((s) => s.length > 0);
  const fontSize = 12,
    gapX = 14,
    gapY = 12;
  const imgW = w * scale,
    imgH = h * scale;
  // Room for the longest caption: ~0.58 em per character is generous for Roboto/Helvetica.
  const textW = Math.max(0, ...captions.map((s) => Math.ceil(s.length * fontSize * 0.58)));
  const cellW = Math.max(imgW, textW) + gapX,
    cellH = imgH + (hasCaption ? fontSize + 8 : 0) + gapY;
  const rows = Math.ceil(n / columns);
  const norm = normalizer(p);
  let wrong = 0;
  const items = p.pixels.map((img, i) => {
    const col = i % columns,
      row = Math.floor(i / columns);
    const cx = col * cellW + (cellW - gapX) / 2,
      top = row * cellH;
    const isWrong = !!(predicted && actual && predicted[i] !== actual[i]);
    if (isWrong) wrong++;
    return {
      url: imageDataUrl(encode, img, c, h, w, scale, norm),
      x: cx - imgW / 2,
      y: top,
      x2: cx + imgW / 2,
      y2: top + imgH,
      cx,
      ty: top + imgH + 5,
      caption: captions[i],
      color: isWrong ? WRONG_COLOR : CAPTION_COLOR,
      wrong: isWrong,
    };
  });
  const px = (field: string) => ({ field, type: 'quantitative' as const, scale: null, axis: null });
  const defaultTitle = predicted && actual ? 'Predicted vs true labels' : '';
  const title = opts.title ?? defaultTitle;
  const subtitle = predicted && actual ? `${wrong} of ${n} wrong${wrong ? ' (red)' : ''}` : undefined;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(title ? { title: { text: title, ...(subtitle ? { subtitle, subtitleFontSize: 12, subtitleColor: '#555' } : {}) } } : {}),
    width: columns * cellW - gapX,
    height: rows * cellH - gapY,
    data: { values: items },
    config: { ...baseConfig, view: { stroke: null } },
    layer: [
      {
        mark: { type: 'image', width: imgW, height: imgH, align: 'left', baseline: 'top', aspect: false, smooth: false, aria: false },
        encoding: { x: px('x'), y: px('y'), url: { field: 'url', type: 'nominal' } },
      },
      {
        transform: [{ filter: 'datum.wrong' }],
        mark: { type: 'rect', fill: null, stroke: WRONG_COLOR, strokeWidth: 2, aria: false },
        encoding: { x: px('x'), y: px('y'), x2: { field: 'x2' }, y2: { field: 'y2' } },
      },
      ...(hasCaption
        ? [
            {
              mark: { type: 'text', align: 'center', baseline: 'top', fontSize, aria: false },
              encoding: { x: px('cx'), y: px('ty'), text: { field: 'caption' }, color: { field: 'color', type: 'nominal', scale: null } },
            },
          ]
        : []),
    ],
  } as TopLevelSpec;
}

/**
 * The Vega-Lite spec of an image grid (images inline as PNG data URLs); `plotImageGrid` renders it.
 * Async because a Tensor's values are read with `await t.data()`.
 */
export async function imageGridSpec(images: ImageBatch, opts: ImageGridOptions = {}): Promise<TopLevelSpec> {
  const [planar, { encode }] = await Promise.all([readImages(images, opts), importOptional('fast-png', () => import('fast-png'))]);
  return gridSpec(planar, opts, encode);
}

/**
 * Sample images in a grid with "pred 3 / true 5" under each; wrong predictions get a red caption
 * and a red frame. Values in 0..1 or 0..255 are detected; other ranges are stretched min..max.
 *
 *     const fig = await plotImageGrid(xTest.slice(0, 32), { predicted, actual: yTest, labels });
 *     await saveFigure(fig, 'samples.png');
 */
export async function plotImageGrid(images: ImageBatch, opts: ImageGridOptions = {}): Promise<Figure> {
  return renderFigure(await imageGridSpec(images, opts), opts);
}
