// Seeded image augmentation for training batches (torchvision.transforms / Keras preprocessing
// layers): random shifts, rotations, scaling, flips and Gaussian noise, composable, each image of a
// batch drawing its own parameters from a Generator so a seed reproduces the same images.
//
// The geometric transforms resample on the host (one read of the batch, a tight loop, one write):
// a rotation or shift of an MNIST batch of 128 images takes a few milliseconds (the test prints
// it), and no index/weight tensors four times the batch size are built. They are data preprocessing, so the
// result is not on the autograd tape.

import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../tensor/creation.js';
import { fmtShape } from '../tensor/shape.js';
import { arrayFor, isFloat, type TypedArray } from '../tensor/dtype.js';
import { add, mul } from '../ops/binary.js';
import { reshape } from '../ops/movement.js';
import { type Generator, defaultGenerator, randn } from '../ops/random.js';

/** How geometric augmentations resample: bilinear (the default) or nearest neighbour. */
export type Interpolation = 'bilinear' | 'nearest';

/** Options of every {@link Augmentation}. */
export interface AugmentOptions {
  /** Source of the random draws (default: the global generator, seeded by manualSeed). */
  generator?: Generator;
}

/**
 * An augmentation. `apply` takes a batch, [N, C, H, W] or [N, H, W], and gives every image its own
 * random parameters (shared by its channels); `applyImage` takes one image, [C, H, W] or [H, W].
 * The result has the input's shape, dtype and device.
 */
export abstract class Augmentation {
  readonly generator: Generator;
  constructor(opts: AugmentOptions = {}) {
    this.generator = opts.generator ?? defaultGenerator;
  }

  /** Augment a batch [N, C, H, W] or [N, H, W]. */
  apply(batch: Tensor): Tensor {
    if (batch.ndim !== 3 && batch.ndim !== 4) {
      throw new Error(
        `${this.constructor.name}.apply: expected a batch [N, C, H, W] or [N, H, W], got ${fmtShape(batch.shape)}` +
          (batch.ndim === 2 ? ' (reshape flat images to [N, H, W] first)' : ''),
      );
    }
    const [n, c, h, w] = batch.ndim === 4 ? batch.shape : [batch.shape[0], 1, batch.shape[1], batch.shape[2]];
    return this.run(batch, n, c, h, w);
  }

  /** Augment one image [C, H, W] or [H, W]. */
  applyImage(image: Tensor): Tensor {
    if (image.ndim !== 2 && image.ndim !== 3) throw new Error(`${this.constructor.name}.applyImage: expected an image [C, H, W] or [H, W], got ${fmtShape(image.shape)}`);
    const [c, h, w] = image.ndim === 3 ? image.shape : [1, image.shape[0], image.shape[1]];
    return this.run(image, 1, c, h, w);
  }

  /** Transform x viewed as [n, c, h, w] images; return the same shape as x. */
  protected abstract run(x: Tensor, n: number, c: number, h: number, w: number): Tensor;
}

/** Host-side augmentations: read the images, transform image by image, write one tensor back. */
abstract class HostAugmentation extends Augmentation {
  protected run(x: Tensor, n: number, c: number, h: number, w: number): Tensor {
    const src = x.dataSync();
    const out = arrayFor(x.dtype, src.length);
    const params = this.draw(n, h, w);
    const round = !isFloat(x.dtype);
    for (let i = 0; i < n; i++) {
      for (let ch = 0; ch < c; ch++) {
        const off = (i * c + ch) * h * w;
        this.image(src, out, off, h, w, params, i, round);
      }
    }
    return tensor(out as TypedArray, { dtype: x.dtype, shape: x.shape, device: x.device });
  }

  /** The random parameters of n images (a fixed number of generator draws per image). */
  protected abstract draw(n: number, h: number, w: number): Float64Array;

  /** Write image `i` (one channel at `off`) of `src` into `out`. */
  protected abstract image(src: TypedArray, out: TypedArray, off: number, h: number, w: number, params: Float64Array, i: number, round: boolean): void;
}

/** Snap coordinates within 1e-6 of an integer, so 90° turns and whole-pixel shifts copy exactly. */
function snap(v: number): number {
  const r = Math.round(v),
    dv = v - r;
  return dv < 1e-6 && dv > -1e-6 ? r : v;
}

