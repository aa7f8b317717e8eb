// GPT-2: HF parameter names, a plain float64 reference of the forward pass, the KV-cache generation
// against full recomputation, transformers' logits processors, and Hugging Face directory round trips.
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, readdir, writeFile, copyFile, rm } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nb from '../../src/index.js';
import { GPT, Conv1D } from '../../src/models/gpt.js';
import { GPT_PRESETS, type GPTConfig } from '../../src/models/gpt-config.js';
import { processLogits, sampleNext, type LayerCache } from '../../src/models/generation.js';
import { gpt2ConfigFromHF, gpt2ConfigToHF } from '../../src/models/gpt2-files.js';
import { fromPretrained, type PretrainedLM } from '../../src/models/pretrained.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors-format.js';
import { CharTokenizer } from '../../src/text/index.js';
import { tempDir } from '../helpers/tmp.js';

type Arr = ArrayLike<number>;
const vals = (t: nb.Tensor): number[] => Array.from(t.dataSync());
const ids = (rows: number[][]): nb.Tensor => nb.tensor(rows, { dtype: 'int32' });
const live = (): number => nb.getBackend().liveBuffers();

/** A small config (2 layers, 2 heads, 8 wide, 11 tokens, context 16), no dropout. */
const SMALL: Partial<GPTConfig> = { vocabSize: 11, nPositions: 16, nEmbd: 8, nLayer: 2, nHead: 2, dropout: 0, bosTokenId: null, eosTokenId: null };

function expectClose(actual: Arr, expected: Arr, tol = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i],
      e = expected[i];
    if (!(Math.abs(a - e) <= tol * (1 + Math.abs(e)))) expect(a, `element ${i}`).toBe(e);
  }
}

/** Every parameter set to U(-scale, scale) from a seeded generator (init zeros the biases, which would hide bugs). */
function randomize(m: nb.nn.Module, seed: number, scale = 0.5): void {
  const gen = new nb.Generator(seed);
  const sd: Record<string, nb.Tensor> = {};
  for (const [k, p] of m.namedParameters()) sd[k] = nb.uniform([...p.shape], -scale, scale, { generator: gen, dtype: p.dtype });
  m.loadStateDict(sd, { strict: false });
  nb.dispose(sd);
}

function smallModel(seed = 1, extra: Partial<GPTConfig> = {}, scale = 0.5): GPT {
  nb.manualSeed(seed);
  const m = new GPT({ ...SMALL, ...extra });
  randomize(m, seed + 100, scale);
  return m;
}

// ---------------------------------------------------------------------------------------------
// Plain float64 reference of GPT-2 (HF's GPT2LMHeadModel with gelu_new), one sequence at a time

function host(m: GPT): Record<string, number[]> {
  return Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, vals(t)]));
}

function layerNormRef(x: number[], w: number[], b: number[], eps: number): number[] {
  const n = x.length,
    mu = x.reduce((s, v) => s + v, 0) / n;
  const v = x.reduce((s, xi) => s + (xi - mu) ** 2, 0) / n;
  return x.map((xi, i) => ((xi - mu) / Math.sqrt(v + eps)) * w[i] + b[i]);
}

/** y[j] = Σ_i x[i] W[i, j] + b[j] with W [nIn, nOut] (Conv1D's layout). */
function conv1dRef(x: number[], W: number[], b: number[], nOut: number): number[] {
  return Array.from({ length: nOut }, (_, j) => x.reduce((s, xi, i) => s + xi * W[i * nOut + j], b[j]));
}

const geluNew = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

/** Logits [T][V] of one sequence. */
function refLogits(sd: Record<string, number[]>, c: GPTConfig, seq: number[], act: (x: number) => number = geluNew): number[][] {
  const C = c.nEmbd,
    H = c.nHead,
    D = C / H,
    V = c.vocabSize,
    I = 4 * C,
    T = seq.length;
  let x = seq.map((tok, t) => Array.from({ length: C }, (_, j) => sd['transformer.wte.weight'][tok * C + j] + sd['transformer.wpe.weight'][t * C + j]));
  for (let l = 0; l < c.nLayer; l++) {
    const p = (k: string) => sd[`transformer.h.${l}.${k}`];
    const qkv = x.map((xt) => conv1dRef(layerNormRef(xt, p('ln_1.weight'), p('ln_1.bias'), c.layerNormEps), p('attn.c_attn.weight'), p('attn.c_attn.bias'), 3 * C));
    const y = qkv.map(() => new Array<number>(C).fill(0));
    for (let h = 0; h < H; h++)
      for (let t = 0; t < T; t++) {
        const s: number[] = [];
        for (let u = 0; u <= t; u++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += qkv[t][h * D + d] * qkv[u][C + h * D + d];
          s.push(dot / Math.sqrt(D));
        }
        const mx = Math.max(...s),
          e = s.map((v) => Math.exp(v - mx)),
          z = e.reduce((a, b) => a + b, 0);
        for (let d = 0; d < D; d++) y[t][h * D + d] = e.reduce((acc, w, u) => acc + (w / z) * qkv[u][2 * C + h * D + d], 0);
      }
    x = x.map((xt, t) => {
      const o = conv1dRef(y[t], p('attn.c_proj.weight'), p('attn.c_proj.bias'), C);
      return xt.map((v, j) => v + o[j]);
    });
    x = x.map((xt) => {
      const hdn = conv1dRef(layerNormRef(xt, p('ln_2.weight'), p('ln_2.bias'), c.layerNormEps), p('mlp.c_fc.weight'), p('mlp.c_fc.bias'), I).map(act);
      const o = conv1dRef(hdn, p('mlp.c_proj.weight'), p('mlp.c_proj.bias'), C);
      return xt.map((v, j) => v + o[j]);
    });
  }
  return x.map((xt) => {
    const f = layerNormRef(xt, sd['transformer.ln_f.weight'], sd['transformer.ln_f.bias'], c.layerNormEps);
    return Array.from({ length: V }, (_, v) => f.reduce((s, fj, j) => s + fj * sd['lm_head.weight'][v * C + j], 0));
  });
}

