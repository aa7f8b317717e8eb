// LoRA adapters: PEFT's shapes, init, scaling, forward, merging, freezing and adapter files,
// checked against plain float64 loops, gradcheck and the keys/fields PEFT writes.
import { describe, it, expect } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as nb from '../../src/index.js';
import { LoraLinear, LoraModel, injectLora, loadAdapter, mergeAndUnload, matchesTarget, ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME } from '../../src/nn/lora.js';
import { Linear } from '../../src/nn/layers/linear.js';
import { LayerNorm } from '../../src/nn/layers/norm.js';
import { Sequential } from '../../src/nn/layers/container.js';
import { Tanh } from '../../src/nn/layers/activation.js';
import { Module } from '../../src/nn/module.js';
import { Parameter } from '../../src/nn/parameter.js';
import { tempDir } from '../helpers/tmp.js';

type T = nb.Tensor;
const vals = (t: T): number[] => Array.from(t.dataSync());
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

/** Hugging Face's Conv1D as GPT-2 uses it (weight [in, out], y = x·W + b), marked fanInFanOut. */
class StandInConv1D extends Module {
  readonly fanInFanOut = true;
  weight: Parameter;
  bias: Parameter | null;
  constructor(
    readonly nf: number,
    readonly nx: number,
    opts: { dtype?: nb.DType } = {},
  ) {
    super();
    const dtype = opts.dtype ?? 'float32';
    this.weight = new Parameter(nb.mul(nb.randn([nx, nf], { dtype }), 0.3));
    this.bias = new Parameter(nb.mul(nb.randn([nf], { dtype }), 0.1));
  }
  forward(x: T): T {
    const lead = x.shape.slice(0, -1);
    const y = nb.add(nb.matmul(nb.reshape(x, [-1, this.nx]), this.weight), this.bias!); // (N, nf)
    return nb.reshape(y, [...lead, this.nf]);
  }
}

const C = 4,
  V = 7;
class Attn extends Module {
  c_attn = new StandInConv1D(3 * C, C);
  c_proj = new StandInConv1D(C, C);
  forward(x: T): T {
    const [q, k, v] = nb.split(this.c_attn.forward(x), C, -1);
    return this.c_proj.forward(nb.add(nb.mul(nb.tanh(q), v), k));
  }
}
class MLP extends Module {
  c_fc = new StandInConv1D(2 * C, C);
  c_proj = new StandInConv1D(C, 2 * C);
  forward(x: T): T {
    return this.c_proj.forward(nb.tanh(this.c_fc.forward(x)));
  }
}
class Block extends Module {
  ln_1 = new LayerNorm(C);
  attn = new Attn();
  mlp = new MLP();
  forward(x: T): T {
    const h = nb.add(x, this.attn.forward(this.ln_1.forward(x)));
    return nb.add(h, this.mlp.forward(h));
  }
}
class Body extends Module {
  h = [new Block(), new Block()];
  ln_f = new LayerNorm(C);
  forward(x: T): T {
    for (const b of this.h) x = b.forward(x);
    return this.ln_f.forward(x);
  }
}
/** A two-block model with GPT-2's module paths (transformer.h.N.attn.c_attn ...) and an nn.Linear head. */
class TinyLM extends Module {
  transformer = new Body();
  lm_head = new Linear(C, V);
  forward(x: T): T {
    return this.lm_head.forward(this.transformer.forward(x));
  }
}

const TARGETS = ['c_attn', 'c_proj', 'c_fc'];
const ADAPTED = [0, 1].flatMap((i) => [`transformer.h.${i}.attn.c_attn`, `transformer.h.${i}.attn.c_proj`, `transformer.h.${i}.mlp.c_fc`, `transformer.h.${i}.mlp.c_proj`]);

function snapshot(m: Module): Record<string, Float32Array | Float64Array> {
  return Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, Float64Array.from(t.dataSync())]));
}
function tinyLM(seed: number): TinyLM {
  nb.manualSeed(seed);
  return new TinyLM();
}
const input = () => {
  nb.manualSeed(99);
  return nb.randn([2, 3, C]);
};

