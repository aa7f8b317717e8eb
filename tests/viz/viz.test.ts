// Pictures: history charts, confusion-matrix heatmaps and image grids, checked in their SVG (text,
// colours, structure) and their PNG (decoded: size, and text really drawn with the bundled font).
import { describe, it, expect } from 'vitest';
import { decode } from 'fast-png';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as nb from '../../src/index.js';
import { History } from '../../src/train/callbacks.js';
import { confusionMatrix } from '../../src/metrics/index.js';
import { plotHistory, historySpec, plotConfusionMatrix, confusionMatrixSpec, plotImageGrid, imageGridSpec, saveFigure, svgToPng, type Figure } from '../../src/viz/index.js';
import { parseFontMetrics } from '../../src/viz/font-metrics.js';
import { base64 } from '../../src/viz/image-grid.js';
import { loadFonts } from '../../src/viz/assets.js';
import { tempDir } from '../helpers/tmp.js';

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/** Tags balance (a stack of open elements), attributes are quoted, one root <svg>. */
function expectWellFormed(svg: string): void {
  expect(svg.startsWith('<svg')).toBe(true);
  const stack: string[] = [];
  let roots = 0;
  for (const m of svg.matchAll(/<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>/g)) {
    const [, close, name, , self] = m;
    if (close) expect(stack.pop(), `closing </${name}>`).toBe(name);
    else if (!self) {
      if (stack.length === 0) roots++;
      stack.push(name);
    }
  }
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
  // every '<' starts a tag the pattern above accepted (no stray, unescaped text)
  const tags = [...svg.matchAll(/<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>/g)].length;
  expect((svg.match(/</g) ?? []).length).toBe(tags);
}

/** The text content of every <text> element, unescaped. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) =>
    m[1]
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, '&'),
  );
}

function decodePng(png: Uint8Array) {
  expect(Array.from(png.slice(0, 8))).toEqual(PNG_SIGNATURE);
  return decode(png);
}

/** Pixels that differ between two RGBA images of the same size. */
function differingPixels(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let n = 0;
  for (let i = 0; i < a.length; i += 4) if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2]) n++;
  return n;
}

/** The PNG is the SVG's size times pixelRatio, and its text is really drawn (not blank for want of a font). */
async function expectPngWithText(fig: Figure, pixelRatio = 2): Promise<void> {
  const img = decodePng(fig.png);
  expect(img.width).toBe(Math.round(fig.width * pixelRatio));
  expect(img.height).toBe(Math.round(fig.height * pixelRatio));
  const noText = decodePng(await svgToPng(fig.svg.replace(/<text\b[^>]*>[^<]*<\/text>/g, ''), { pixelRatio }));
  const withText = decodePng(await svgToPng(fig.svg, { pixelRatio }));
  const toRgba = (d: ReturnType<typeof decode>) => {
    if (d.channels === 4) return d.data as Uint8Array;
    const out = new Uint8Array(d.width * d.height * 4);
    for (let p = 0; p < d.width * d.height; p++) {
      for (let c = 0; c < 3; c++) out[4 * p + c] = (d.data as Uint8Array)[d.channels * p + (d.channels === 3 ? c : 0)];
      out[4 * p + 3] = 255;
    }
    return out;
  };
  // Every label of a chart covers some hundreds of pixels; a missing font would give zero.
  expect(differingPixels(toRgba(withText), toRgba(noText))).toBeGreaterThan(40 * texts(fig.svg).length);
}

function kerasHistory(epochs: number): Record<string, number[]> {
  const h: Record<string, number[]> = { loss: [], accuracy: [], val_loss: [], val_accuracy: [] };
  for (let e = 1; e <= epochs; e++) {
    h.loss.push(2 / e);
    h.val_loss.push(2.2 / e);
    h.accuracy.push(1 - 0.5 / e);
    h.val_accuracy.push(1 - 0.6 / e);
  }
  return h;
}