const argmax = (a: Arr): number => {
  let b = 0;
  for (let j = 1; j < a.length; j++) if (a[j] > a[b]) b = j;
  return b;
};

/** Greedy continuation by full forward passes over the last nPositions tokens (nanoGPT's loop). */
function greedyByForward(m: GPT, prompt: number[], n: number): number[] {
  const seq = [...prompt];
  for (let i = 0; i < n; i++) {
    const next = nb.noGrad(() =>
      nb.scope(() => {
        const window = seq.slice(-m.config.nPositions);
        const { logits } = m.forward(ids([window]));
        return argmax(vals(nb.select(logits, 1, window.length - 1)));
      }),
    );
    seq.push(next);
  }
  return seq;
}

// ---------------------------------------------------------------------------------------------

describe('GPT: structure', () => {
  it('has exactly the Hugging Face GPT-2 parameter names and shapes, in order', () => {
    const m = new GPT(SMALL);
    const names = [...m.namedParameters()].map(([k, p]) => `${k} [${p.shape}]`);
    const block = (i: number) => [
      `transformer.h.${i}.ln_1.weight [8]`,
      `transformer.h.${i}.ln_1.bias [8]`,
      `transformer.h.${i}.attn.c_attn.weight [8,24]`,
      `transformer.h.${i}.attn.c_attn.bias [24]`,
      `transformer.h.${i}.attn.c_proj.weight [8,8]`,
      `transformer.h.${i}.attn.c_proj.bias [8]`,
      `transformer.h.${i}.ln_2.weight [8]`,
      `transformer.h.${i}.ln_2.bias [8]`,
      `transformer.h.${i}.mlp.c_fc.weight [8,32]`,
      `transformer.h.${i}.mlp.c_fc.bias [32]`,
      `transformer.h.${i}.mlp.c_proj.weight [32,8]`,
      `transformer.h.${i}.mlp.c_proj.bias [8]`,
    ];
    expect(names).toEqual(['transformer.wte.weight [11,8]', 'transformer.wpe.weight [16,8]', ...block(0), ...block(1), 'transformer.ln_f.weight [8]', 'transformer.ln_f.bias [8]']);
    // The state dict lists the tied head too, as PyTorch's does.
    expect(Object.keys(m.stateDict())).toContain('lm_head.weight');
    const attn = m.transformer.h[0].attn.c_attn;
    expect(attn).toBeInstanceOf(Conv1D);
    expect([attn.fanInFanOut, attn.nx, attn.nf]).toEqual([true, 8, 24]);
  });

  it('counts 124,439,808 parameters for the gpt2 preset, and countParams matches built models', () => {
    expect(GPT.countParams(GPT_PRESETS.gpt2)).toBe(124_439_808);
    expect(GPT.countParams()).toBe(124_439_808);
    for (const extra of [{}, { tieWeights: false }, { bias: false }, { nInner: 12 }]) {
      const m = new GPT({ ...SMALL, ...extra });
      expect(m.numParams(), JSON.stringify(extra)).toBe(GPT.countParams({ ...SMALL, ...extra }));
    }
    const tiny = GPT_PRESETS.tiny,
      sc = GPT_PRESETS['small-char'];
    expect([tiny.nLayer, tiny.nHead, tiny.nEmbd, tiny.nPositions]).toEqual([4, 4, 128, 64]);
    expect([sc.nLayer, sc.nHead, sc.nEmbd, sc.nPositions]).toEqual([6, 6, 384, 256]);
    expect(GPT_PRESETS.gpt2).toMatchObject({ vocabSize: 50257, nPositions: 1024, nEmbd: 768, nLayer: 12, nHead: 12 });
  });

  it('initializes as HF GPT-2: N(0, 0.02), c_proj N(0, 0.02/√(2L)), zero biases, LayerNorm 1 and 0', () => {
    nb.manualSeed(3);
    const m = new GPT({ ...SMALL, nEmbd: 64, nHead: 4, nLayer: 8, vocabSize: 200 });
    const std = (a: number[]) => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
    const sd = host(m);
    expect(std(sd['transformer.wte.weight'])).toBeCloseTo(0.02, 3);
    expect(std(sd['transformer.h.0.attn.c_attn.weight'])).toBeCloseTo(0.02, 3);
    expect(std(sd['transformer.h.0.mlp.c_fc.weight'])).toBeCloseTo(0.02, 3);
    expect(std(sd['transformer.h.3.mlp.c_proj.weight'])).toBeCloseTo(0.02 / 4, 3);
    expect(std(sd['transformer.h.3.attn.c_proj.weight'])).toBeCloseTo(0.02 / 4, 3);
    expect(sd['transformer.h.2.attn.c_attn.bias'].every((v) => v === 0)).toBe(true);
    expect(sd['transformer.h.2.ln_1.weight'].every((v) => v === 1)).toBe(true);
    expect(sd['transformer.ln_f.bias'].every((v) => v === 0)).toBe(true);
    // Deterministic under manualSeed.
    nb.manualSeed(3);
    const again = new GPT({ ...SMALL, nEmbd: 64, nHead: 4, nLayer: 8, vocabSize: 200 });
    expect(vals(again.transformer.h[5].mlp.c_fc.weight)).toEqual(sd['transformer.h.5.mlp.c_fc.weight']);
  });

  it('rejects bad configs and inputs with what is wrong', () => {
    expect(() => new GPT({ ...SMALL, nHead: 3 })).toThrow(/nEmbd 8 is not divisible by nHead 3/);
    const m = new GPT(SMALL);
    expect(() => m.forward(ids([Array(17).fill(0)]))).toThrow(/length 17 is longer than the context of 16/);
    expect(() => m.forward(nb.zeros([1, 3]))).toThrow(/idx must be int32 \[B, T\], got float32 \[1,3\]/);
    expect(() => m.forward(ids([[1, 2]]), ids([[1, 2, 3]]))).toThrow(/targets \[1,3\] must have the shape of idx \[1,2\]/);
  });
});