/** x·Wᵀ + b + s·B·A·x in float64 loops; W [out, in] or, with fanInFanOut, [in, out]. */
function loraRef(x: number[], rows: number, W: number[], b: number[] | null, A: number[], B: number[], inF: number, outF: number, r: number, s: number, fanInFanOut: boolean): number[] {
  const y: number[] = [];
  for (let n = 0; n < rows; n++) {
    const xn = x.slice(n * inF, (n + 1) * inF);
    const ax = Array.from({ length: r }, (_, j) => xn.reduce((acc, xv, k) => acc + A[j * inF + k] * xv, 0));
    for (let o = 0; o < outF; o++) {
      let v = b ? b[o] : 0;
      for (let k = 0; k < inF; k++) v += xn[k] * (fanInFanOut ? W[k * outF + o] : W[o * inF + k]);
      for (let j = 0; j < r; j++) v += s * B[o * r + j] * ax[j];
      y.push(v);
    }
  }
  return y;
}

/** Give an adapter non-zero, deterministic B (and A) values. */
function setAdapter(l: LoraLinear, seed: number): void {
  nb.manualSeed(seed);
  l.loadStateDict({ 'lora_A.weight': nb.randn(l.lora_A.weight.shape as number[]), 'lora_B.weight': nb.mul(nb.randn(l.lora_B.weight.shape as number[]), 0.5) }, { strict: false });
}