describe('plotHistory', () => {
  it('makes one panel per metric (loss first), 1-based epochs, train and validation rows', () => {
    const spec = historySpec({ accuracy: [0.5, 0.7], val_accuracy: [0.4, 0.6], loss: [1, 0.5], val_loss: [1.2, 0.8], lr: [0.1, 0.1] }) as any;
    expect(spec.concat.map((p: any) => p.title.text)).toEqual(['loss', 'accuracy', 'lr']);
    const rows = spec.data.values as { metric: string; split: string; epoch: number; value: number }[];
    expect(rows).toHaveLength(10);
    expect(rows.find((r) => r.metric === 'loss' && r.split === 'validation' && r.epoch === 2)?.value).toBe(0.8);
    expect(rows.filter((r) => r.metric === 'lr').map((r) => r.split)).toEqual(['train', 'train']);
    expect(Math.min(...rows.map((r) => r.epoch))).toBe(1);
  });

  it('accepts a History callback and skips non-finite epochs', () => {
    const h = new History();
    h.onEpochEnd(0, { loss: 1, val_loss: 2 });
    h.onEpochEnd(1, { loss: NaN, val_loss: 1.5 });
    h.onEpochEnd(2, { loss: 0.5, val_loss: 1 });
    const spec = historySpec(h) as any;
    expect(spec.concat).toBeUndefined(); // one metric: one panel
    const train = spec.data.values.filter((r: any) => r.split === 'train').map((r: any) => [r.epoch, r.value]);
    expect(train).toEqual([
      [1, 1],
      [3, 0.5],
    ]);
  });

  it('renders SVG with titles, axes and legend, validation dashed, and a PNG with its text drawn', async () => {
    const fig = await plotHistory(kerasHistory(8), { title: 'MLP on MNIST' });
    expectWellFormed(fig.svg);
    const t = texts(fig.svg);
    for (const s of ['MLP on MNIST', 'loss', 'accuracy', 'epoch', 'train', 'validation', '8']) expect(t, s).toContain(s);
    // train solid, validation dashed, in two colours
    expect(fig.svg).toMatch(/stroke="#1f77b4"[^>]*stroke-dasharray="1,0"|stroke-dasharray="1,0"[^>]*stroke="#1f77b4"/);
    expect(fig.svg).toMatch(/stroke="#ff7f0e"[^>]*stroke-dasharray="6,4"|stroke-dasharray="6,4"[^>]*stroke="#ff7f0e"/);
    await expectPngWithText(fig);
  });

  it('draws a single epoch and honours pixelRatio', async () => {
    const fig = await plotHistory({ loss: [0.7] }, { pixelRatio: 1, width: 200, height: 120 });
    expectWellFormed(fig.svg);
    expect(decodePng(fig.png).width).toBe(fig.width);
    expect(fig.svg).toMatch(/role-mark[^>]*role="graphics-object"[\s\S]*<path/); // the point is drawn
  });

  it('says clearly what is wrong with bad input', async () => {
    await expect(plotHistory({})).rejects.toThrow(/plotHistory: the history is empty: no metrics/);
    await expect(plotHistory({ loss: [], val_loss: [NaN] })).rejects.toThrow(/history is empty: no finite value in 'loss', 'val_loss'/);
    await expect(plotHistory({ loss: 'abc' as any })).rejects.toThrow(/history\['loss'\] must be an array of numbers/);
    await expect(plotHistory({ loss: [1, '2' as any] })).rejects.toThrow(/history\['loss'\]\[1\] is "2", expected a number/);
    await expect(plotHistory(null as any)).rejects.toThrow(/expected an object/);
  });
});

