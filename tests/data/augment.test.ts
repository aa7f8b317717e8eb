// Image augmentation: identities, known shifts, 90° turns against rot90, bilinear resampling of
// linear ramps (exact), flips, seeded determinism, layouts and dtypes, DataLoader use, and speed.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import {
  RandomShift,
  RandomRotation,
  RandomScale,
  RandomAffine,
  RandomFlip,
  RandomHorizontalFlip,
  RandomVerticalFlip,
  GaussianNoise,
  Compose,
  augmentInputs,
  type Augmentation,
} from '../../src/data/augment.js';
import { DataLoader } from '../../src/data/loader.js';
import { TensorDataset } from '../../src/data/dataset.js';

const vals = (t: nb.Tensor) => Array.from(t.dataSync());

/** An H×W image with distinct values v[y][x] = 1 + y·W + x. */
function img(h: number, w: number): number[][] {
  return Array.from({ length: h }, (_, y) => Array.from({ length: w }, (_, x) => 1 + y * w + x));
}

/** The image moved right by dx and down by dy, zeros coming in. */
function shifted(a: number[][], dy: number, dx: number): number[][] {
  return a.map((row, y) => row.map((_, x) => a[y - dy]?.[x - dx] ?? 0));
}

/** np.rot90: counter-clockwise quarter turn, out[i][j] = a[j][n−1−i] (a transpose then a flip). */
function rot90(a: number[][]): number[][] {
  const n = a.length;
  return a.map((row, i) => row.map((_, j) => a[j][n - 1 - i]));
}

/** Batch [n, 1, h, w] of copies of one image. */
function batchOf(a: number[][], n: number): nb.Tensor {
  return nb.tensor(Array.from({ length: n }, () => [a]));
}

/** Image k of a [N, 1, H, W] or [N, H, W] tensor as rows. */
function imageAt(t: nb.Tensor, k: number): number[][] {
  const [h, w] = t.shape.slice(-2),
    d = vals(t),
    off = k * h * w;
  return Array.from({ length: h }, (_, y) => d.slice(off + y * w, off + (y + 1) * w));
}

