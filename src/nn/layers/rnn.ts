// Recurrent layers as PyTorch defines them: RNN (tanh or ReLU), LSTM (gates i,f,g,o) and GRU (gates
// r,z,n), multi-layer and bidirectional, and their one-step cells. Composed from ops, so autograd
// unrolls them through time (backpropagation through time) with no recurrent-specific gradient code.
//
// Equations (PyTorch's documentation; W_i· rows of weight_ih, W_h· rows of weight_hh):
//   RNN   h' = act(W_ih x + b_ih + W_hh h + b_hh)
//   LSTM  i,f,o = σ(W_i· x + b_i· + W_h· h + b_h·), g = tanh(...), c' = f⊙c + i⊙g, h' = o⊙tanh(c')
//   GRU   r,z = σ(W_i· x + b_i· + W_h· h + b_h·), n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn)),
//         h' = (1−z)⊙n + z⊙h
//
// Performance (these layers train on CPUs): per layer and direction, the input projection of every
// time step is one matmul ([T·B, in] @ W_ihᵀ) and each step does only the hidden matmul. The gates'
// sigmoids are computed as σ(x) = (1 + tanh(x/2))/2, with the 1/2 folded into the weights' rows once
// per forward, so one tanh covers all four LSTM gates. Per-step slices of the projection are cut by
// halving (unbindTime) because the gradient of a slice is padded to its parent's size: T slices of
// the whole [T, B, G] would cost O(T²) in backward, halving costs O(T log T).

import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';
import { empty } from './util.js';
import { uniform_ } from '../init.js';
import { dropout as dropoutFn } from '../functional.js';
import { add, mul, sub } from '../../ops/binary.js';
import { tanh } from '../../ops/unary.js';
import { relu } from '../../ops/activation.js';
import { matmul } from '../../ops/matmul.js';
import { concat, contiguous, narrow, reshape, select, squeeze, stack, transpose, unsqueeze } from '../../ops/movement.js';
import { tensor, zeros } from '../../tensor/creation.js';
import { fmtShape, shapesEqual } from '../../tensor/shape.js';
import { isFloat, type DType } from '../../tensor/dtype.js';

export type RNNMode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';

/**
 * Options of {@link RNN}, {@link LSTM} and {@link GRU} (PyTorch's constructor arguments); the
 * parameters' dtype defaults to float32.
 */
export interface RNNOptions {
  /** Stacked recurrent layers; layer l > 0 reads the output of layer l − 1 (default 1). */
  numLayers?: number;
  /** Use bias_ih and bias_hh (default true). */
  bias?: boolean;
  /** Input and output are [B, T, F] instead of [T, B, F]; the states stay [layers·dirs, B, H] (default false). */
  batchFirst?: boolean;
  /** Dropout probability on the outputs of every layer but the last, in training mode only (default 0). */
  dropout?: number;
  /** Run a second layer from the end of the sequence and concatenate both outputs (default false). */
  bidirectional?: boolean;
  /** RNN only: 'tanh' (default) or 'relu'. */
  nonlinearity?: 'tanh' | 'relu';
  dtype?: DType;
}

/**
 * Options of {@link RNNCell}, {@link LSTMCell} and {@link GRUCell}: use biases (default true), the
 * nonlinearity and the parameters' dtype (float32).
 */
export interface RNNCellOptions {
  bias?: boolean;
  /** RNNCell only: 'tanh' (default) or 'relu'. */
  nonlinearity?: 'tanh' | 'relu';
  dtype?: DType;
}

const GATES: Record<RNNMode, number> = { RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3 };
const LAYER_NAME: Record<RNNMode, string> = { RNN_TANH: 'RNN', RNN_RELU: 'RNN', LSTM: 'LSTM', GRU: 'GRU' };

function checkSizes(where: string, inputSize: number, hiddenSize: number): void {
  if (!Number.isInteger(inputSize) || inputSize < 1 || !Number.isInteger(hiddenSize) || hiddenSize < 1) {
    throw new Error(`${where}: inputSize and hiddenSize must be positive integers, got ${inputSize} and ${hiddenSize}`);
  }
}