describe('plotConfusionMatrix', () => {
  const yTrue = [0, 0, 0, 1, 1, 2, 2, 2, 2, 0];
  const yPred = [0, 0, 1, 1, 1, 2, 0, 2, 2, 0];

  it('normalizes each true-class row (plain reference) and keeps counts', () => {
    const m = confusionMatrix(yTrue, yPred, 4); // class 3 never occurs: an all-zero row
    const cells = (confusionMatrixSpec(m, { normalize: true }) as any).data.values as { actual: string; predicted: string; count: number; value: number }[];
    expect(cells).toHaveLength(16);
    for (let i = 0; i < 4; i++) {
      let total = 0;
      for (let j = 0; j < 4; j++) total += m[i][j];
      for (let j = 0; j < 4; j++) {
        const c = cells.find((x) => x.actual === String(i) && x.predicted === String(j))!;
        expect(c.count).toBe(m[i][j]);
        expect(c.value).toBeCloseTo(total ? m[i][j] / total : 0, 12);
      }
    }
  });

  it('renders class names, axis titles and counts; dark cells get white numbers; the PNG has text', async () => {
    const labels = ['cat', 'dog', 'R&D <x>'];
    const fig = await plotConfusionMatrix(confusionMatrix(yTrue, yPred, 3), { labels, title: 'Pets' });
    expectWellFormed(fig.svg);
    const t = texts(fig.svg);
    // counts [[3, 1, 0], [0, 2, 0], [1, 0, 3]]
    for (const s of [...labels, 'predicted label', 'true label', 'Pets', '3', '2', '1']) expect(t, s).toContain(s);
    // the largest cells (3) are the darkest blue and labelled in white
    expect(fig.svg).toContain('fill="rgb(8, 48, 107)"');
    expect(fig.svg).toMatch(/fill="#ffffff"[^>]*>3<\/text>/);
    expect(fig.svg).toMatch(/fill="#1a1a1a"[^>]*>0<\/text>/);
    await expectPngWithText(fig);
  });

  it('shows fractions when normalized and leaves numbers out of cells too small for them', async () => {
    const fig = await plotConfusionMatrix(
      [
        [3, 1],
        [0, 4],
      ],
      { normalize: true },
    );
    expect(texts(fig.svg)).toEqual(expect.arrayContaining(['0.75', '0.25', '0.00', '1.00']));
    const n = 60,
      big = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1000 : 1)));
    const spec = confusionMatrixSpec(big) as any;
    expect(spec.layer).toHaveLength(1); // 8-px cells: colour only
  });

  it('rejects ragged, empty and mislabelled matrices', async () => {
    await expect(
      plotConfusionMatrix([
        [1, 2, 3],
        [4, 5],
        [6, 7, 8],
      ]),
    ).rejects.toThrow(/row 1 has 2 entries, expected 3: the matrix must be square/);
    await expect(plotConfusionMatrix([])).rejects.toThrow(/matrix is empty/);
    await expect(
      plotConfusionMatrix(
        [
          [1, 2],
          [3, 4],
        ],
        { labels: ['a'] },
      ),
    ).rejects.toThrow(/1 labels for a 2 × 2 matrix/);
    await expect(
      plotConfusionMatrix([
        [1, -2],
        [3, 4],
      ]),
    ).rejects.toThrow(/entry \[0\]\[1\] is -2/);
  });
});