describe('geometric augmentations', () => {
  it('identity parameters give the identity, exactly', () => {
    const x = nb.tensor([img(5, 7), img(5, 7).map((r) => r.map((v) => -v))]); // [2, 5, 7]
    const g = new nb.Generator(0);
    const ids: Augmentation[] = [
      new RandomRotation([0, 0], { generator: g }),
      new RandomShift({ pixels: 0, generator: g }),
      new RandomScale([1, 1], { generator: g }),
      new RandomAffine({ generator: g }),
      new RandomFlip('horizontal', { p: 0, generator: g }),
      new GaussianNoise(0, { generator: g }),
      new RandomRotation([0, 0], { interpolation: 'nearest', generator: g }),
    ];
    for (const aug of ids) expect(vals(aug.apply(x)), aug.constructor.name).toEqual(vals(x));
    expect(vals(new Compose(ids).apply(x))).toEqual(vals(x));
  });

  it('a whole-pixel shift moves a known image by one pixel, each image drawing its own shift', () => {
    const a = img(4, 5),
      n = 40;
    const right = new RandomShift({ pixels: [0, 1], generator: new nb.Generator(1) }).apply(batchOf(a, n));
    const seen = new Set<number>();
    for (let k = 0; k < n; k++) {
      const out = imageAt(right, k);
      const dx = [-1, 0, 1].find((d) => JSON.stringify(shifted(a, 0, d)) === JSON.stringify(out));
      expect(dx, `image ${k}`).toBeDefined();
      seen.add(dx!);
    }
    expect([...seen].sort()).toEqual([-1, 0, 1]);
    // Down by one: rows move, the top row fills with 0.
    const down = new RandomShift({ pixels: [1, 0], generator: new nb.Generator(2) }).apply(batchOf(a, n));
    const outs = Array.from({ length: n }, (_, k) => JSON.stringify(imageAt(down, k)));
    expect(outs).toContain(JSON.stringify(shifted(a, 1, 0)));
    expect(outs.every((o) => [-1, 0, 1].some((d) => o === JSON.stringify(shifted(a, d, 0))))).toBe(true);
    expect(shifted(a, 1, 0)[0]).toEqual([0, 0, 0, 0, 0]);
  });

  it('rotation by 90° of a square image is rot90 (transpose + flip); −90° and 180° too; bilinear and nearest', () => {
    const a = img(6, 6);
    for (const interpolation of ['bilinear', 'nearest'] as const) {
      expect(imageAt(new RandomRotation([90, 90], { interpolation }).apply(batchOf(a, 2)), 1)).toEqual(rot90(a));
      expect(imageAt(new RandomRotation([-90, -90], { interpolation }).apply(batchOf(a, 1)), 0)).toEqual(rot90(rot90(rot90(a))));
      expect(imageAt(new RandomRotation([180, 180], { interpolation }).apply(batchOf(a, 1)), 0)).toEqual(rot90(rot90(a)));
    }
  });

  it('bilinear resampling is exact on linear ramps: rotation by 30° and zoom by 2 about the center', () => {
    const h = 9,
      w = 11,
      cx = (w - 1) / 2,
      cy = (h - 1) / 2;
    const f = (x: number, y: number) => 0.5 * x - 0.25 * y + 3; // bilinear interpolation reproduces it
    const ramp = Array.from({ length: h }, (_, y) => Array.from({ length: w }, (_, x) => f(x, y)));
    const x = nb.tensor([ramp], { dtype: 'float64' });
    const th = (30 * Math.PI) / 180;
    const rot = imageAt(new RandomRotation([30, 30]).apply(x), 0);
    let checked = 0;
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        // Output p samples the input at c + R(θ)(p − c).
        const sx = cx + Math.cos(th) * (xx - cx) - Math.sin(th) * (y - cy),
          sy = cy + Math.sin(th) * (xx - cx) + Math.cos(th) * (y - cy);
        if (sx < 0 || sx > w - 1 || sy < 0 || sy > h - 1) continue;
        expect(rot[y][xx], `(${y}, ${xx})`).toBeCloseTo(f(sx, sy), 9);
        checked++;
      }
    expect(checked).toBeGreaterThan(50);
    // Counter-clockwise as displayed: a point right of the center moves up (the pixel above the center samples from its right).
    expect(rot[Math.round(cy - 2)][cx]).toBeCloseTo(f(cx + 2 * Math.sin(th), cy - 2 * Math.cos(th)), 9);

    const zoom = imageAt(new RandomScale([2, 2]).apply(x), 0);
    for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) expect(zoom[y][xx]).toBeCloseTo(f(cx + (xx - cx) / 2, cy + (y - cy) / 2), 9);
    // Shrinking brings in the fill value at the border.
    const shrink = imageAt(new RandomScale([0.5, 0.5], { fill: -7 }).apply(x), 0);
    expect(shrink[0][0]).toBe(-7);
    expect(shrink[Math.round(cy)][Math.round(cx)]).toBeCloseTo(f(cx, cy), 9);
  });

  it('RandomAffine translates by whole pixels within the fraction and keeps the range', () => {
    const a = img(10, 10),
      n = 30;
    const out = new RandomAffine({ translate: [0.1, 0], generator: new nb.Generator(4) }).apply(batchOf(a, n));
    for (let k = 0; k < n; k++) {
      const o = JSON.stringify(imageAt(out, k));
      expect(
        [-1, 0, 1].some((d) => o === JSON.stringify(shifted(a, 0, d))),
        `image ${k}`,
      ).toBe(true);
    }
  });

  it('flips: twice is the identity; p = 1 mirrors; RandomFlip flips each axis on its own', () => {
    const a = img(3, 4),
      x = batchOf(a, 6);
    const h = new RandomHorizontalFlip(1);
    expect(imageAt(h.apply(x), 0)).toEqual(a.map((r) => [...r].reverse()));
    expect(vals(h.apply(h.apply(x)))).toEqual(vals(x));
    expect(imageAt(new RandomVerticalFlip(1).apply(x), 3)).toEqual([...a].reverse());
    const both = new RandomFlip('horizontal_and_vertical', { generator: new nb.Generator(5) }).apply(batchOf(a, 40));
    const kinds = new Set(
      Array.from({ length: 40 }, (_, k) => {
        const o = JSON.stringify(imageAt(both, k));
        const hf = a.map((r) => [...r].reverse());
        return [a, hf, [...a].reverse(), [...hf].reverse()].findIndex((c) => JSON.stringify(c) === o);
      }),
    );
    expect([...kinds].sort()).toEqual([0, 1, 2, 3]);
  });
});