/**
 * Options of the geometric augmentations ({@link RandomShift}, {@link RandomRotation}, {@link
 * RandomScale}, {@link RandomAffine}).
 */
export interface AffineOptions extends AugmentOptions {
  /** 'bilinear' (default) or 'nearest'. */
  interpolation?: Interpolation;
  /** Value of pixels that come from outside the image (default 0). */
  fill?: number;
}

/**
 * Random affine maps about the image center: rotation θ (degrees, counter-clockwise as displayed,
 * rows going down), scale s (> 1 enlarges the content) and translation (tx, ty) pixels
 * (positive moves the content right / down). Output pixel p samples the input at
 * c + R(θ)·(p − c − t)/s, with c the center ((W−1)/2, (H−1)/2). Subclasses say how to draw θ, s, t.
 */
abstract class AffineAugmentation extends HostAugmentation {
  readonly interpolation: Interpolation;
  readonly fill: number;
  constructor(opts: AffineOptions) {
    super(opts);
    this.interpolation = opts.interpolation ?? 'bilinear';
    if (this.interpolation !== 'bilinear' && this.interpolation !== 'nearest')
      throw new Error(`${this.constructor.name}: interpolation must be 'bilinear' or 'nearest', got '${String(this.interpolation)}'`);
    this.fill = opts.fill ?? 0;
  }

  /** [θ degrees, scale, tx, ty] for each of n images. */
  protected abstract drawAffine(n: number, h: number, w: number): Float64Array;

  protected draw(n: number, h: number, w: number): Float64Array {
    const p = this.drawAffine(n, h, w);
    // The inverse map as a 2×3 matrix per image: source = M · [x, y, 1].
    const m = new Float64Array(n * 6);
    const cx = (w - 1) / 2,
      cy = (h - 1) / 2;
    for (let i = 0; i < n; i++) {
      const th = (p[i * 4] * Math.PI) / 180,
        s = p[i * 4 + 1],
        tx = p[i * 4 + 2],
        ty = p[i * 4 + 3];
      if (!(s > 0)) throw new Error(`${this.constructor.name}: scale must be positive, got ${s}`);
      const a = Math.cos(th) / s,
        b = Math.sin(th) / s;
      const ox = cx + tx,
        oy = cy + ty;
      m.set([a, -b, cx - a * ox + b * oy, b, a, cy - b * ox - a * oy], i * 6);
    }
    return m;
  }

  protected image(src: TypedArray, out: TypedArray, off: number, h: number, w: number, m: Float64Array, i: number, round: boolean): void {
    const a = m[i * 6],
      b = m[i * 6 + 1],
      c = m[i * 6 + 2],
      d = m[i * 6 + 3],
      e = m[i * 6 + 4],
      f = m[i * 6 + 5];
    const fill = this.fill,
      nearest = this.interpolation === 'nearest';
    for (let y = 0; y < h; y++) {
      const rowX = b * y + c,
        rowY = e * y + f;
      for (let x = 0; x < w; x++) {
        const sx = snap(a * x + rowX),
          sy = snap(d * x + rowY);
        let v: number;
        if (nearest) {
          const px = Math.floor(sx + 0.5),
            py = Math.floor(sy + 0.5);
          v = px >= 0 && px < w && py >= 0 && py < h ? src[off + py * w + px] : fill;
        } else {
          const x0 = Math.floor(sx),
            y0 = Math.floor(sy),
            fx = sx - x0,
            fy = sy - y0;
          if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
            // interior: all four neighbours exist
            const k = off + y0 * w + x0;
            v = (1 - fy) * ((1 - fx) * src[k] + fx * src[k + 1]) + fy * ((1 - fx) * src[k + w] + fx * src[k + w + 1]);
          } else {
            // border: neighbours outside the image read `fill`; zero weights read nothing
            const at = (yy: number, xx: number) => (yy >= 0 && yy < h && xx >= 0 && xx < w ? src[off + yy * w + xx] : fill);
            v = (1 - fy) * ((1 - fx) * at(y0, x0) + (fx ? fx * at(y0, x0 + 1) : 0));
            if (fy) v += fy * ((1 - fx) * at(y0 + 1, x0) + (fx ? fx * at(y0 + 1, x0 + 1) : 0));
          }
        }
        out[off + y * w + x] = round ? Math.round(v) : v;
      }
    }
  }
}