function checkNonlinearity(where: string, nl: string): 'tanh' | 'relu' {
  if (nl !== 'tanh' && nl !== 'relu') throw new Error(`${where}: unknown nonlinearity '${nl}', expected 'tanh' or 'relu'`);
  return nl;
}

/**
 * Per-row scale of a layer's gate pre-activations: 1/2 on the sigmoid gates (σ(x) = (1 + tanh(x/2))/2),
 * 1 on the tanh gates (LSTM g, GRU n). Null for RNN, which needs none.
 */
function gateScale(mode: RNNMode, H: number, dtype: DType, device: string): Tensor | null {
  if (mode !== 'LSTM' && mode !== 'GRU') return null;
  const G = GATES[mode];
  const tanhGate = 2; // LSTM i, f, [g], o; GRU r, z, [n]
  const s = new Float64Array(G * H);
  for (let k = 0; k < G; k++) s.fill(k === tanhGate ? 1 : 0.5, k * H, (k + 1) * H);
  return tensor(s, { dtype, device });
}

/** Per-row constants of the LSTM gates: scale s (σ rows 1/2, g rows 1) and offset (σ rows 1/2, g rows 0). */
function lstmConstants(H: number, dtype: DType, device: string): { s: Tensor; offset: Tensor } {
  const s = gateScale('LSTM', H, dtype, device)!;
  const off = new Float64Array(4 * H).fill(0.5);
  off.fill(0, 2 * H, 3 * H);
  return { s, offset: tensor(off, { dtype, device }) };
}

/**
 * The LSTM update from the scaled pre-activations [B, 4H] (σ rows already halved): one tanh and one
 * affine map give all four gates, σ(x) = tanh(x/2)/2 + 1/2 on i, f, o and tanh(x) on g.
 */
function lstmCellUpdate(pre: Tensor, c: Tensor, H: number, k: { s: Tensor; offset: Tensor }): [Tensor, Tensor] {
  const act = add(mul(tanh(pre), k.s), k.offset); // (B, 4H): i, f, g, o
  const i = narrow(act, 1, 0, H),
    f = narrow(act, 1, H, H),
    g = narrow(act, 1, 2 * H, H),
    o = narrow(act, 1, 3 * H, H);
  const c2 = add(mul(f, c), mul(i, g));
  return [mul(o, tanh(c2)), c2];
}

/** The GRU update from the scaled input part xg [B, 3H] and hidden part hg [B, 3H] (biases included). */
function gruCellUpdate(xg: Tensor, hg: Tensor, h: Tensor, H: number): Tensor {
  const rz = add(mul(tanh(add(narrow(xg, 1, 0, 2 * H), narrow(hg, 1, 0, 2 * H))), 0.5), 0.5);
  const r = narrow(rz, 1, 0, H),
    z = narrow(rz, 1, H, H);
  const n = tanh(add(narrow(xg, 1, 2 * H, H), mul(r, narrow(hg, 1, 2 * H, H))));
  return add(n, mul(z, sub(h, n))); // (1 − z)⊙n + z⊙h
}

/**
 * Slices of x along dim, each without that dim. With autograd on, cut by halving: every slice's
 * gradient is padded to its parent's size, so halving costs O(n log n) in backward where n direct
 * selects would cost O(n²).
 */
function unbindTime(x: Tensor, dim: number): Tensor[] {
  const n = x.shape[dim];
  if (!x.requiresGrad) return Array.from({ length: n }, (_, t) => select(x, dim, t));
  const out: Tensor[] = [];
  const cut = (t: Tensor): void => {
    const m = t.shape[dim];
    if (m === 1) {
      out.push(squeeze(t, dim));
      return;
    }
    const h = m >> 1;
    cut(narrow(t, dim, 0, h));
    cut(narrow(t, dim, h, m - h));
  };
  cut(x);
  return out;
}

/** Rows of the weight [G·H, n] scaled by s [G·H] (a column broadcast). */
const scaleRows = (w: Tensor, s: Tensor | null): Tensor => (s ? mul(w, unsqueeze(s, 1)) : w);

/** The shared machinery of RNN, LSTM and GRU: parameters per layer and direction, checks, the time loop. */
export abstract class RNNBase extends Module {
  readonly mode: RNNMode;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  /** Field names of the parameters per layer·direction: weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ... */
  readonly weightNames: string[][] = [];