describe('GPT: forward', () => {
  it('gives the logits of a plain float64 GPT-2 (batch of 2, biases and gains random)', () => {
    const m = smallModel(5);
    const seqs = [
      [1, 4, 9, 0, 3, 10, 2],
      [7, 7, 2, 5, 1, 0, 6],
    ];
    const { logits, loss } = m.forward(ids(seqs));
    expect(logits.shape).toEqual([2, 7, 11]);
    expect(loss).toBeNull();
    const sd = host(m);
    expectClose(
      vals(logits),
      seqs.flatMap((s) => refLogits(sd, m.config, s).flat()),
      2e-4,
    );
  });

  it('also without biases and with untied weights and relu / exact gelu', () => {
    for (const extra of [{ bias: false }, { tieWeights: false }, { activation: 'relu' as const }, { activation: 'gelu' as const }]) {
      const m = smallModel(6, extra);
      const sd = host(m);
      // The reference knows only biases and gelu_new: fill in zeros and the activation.
      const C = 8;
      for (let l = 0; l < 2; l++)
        for (const [k, n] of [
          ['ln_1.bias', C],
          ['attn.c_attn.bias', 3 * C],
          ['attn.c_proj.bias', C],
          ['ln_2.bias', C],
          ['mlp.c_fc.bias', 4 * C],
          ['mlp.c_proj.bias', C],
        ] as const) {
          sd[`transformer.h.${l}.${k}`] ??= new Array(n).fill(0);
        }
      sd['transformer.ln_f.bias'] ??= new Array(C).fill(0);
      const seq = [3, 1, 4, 1, 5, 9];
      const { logits } = m.forward(ids([seq]));
      if (extra.activation) {
        const act = extra.activation === 'relu' ? (x: number) => Math.max(x, 0) : (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));
        expectClose(vals(logits), refLogits(sd, m.config, seq, act).flat(), 2e-4);
      } else {
        expect(m.lm_head.weight === m.transformer.wte.weight).toBe(!('tieWeights' in extra));
        expectClose(vals(logits), refLogits(sd, m.config, seq).flat(), 2e-4);
      }
    }
  });

  it('computes the mean cross-entropy over all positions, ignoring −100', () => {
    const m = smallModel(7);
    const x = [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
      ],
      y = [
        [2, 3, 4, 5],
        [6, -100, 8, 9],
      ];
    const { logits, loss } = m.forward(ids(x), ids(y));
    const L = vals(logits);
    let total = 0,
      count = 0;
    for (let r = 0; r < 8; r++) {
      const t = y[Math.floor(r / 4)][r % 4];
      if (t === -100) continue;
      const row = L.slice(r * 11, r * 11 + 11),
        mx = Math.max(...row);
      total += mx + Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0)) - row[t];
      count++;
    }
    expect(loss!.itemSync()).toBeCloseTo(total / count, 5);
  });

  it('is causal: changing a later token leaves earlier logits unchanged', () => {
    const m = smallModel(8);
    const a = vals(m.forward(ids([[1, 2, 3, 4, 5, 6]])).logits),
      b = vals(m.forward(ids([[1, 2, 3, 10, 0, 6]])).logits);
    expectClose(b.slice(0, 3 * 11), a.slice(0, 3 * 11), 1e-6);
    expect(b.slice(3 * 11, 4 * 11)).not.toEqual(a.slice(3 * 11, 4 * 11));
  });

  it('applies dropout only in training mode', () => {
    const m = smallModel(9, { dropout: 0.5 });
    const plain = smallModel(9, { dropout: 0 });
    const x = ids([[1, 2, 3, 4, 5]]);
    m.eval();
    const e1 = vals(m.forward(x).logits),
      e2 = vals(m.forward(x).logits);
    expect(e1).toEqual(e2);
    expectClose(e1, vals(plain.forward(x).logits), 1e-6);
    m.train();
    expect(vals(m.forward(x).logits)).not.toEqual(e1);
    expect(m.transformer.drop.p).toBe(0.5);
    expect(m.transformer.h[0].attn.attnPdrop).toBe(0.5);
  });

  it('ties lm_head to wte: one storage, gradients from both uses add up', () => {
    const tied = smallModel(10);
    const untied = new GPT({ ...SMALL, tieWeights: false });
    const sd = tied.stateDict();
    untied.loadStateDict(sd); // lm_head.weight gets wte's values
    expect(tied.lm_head.weight).toBe(tied.transformer.wte.weight);
    const x = ids([[1, 2, 3, 4]]),
      y = ids([[2, 3, 4, 5]]);
    tied.forward(x, y).loss!.backward();
    untied.forward(x, y).loss!.backward();
    const sum = vals(nb.add(untied.transformer.wte.weight.grad!, untied.lm_head.weight.grad!));
    expectClose(vals(tied.transformer.wte.weight.grad!), sum, 1e-5);
    expect(tied.parameters().filter((p) => p === tied.transformer.wte.weight)).toHaveLength(1);
  });

  it('passes gradcheck in float64 through attention, the MLP and the tied embedding', () => {
    if (nb.getBackend().name !== 'js') return; // float64 finite differences: the js reference backend
    const m = new GPT({ ...SMALL, vocabSize: 5, nEmbd: 4, nLayer: 1, nPositions: 4 });
    randomize(m, 11);
    m.double();
    const x = ids([[1, 0, 3]]),
      y = ids([[0, 3, 2]]);
    const block = m.transformer.h[0];
    const r = nb.gradcheck(
      (wte, wAttn, wFc) => {
        const keep = [m.transformer.wte.weight, block.attn.c_attn.weight, block.mlp.c_fc.weight];
        (m.transformer.wte as any).weight = wte;
        (m.lm_head as any).weight = wte;
        (block.attn.c_attn as any).weight = wAttn;
        (block.mlp.c_fc as any).weight = wFc;
        try {
          return m.forward(x, y).loss!;
        } finally {
          (m.transformer.wte as any).weight = keep[0];
          (m.lm_head as any).weight = keep[0];
          (block.attn.c_attn as any).weight = keep[1];
          (block.mlp.c_fc as any).weight = keep[2];
        }
      },
      [m.transformer.wte.weight, block.attn.c_attn.weight, block.mlp.c_fc.weight].map((p) => nb.detach(p)),
    );
    expect(r.ok, r.message).toBe(true);
  });

  it('configureOptimizer decays ≥2-D parameters only (wte once)', () => {
    const m = new GPT(SMALL);
    const opt = m.configureOptimizer({ weightDecay: 0.1, lr: 1e-3, betas: [0.9, 0.95] });
    expect(opt).toBeInstanceOf(nb.optim.AdamW);
    const [decay, noDecay] = opt.paramGroups;
    expect(decay.weightDecay).toBe(0.1);
    expect(noDecay.weightDecay).toBe(0);
    expect(decay.params.every((p) => p.ndim >= 2)).toBe(true);
    expect(noDecay.params.every((p) => p.ndim === 1)).toBe(true);
    expect(decay.params.length).toBe(2 + 2 * 4); // wte, wpe and four matrices a layer
    expect(decay.params.length + noDecay.params.length).toBe(m.parameters().length);
    expect(decay.lr).toBe(1e-3);
    expect(decay.betas).toEqual([0.9, 0.95]);
  });

  it('overfits one batch (loss near zero in 100 AdamW steps)', () => {
    nb.manualSeed(12);
    const m = new GPT({ vocabSize: 16, nPositions: 16, nEmbd: 32, nLayer: 2, nHead: 2, dropout: 0 });
    const gen = new nb.Generator(4);
    const data = Array.from(gen.uniformArray(4 * 17), (u) => Math.floor(u * 16));
    const rows = [0, 1, 2, 3].map((b) => data.slice(b * 17, b * 17 + 17));
    const x = ids(rows.map((r) => r.slice(0, 16))),
      y = ids(rows.map((r) => r.slice(1)));
    const opt = m.configureOptimizer({ weightDecay: 0, lr: 1e-2 });
    let first = 0,
      last = 0;
    for (let step = 0; step < 100; step++) {
      const l = nb.scope(() => {
        opt.zeroGrad();
        const { loss } = m.forward(x, y);
        loss!.backward();
        opt.step();
        return loss!.itemSync();
      });
      if (step === 0) first = l;
      last = l;
    }
    expect(first).toBeGreaterThan(2);
    expect(last).toBeLessThan(0.05);
  });
});