describe('LoraLinear', () => {
  it("has PEFT's shapes, init and names, and equals the base at init (B = 0)", () => {
    nb.manualSeed(1);
    const lin = new Linear(6, 5);
    const l = new LoraLinear(lin, { r: 3, alpha: 6 });
    expect(l.lora_A.weight.shape).toEqual([3, 6]);
    expect(l.lora_B.weight.shape).toEqual([5, 3]);
    expect(l.lora_A.bias).toBeNull();
    expect(l.lora_B.bias).toBeNull();
    expect(vals(l.lora_B.weight).every((v) => v === 0)).toBe(true);
    // kaiming_uniform(a=√5) on [r, in]: U(±1/√in)
    const a = vals(l.lora_A.weight);
    expect(a.every((v) => Math.abs(v) <= 1 / Math.sqrt(6))).toBe(true);
    expect(new Set(a).size).toBe(a.length);
    expect(l.scaling).toBe(2);
    expect([l.inFeatures, l.outFeatures, l.fanInFanOut]).toEqual([6, 5, false]);
    expect(l.weight).toBe(lin.weight);
    expect(l.bias).toBe(lin.bias);
    expect(l.baseLayer).toBe(lin);
    expect(Object.keys(l.stateDict())).toEqual(['weight', 'bias', 'lora_A.weight', 'lora_B.weight']);
    const x = nb.randn([4, 6]);
    expect(maxAbsDiff(vals(l.forward(x)), vals(lin.forward(x)))).toBe(0);
  });

  it('reads a Conv1D-style base as [in, out] (fanInFanOut)', () => {
    nb.manualSeed(2);
    const conv = new StandInConv1D(6, 4);
    const l = new LoraLinear(conv, { r: 2 });
    expect([l.inFeatures, l.outFeatures, l.fanInFanOut]).toEqual([4, 6, true]);
    expect(l.lora_A.weight.shape).toEqual([2, 4]);
    expect(l.lora_B.weight.shape).toEqual([6, 2]);
    expect(l.scaling).toBe(4); // PEFT's defaults: alpha 8 over r 2
    expect(() => new LoraLinear(new LayerNorm(4))).toThrow(/Linear or a Conv1D-style module.*LayerNorm/);
    expect(() => new LoraLinear(conv, { r: 0 })).toThrow(/r must be a positive integer/);
    expect(() => new LoraLinear(conv, { dropout: 1 })).toThrow(/dropout must be in/);
  });

  for (const kind of ['Linear', 'Conv1D'] as const) {
    it(`computes base(x) + B·A·x·alpha/r for a ${kind}, and alpha/√r with useRslora`, () => {
      for (const useRslora of [false, true]) {
        nb.manualSeed(3);
        const base = kind === 'Linear' ? new Linear(5, 3) : new StandInConv1D(3, 5);
        const l = new LoraLinear(base, { r: 4, alpha: 8, useRslora });
        expect(l.scaling).toBe(useRslora ? 4 : 2);
        setAdapter(l, 4);
        const x = nb.randn([2, 3, 5]);
        const y = l.forward(x);
        expect(y.shape).toEqual([2, 3, 3]);
        const ref = loraRef(vals(x), 6, vals(l.weight), vals(l.bias!), vals(l.lora_A.weight), vals(l.lora_B.weight), 5, 3, 4, l.scaling, kind === 'Conv1D');
        expect(maxAbsDiff(vals(y), ref)).toBeLessThan(1e-4);
      }
    });
  }

  it('passes gradcheck in float64 for x, the base weight and bias, A and B', () => {
    for (const fanInFanOut of [false, true]) {
      nb.manualSeed(5);
      const base = fanInFanOut ? new StandInConv1D(3, 4, { dtype: 'float64' }) : new Linear(4, 3, { dtype: 'float64' });
      const l = new LoraLinear(base, { r: 2, alpha: 3 });
      expect(l.lora_A.weight.dtype).toBe('float64');
      const f64 = { dtype: 'float64' as const };
      const inputs = [nb.randn([2, 4], f64), nb.randn(l.weight.shape as number[], f64), nb.randn([3], f64), nb.randn([2, 4], f64), nb.randn([3, 2], f64)];
      const b = base as unknown as { weight: T; bias: T };
      const r = nb.gradcheck((x, w, bias, A, B) => {
        b.weight = w;
        b.bias = bias;
        (l.lora_A as any).weight = A;
        (l.lora_B as any).weight = B;
        return l.forward(x);
      }, inputs);
      expect(r.ok, r.message).toBe(true);
    }
  });

  it('applies lora_dropout to the adapter input only, and only in training', () => {
    nb.manualSeed(6);
    const lin = new Linear(8, 8);
    const l = new LoraLinear(lin, { r: 4, dropout: 0.5 });
    expect(l.lora_dropout.constructor.name).toBe('Dropout');
    expect(new LoraLinear(new Linear(2, 2)).lora_dropout.constructor.name).toBe('Identity');
    const x = nb.randn([16, 8]);
    // B = 0: the base path is never dropped
    expect(maxAbsDiff(vals(l.forward(x)), vals(lin.forward(x)))).toBe(0);
    setAdapter(l, 7);
    const ref = loraRef(vals(x), 16, vals(l.weight), vals(l.bias!), vals(l.lora_A.weight), vals(l.lora_B.weight), 8, 8, 4, l.scaling, false);
    expect(maxAbsDiff(vals(l.forward(x)), ref)).toBeGreaterThan(1e-3);
    l.eval();
    expect(lin.training).toBe(true); // the base is outside the module tree ...
    expect(maxAbsDiff(vals(l.forward(x)), ref)).toBeLessThan(1e-4);
    expect(lin.training).toBe(false); // ... and follows the wrapper's mode when called
  });

  it('merges W += scaling·B·A (transposed for fanInFanOut) and unmerges back', () => {
    for (const kind of ['Linear', 'Conv1D'] as const) {
      nb.manualSeed(8);
      const base = kind === 'Linear' ? new Linear(5, 3) : new StandInConv1D(3, 5);
      const l = new LoraLinear(base, { r: 2, alpha: 5 });
      setAdapter(l, 9);
      const x = nb.randn([4, 5]);
      const y = vals(l.forward(x));
      const W0 = vals(l.weight),
        A = vals(l.lora_A.weight),
        B = vals(l.lora_B.weight);
      l.merge();
      expect(l.merged).toBe(true);
      // W' = W + 2.5·(B·A) in the base's layout
      const W1 = vals(l.weight);
      for (let o = 0; o < 3; o++) {
        for (let k = 0; k < 5; k++) {
          const d = 2.5 * (B[o * 2] * A[k] + B[o * 2 + 1] * A[5 + k]);
          const idx = kind === 'Linear' ? o * 5 + k : k * 3 + o;
          expect(Math.abs(W1[idx] - (W0[idx] + d))).toBeLessThan(1e-5);
        }
      }
      expect(maxAbsDiff(vals(l.forward(x)), y)).toBeLessThan(1e-5);
      expect(maxAbsDiff(vals(base.forward(x)), y)).toBeLessThan(1e-5); // the base alone now computes it
      l.merge(); // idempotent
      l.unmerge();
      expect(l.merged).toBe(false);
      expect(maxAbsDiff(vals(l.weight), W0)).toBeLessThan(1e-6);
      expect(maxAbsDiff(vals(l.forward(x)), y)).toBeLessThan(1e-5);
    }
  });
});