  // Typed handles for the first layer (the others are reached by name or through allWeights).
  declare readonly weight_ih_l0: Parameter;
  declare readonly weight_hh_l0: Parameter;
  declare readonly bias_ih_l0: Parameter | undefined;
  declare readonly bias_hh_l0: Parameter | undefined;

  constructor(mode: RNNMode, inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    super();
    const name = LAYER_NAME[mode];
    checkSizes(name, inputSize, hiddenSize);
    const numLayers = opts.numLayers ?? 1,
      p = opts.dropout ?? 0;
    if (!Number.isInteger(numLayers) || numLayers < 1) throw new Error(`${name}: numLayers must be a positive integer, got ${numLayers}`);
    if (!(p >= 0 && p <= 1)) throw new Error(`${name}: dropout must be a probability in [0, 1], got ${p}`);
    this.mode = mode;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.numLayers = numLayers;
    this.bias = opts.bias ?? true;
    this.batchFirst = opts.batchFirst ?? false;
    this.dropout = p;
    this.bidirectional = opts.bidirectional ?? false;
    const dtype = opts.dtype ?? 'float32';
    const G = GATES[mode] * hiddenSize,
      dirs = this.bidirectional ? 2 : 1;
    // Definition order gives PyTorch's state dict: l0, l0_reverse, l1, ...; w_ih, w_hh, b_ih, b_hh each.
    const self = this as unknown as Record<string, Parameter>;
    for (let layer = 0; layer < numLayers; layer++) {
      for (let d = 0; d < dirs; d++) {
        const suffix = `_l${layer}${d === 1 ? '_reverse' : ''}`;
        const inF = layer === 0 ? inputSize : hiddenSize * dirs;
        const names: string[] = [];
        const add = (field: string, shape: number[]) => {
          self[field + suffix] = new Parameter(empty(shape, dtype));
          names.push(field + suffix);
        };
        add('weight_ih', [G, inF]);
        add('weight_hh', [G, hiddenSize]);
        if (this.bias) {
          add('bias_ih', [G]);
          add('bias_hh', [G]);
        }
        this.weightNames.push(names);
      }
    }
    this.resetParameters();
  }

  /** Every parameter ~ U(−1/√hidden, 1/√hidden), as PyTorch. */
  resetParameters(): void {
    const stdv = 1 / Math.sqrt(this.hiddenSize);
    for (const p of this.parameters()) uniform_(p, -stdv, stdv);
  }

  /**
   * The parameters per layer·direction, [w_ih, w_hh, b_ih, b_hh] (or [w_ih, w_hh] without bias), as
   * PyTorch's all_weights. Read from the fields on every call, so a replaced field is used.
   */
  get allWeights(): Tensor[][] {
    const self = this as unknown as Record<string, Tensor>;
    return this.weightNames.map((names) => names.map((n) => self[n]));
  }

  private get layerName(): string {
    return LAYER_NAME[this.mode];
  }

  /** Check the input; returns it batched ([T, B, F] or [B, T, F]) and whether it came unbatched. */
  protected checkInput(input: Tensor): { x: Tensor; unbatched: boolean } {
    const name = this.layerName;
    input.assertAlive(name);
    if (input.ndim !== 2 && input.ndim !== 3) {
      throw new Error(`${name}: expected input to be 2-D (unbatched [T, ${this.inputSize}]) or 3-D, got ${input.ndim}-D input of shape ${fmtShape(input.shape)}`);
    }
    if (input.shape[input.ndim - 1] !== this.inputSize) {
      throw new Error(`${name}: input.size(-1) must be equal to inputSize: expected ${this.inputSize}, got ${input.shape[input.ndim - 1]} (input of shape ${fmtShape(input.shape)})`);
    }
    const w = this.weight_ih_l0;
    if (input.dtype !== w.dtype) {
      throw new Error(`${name}: input dtype ${input.dtype} does not match the parameters' ${w.dtype} (cast the input, or convert the module with .to('${input.dtype}'))`);
    }
    const unbatched = input.ndim === 2;
    const x = unbatched ? unsqueeze(input, this.batchFirst ? 0 : 1) : input;
    if (x.shape[this.batchFirst ? 1 : 0] === 0) throw new Error(`${name}: the input sequence is empty (input of shape ${fmtShape(input.shape)})`);
    return { x, unbatched };
  }