/** erf to ~1e-7 (Numerical Recipes' erfc Chebyshev fit). */
function erf(x: number): number {
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const y =
    1 -
    t *
      Math.exp(
        -x * x -
          1.26551223 +
          t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
      );
  return x >= 0 ? y : -y;
}

describe('GPT: logits processors (transformers semantics)', () => {
  const f = (a: number[]) => Float64Array.from(a);

  it('repetition penalty divides positive and multiplies negative logits of seen tokens, once each', () => {
    const out = processLogits(f([2, -1, 0.5, 3, -2]), [0, 1, 1], { repetitionPenalty: 2 });
    expect(Array.from(out)).toEqual([1, -2, 0.5, 3, -2]);
  });

  it('temperature divides; top-k keeps the k largest and ties with the k-th', () => {
    expect(Array.from(processLogits(f([1, -2, 4]), [], { temperature: 2 }))).toEqual([0.5, -1, 2]);
    expect(Array.from(processLogits(f([1, 3, 3, 2]), [], { topK: 2 }))).toEqual([-Infinity, 3, 3, -Infinity]);
    expect(Array.from(processLogits(f([1, 3, 3, 2]), [], { topK: 3 }))).toEqual([-Infinity, 3, 3, 2]);
    expect(Array.from(processLogits(f([1, 3]), [], { topK: 5 }))).toEqual([1, 3]);
  });

  it('top-p keeps the smallest most-likely set reaching p, at least one token', () => {
    const l = [0.5, 0.3, 0.15, 0.05].map(Math.log);
    const kept = (p: number) => Array.from(processLogits(f(l), [], { topP: p })).map((v) => v !== -Infinity);
    expect(kept(0.75)).toEqual([true, true, false, false]); // 0.5 + 0.3 = 0.8 ≥ 0.75
    expect(kept(0.85)).toEqual([true, true, true, false]); // needs 0.95
    expect(kept(0.4)).toEqual([true, false, false, false]);
    expect(kept(0)).toEqual([true, false, false, false]);
    expect(kept(1)).toEqual([true, true, true, true]);
    // Order does not matter, and after top-k only the survivors count.
    expect(Array.from(processLogits(f([0.15, 0.5, 0.05, 0.3].map(Math.log)), [], { topP: 0.75 })).map((v) => v !== -Infinity)).toEqual([false, true, false, true]);
    expect(Array.from(processLogits(f(l), [], { topK: 2, topP: 0.6 })).map((v) => v !== -Infinity)).toEqual([true, false, false, false]); // 0.5/0.8 = 0.625 ≥ 0.6
    // Applied after temperature, as in transformers: a high temperature flattens, so more are kept.
    expect(Array.from(processLogits(f(l), [], { temperature: 10, topP: 0.75 })).filter((v) => v !== -Infinity)).toHaveLength(3);
  });

  it('samples by the inverse CDF of the processed distribution; temperature 0 is argmax', () => {
    const l = () => f([0.5, 0.3, 0.2].map(Math.log));
    expect([0.0, 0.49, 0.51, 0.79, 0.81, 0.999].map((u) => sampleNext(l(), [], {}, u))).toEqual([0, 0, 1, 1, 2, 2]);
    expect(sampleNext(l(), [], { temperature: 0 }, 0.99)).toBe(0);
    expect(sampleNext(l(), [], { topK: 1 }, 0.99)).toBe(0);
    // Repetition penalty also applies to greedy decoding (as transformers' processors do).
    expect(sampleNext(f([1, 0.9]), [0], { temperature: 0, repetitionPenalty: 1.5 }, 0)).toBe(1);
    expect(() => sampleNext(f([NaN, NaN]), [], {}, 0.5)).toThrow(/no finite maximum \(NaN\)/);
  });

  it('rejects invalid options', () => {
    expect(() => processLogits(f([1]), [], { temperature: -1 })).toThrow(/temperature must be >= 0/);
    expect(() => processLogits(f([1]), [], { topP: 1.5 })).toThrow(/topP must be in \[0, 1\]/);
    expect(() => processLogits(f([1]), [], { topK: 1.5 })).toThrow(/topK must be a non-negative integer/);
    expect(() => processLogits(f([1]), [], { repetitionPenalty: 0 })).toThrow(/repetitionPenalty must be > 0/);
  });
});