describe('injectLora', () => {
  it('wraps the named Linear/Conv1D modules in place, keeps base key names and freezes the rest', () => {
    const model = tinyLM(10);
    const before = snapshot(model);
    const x = input();
    const y0 = vals(model.forward(x));
    const lora = injectLora(model, { r: 2, alpha: 4, targetModules: TARGETS });
    expect(lora).toBeInstanceOf(LoraModel);
    expect(lora.model).toBe(model);
    expect(lora.loraModules().map(([n]) => n)).toEqual(ADAPTED);
    expect(model.transformer.h[1].mlp.c_fc).toBeInstanceOf(LoraLinear);
    expect(model.lm_head).toBeInstanceOf(Linear);
    expect(lora.config).toEqual({ r: 2, alpha: 4, dropout: 0, useRslora: false, targetModules: TARGETS, bias: 'none', fanInFanOut: true });
    // the state dict keeps every original key with the same values, and adds the adapters
    const sd = model.stateDict();
    const loraKeys = ADAPTED.flatMap((n) => [`${n}.lora_A.weight`, `${n}.lora_B.weight`]);
    expect(Object.keys(sd).sort()).toEqual([...Object.keys(before), ...loraKeys].sort());
    expect(Object.keys(sd).some((k) => k.includes('base_layer'))).toBe(false);
    for (const k of Object.keys(before)) expect(sameBits(sd[k].dataSync(), before[k])).toBe(true);
    expect(sd['transformer.h.0.attn.c_attn.lora_A.weight'].shape).toEqual([2, C]);
    expect(sd['transformer.h.0.attn.c_attn.lora_B.weight'].shape).toEqual([3 * C, 2]);
    expect(sd['transformer.h.0.mlp.c_proj.lora_A.weight'].shape).toEqual([2, 2 * C]);
    // only adapters train
    for (const [k, p] of model.namedParameters()) expect(p.requiresGrad, k).toBe(k.includes('.lora_'));
    expect(lora.trainableParameters()).toHaveLength(16);
    const trainable = 2 * (2 * C + 3 * C * 2) + 2 * (2 * C + C * 2) + 2 * (2 * C + 2 * C * 2) + 2 * (2 * 2 * C + C * 2);
    const counts = lora.parameterCounts();
    expect(counts.trainable).toBe(trainable);
    expect(counts.all).toBe(model.numParams());
    // B = 0: same outputs as before
    expect(maxAbsDiff(vals(model.forward(x)), y0)).toBe(0);
  });

  it('trains only the adapters: base parameters stay bit-identical', () => {
    const model = tinyLM(11);
    const lora = injectLora(model, { r: 2, alpha: 4, targetModules: TARGETS });
    const base = Object.fromEntries(Object.entries(snapshot(model)).filter(([k]) => !k.includes('lora_')));
    const x = input();
    nb.manualSeed(12);
    const target = nb.randn([2, 3, V]);
    const opt = new nb.optim.Adam(model.parameters(), { lr: 0.05 }); // frozen ones get no gradient
    const losses: number[] = [];
    for (let i = 0; i < 6; i++) {
      losses.push(
        nb.scope(() => {
          opt.zeroGrad();
          const loss = nb.nn.functional.mseLoss(model.forward(x), target);
          loss.backward();
          opt.step();
          return loss.itemSync();
        }),
      );
    }
    expect(losses[5]).toBeLessThan(losses[0]);
    const sd = model.stateDict();
    for (const [k, v] of Object.entries(base)) expect(sameBits(sd[k].dataSync(), v), k).toBe(true);
    for (const [k, p] of model.namedParameters()) if (!k.includes('lora_')) expect(p.grad, k).toBeNull();
    for (const [, m] of lora.loraModules()) expect(vals(m.lora_B.weight).some((v) => v !== 0)).toBe(true);
  });

  it("matches target modules as PEFT: exact path or '.name' suffix for a list, a full-path regex for a string", () => {
    expect(matchesTarget(['c_attn'], 'transformer.h.0.attn.c_attn')).toBe(true);
    expect(matchesTarget(['c_attn'], 'transformer.h.0.attn.xc_attn')).toBe(false);
    expect(matchesTarget(['attn.c_proj'], 'transformer.h.0.attn.c_proj')).toBe(true);
    expect(matchesTarget(['attn.c_proj'], 'transformer.h.0.mlp.c_proj')).toBe(false);
    expect(matchesTarget(['lm_head'], 'lm_head')).toBe(true);
    expect(matchesTarget('.*\\.c_(attn|fc)', 'transformer.h.1.mlp.c_fc')).toBe(true);
    expect(matchesTarget('c_attn', 'transformer.h.0.attn.c_attn')).toBe(false); // fullmatch of the path
    const a = injectLora(tinyLM(13), { targetModules: ['attn.c_proj', 'lm_head'] });
    expect(a.loraModules().map(([n]) => n)).toEqual(['transformer.h.0.attn.c_proj', 'transformer.h.1.attn.c_proj', 'lm_head']);
    expect(a.config.fanInFanOut).toBe(true);
    const b = injectLora(tinyLM(13), { targetModules: 'transformer\\.h\\.1\\..*c_proj' });
    expect(b.loraModules().map(([n]) => n)).toEqual(['transformer.h.1.attn.c_proj', 'transformer.h.1.mlp.c_proj']);
    const c = injectLora(tinyLM(13), { targetModules: ['lm_head'] });
    expect(c.config.fanInFanOut).toBe(false);
    expect(c.config.r).toBe(8);
    expect(c.config.alpha).toBe(8);
    // module arrays and Sequential's numbered fields are replaced in place
    const seq = new Sequential(new Linear(3, 4), new Tanh(), new Linear(4, 2));
    injectLora(seq, { targetModules: ['0', '2'] });
    expect(seq.at(0)).toBeInstanceOf(LoraLinear);
    expect(seq.at(2)).toBeInstanceOf(LoraLinear);
    expect(Object.keys(seq.stateDict())).toEqual(['0.weight', '0.bias', '0.lora_A.weight', '0.lora_B.weight', '2.weight', '2.bias', '2.lora_A.weight', '2.lora_B.weight']);
    expect(seq.forward(nb.ones([1, 3])).shape).toEqual([1, 2]);
  });

  it('reports targets that match nothing, unsupported modules, shared modules and repeated injection', () => {
    expect(() => injectLora(tinyLM(14), { targetModules: ['q_proj'] })).toThrow(/target modules \["q_proj"\] not found.*transformer\.h\.0\.attn\.c_attn/);
    expect(() => injectLora(tinyLM(14), { targetModules: ['ln_1'] })).toThrow(/target module transformer\.h\.0\.ln_1 \(LayerNorm\) is not supported/);
    expect(() => injectLora(tinyLM(14), { targetModules: [] })).toThrow(/at least one module/);
    expect(() => injectLora(tinyLM(14), { targetModules: '(' })).toThrow(/not a valid regular expression/);
    expect(() => injectLora(tinyLM(14), { targetModules: ['c_fc'], r: 1.5 })).toThrow(/r must be a positive integer, got 1.5/);
    expect(() => injectLora(tinyLM(14), { targetModules: ['c_fc'], bias: 'all' as any })).toThrow(/bias 'all' is not supported/);
    const m = tinyLM(14);
    injectLora(m, { targetModules: ['c_fc'] });
    expect(() => injectLora(m, { targetModules: ['c_attn'] })).toThrow(/already has LoRA adapters \(transformer\.h\.0\.mlp\.c_fc\)/);
    const shared = new Linear(3, 3);
    expect(() => injectLora(new Sequential(shared, shared), { targetModules: ['0'] })).toThrow(/module 0 is shared \(also at 1\)/);
    // nothing was changed by a failed injection
    const fresh = tinyLM(14);
    expect(() => injectLora(fresh, { targetModules: ['ln_1'] })).toThrow();
    expect(fresh.parameters().every((p) => p.requiresGrad)).toBe(true);
  });
});