type Range = number | readonly [number, number];

/** A symmetric range [-r, r] from a number, or [lo, hi] as given. */
function range(op: string, what: string, r: Range): [number, number] {
  const [lo, hi] = typeof r === 'number' ? [-Math.abs(r), Math.abs(r)] : r;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) throw new Error(`${op}: ${what} must be a number or [min, max] with min <= max, got ${JSON.stringify(r)}`);
  return [lo, hi];
}

/** Two values (vertical, horizontal) from a number or a pair. */
function pair(v: number | readonly [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

/**
 * Options of {@link RandomShift}: the largest shift, in whole pixels or as a fraction of the size.
 */
export interface RandomShiftOptions extends AffineOptions {
  /** Largest shift in whole pixels, [vertical, horizontal] or one for both: each is uniform in −m..m. */
  pixels?: number | readonly [number, number];
  /** Largest shift as a fraction of the height / width (continuous, resampled), like Keras' RandomTranslation. */
  fraction?: number | readonly [number, number];
}

/**
 * Random translation, positive moving the content down / right, filling with `fill` (0).
 * @example new RandomShift({ pixels: 2 })          // MNIST: whole-pixel shifts in −2..2
 * @example new RandomShift({ fraction: 0.1, generator: new Generator(0) })
 */
export class RandomShift extends AffineAugmentation {
  readonly pixels?: [number, number];
  readonly fraction?: [number, number];
  constructor(opts: RandomShiftOptions) {
    super(opts);
    if ((opts.pixels === undefined) === (opts.fraction === undefined)) throw new Error('RandomShift: give exactly one of pixels or fraction');
    if (opts.pixels !== undefined) {
      this.pixels = pair(opts.pixels);
      if (this.pixels.some((p) => !Number.isInteger(p) || p < 0)) throw new Error(`RandomShift: pixels must be non-negative integers, got ${JSON.stringify(opts.pixels)}`);
    } else {
      this.fraction = pair(opts.fraction!);
      if (this.fraction.some((f) => !(f >= 0 && f <= 1))) throw new Error(`RandomShift: fraction must be in [0, 1], got ${JSON.stringify(opts.fraction)}`);
    }
  }

  protected drawAffine(n: number, h: number, w: number): Float64Array {
    const u = this.generator.uniformArray(2 * n);
    const p = new Float64Array(4 * n);
    for (let i = 0; i < n; i++) {
      let ty: number, tx: number;
      if (this.pixels) {
        const [my, mx] = this.pixels;
        ty = Math.floor(u[2 * i] * (2 * my + 1)) - my;
        tx = Math.floor(u[2 * i + 1] * (2 * mx + 1)) - mx;
      } else {
        const [fy, fx] = this.fraction!;
        ty = (2 * u[2 * i] - 1) * fy * h;
        tx = (2 * u[2 * i + 1] - 1) * fx * w;
      }
      p.set([0, 1, tx, ty], 4 * i);
    }
    return p;
  }
}

/**
 * Random rotation by an angle uniform in `degrees` ([−d, d] for a number), counter-clockwise for
 * positive angles, about the image center (torchvision's RandomRotation; bilinear by default).
 * @example new RandomRotation(15)
 */
export class RandomRotation extends AffineAugmentation {
  readonly degrees: [number, number];
  constructor(degrees: Range, opts: AffineOptions = {}) {
    super(opts);
    this.degrees = range('RandomRotation', 'degrees', degrees);
  }
  protected drawAffine(n: number): Float64Array {
    const u = this.generator.uniformArray(n);
    const [lo, hi] = this.degrees;
    const p = new Float64Array(4 * n);
    for (let i = 0; i < n; i++) p.set([lo + (hi - lo) * u[i], 1, 0, 0], 4 * i);
    return p;
  }
}

/**
 * Random zoom about the center by a factor uniform in [min, max] (> 1 enlarges the content,
 * < 1 shrinks it and fills the border), as torchvision's RandomAffine `scale`.
 * @example new RandomScale([0.9, 1.1])
 */
export class RandomScale extends AffineAugmentation {
  readonly scale: [number, number];
  constructor(scale: readonly [number, number], opts: AffineOptions = {}) {
    super(opts);
    this.scale = range('RandomScale', 'scale', scale);
    if (this.scale[0] <= 0) throw new Error(`RandomScale: scale factors must be positive, got ${JSON.stringify(scale)}`);
  }
  protected drawAffine(n: number): Float64Array {
    const u = this.generator.uniformArray(n);
    const [lo, hi] = this.scale;
    const p = new Float64Array(4 * n);
    for (let i = 0; i < n; i++) p.set([0, lo + (hi - lo) * u[i], 0, 0], 4 * i);
    return p;
  }
}

/** Options of {@link RandomAffine}: the ranges of rotation, translation and zoom. */
export interface RandomAffineOptions extends AffineOptions {
  /** Rotation range in degrees ([−d, d] for a number; default 0). */
  degrees?: Range;
  /** Largest translation as fractions [horizontal, vertical] of the width / height, rounded to whole pixels (torchvision). */
  translate?: readonly [number, number];
  /** Zoom range [min, max] (default none). */
  scale?: readonly [number, number];
}

/**
 * Rotation, translation and zoom in one resampling (torchvision's RandomAffine, with the angle
 * counter-clockwise like RandomRotation).
 * @example new RandomAffine({ degrees: 10, translate: [0.1, 0.1], scale: [0.9, 1.1] })
 */
export class RandomAffine extends AffineAugmentation {
  readonly degrees: [number, number];
  readonly translate: [number, number];
  readonly scale: [number, number];
  constructor(opts: RandomAffineOptions = {}) {
    super(opts);
    this.degrees = range('RandomAffine', 'degrees', opts.degrees ?? 0);
    this.translate = [...(opts.translate ?? [0, 0])] as [number, number];
    if (this.translate.some((t) => !(t >= 0 && t <= 1))) throw new Error(`RandomAffine: translate must be fractions in [0, 1], got ${JSON.stringify(opts.translate)}`);
    this.scale = range('RandomAffine', 'scale', opts.scale ?? [1, 1]);
    if (this.scale[0] <= 0) throw new Error(`RandomAffine: scale factors must be positive, got ${JSON.stringify(opts.scale)}`);
  }
  protected drawAffine(n: number, h: number, w: number): Float64Array {
    const u = this.generator.uniformArray(4 * n);
    const [dlo, dhi] = this.degrees,
      [slo, shi] = this.scale;
    const p = new Float64Array(4 * n);
    for (let i = 0; i < n; i++) {
      const tx = Math.round((2 * u[4 * i + 2] - 1) * this.translate[0] * w);
      const ty = Math.round((2 * u[4 * i + 3] - 1) * this.translate[1] * h);
      p.set([dlo + (dhi - dlo) * u[4 * i], slo + (shi - slo) * u[4 * i + 1], tx, ty], 4 * i);
    }
    return p;
  }
}

/** Which mirrorings {@link RandomFlip} may apply: left-right, top-bottom, or each independently. */
export type FlipMode = 'horizontal' | 'vertical' | 'horizontal_and_vertical';

/**
 * Random flips (Keras' RandomFlip): each image is mirrored left-right and/or top-bottom, each
 * with probability p (0.5), as `mode` allows (default 'horizontal_and_vertical').
 */
export class RandomFlip extends HostAugmentation {
  readonly mode: FlipMode;
  readonly p: number;
  constructor(mode: FlipMode = 'horizontal_and_vertical', opts: AugmentOptions & { p?: number } = {}) {
    super(opts);
    if (mode !== 'horizontal' && mode !== 'vertical' && mode !== 'horizontal_and_vertical') throw new Error(`RandomFlip: unknown mode '${String(mode)}'`);
    this.mode = mode;
    this.p = opts.p ?? 0.5;
    if (!(this.p >= 0 && this.p <= 1)) throw new Error(`RandomFlip: p must be in [0, 1], got ${opts.p}`);
  }
  protected draw(n: number): Float64Array {
    const u = this.generator.uniformArray(2 * n);
    const flags = new Float64Array(2 * n); // [horizontal, vertical] per image
    for (let i = 0; i < n; i++) {
      flags[2 * i] = this.mode !== 'vertical' && u[2 * i] < this.p ? 1 : 0;
      flags[2 * i + 1] = this.mode !== 'horizontal' && u[2 * i + 1] < this.p ? 1 : 0;
    }
    return flags;
  }
  protected image(src: TypedArray, out: TypedArray, off: number, h: number, w: number, flags: Float64Array, i: number): void {
    const fh = flags[2 * i] === 1,
      fv = flags[2 * i + 1] === 1;
    for (let y = 0; y < h; y++) {
      const sy = fv ? h - 1 - y : y;
      for (let x = 0; x < w; x++) out[off + y * w + x] = src[off + sy * w + (fh ? w - 1 - x : x)];
    }
  }
}

/** Mirror left-right with probability p (torchvision's RandomHorizontalFlip). */
export class RandomHorizontalFlip extends RandomFlip {
  constructor(p = 0.5, opts: AugmentOptions = {}) {
    super('horizontal', { ...opts, p });
  }
}

/** Mirror top-bottom with probability p (torchvision's RandomVerticalFlip). */
export class RandomVerticalFlip extends RandomFlip {
  constructor(p = 0.5, opts: AugmentOptions = {}) {
    super('vertical', { ...opts, p });
  }
}

/**
 * Add N(mean, std²) noise to every value (Keras' GaussianNoise, applied as augmentation). Drawn
 * on the backend from the generator; floating-point inputs only.
 * @example new GaussianNoise(0.1)
 */
export class GaussianNoise extends Augmentation {
  readonly std: number;
  readonly mean: number;
  constructor(std: number, opts: AugmentOptions & { mean?: number } = {}) {
    super(opts);
    if (!(std >= 0) || !Number.isFinite(std)) throw new Error(`GaussianNoise: std must be a finite number >= 0, got ${std}`);
    this.std = std;
    this.mean = opts.mean ?? 0;
  }
  protected run(x: Tensor): Tensor {
    if (!isFloat(x.dtype)) throw new Error(`GaussianNoise: expected floating-point images, got ${x.dtype}`);
    const z = randn(x.shape, { dtype: x.dtype, generator: this.generator, device: x.device });
    return add(x, add(mul(z, this.std), this.mean));
  }
}

/**
 * Apply augmentations in order (torchvision's Compose).
 * @example new Compose([new RandomRotation(10), new RandomShift({ pixels: 2 }), new GaussianNoise(0.05)])
 */
export class Compose extends Augmentation {
  readonly transforms: readonly Augmentation[];
  constructor(transforms: readonly Augmentation[]) {
    super();
    transforms.forEach((t, i) => {
      if (!(t instanceof Augmentation)) throw new Error(`Compose: item ${i} is not an Augmentation`);
    });
    this.transforms = [...transforms];
  }
  protected run(x: Tensor, n: number, c: number, h: number, w: number): Tensor {
    // Every transform sees a [n, c, h, w] batch (one image is a batch of one: the same draws).
    const y = this.transforms.reduce((b, t) => t.apply(b), reshape(x, [n, c, h, w]));
    return reshape(y, x.shape);
  }
}

/**
 * A DataLoader `transform` that augments the inputs (the first tensor) of each [x, y, ...] batch.
 * Inputs [N, C, H, W] or [N, H, W] are augmented as they are; flat inputs [N, H·W] need
 * `imageShape` ([H, W] or [C, H, W]) and keep their flat shape.
 * @example
 * const loader = new DataLoader(new TensorDataset(x, y), {
 *   batchSize: 128, shuffle: true, transform: augmentInputs(new RandomShift({ pixels: 2 }), { imageShape: [28, 28] }),
 * });
 */
export function augmentInputs(aug: Augmentation, opts: { imageShape?: readonly number[] } = {}): <B extends readonly Tensor[]>(batch: B) => B {
  return <B extends readonly Tensor[]>(batch: B): B => {
    const [x, ...rest] = batch;
    let out: Tensor;
    if (opts.imageShape) {
      const imgs = reshape(x, [x.shape[0], ...opts.imageShape]);
      out = reshape(aug.apply(imgs), x.shape);
    } else {
      out = aug.apply(x);
    }
    return [out, ...rest] as unknown as B;
  };
}