describe('GPT: generate', () => {
  it('with the cache equals recomputing the whole context, greedy, token for token (past the context too)', () => {
    const m = smallModel(22);
    const prompt = [[3, 1, 4, 1, 5]];
    const cached = vals(m.generate(ids(prompt), { maxNewTokens: 20, temperature: 0 }));
    const full = vals(m.generate(ids(prompt), { maxNewTokens: 20, temperature: 0, useCache: false }));
    expect(cached).toEqual(full);
    expect(cached).toEqual(greedyByForward(m, prompt[0], 20)); // 25 tokens: the window slides past 16
    expect(new Set(cached.slice(5)).size).toBeGreaterThan(1);
  });

  it('the cache gives the full forward pass when fed in chunks (1 token, then several at a time)', () => {
    const m = smallModel(21, {}, 1);
    m.eval();
    const seq = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    const full = nb.noGrad(() => vals(m.transformer.forward(ids([seq]))));
    const caches: LayerCache[] = m.transformer.h.map(() => ({ k: null, v: null }));
    const parts: number[] = [];
    for (const chunk of [[1], [2, 3, 4], [5], [6, 7, 8, 9]]) {
      nb.noGrad(() => parts.push(...vals(m.transformer.forward(ids([chunk]), caches))));
    }
    expect(caches[0].k!.shape).toEqual([1, 2, 9, 4]);
    expectClose(parts, full, 1e-5);
  });

  it('with the cache equals without it for seeded sampling, batched; the seed fixes the tokens', () => {
    const m = smallModel(22, {}, 1);
    const prompt = ids([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const opts = { maxNewTokens: 12, temperature: 0.9, topK: 6, topP: 0.95, repetitionPenalty: 1.2, seed: 7 };
    const a = vals(m.generate(prompt, opts));
    expect(vals(m.generate(prompt, { ...opts, useCache: false }))).toEqual(a);
    expect(vals(m.generate(prompt, opts))).toEqual(a);
    const others = [8, 9, 10].map((seed) => vals(m.generate(prompt, { ...opts, seed })).join());
    expect(others.some((o) => o !== a.join())).toBe(true);
    // A generator can be passed instead, and the global one is used (and advanced) otherwise.
    expect(vals(m.generate(prompt, { ...opts, seed: undefined, generator: new nb.Generator(7) }))).toEqual(a);
    nb.manualSeed(7);
    expect(vals(m.generate(prompt, { ...opts, seed: undefined }))).toEqual(a);
  });

  it('topK 1 equals greedy; shapes follow idx (1-D, 2-D, arrays)', () => {
    const m = smallModel(23, {}, 1);
    const greedy = m.generate(ids([[2, 7]]), { maxNewTokens: 6, temperature: 0 });
    expect(greedy.shape).toEqual([1, 8]);
    expect(greedy.dtype).toBe('int32');
    expect(vals(m.generate(ids([[2, 7]]), { maxNewTokens: 6, topK: 1, temperature: 1.5, seed: 3 }))).toEqual(vals(greedy));
    const flat = m.generate(nb.tensor([2, 7], { dtype: 'int32' }), { maxNewTokens: 6, temperature: 0 });
    expect(flat.shape).toEqual([8]);
    expect(vals(flat)).toEqual(vals(greedy));
    expect(vals(m.generate([2, 7], { maxNewTokens: 6, temperature: 0 }))).toEqual(vals(greedy));
    expect(m.generate([[2, 7]], { maxNewTokens: 0 }).shape).toEqual([1, 2]);
  });

  it('stops a row at a stop sequence (kept, may begin in the prompt); rows that stopped are padded', () => {
    const m = smallModel(22);
    /** Index of the token that completes `stop` first, counting only sequences that end after the prompt. */
    const stopAt = (seq: number[], T: number, stop: number[]) => seq.findIndex((_, i) => i >= T && stop.every((s, j) => seq[i - stop.length + 1 + j] === s));
    // Sampled: a stop sequence taken from the free run ends generation right after its first occurrence.
    const opts = { maxNewTokens: 12, seed: 4 };
    const free = vals(m.generate([[1, 2]], opts));
    const stop = free.slice(6, 8);
    const at = stopAt(free, 2, stop);
    expect(at).toBeGreaterThan(2);
    expect(vals(m.generate([[1, 2]], { ...opts, stop: [[99, 98], stop] }))).toEqual(free.slice(0, at + 1));
    // Greedy batch: each row as alone, cut at its stop and padded until every row stopped (or maxNewTokens).
    const prompts = [
      [3, 1, 4, 1, 5],
      [2, 7, 2, 7, 2],
    ];
    const alone = prompts.map((p) => vals(m.generate([p], { maxNewTokens: 10, temperature: 0 })));
    const stops = [
      [0, 5],
      [5, 0],
    ];
    const ends = alone.map((seq) => Math.min(...stops.map((st) => stopAt(seq, 5, st)).filter((i) => i >= 0), seq.length - 1));
    const out = m.generate(prompts, { maxNewTokens: 10, temperature: 0, stop: stops, padTokenId: 10 });
    const L = Math.max(...ends) + 1;
    expect(out.shape).toEqual([2, L]);
    expect(ends[0]).toBeLessThan(L - 1); // the first row really was padded
    alone.forEach((seq, r) => {
      expect(vals(out).slice(r * L, (r + 1) * L)).toEqual([...seq.slice(0, ends[r] + 1), ...Array(L - ends[r] - 1).fill(10)]);
    });
  });

  it('streams the same ids, calls onToken with each, and frees the cache when the loop breaks', async () => {
    const m = smallModel(25, {}, 1);
    const opts = { maxNewTokens: 8, temperature: 0.8, seed: 5 };
    const out = vals(m.generate([[3, 4]], opts));
    const seen: number[] = [];
    vals(
      m.generate([[3, 4]], {
        ...opts,
        onToken: (id, row) => {
          expect(row).toBe(0);
          seen.push(id);
        },
      }),
    );
    expect(seen).toEqual(out.slice(2));
    const streamed: number[] = [];
    for await (const id of m.stream(ids([[3, 4]]), opts)) streamed.push(id);
    expect(streamed).toEqual(out.slice(2));
    const before = live();
    const partial: number[] = [];
    for await (const id of m.stream([3, 4], opts)) {
      partial.push(id);
      if (partial.length === 3) break;
    }
    expect(partial).toEqual(out.slice(2, 5));
    expect(live()).toBe(before);
    await expect(async () => {
      for await (const _ of m.stream([[1], [2]], opts)) void _;
    }).rejects.toThrow(/streams one sequence, got a batch of 2/);
  });

  it('keeps memory flat across generate calls and restores the training mode', () => {
    const m = smallModel(26, { dropout: 0.1 }, 1);
    m.train();
    m.generate([[1, 2, 3]], { maxNewTokens: 3 }).dispose(); // warm-up
    const before = live();
    for (let i = 0; i < 3; i++)
      m.generate(
        [
          [1, 2, 3],
          [3, 2, 1],
        ],
        { maxNewTokens: 20, temperature: 0.7, seed: i },
      ).dispose();
    expect(live()).toBe(before);
    expect([...m.modules()].every((x) => x.training)).toBe(true);
  });

  it('rejects bad prompts and options before any work', () => {
    const m = new GPT(SMALL);
    expect(() => m.generate([[1, 11]], { maxNewTokens: 2 })).toThrow(/token 11 is out of range for a vocabulary of 11/);
    expect(() => m.generate([[1], [2, 3]], { maxNewTokens: 2 })).toThrow(/every row the same non-zero length/);
    expect(() => m.generate([[1]], { maxNewTokens: -1 })).toThrow(/maxNewTokens must be a non-negative integer/);
    expect(() => m.generate([[1]], { maxNewTokens: 2, topP: 2 })).toThrow(/topP must be in \[0, 1\]/);
    expect(() => m.generate(nb.zeros([1, 2]), { maxNewTokens: 2 })).toThrow(/idx must be int32 \[B, T\] or \[T\], got float32/);
  });
});

describe('GPT: Hugging Face directories', () => {
  /** Rewrite a directory's model.safetensors through fn(name → raw tensor map). */
  async function rewrite(dir: string, fn: (t: Map<string, any>) => Map<string, any>): Promise<void> {
    const path = join(dir, 'model.safetensors');
    const { tensors, metadata } = decodeSafetensors(new Uint8Array(await readFile(path)));
    await writeFile(path, encodeSafetensors(fn(tensors), metadata));
  }

  it('savePretrained → fromPretrained gives identical logits; the files are what transformers writes', async () => {
    const m = smallModel(30, { eosTokenId: 3, bosTokenId: 3 });
    const dir = await tempDir('nabla-gpt-');
    let tokenizerPath = '';
    await m.savePretrained(dir, {
      tokenizer: {
        save: async (p: string) => {
          tokenizerPath = p;
          await writeFile(p, '{}');
        },
      },
    });
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
    expect(tokenizerPath).toBe(join(dir, 'tokenizer.json'));
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      model_type: 'gpt2',
      architectures: ['GPT2LMHeadModel'],
      vocab_size: 11,
      n_positions: 16,
      n_embd: 8,
      n_layer: 2,
      n_head: 2,
      n_inner: null,
      activation_function: 'gelu_new',
      layer_norm_epsilon: 1e-5,
      resid_pdrop: 0,
      embd_pdrop: 0,
      attn_pdrop: 0,
      bos_token_id: 3,
      eos_token_id: 3,
      tie_word_embeddings: true,
      torch_dtype: 'float32',
      scale_attn_weights: true,
      initializer_range: 0.02,
    });
    const { tensors, metadata } = decodeSafetensors(new Uint8Array(await readFile(join(dir, 'model.safetensors'))));
    expect(metadata).toEqual({ format: 'pt' });
    // Every parameter under HF's name, the tied head omitted (as HF's safetensors do).
    expect([...tensors.keys()].sort()).toEqual([...m.namedParameters()].map(([k]) => k).sort());
    expect(tensors.get('transformer.h.1.attn.c_attn.weight')!.shape).toEqual([8, 24]);
    const back = await GPT.fromPretrained(dir);
    expect(back.config).toMatchObject({ ...SMALL, eosTokenId: 3, bosTokenId: 3 });
    expect(back.lm_head.weight).toBe(back.transformer.wte.weight);
    const x = ids([[1, 2, 3, 4, 5, 6]]);
    expect(vals(back.forward(x).logits)).toEqual(vals(m.forward(x).logits));
    // models.fromPretrained picks the class by model_type; no tokenizer files here → null.
    await rm(join(dir, 'tokenizer.json'));
    const loaded = (await fromPretrained(dir)) as PretrainedLM;
    expect(loaded.model).toBeInstanceOf(GPT);
    expect(loaded.tokenizer).toBeNull();
    expect(vals(loaded.model.forward(x).logits)).toEqual(vals(m.forward(x).logits));
  });

  it('saves and loads the tokenizer with the model (tokenizer.json)', async () => {
    const tok = CharTokenizer.fromText('hello world!');
    const m = smallModel(35, { vocabSize: tok.vocabSize });
    const dir = await tempDir('nabla-gpt-');
    await m.savePretrained(dir, { tokenizer: tok });
    const { model, tokenizer } = (await fromPretrained(dir)) as PretrainedLM;
    expect(tokenizer).not.toBeNull();
    expect(tokenizer!.encode('hello')).toEqual(tok.encode('hello'));
    const prompt = tok.encode('he');
    const out = vals(model.generate([prompt], { maxNewTokens: 5, temperature: 0 }));
    expect(out).toEqual(vals(m.generate([prompt], { maxNewTokens: 5, temperature: 0 })));
    expect(typeof tokenizer!.decode(out)).toBe('string');
  });

  it('round-trips untied and bias-free models (zeros written for the biases HF expects), and float16 files', async () => {
    const x = ids([[4, 3, 2, 1]]);
    const untied = smallModel(31, { tieWeights: false });
    const d1 = await tempDir('nabla-gpt-');
    await untied.savePretrained(d1);
    const back1 = await GPT.fromPretrained(d1);
    expect(back1.config.tieWeights).toBe(false);
    expect(vals(back1.forward(x).logits)).toEqual(vals(untied.forward(x).logits));
    const noBias = smallModel(32, { bias: false });
    const d2 = await tempDir('nabla-gpt-');
    await noBias.savePretrained(d2);
    const keys = [...decodeSafetensors(new Uint8Array(await readFile(join(d2, 'model.safetensors')))).tensors.keys()];
    expect(keys).toContain('transformer.h.0.mlp.c_fc.bias');
    const back2 = await GPT.fromPretrained(d2);
    expect(back2.config.bias).toBe(true);
    expectClose(vals(back2.forward(x).logits), vals(noBias.forward(x).logits), 1e-6);
    const d3 = await tempDir('nabla-gpt-');
    await untied.savePretrained(d3, { float32As: 'F16' });
    expect(JSON.parse(await readFile(join(d3, 'config.json'), 'utf8')).torch_dtype).toBe('float16');
    expectClose(vals((await GPT.fromPretrained(d3)).forward(x).logits), vals(untied.forward(x).logits), 2e-2);
  });

  it('loads GPT2Model files (no transformer. prefix), old attn.bias buffers, lm_head present, and shards', async () => {
    const m = smallModel(33);
    const x = ids([[1, 5, 9]]);
    const want = vals(m.forward(x).logits);
    const dir = await tempDir('nabla-gpt-');
    await m.savePretrained(dir);
    await rewrite(dir, (t) => {
      const out = new Map<string, any>();
      for (const [k, v] of t) out.set(k.replace(/^transformer\./, ''), v);
      out.set('h.0.attn.bias', { dtype: 'float32', shape: [1, 1, 16, 16], data: new Float32Array(256) });
      out.set('h.1.attn.masked_bias', { dtype: 'float32', shape: [], data: new Float32Array([-1e4]) });
      out.set('lm_head.weight', t.get('transformer.wte.weight'));
      return out;
    });
    expect(vals((await GPT.fromPretrained(dir)).forward(x).logits)).toEqual(want);
    // Sharded: model.safetensors.index.json naming two files.
    const sharded = await tempDir('nabla-gpt-');
    await copyFile(join(dir, 'config.json'), join(sharded, 'config.json'));
    const { tensors } = decodeSafetensors(new Uint8Array(await readFile(join(dir, 'model.safetensors'))));
    const names = [...tensors.keys()];
    const parts = [names.slice(0, 10), names.slice(10)];
    const weightMap: Record<string, string> = {};
    for (const [i, part] of parts.entries()) {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      await writeFile(join(sharded, file), encodeSafetensors(new Map(part.map((k) => [k, tensors.get(k)!])), { format: 'pt' }));
      for (const k of part) weightMap[k] = file;
    }
    await writeFile(join(sharded, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    expect(vals((await GPT.fromPretrained(sharded)).forward(x).logits)).toEqual(want);
  });

  it('names the key and both shapes when a tensor is missing or of the wrong shape', async () => {
    const m = smallModel(34);
    const dir = await tempDir('nabla-gpt-');
    await m.savePretrained(dir);
    await rewrite(dir, (t) => {
      t.delete('transformer.h.1.mlp.c_fc.bias');
      return t;
    });
    await expect(GPT.fromPretrained(dir)).rejects.toThrow(`has no tensor 'transformer.h.1.mlp.c_fc.bias' (nor 'h.1.mlp.c_fc.bias')`);
    await m.savePretrained(dir);
    await rewrite(dir, (t) => {
      t.set('transformer.h.0.attn.c_attn.weight', { dtype: 'float32', shape: [24, 8], data: new Float32Array(192) });
      return t;
    });
    await expect(GPT.fromPretrained(dir)).rejects.toThrow(`'transformer.h.0.attn.c_attn.weight' has shape [24,8] in ${dir}, but config.json gives [8,24]`);
    await m.savePretrained(dir);
    await rewrite(dir, (t) => {
      t.set('score.weight', { dtype: 'float32', shape: [2], data: new Float32Array(2) });
      return t;
    });
    await expect(GPT.fromPretrained(dir)).rejects.toThrow(/tensors GPT does not use: score.weight/);
    expect((await GPT.fromPretrained(dir, { strict: false })).numParams()).toBe(m.numParams());
    // Other model types, and directories without safetensors.
    const other = await tempDir('nabla-gpt-');
    await writeFile(join(other, 'config.json'), JSON.stringify({ model_type: 't5' }));
    await expect(fromPretrained(other)).rejects.toThrow(/model_type "t5"; supported: gpt2, llama, qwen2, mistral, bert, distilbert, roberta/);
    await writeFile(join(other, 'config.json'), JSON.stringify(gpt2ConfigToHF(m.config)));
    await writeFile(join(other, 'pytorch_model.bin'), '');
    await expect(GPT.fromPretrained(other)).rejects.toThrow(/holds pytorch_model.bin but no model.safetensors/);
  });

  it('reads transformers configs: defaults, n_ctx, per-site dropout, unsupported variants', () => {
    expect(gpt2ConfigFromHF({ model_type: 'gpt2' })).toMatchObject({ ...GPT_PRESETS.gpt2, embdPdrop: 0.1, attnPdrop: 0.1, residPdrop: 0.1 });
    expect(gpt2ConfigFromHF({ n_ctx: 512, n_inner: 100, attn_pdrop: 0.3, tie_word_embeddings: false })).toMatchObject({
      nPositions: 512,
      nInner: 100,
      attnPdrop: 0.3,
      tieWeights: false,
    });
    expect(() => gpt2ConfigFromHF({ scale_attn_by_inverse_layer_idx: true })).toThrow(/scale_attn_by_inverse_layer_idx/);
    expect(() => gpt2ConfigFromHF({ activation_function: 'swish' })).toThrow(/activation_function 'swish' is not supported/);
    expect(() => gpt2ConfigFromHF({ n_embd: '768' })).toThrow(/needs a number n_embd/);
    const c = gpt2ConfigFromHF(gpt2ConfigToHF({ ...GPT_PRESETS.tiny, attnPdrop: 0.2 }));
    expect(c).toMatchObject({ ...GPT_PRESETS.tiny, attnPdrop: 0.2 });
  });

  // Golden logits from transformers, written by tools/hf-golden.py where torch and transformers are installed.
  const fixture = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/gpt/tiny-hf');
  const haveFixture = existsSync(join(fixture, 'golden.json'));
  it.skipIf(!haveFixture)(
    `matches transformers' GPT2LMHeadModel logits, loss and greedy continuation${haveFixture ? '' : ' (skipped: no tests/fixtures/gpt/tiny-hf; run tools/hf-golden.py with torch + transformers)'}`,
    async () => {
      const golden = JSON.parse(readFileSync(join(fixture, 'golden.json'), 'utf8')) as {
        input_ids: number[][];
        logits: number[][][];
        loss: number;
        greedy: number[][];
        max_new_tokens: number;
      };
      const { model } = (await fromPretrained(fixture)) as PretrainedLM;
      const x = ids(golden.input_ids);
      expectClose(vals(model.forward(x).logits), golden.logits.flat(2), 1e-4);
      // HF shifts labels inside; nabla takes the next tokens as targets.
      const T = golden.input_ids[0].length;
      const inp = golden.input_ids.map((r) => r.slice(0, T - 1)),
        tgt = golden.input_ids.map((r) => r.slice(1));
      expect(model.forward(ids(inp), ids(tgt)).loss!.itemSync()).toBeCloseTo(golden.loss, 4);
      expect(vals(model.generate(x, { maxNewTokens: golden.max_new_tokens, temperature: 0 }))).toEqual(golden.greedy.flat());
    },
  );
});