  /** Check an initial state (h0 or c0) against [layers·dirs, B, H] (or [layers·dirs, H] unbatched); returns it batched. */
  protected checkState(what: string, s: Tensor, batch: number, unbatched: boolean): Tensor {
    const name = this.layerName,
      LD = this.numLayers * (this.bidirectional ? 2 : 1);
    const want = unbatched ? [LD, this.hiddenSize] : [LD, batch, this.hiddenSize];
    s.assertAlive(name);
    if (!shapesEqual(s.shape, want)) {
      throw new Error(
        `${name}: expected ${what} of shape ${fmtShape(want)} (numLayers·directions, ${unbatched ? '' : 'batch, '}hiddenSize) for ${unbatched ? 'unbatched' : 'batched'} input, got ${fmtShape(s.shape)}`,
      );
    }
    if (s.dtype !== this.weight_ih_l0.dtype) throw new Error(`${name}: ${what} has dtype ${s.dtype}, the parameters ${this.weight_ih_l0.dtype}`);
    return unbatched ? unsqueeze(s, 1) : s;
  }

  /**
   * Run every layer and direction over x ([T, B, F], or [B, T, F] with batchFirst). states0 holds
   * the initial states per layer·direction (h, plus c for LSTM). Returns the last layer's output
   * and the final states per layer·direction.
   */
  protected run(x: Tensor, h0: Tensor[], c0: Tensor[] | null): { output: Tensor; hN: Tensor[]; cN: Tensor[] } {
    const H = this.hiddenSize,
      dirs = this.bidirectional ? 2 : 1,
      tDim = this.batchFirst ? 1 : 0;
    const T = x.shape[tDim],
      B = x.shape[1 - tDim];
    const s = gateScale(this.mode, H, x.dtype, x.device);
    const lstmK = this.mode === 'LSTM' ? lstmConstants(H, x.dtype, x.device) : null;
    const hN: Tensor[] = [],
      cN: Tensor[] = [];
    const weights = this.allWeights;
    let input = x;
    for (let layer = 0; layer < this.numLayers; layer++) {
      if (layer > 0 && this.dropout > 0 && this.training) input = dropoutFn(input, this.dropout, true);
      const F = input.shape[2];
      const flat = reshape(input, [T * B, F]); // (T·B, F), or (B·T, F) batch-first
      const outs: Tensor[] = [];
      for (let d = 0; d < dirs; d++) {
        const k = layer * dirs + d;
        const [wIh, wHh, bIh, bHh] = weights[k];
        // Input projection of every step at once; LSTM and RNN fold both biases in here.
        let xp = matmul(flat, transpose(scaleRows(wIh, s), 0, 1)); // (T·B, G)
        if (bIh) {
          const b = this.mode === 'GRU' ? bIh : add(bIh, bHh);
          xp = add(xp, s ? mul(b, s) : b);
        }
        const G = xp.shape[1];
        const steps = unbindTime(reshape(xp, tDim === 0 ? [T, B, G] : [B, T, G]), tDim); // T × (B, G)
        // Contiguous, so each step's gradient of it is contiguous and their sum stays on the fast path.
        const whhT = contiguous(transpose(scaleRows(wHh, s), 0, 1)); // (H, G)
        const bhh = this.mode === 'GRU' && bHh ? (s ? mul(bHh, s) : bHh) : null;
        let h = h0[k],
          c = c0 ? c0[k] : null;
        const hs: Tensor[] = new Array(T);
        for (let j = 0; j < T; j++) {
          const t = d === 0 ? j : T - 1 - j;
          const hW = matmul(h, whhT); // (B, G)
          switch (this.mode) {
            case 'LSTM':
              [h, c] = lstmCellUpdate(add(steps[t], hW), c!, H, lstmK!);
              break;
            case 'GRU':
              h = gruCellUpdate(steps[t], bhh ? add(hW, bhh) : hW, h, H);
              break;
            case 'RNN_TANH':
              h = tanh(add(steps[t], hW));
              break;
            case 'RNN_RELU':
              h = relu(add(steps[t], hW));
              break;
          }
          hs[t] = h;
        }
        outs.push(stack(hs, tDim)); // (T, B, H) or (B, T, H)
        hN.push(h);
        if (c) cN.push(c);
      }
      input = dirs === 1 ? outs[0] : concat(outs, 2); // (T, B, dirs·H)
    }
    return { output: input, hN, cN };
  }