describe('randomness, layouts, dtypes', () => {
  const make = (seed: number) =>
    new Compose([
      new RandomRotation(20, { generator: new nb.Generator(seed) }),
      new RandomShift({ fraction: 0.1, generator: new nb.Generator(seed + 1) }),
      new GaussianNoise(0.1, { generator: new nb.Generator(seed + 2) }),
    ]);

  it('the same seed gives the same images, another seed others; the global generator follows manualSeed', () => {
    const x = batchOf(img(8, 8), 4);
    expect(vals(make(1).apply(x))).toEqual(vals(make(1).apply(x)));
    expect(vals(make(1).apply(x))).not.toEqual(vals(make(2).apply(x)));
    const aug = new RandomRotation(30);
    nb.manualSeed(9);
    const a = vals(aug.apply(x));
    nb.manualSeed(9);
    const b = vals(aug.apply(x));
    expect(a).toEqual(b);
    // Each image of the batch draws its own angle.
    const r = new RandomRotation(30, { generator: new nb.Generator(3) }).apply(x);
    expect(imageAt(r, 0)).not.toEqual(imageAt(r, 1));
  });

  it('keeps shape, dtype and layout: NCHW, NHW, CHW and HW; channels share the draw', () => {
    const aug = make(4);
    for (const [shape, dtype] of [
      [[2, 3, 5, 6], 'float32'],
      [[2, 5, 6], 'float64'],
      [[5, 6], 'float32'],
    ] as const) {
      const x = nb.rand([...shape], { dtype });
      const y = shape.length === 2 ? aug.applyImage(x) : aug.apply(x);
      expect(y.shape).toEqual([...shape]);
      expect(y.dtype).toBe(dtype);
    }
    const chw = nb.tensor([img(5, 5), img(5, 5)]);
    expect(new RandomRotation(15).applyImage(chw).shape).toEqual([2, 5, 5]);
    // Three equal channels stay equal (one draw per image).
    const rgb = nb.tensor([
      [img(6, 6), img(6, 6), img(6, 6)],
      [img(6, 6), img(6, 6), img(6, 6)],
    ]);
    const out = new RandomAffine({ degrees: 25, translate: [0.2, 0.2], scale: [0.8, 1.2], generator: new nb.Generator(8) }).apply(rgb);
    const d = vals(out);
    for (let n = 0; n < 2; n++) for (let c = 1; c < 3; c++) expect(d.slice((n * 3 + c) * 36, (n * 3 + c + 1) * 36)).toEqual(d.slice(n * 108, n * 108 + 36));
    // Integer images stay integers (rounded).
    const ints = new RandomRotation(33).apply(nb.tensor([img(6, 6)], { dtype: 'int32' }));
    expect(ints.dtype).toBe('int32');
    expect(() => new GaussianNoise(1).apply(nb.zeros([1, 2, 2], { dtype: 'int32' }))).toThrow(/floating-point/);
    expect(() => new RandomRotation(10).apply(nb.zeros([4, 784]))).toThrow(/reshape flat images to \[N, H, W\]/);
    expect(() => new RandomShift({ pixels: 1, fraction: 0.1 })).toThrow(/exactly one of pixels or fraction/);
  });

  it('GaussianNoise adds noise of the given std', () => {
    const z = new GaussianNoise(0.5, { generator: new nb.Generator(0) }).apply(nb.zeros([64, 16, 16]));
    const v = vals(z),
      m = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
    expect(Math.abs(m)).toBeLessThan(0.02);
    expect(sd).toBeCloseTo(0.5, 1);
  });
});

describe('inside a DataLoader', () => {
  it('augments the inputs of each batch, keeps labels, reproduces with a seed, and is fast for MNIST batches', () => {
    const n = 256;
    const x = nb.rand([n, 784], { generator: new nb.Generator(1) }),
      y = nb.arange(0, n, 1, { dtype: 'int32' });
    const run = () => {
      const aug = new Compose([new RandomRotation(10, { generator: new nb.Generator(7) }), new RandomShift({ pixels: 2, generator: new nb.Generator(8) })]);
      const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 128, shuffle: true, seed: 3, transform: augmentInputs(aug, { imageShape: [28, 28] }) });
      const out: number[][] = [];
      for (const batch of loader) {
        const [xb, yb] = batch;
        expect(xb.shape).toEqual([128, 784]);
        expect(yb.dtype).toBe('int32');
        out.push(vals(xb).slice(0, 50), vals(yb));
        nb.dispose(batch);
      }
      return out;
    };
    const a = run();
    expect(run()).toEqual(a);

    // NCHW batches straight from a dataset; time a 128-image MNIST batch through rotation + shift + noise.
    const imgs = nb.rand([128, 1, 28, 28]);
    const aug = new Compose([new RandomRotation(15), new RandomShift({ pixels: 2 }), new GaussianNoise(0.1)]);
    nb.scope(() => aug.apply(imgs)); // warm up
    const t0 = performance.now();
    const reps = 5;
    for (let i = 0; i < reps; i++)
      nb.scope(() => {
        aug.apply(imgs);
      });
    const ms = (performance.now() - t0) / reps;
    console.log(`augment: rotation + shift + noise on a [128, 1, 28, 28] batch: ${ms.toFixed(2)} ms (${nb.getBackend().name})`);
    expect(ms).toBeLessThan(250);
  });
});