describe('plotImageGrid', () => {
  /** Three 4×5 grayscale images with distinct pixel values in 0..1. */
  const H = 4,
    W = 5;
  // /61 keeps every v·255 away from a .5 that float32 rounding could tip either way
  const pixel = (n: number, y: number, x: number) => (n * 20 + y * W + x) / 61;
  const flat = Array.from({ length: 3 * H * W }, (_, k) => pixel(Math.floor(k / (H * W)), Math.floor((k % (H * W)) / W), k % W));

  /** The embedded PNGs, decoded. */
  const embedded = (svg: string) => [...svg.matchAll(/href="data:image\/png;base64,([^"]+)"/g)].map((m) => decode(Buffer.from(m[1], 'base64')));

  it('embeds each image zoomed by nearest neighbour, the same for NCHW, NHWC, 0..255 and flat input', async () => {
    const scale = 3;
    const ref = embedded((await plotImageGrid({ data: flat, shape: [3, H, W] }, { scale })).svg);
    expect(ref).toHaveLength(3);
    for (let n = 0; n < 3; n++) {
      expect([ref[n].width, ref[n].height, ref[n].channels]).toEqual([W * scale, H * scale, 1]);
      for (let y = 0; y < H * scale; y++) {
        for (let x = 0; x < W * scale; x++) {
          expect(ref[n].data[y * W * scale + x]).toBe(Math.round(pixel(n, Math.floor(y / scale), Math.floor(x / scale)) * 255));
        }
      }
    }
    const same = async (images: Parameters<typeof plotImageGrid>[0], opts = {}) => {
      const got = embedded(((await imageGridSpec(images, { scale, ...opts })) as any).data.values.map((v: any) => `href="${v.url}"`).join(' '));
      expect(got.map((g) => Array.from(g.data))).toEqual(ref.map((r) => Array.from(r.data)));
    };
    await same(nb.reshape(nb.tensor(flat), [3, 1, H, W]));
    await same({ data: flat, shape: [3, H, W, 1] }, { layout: 'nhwc' });
    await same({ data: flat.map((v) => v * 255), shape: [3, H * W] }, { imageShape: [H, W] });
    await same(
      [0, 1, 2].map((n) => Float32Array.from(flat.slice(n * H * W, (n + 1) * H * W))),
      { imageShape: [H, W] },
    );
    // standardized data is stretched from its min..max, which here gives back the original 0..1 range (0 .. 59/61)
    const lo = 0,
      hi = 59 / 61;
    const std = flat.map((v) => (v - 0.5) * 4);
    const got = embedded((await plotImageGrid({ data: std, shape: [3, H, W] }, { scale })).svg);
    expect(got[2].data[0]).toBe(Math.round(((pixel(2, 0, 0) - lo) / (hi - lo)) * 255));
  });

  it('keeps RGB channels in order for NCHW and NHWC', async () => {
    // one 2×2 image: channel 0 (red) all 1, channel 1 (green) 0, channel 2 (blue) 0.5
    const nchw = [1, 1, 1, 1, 0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5];
    const nhwc = [1, 0, 0.5, 1, 0, 0.5, 1, 0, 0.5, 1, 0, 0.5];
    for (const [data, shape] of [
      [nchw, [1, 3, 2, 2]],
      [nhwc, [1, 2, 2, 3]],
    ] as const) {
      const [img] = embedded((await plotImageGrid({ data, shape }, { scale: 1 })).svg);
      expect(img.channels).toBe(3);
      expect(Array.from(img.data.slice(0, 3))).toEqual([255, 0, 128]);
    }
  });

  it('captions "pred / true" with wrong ones in red, in the SVG and the PNG', async () => {
    const labels = ['zero', 'one', 'two'];
    const fig = await plotImageGrid({ data: flat, shape: [3, H, W] }, { predicted: [0, 2, 2], actual: [0, 1, 2], labels, columns: 2 });
    expectWellFormed(fig.svg);
    const caption = (s: string) => new RegExp(`<text\\b[^>]*fill="([^"]+)"[^>]*>${s.replace(/\//g, '\\/')}</text>`).exec(fig.svg)?.[1];
    expect(caption('pred zero / true zero')).toBe('#222222');
    expect(caption('pred two / true one')).toBe('#d62728');
    expect(caption('pred two / true two')).toBe('#222222');
    expect(texts(fig.svg)).toContain('1 of 3 wrong (red)');
    await expectPngWithText(fig);
    const red = (png: Uint8Array) => {
      const d = decodePng(png);
      let n = 0;
      for (let p = 0; p < d.width * d.height; p++) {
        const [r, g, b] = [d.data[p * d.channels], d.data[p * d.channels + 1], d.data[p * d.channels + 2]];
        if (r > 180 && g < 90 && b < 90) n++;
      }
      return n;
    };
    expect(red(fig.png)).toBeGreaterThan(100); // red caption and frame
    const allRight = await plotImageGrid({ data: flat, shape: [3, H, W] }, { predicted: [0, 1, 2], actual: [0, 1, 2] });
    expect(red(allRight.png)).toBe(0);
    expect(texts(allRight.svg)).toContain('0 of 3 wrong');
  });

  it('rejects shapes, label counts and classes it cannot draw', async () => {
    const data = { data: flat, shape: [3, H, W] };
    await expect(plotImageGrid(data, { predicted: [0, 1] })).rejects.toThrow(/2 predicted labels for 3 images/);
    await expect(plotImageGrid(data, { actual: [0, 1, 5], labels: ['a', 'b', 'c'] })).rejects.toThrow(/actual\[2\] = 5 is not a class index in 0..2/);
    await expect(plotImageGrid({ data: new Array(2 * 7 * 7 * 7).fill(0), shape: [2, 7, 7, 7] })).rejects.toThrow(/cannot tell the channel axis of \[2,7,7,7\]/);
    await expect(plotImageGrid({ data: new Array(10).fill(0), shape: [2, 5] })).rejects.toThrow(/5 values per image is not a square grayscale image/);
    await expect(plotImageGrid({ data: [1, NaN, 0, 0], shape: [1, 2, 2] })).rejects.toThrow(/image 0 has a non-finite value/);
    await expect(plotImageGrid([])).rejects.toThrow(/no images/);
  });
});