  /** Initial states per layer·direction: the given [layers·dirs, B, H] split, or zeros. */
  protected initialStates(s: Tensor | null, batch: number, dtype: DType, device: string): Tensor[] {
    const LD = this.numLayers * (this.bidirectional ? 2 : 1);
    if (s) return unbindTime(s, 0);
    const z = zeros([batch, this.hiddenSize], { dtype, device });
    return Array.from({ length: LD }, () => z);
  }

  /** forward of RNN and GRU, whose only state is h. */
  protected forwardOneState(input: Tensor, hx: Tensor | null | undefined): [Tensor, Tensor] {
    const { x, unbatched } = this.checkInput(input);
    const B = x.shape[this.batchFirst ? 0 : 1];
    const h0 = hx ? this.checkState('h0', hx, B, unbatched) : null;
    const { output, hN } = this.run(x, this.initialStates(h0, B, x.dtype, x.device), null);
    const h = stack(hN, 0);
    return unbatched ? [squeeze(output, this.batchFirst ? 0 : 1), squeeze(h, 1)] : [output, h];
  }

  override extraRepr(): string {
    let r = `${this.inputSize}, ${this.hiddenSize}`;
    if (this.numLayers !== 1) r += `, num_layers=${this.numLayers}`;
    if (this.mode === 'RNN_RELU') r += `, nonlinearity='relu'`;
    if (!this.bias) r += ', bias=False';
    if (this.batchFirst) r += ', batch_first=True';
    if (this.dropout !== 0) r += `, dropout=${this.dropout}`;
    if (this.bidirectional) r += ', bidirectional=True';
    return r;
  }
}

/**
 * Elman RNN (nn.RNN): h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh), or ReLU.
 * @example
 * const rnn = new RNN(10, 20, { numLayers: 2 });
 * const [output, hN] = rnn.forward(x); // x [T, B, 10] → output [T, B, 20], hN [2, B, 20]
 */
export class RNN extends RNNBase {
  readonly nonlinearity: 'tanh' | 'relu';

  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    const nl = checkNonlinearity('RNN', opts.nonlinearity ?? 'tanh');
    super(nl === 'tanh' ? 'RNN_TANH' : 'RNN_RELU', inputSize, hiddenSize, opts);
    this.nonlinearity = nl;
  }

  /** input [T, B, in] ([B, T, in] with batchFirst, or unbatched [T, in]); hx h0 [layers·dirs, B, H] (zeros if absent). */
  forward(input: Tensor, hx?: Tensor | null): [Tensor, Tensor] {
    return this.forwardOneState(input, hx);
  }
}

/**
 * Long short-term memory (nn.LSTM), gates i, f, g, o in that order in the weights' rows.
 * @example
 * const lstm = new LSTM(10, 20, { batchFirst: true });
 * const [output, [hN, cN]] = lstm.forward(x); // x [B, T, 10] → output [B, T, 20], hN and cN [1, B, 20]
 */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: Omit<RNNOptions, 'nonlinearity'> = {}) {
    if ((opts as RNNOptions).nonlinearity !== undefined) throw new Error('LSTM: the nonlinearity option is for RNN only');
    super('LSTM', inputSize, hiddenSize, opts);
  }

  /** input as RNN; hx [h0, c0], each [layers·dirs, B, H] (zeros if absent). Returns [output, [hN, cN]]. */
  forward(input: Tensor, hx?: readonly [Tensor, Tensor] | null): [Tensor, [Tensor, Tensor]] {
    const { x, unbatched } = this.checkInput(input);
    const B = x.shape[this.batchFirst ? 0 : 1];
    if (hx && (!Array.isArray(hx) || hx.length !== 2)) throw new Error('LSTM: hx must be a pair [h0, c0]');
    const h0 = hx ? this.checkState('h0', hx[0], B, unbatched) : null;
    const c0 = hx ? this.checkState('c0', hx[1], B, unbatched) : null;
    const { output, hN, cN } = this.run(x, this.initialStates(h0, B, x.dtype, x.device), this.initialStates(c0, B, x.dtype, x.device));
    const h = stack(hN, 0),
      c = stack(cN, 0);
    return unbatched ? [squeeze(output, this.batchFirst ? 0 : 1), [squeeze(h, 1), squeeze(c, 1)]] : [output, [h, c]];
  }
}