/** Inject, then train a little so B is non-zero. */
function trainedLora(seed: number, targets = TARGETS): { model: TinyLM; lora: LoraModel; base: Record<string, T> } {
  // scoped, so construction temporaries do not share storage with the parameters
  return nb.scope(() => {
    const model = tinyLM(seed);
    const base = Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, nb.add(t, 0).keep()]));
    const lora = injectLora(model, { r: 2, alpha: 4, targetModules: targets });
    for (const [i, [, m]] of lora.loraModules().entries()) setAdapter(m, 100 + i);
    return { model, lora, base };
  });
}

describe('merging the adapters into the model', () => {
  it('gives the same outputs merged and unmerged, for Conv1D and Linear targets', () => {
    const { model, lora } = trainedLora(20, [...TARGETS, 'lm_head']);
    const x = input();
    const y = vals(model.forward(x));
    const w = vals(model.transformer.h[0].attn.c_attn.weight);
    lora.merge();
    expect(lora.loraModules().every(([, m]) => m.merged)).toBe(true);
    expect(maxAbsDiff(vals(model.forward(x)), y)).toBeLessThan(1e-4);
    expect(maxAbsDiff(vals(model.transformer.h[0].attn.c_attn.weight), w)).toBeGreaterThan(1e-3);
    lora.unmerge();
    expect(maxAbsDiff(vals(model.transformer.h[0].attn.c_attn.weight), w)).toBeLessThan(1e-6);
    expect(maxAbsDiff(vals(model.forward(x)), y)).toBeLessThan(1e-4);
  });

  it('mergeAndUnload puts the original modules back with merged weights and the original keys', () => {
    const { model, lora, base } = trainedLora(21);
    const origCAttn = (model.transformer.h[0].attn.c_attn as unknown as LoraLinear).baseLayer;
    const adapters = lora.trainableParameters();
    const x = input();
    const y = nb.scope(() => nb.noGrad(() => vals(model.forward(x)))); // nothing else holds the adapters' storage
    const live = nb.getBackend().liveBuffers();
    const out = mergeAndUnload(model);
    expect(nb.getBackend().liveBuffers()).toBe(live - adapters.length); // merging allocates nothing that stays
    expect(out).toBe(model);
    expect(lora.loraModules()).toHaveLength(0);
    expect(model.transformer.h[0].attn.c_attn).toBe(origCAttn);
    expect(Object.keys(model.stateDict())).toEqual(Object.keys(base));
    expect(maxAbsDiff(vals(model.forward(x)), y)).toBeLessThan(1e-4);
    // unchanged where no adapter was: LayerNorms and the head
    expect(sameBits(model.lm_head.weight.dataSync(), base['lm_head.weight'].dataSync())).toBe(true);
    // adapters disposed; trainable flags as before injection
    expect(adapters.every((p) => p.disposed)).toBe(true);
    expect(model.parameters().every((p) => p.requiresGrad)).toBe(true);
    // the same via the handle, and unload() without merging restores the base weights
    const t2 = trainedLora(21);
    t2.lora.mergeAndUnload();
    expect(maxAbsDiff(vals(t2.model.forward(x)), y)).toBeLessThan(1e-4);
    const t3 = trainedLora(21);
    t3.lora.merge();
    t3.lora.unload();
    expect(t3.model.transformer.h[1].mlp.c_fc).toBeInstanceOf(StandInConv1D);
    const sd3 = t3.model.stateDict();
    for (const k of Object.keys(base)) expect(maxAbsDiff(sd3[k].dataSync(), base[k].dataSync()), k).toBeLessThan(1e-6);
  });

  it('refuses to merge into a weight tied to another module', () => {
    nb.manualSeed(22);
    class Tied extends Module {
      wte = new Linear(3, 3, { bias: false });
      lm_head = new Linear(3, 3, { bias: false });
      constructor() {
        super();
        this.lm_head.weight = this.wte.weight;
      }
      forward(x: T): T {
        return this.lm_head.forward(this.wte.forward(x));
      }
    }
    const m = new Tied();
    const lora = injectLora(m, { targetModules: ['lm_head'] });
    expect(() => lora.merge()).toThrow(/weight of lm_head is shared with wte\.weight/);
    expect(() => mergeAndUnload(m)).toThrow(/shared with wte\.weight/);
  });
});