describe('saveFigure', () => {
  it('writes .svg, .png, or both without an extension, and refuses other extensions', async () => {
    const dir = await tempDir('nabla-viz-');
    const fig = await plotHistory({ loss: [1, 0.5] });
    expect(await saveFigure(fig, join(dir, 'h.svg'))).toEqual([join(dir, 'h.svg')]);
    expect(await readFile(join(dir, 'h.svg'), 'utf8')).toBe(fig.svg);
    await saveFigure(fig, join(dir, 'sub', 'h.PNG'));
    expect(new Uint8Array(await readFile(join(dir, 'sub', 'h.PNG')))).toEqual(fig.png);
    expect(await saveFigure(fig, join(dir, 'both'))).toEqual([join(dir, 'both.svg'), join(dir, 'both.png')]);
    expect(new Uint8Array(await readFile(join(dir, 'both.png')))).toEqual(fig.png);
    await expect(saveFigure(fig, join(dir, 'h.jpg'))).rejects.toThrow(/cannot write '.jpg'.*use a .png or .svg/);
  });
});

describe('helpers', () => {
  it('measures text with the font tables: tabular digits, additive widths, narrow i, wide M', async () => {
    const m = parseFontMetrics((await loadFonts()).regular);
    expect(m.unitsPerEm).toBeGreaterThan(0);
    expect(m.width('0', 12)).toBeCloseTo(m.width('8', 12), 9);
    expect(m.width('ab', 12)).toBeCloseTo(m.width('a', 12) + m.width('b', 12), 9);
    expect(m.width('M', 12)).toBeGreaterThan(2 * m.width('i', 12));
    expect(m.width('loss', 24)).toBeCloseTo(2 * m.width('loss', 12), 9);
    expect(m.width('epoch', 12)).toBeGreaterThan(20); // ~0.5 em per character
    expect(m.width('epoch', 12)).toBeLessThan(0.8 * 5 * 12);
  });

  it('encodes base64 like Buffer does', () => {
    for (const len of [0, 1, 2, 3, 4, 5, 255]) {
      const b = Uint8Array.from({ length: len }, (_, i) => (i * 97 + 13) & 255);
      expect(base64(b)).toBe(Buffer.from(b).toString('base64'));
    }
  });
});