/**
 * Gated recurrent unit (nn.GRU), gates r, z, n in that order; n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn)).
 * @example
 * const gru = new GRU(10, 20, { bidirectional: true });
 * const [output, hN] = gru.forward(x); // x [T, B, 10] → output [T, B, 40], hN [2, B, 20]
 */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: Omit<RNNOptions, 'nonlinearity'> = {}) {
    if ((opts as RNNOptions).nonlinearity !== undefined) throw new Error('GRU: the nonlinearity option is for RNN only');
    super('GRU', inputSize, hiddenSize, opts);
  }

  forward(input: Tensor, hx?: Tensor | null): [Tensor, Tensor] {
    return this.forwardOneState(input, hx);
  }
}

// ---------------------------------------------------------------------------------------------
// Cells: one time step, weights weight_ih [G·H, in], weight_hh [G·H, H], bias_ih, bias_hh [G·H].

abstract class CellBase extends Module {
  weight_ih: Parameter;
  weight_hh: Parameter;
  bias_ih: Parameter | null;
  bias_hh: Parameter | null;

  constructor(
    readonly cellName: string,
    readonly inputSize: number,
    readonly hiddenSize: number,
    gates: number,
    opts: RNNCellOptions,
  ) {
    super();
    checkSizes(cellName, inputSize, hiddenSize);
    const dtype = opts.dtype ?? 'float32',
      G = gates * hiddenSize;
    this.weight_ih = new Parameter(empty([G, inputSize], dtype));
    this.weight_hh = new Parameter(empty([G, hiddenSize], dtype));
    const bias = opts.bias ?? true;
    this.bias_ih = bias ? new Parameter(empty([G], dtype)) : null;
    this.bias_hh = bias ? new Parameter(empty([G], dtype)) : null;
    this.resetParameters();
  }

  /** Every parameter ~ U(−1/√hidden, 1/√hidden), as PyTorch. */
  resetParameters(): void {
    const stdv = 1 / Math.sqrt(this.hiddenSize);
    for (const p of this.parameters()) uniform_(p, -stdv, stdv);
  }

  /** Check input [B, in] or [in] and a state [B, H] or [H]; returns [x, unbatched]. */
  protected checkInput(input: Tensor): [Tensor, boolean] {
    const name = this.cellName;
    input.assertAlive(name);
    if (input.ndim !== 1 && input.ndim !== 2) throw new Error(`${name}: expected input to be 1-D or 2-D, got ${input.ndim}-D input of shape ${fmtShape(input.shape)}`);
    if (input.shape[input.ndim - 1] !== this.inputSize) {
      throw new Error(`${name}: input has ${input.shape[input.ndim - 1]} features, expected inputSize ${this.inputSize} (input of shape ${fmtShape(input.shape)})`);
    }
    if (!isFloat(input.dtype) || input.dtype !== this.weight_ih.dtype) {
      throw new Error(`${name}: input dtype ${input.dtype} does not match the parameters' ${this.weight_ih.dtype}`);
    }
    const unbatched = input.ndim === 1;
    return [unbatched ? unsqueeze(input, 0) : input, unbatched];
  }

  protected checkState(what: string, s: Tensor | null | undefined, batch: number, unbatched: boolean, dtype: DType, device: string): Tensor {
    if (!s) return zeros([batch, this.hiddenSize], { dtype, device });
    s.assertAlive(this.cellName);
    const want = unbatched ? [this.hiddenSize] : [batch, this.hiddenSize];
    if (!shapesEqual(s.shape, want)) throw new Error(`${this.cellName}: expected ${what} of shape ${fmtShape(want)}, got ${fmtShape(s.shape)}`);
    if (s.dtype !== dtype) throw new Error(`${this.cellName}: ${what} has dtype ${s.dtype}, the parameters ${dtype}`);
    return unbatched ? unsqueeze(s, 0) : s;
  }