describe('PEFT adapter files', () => {
  it("saves PEFT's adapter_config.json and adapter_model.safetensors keys, and loads them back", async () => {
    const { model, lora, base } = trainedLora(30);
    const x = input();
    const y = vals(model.forward(x));
    const dir = join(await tempDir('nabla-lora-'), 'adapter');
    await lora.saveAdapter(dir, { baseModelNameOrPath: 'tiny-gpt' });

    const cfg = JSON.parse(await readFile(join(dir, ADAPTER_CONFIG_NAME), 'utf8'));
    expect(cfg).toMatchObject({
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      r: 2,
      lora_alpha: 4,
      lora_dropout: 0,
      target_modules: TARGETS,
      fan_in_fan_out: true,
      bias: 'none',
      inference_mode: true,
      base_model_name_or_path: 'tiny-gpt',
      modules_to_save: null,
      use_rslora: false,
      use_dora: false,
      init_lora_weights: true,
      rank_pattern: {},
      alpha_pattern: {},
      layers_to_transform: null,
    });
    expect(Object.keys(cfg)).toEqual([...Object.keys(cfg)].sort()); // json.dumps(sort_keys=True)

    const { tensors, metadata } = await nb.io.loadSafetensors(join(dir, ADAPTER_WEIGHTS_NAME));
    expect(metadata).toEqual({ format: 'pt' });
    const expected = ADAPTED.flatMap((n) => [`base_model.model.${n}.lora_A.weight`, `base_model.model.${n}.lora_B.weight`]);
    expect([...tensors.keys()].sort()).toEqual(expected.sort());
    expect(tensors.get('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight')!.shape).toEqual([2, C]); // [r, in]
    expect(tensors.get('base_model.model.transformer.h.0.attn.c_attn.lora_B.weight')!.shape).toEqual([3 * C, 2]); // [out, r]
    const bKey = 'base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight';
    expect(sameBits(tensors.get(bKey)!.dataSync(), (model.transformer.h[1].mlp.c_fc as unknown as LoraLinear).lora_B.weight.dataSync())).toBe(true);
    for (const t of tensors.values()) t.dispose();

    // a fresh model with the same base weights + the adapter = the same function
    const fresh = tinyLM(31);
    fresh.loadStateDict(base);
    const loaded = await loadAdapter(fresh, dir);
    expect(loaded.loraModules().map(([n]) => n)).toEqual(ADAPTED);
    expect(loaded.config).toMatchObject({ r: 2, alpha: 4, dropout: 0, targetModules: TARGETS, fanInFanOut: true });
    expect(maxAbsDiff(vals(fresh.forward(x)), y)).toBe(0);
    // inference mode by default, as PeftModel.from_pretrained
    expect(fresh.training).toBe(false);
    expect(loaded.trainableParameters()).toHaveLength(0);
    const trainable = tinyLM(31);
    trainable.loadStateDict(base);
    const t = await loadAdapter(trainable, dir, { isTrainable: true });
    expect(t.trainableParameters()).toHaveLength(16);
    expect(trainable.training).toBe(true);
  });

  it('rejects missing keys, unexpected keys, wrong shapes and absent target modules, leaving the model as it was', async () => {
    const { lora } = trainedLora(32);
    const root = await tempDir('nabla-lora-bad-');
    const good = join(root, 'good');
    await lora.saveAdapter(good);
    const cfgText = await readFile(join(good, ADAPTER_CONFIG_NAME), 'utf8');
    const sd = lora.adapterStateDict();
    const write = async (name: string, tensors: Record<string, T>, cfg = cfgText): Promise<string> => {
      const d = join(root, name);
      await nb.io.saveSafetensors(join(d, ADAPTER_WEIGHTS_NAME), tensors);
      await writeFile(join(d, ADAPTER_CONFIG_NAME), cfg);
      return d;
    };
    const keyA = 'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight';
    const { [keyA]: _dropped, ...rest } = sd;
    const cases: [string, Record<string, T>, RegExp, string?][] = [
      ['missing', rest, /missing keys: base_model\.model\.transformer\.h\.0\.attn\.c_attn\.lora_A\.weight/],
      ['unexpected', { ...sd, 'base_model.model.extra.lora_A.weight': nb.zeros([2, 2]) }, /unexpected keys: base_model\.model\.extra\.lora_A\.weight/],
      [
        'shape',
        { ...sd, [keyA]: nb.zeros([3, C]) },
        /size mismatch for base_model\.model\.transformer\.h\.0\.attn\.c_attn\.lora_A\.weight: the file has shape \[3,4\], the model needs \[2,4\]/,
      ],
      ['target', sd, /target modules \["q_proj"\] not found/, cfgText.replace(/"c_attn",\s*"c_proj",\s*"c_fc"/, '"q_proj"')],
      ['dora', sd, /uses use_dora/, cfgText.replace('"use_dora": false', '"use_dora": true')],
      ['ia3', sd, /peft_type "IA3"; only LORA/, cfgText.replace('"peft_type": "LORA"', '"peft_type": "IA3"')],
    ];
    for (const [name, tensors, re, cfg] of cases) {
      const d = await write(name, tensors, cfg);
      const m = tinyLM(33);
      const keys = Object.keys(m.stateDict());
      await expect(loadAdapter(m, d), name).rejects.toThrow(re);
      expect(Object.keys(m.stateDict()), name).toEqual(keys);
      expect(
        m.parameters().every((p) => p.requiresGrad),
        name,
      ).toBe(true);
    }
    await expect(loadAdapter(tinyLM(33), join(root, 'nowhere'))).rejects.toThrow(/cannot read .*adapter_config\.json: no such file/);
  });

  it('round-trips rsLoRA and dropout settings through the config', async () => {
    const model = tinyLM(34);
    const lora = injectLora(model, { r: 4, alpha: 2, dropout: 0.1, useRslora: true, targetModules: '.*\\.mlp\\.c_fc' });
    for (const [i, [, m]] of lora.loraModules().entries()) setAdapter(m, 200 + i);
    model.eval();
    const x = input();
    const y = vals(model.forward(x));
    const dir = join(await tempDir('nabla-lora-rs-'), 'a');
    await lora.saveAdapter(dir);
    const cfg = JSON.parse(await readFile(join(dir, ADAPTER_CONFIG_NAME), 'utf8'));
    expect(cfg).toMatchObject({ r: 4, lora_alpha: 2, lora_dropout: 0.1, use_rslora: true, target_modules: '.*\\.mlp\\.c_fc', base_model_name_or_path: null });
    const fresh = tinyLM(34);
    const loaded = await loadAdapter(fresh, dir);
    const m = loaded.loraModules()[0][1];
    expect([m.r, m.alpha, m.scaling, m.useRslora]).toEqual([4, 2, 1, true]);
    expect(maxAbsDiff(vals(fresh.forward(x)), y)).toBe(0);
  });
});