  /** x W_ihᵀ + b_ih and h W_hhᵀ + b_hh. */
  protected projections(x: Tensor, h: Tensor): [Tensor, Tensor] {
    const xg = matmul(x, transpose(this.weight_ih, 0, 1));
    const hg = matmul(h, transpose(this.weight_hh, 0, 1));
    return [this.bias_ih ? add(xg, this.bias_ih) : xg, this.bias_hh ? add(hg, this.bias_hh) : hg];
  }

  override extraRepr(): string {
    return `${this.inputSize}, ${this.hiddenSize}${this.bias_ih ? '' : ', bias=False'}`;
  }
}

/**
 * One step of the Elman RNN (nn.RNNCell): h' = act(W_ih x + b_ih + W_hh h + b_hh).
 * @example const cell = new RNNCell(10, 20); const h1 = cell.forward(x, h0) // x [B, 10], h [B, 20]
 */
export class RNNCell extends CellBase {
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(inputSize: number, hiddenSize: number, opts: RNNCellOptions = {}) {
    super('RNNCell', inputSize, hiddenSize, 1, opts);
    this.nonlinearity = checkNonlinearity('RNNCell', opts.nonlinearity ?? 'tanh');
  }
  forward(input: Tensor, hx?: Tensor | null): Tensor {
    const [x, unbatched] = this.checkInput(input);
    const h = this.checkState('hx', hx, x.shape[0], unbatched, x.dtype, x.device);
    const [xg, hg] = this.projections(x, h);
    const pre = add(xg, hg);
    const h2 = this.nonlinearity === 'tanh' ? tanh(pre) : relu(pre);
    return unbatched ? squeeze(h2, 0) : h2;
  }
  override extraRepr(): string {
    return super.extraRepr() + (this.nonlinearity === 'relu' ? `, nonlinearity='relu'` : '');
  }
}

/**
 * One LSTM step (nn.LSTMCell). Returns [h', c'].
 * @example const cell = new LSTMCell(10, 20); const [h1, c1] = cell.forward(x, [h0, c0])
 */
export class LSTMCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, opts: Omit<RNNCellOptions, 'nonlinearity'> = {}) {
    super('LSTMCell', inputSize, hiddenSize, 4, opts);
  }
  forward(input: Tensor, hx?: readonly [Tensor, Tensor] | null): [Tensor, Tensor] {
    const [x, unbatched] = this.checkInput(input);
    if (hx && (!Array.isArray(hx) || hx.length !== 2)) throw new Error('LSTMCell: hx must be a pair [h, c]');
    const h = this.checkState('h', hx?.[0], x.shape[0], unbatched, x.dtype, x.device);
    const c = this.checkState('c', hx?.[1], x.shape[0], unbatched, x.dtype, x.device);
    const [xg, hg] = this.projections(x, h);
    const k = lstmConstants(this.hiddenSize, x.dtype, x.device);
    const [h2, c2] = lstmCellUpdate(mul(add(xg, hg), k.s), c, this.hiddenSize, k);
    return unbatched ? [squeeze(h2, 0), squeeze(c2, 0)] : [h2, c2];
  }
}

/**
 * One GRU step (nn.GRUCell).
 * @example const cell = new GRUCell(10, 20); const h1 = cell.forward(x, h0)
 */
export class GRUCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, opts: Omit<RNNCellOptions, 'nonlinearity'> = {}) {
    super('GRUCell', inputSize, hiddenSize, 3, opts);
  }
  forward(input: Tensor, hx?: Tensor | null): Tensor {
    const [x, unbatched] = this.checkInput(input);
    const h = this.checkState('hx', hx, x.shape[0], unbatched, x.dtype, x.device);
    const [xg, hg] = this.projections(x, h);
    const s = gateScale('GRU', this.hiddenSize, x.dtype, x.device)!;
    const h2 = gruCellUpdate(mul(xg, s), mul(hg, s), h, this.hiddenSize);
    return unbatched ? squeeze(h2, 0) : h2;
  }
}
