// The BERT family (BERT, DistilBERT, RoBERTa): every head's output against its transformers class on
// tiny random models (tests/fixtures/bert, made by tools/bert-golden.py) with a padded batch, padding
// that leaves the unpadded outputs alone, float16/bfloat16 and sharded files, savePretrained round
// trips (and transformers loading them back where NABLA_HF_PYTHON names a Python with it),
// fine-tuning each head, a new head on another class's checkpoint, and config.json's errors.
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile, cp } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as nb from '../../src/index.js';
import { BERT_PRESETS, type BertConfig, bertConfigFromHF, bertConfigToHF } from '../../src/models/bert-config.js';
import { BertModel, DistilBertModel, RobertaModel, robertaPositionIds, sinusoidalPositions } from '../../src/models/bert.js';
import { BertForMaskedLM, BertForQuestionAnswering, BertForSequenceClassification, BertForTokenClassification, type BertTaskModel, bertBatch } from '../../src/models/bert-heads.js';
import { fromPretrained, languageModelFrom } from '../../src/models/pretrained.js';
import { readSafetensorsHeader } from '../../src/io/safetensors.js';
import { loadTokenizerFile } from '../../src/text/tokenizer.js';
import { tempDir } from '../helpers/tmp.js';

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(here, '../fixtures/bert');
const WORDPIECE = join(here, '../fixtures/text/wordpiece-uncased-tokenizer.json');
const vals = (t: nb.Tensor): number[] => Array.from(t.dataSync());
const ints = (rows: number[][]): nb.Tensor => nb.tensor(rows, { dtype: 'int32' });

type Golden = Record<string, any>;
const golden = (name: string): Golden => JSON.parse(readFileSync(join(FIXTURES, name, 'golden.json'), 'utf8'));

/** The largest |a − b| over two equally long lists. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The golden batch's encoder inputs. */
function inputs(g: Golden): { ids: nb.Tensor; opts: { attentionMask: nb.Tensor; tokenTypeIds: nb.Tensor | null } } {
  return { ids: ints(g.input_ids), opts: { attentionMask: ints(g.attention_mask), tokenTypeIds: g.token_type_ids ? ints(g.token_type_ids) : null } };
}

const haveFixtures = existsSync(join(FIXTURES, 'roberta', 'golden.json'));
const skipNote = haveFixtures ? '' : ' (skipped: no tests/fixtures/bert; run tools/bert-golden.py with torch + transformers)';

/** Every parameter set to U(-scale, scale) from a seeded generator (init leaves zero biases and unit gains, which would hide bugs). */
function randomize(m: nb.nn.Module, seed: number, scale = 0.3): void {
  const gen = new nb.Generator(seed);
  const sd: Record<string, nb.Tensor> = {};
  for (const [k, p] of m.namedParameters()) if (p.requiresGrad) sd[k] = nb.uniform([...p.shape], -scale, scale, { generator: gen, dtype: p.dtype });
  m.loadStateDict(sd, { strict: false });
  nb.dispose(sd);
}

/** A small config of each family: 2 layers, 4 heads, 16 wide, 40 tokens. */
const SMALL: Partial<BertConfig> = { vocabSize: 40, nPositions: 24, nEmbd: 16, nLayer: 2, nHead: 4, nInner: 32 };

describe('BERT family against transformers (tests/fixtures/bert)', () => {
  it.skipIf(!haveFixtures)(`bert-seqcls: BertForSequenceClassification logits and loss, the hidden states, mean-pooled embeddings, and the WordPiece encodings${skipNote}`, async () => {
    const g = golden('bert-seqcls');
    const pre = await fromPretrained(join(FIXTURES, 'bert-seqcls'));
    expect(pre.task).toBe('text-classification');
    const model = pre.model as BertForSequenceClassification;
    expect(model).toBeInstanceOf(BertForSequenceClassification);
    expect(model.labels).toEqual(['negative', 'neutral', 'positive']);
    expect(model.config).toMatchObject({ family: 'bert', classifierDropout: 0.2, vocabSize: 806 });
    model.eval();
    const { ids, opts } = inputs(g);
    const { logits, loss } = model.forward(ids, { ...opts, labels: nb.tensor(g.labels, { dtype: 'int32' }) });
    const d = maxDiff(vals(logits), g.logits.flat());
    const hidden = model.base.forward(ids, opts).lastHiddenState;
    const dh = maxDiff(vals(hidden), g.last_hidden_state.flat(2));
    const dm = maxDiff(vals(model.base.embed(ids, opts)), g.mean_pooled.flat());
    const dn = maxDiff(vals(model.base.embed(ids, { ...opts, normalize: true })), g.mean_pooled_normalized.flat());
    console.log(`bert-seqcls: max |Δ| logits ${d.toExponential(2)}, hidden ${dh.toExponential(2)}, mean pooled ${dm.toExponential(2)}, normalised ${dn.toExponential(2)}`);
    for (const x of [d, dh, dm, dn]) expect(x).toBeLessThan(1e-4);
    expect(loss!.itemSync()).toBeCloseTo(g.loss, 4);
    // nabla's tokenizer gives transformers' encodings of the same texts.
    const tok = await loadTokenizerFile(WORDPIECE);
    const enc = tok.encodeBatch(['The cat sat on the mat, and the dog sat on the cat.', 'Hello world'], { padding: true });
    const b = bertBatch(enc);
    expect(b.inputIds.tolistSync()).toEqual(g.input_ids);
    expect(b.attentionMask.tolistSync()).toEqual(g.attention_mask);
    const results = await model.classify(['The cat sat on the mat, and the dog sat on the cat.', 'Hello world'], tok);
    const probs = vals(nb.softmax(logits, -1));
    results.forEach((r, i) => {
      const row = probs.slice(3 * i, 3 * i + 3);
      expect(r.score).toBeCloseTo(Math.max(...row), 5);
      expect(r.label).toBe(model.labels[row.indexOf(Math.max(...row))]);
    });
  });

  it.skipIf(!haveFixtures)(`bert-qa: BertForQuestionAnswering start/end logits and loss on question/context pairs, float16 file${skipNote}`, async () => {
    const g = golden('bert-qa');
    const pre = await fromPretrained(join(FIXTURES, 'bert-qa'));
    expect(pre.task).toBe('question-answering');
    const model = pre.model as BertForQuestionAnswering;
    const { ids, opts } = inputs(g);
    const out = model.eval().forward(ids, { ...opts, startPositions: ints([g.start_positions]).reshape([-1]), endPositions: ints([g.end_positions]).reshape([-1]) });
    const ds = maxDiff(vals(out.startLogits), g.start_logits.flat()),
      de = maxDiff(vals(out.endLogits), g.end_logits.flat());
    console.log(`bert-qa: max |Δ| start ${ds.toExponential(2)}, end ${de.toExponential(2)}`);
    expect(Math.max(ds, de)).toBeLessThan(1e-4);
    expect(out.loss!.itemSync()).toBeCloseTo(g.loss, 4);
    expect(g.token_type_ids[0]).toContain(1); // the pair's segment ids reach the model
  });

  it.skipIf(!haveFixtures)(`bert-mlm: BertForMaskedLM logits at [MASK] and the loss, decoder tied to the word embeddings, bfloat16 file${skipNote}`, async () => {
    const g = golden('bert-mlm');
    const pre = await fromPretrained(join(FIXTURES, 'bert-mlm'));
    expect(pre.task).toBe('fill-mask');
    const model = pre.model as BertForMaskedLM;
    expect(model.cls!.predictions.decoder.weight).toBe(model.base.embeddings.word_embeddings.weight);
    expect(model.cls!.predictions.decoder.bias).toBe(model.cls!.predictions.bias);
    const { ids, opts } = inputs(g);
    const { logits, loss } = model.eval().forward(ids, { ...opts, labels: ints(g.labels) });
    const V = model.config.vocabSize,
      T = g.input_ids[0].length,
      all = vals(logits);
    const at = (g.mask_positions as [number, number][]).flatMap(([b, t]) => all.slice((b * T + t) * V, (b * T + t + 1) * V));
    const d = maxDiff(at, g.mask_logits.flat());
    console.log(`bert-mlm: max |Δ| logits at [MASK] ${d.toExponential(2)}`);
    expect(d).toBeLessThan(1e-4);
    expect(loss!.itemSync()).toBeCloseTo(g.loss, 4);
  });

  it.skipIf(!haveFixtures)(`distilbert: DistilBertForTokenClassification logits and loss, sinusoidal positions, sharded file${skipNote}`, async () => {
    const g = golden('distilbert');
    const pre = await fromPretrained(join(FIXTURES, 'distilbert'));
    expect(pre.task).toBe('token-classification');
    const model = pre.model as BertForTokenClassification;
    expect(model.labels).toEqual(['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC']);
    expect(model.config).toMatchObject({ family: 'distilbert', sinusoidalPositions: true, typeVocabSize: 0 });
    const { ids, opts } = inputs(g);
    const { logits, loss } = model.eval().forward(ids, { ...opts, labels: ints(g.labels) });
    const d = maxDiff(vals(logits), g.logits.flat(2));
    console.log(`distilbert: max |Δ| logits ${d.toExponential(2)}`);
    expect(d).toBeLessThan(1e-4);
    expect(loss!.itemSync()).toBeCloseTo(g.loss, 4);
    // The table transformers wrote is the one nabla computes, and it is not trained.
    const pos = model.base.embeddings.position_embeddings.weight;
    expect(maxDiff(vals(pos), sinusoidalPositions(32, 32))).toBeLessThan(1e-6);
    expect(pos.requiresGrad).toBe(false);
  });

  it.skipIf(!haveFixtures)(`roberta: RobertaForSequenceClassification logits and loss, positions from pad_token_id + 1${skipNote}`, async () => {
    const g = golden('roberta');
    const pre = await fromPretrained(join(FIXTURES, 'roberta'));
    expect(pre.task).toBe('text-classification');
    const model = pre.model as BertForSequenceClassification;
    expect(model.config).toMatchObject({ family: 'roberta', padTokenId: 1, typeVocabSize: 1, layerNormEps: 1e-5, problemType: 'single_label_classification' });
    const { ids, opts } = inputs(g);
    expect(robertaPositionIds(ids, 1).tolistSync()).toEqual(g.position_ids);
    const { logits, loss } = model.eval().forward(ids, { ...opts, labels: nb.tensor(g.labels, { dtype: 'int32' }) });
    const d = maxDiff(vals(logits), g.logits.flat());
    console.log(`roberta: max |Δ| logits ${d.toExponential(2)}`);
    expect(d).toBeLessThan(1e-4);
    expect(loss!.itemSync()).toBeCloseTo(g.loss, 4);
  });

  it.skipIf(!haveFixtures)(`padding does not change the unpadded outputs: each row alone gives the padded batch's values${skipNote}`, async () => {
    for (const name of ['bert-seqcls', 'distilbert', 'roberta', 'bert-qa']) {
      const g = golden(name);
      const model = (await fromPretrained(join(FIXTURES, name))).model as BertTaskModel;
      model.eval();
      const { ids, opts } = inputs(g);
      const batch = model.base.forward(ids, opts).lastHiddenState; // (2, T, C)
      const [, T, C] = batch.shape;
      const n = (g.attention_mask[1] as number[]).reduce((s, x) => s + x, 0);
      expect(n).toBeLessThan(T);
      const row = g.input_ids[1].slice(0, n);
      const alone = model.base.forward(ints([row]), g.token_type_ids ? { tokenTypeIds: ints([g.token_type_ids[1].slice(0, n)]) } : {}).lastHiddenState;
      const padded = vals(batch).slice(T * C, T * C + n * C);
      const d = maxDiff(vals(alone), padded);
      expect(d, name).toBeLessThan(1e-5);
      // A whole-row [CLS]-pooled head agrees too.
      if (model instanceof BertForSequenceClassification) {
        const l2 = vals(model.forward(ids, opts).logits).slice(model.labels.length);
        expect(maxDiff(vals(model.forward(ints([row])).logits), l2)).toBeLessThan(1e-5);
      }
    }
  });
});

describe('BERT family: Hugging Face directories', () => {
  const heads = [
    ['bert', () => new BertForSequenceClassification({ ...SMALL, labels: ['a', 'b', 'c'] })],
    ['distilbert', () => new BertForSequenceClassification({ ...SMALL, family: 'distilbert', labels: ['a', 'b'] })],
    ['roberta', () => new BertForSequenceClassification({ ...SMALL, family: 'roberta', labels: ['a', 'b'] })],
    ['bert', () => new BertForTokenClassification({ ...SMALL, labels: ['O', 'X'] })],
    ['roberta', () => new BertForQuestionAnswering({ ...SMALL, family: 'roberta' })],
    ['distilbert', () => new BertForQuestionAnswering({ ...SMALL, family: 'distilbert', sinusoidalPositions: true })],
    ['bert', () => new BertForMaskedLM({ ...SMALL })],
    ['roberta', () => new BertForMaskedLM({ ...SMALL, family: 'roberta' })],
    ['distilbert', () => new BertForMaskedLM({ ...SMALL, family: 'distilbert' })],
    ['bert', () => new BertForMaskedLM({ ...SMALL, tieWeights: false })],
  ] as const;

  /** The head's main output on a padded batch. */
  const output = (m: BertTaskModel, x: nb.Tensor, mask: nb.Tensor): nb.Tensor => {
    const out = (m as BertForSequenceClassification).forward(x, { attentionMask: mask }) as unknown as Record<string, nb.Tensor>;
    return out.logits ?? nb.concat([out.startLogits, out.endLogits], 1);
  };

  it('savePretrained → fromPretrained gives the same outputs for every head and family; float16 to its rounding', async () => {
    const x = ints([
      [2, 5, 9, 11, 7, 3],
      [2, 8, 3, 1, 1, 1],
    ]);
    const mask = ints([
      [1, 1, 1, 1, 1, 1],
      [1, 1, 1, 0, 0, 0],
    ]);
    let seed = 1;
    for (const [family, make] of heads) {
      nb.manualSeed(seed);
      const m = make();
      randomize(m, 100 + seed++);
      m.eval();
      const dir = await tempDir('nabla-bert-');
      await m.savePretrained(dir);
      const json = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      expect(json.model_type).toBe(family);
      expect(json.architectures).toEqual([m.architecture]);
      const back = (await fromPretrained(dir)).model as BertTaskModel;
      expect(back.constructor).toBe(m.constructor);
      expect(back.config).toEqual(m.config);
      expect(vals(output(back.eval(), x, mask)), m.architecture).toEqual(vals(output(m, x, mask)));
      // transformers' names: the tied decoder and its bias are not written.
      const keys = [...(await readSafetensorsHeader(join(dir, 'model.safetensors'))).tensors.keys()];
      expect(keys.some((k) => k.endsWith('decoder.bias'))).toBe(false);
      expect(keys.includes('cls.predictions.decoder.weight')).toBe(!m.config.tieWeights && m instanceof BertForMaskedLM);
      expect(keys.every((k) => k.startsWith(`${family}.`) || !/^(embeddings|encoder|transformer)\./.test(k))).toBe(true);
      const half = await tempDir('nabla-bert-f16-');
      await m.savePretrained(half, { float32As: 'F16' });
      const h = (await fromPretrained(half)).model as BertTaskModel;
      expect(maxDiff(vals(output(h.eval(), x, mask)), vals(output(m, x, mask)))).toBeLessThan(0.05);
    }
  });

  it.skipIf(!haveFixtures)(`nabla saves the files transformers saves: the same tensor names as the fixtures${skipNote}`, async () => {
    for (const name of ['bert-seqcls', 'bert-mlm', 'roberta']) {
      const dir = await tempDir('nabla-bert-names-');
      const model = (await fromPretrained(join(FIXTURES, name))).model as BertTaskModel;
      await model.savePretrained(dir);
      const ours = [...(await readSafetensorsHeader(join(dir, 'model.safetensors'))).tensors.keys()].sort();
      const theirs = [...(await readSafetensorsHeader(join(FIXTURES, name, 'model.safetensors'))).tensors.keys()].sort();
      expect(ours, name).toEqual(theirs);
    }
  });

  it('encoders: BertModel, RobertaModel and DistilBertModel save and load as feature extractors', async () => {
    const x = ints([[2, 5, 9, 11, 7, 3]]);
    for (const m of [new BertModel(SMALL), new RobertaModel(SMALL), new DistilBertModel(SMALL), new BertModel({ ...SMALL, family: 'roberta' }, { addPoolingLayer: false })]) {
      randomize(m, 7);
      m.eval();
      const dir = await tempDir('nabla-bert-enc-');
      await m.savePretrained(dir);
      const pre = await fromPretrained(dir);
      expect(pre.task).toBe('feature-extraction');
      const back = pre.model as BertModel;
      expect(back.constructor).toBe(m.constructor === BertModel && m.config.family === 'roberta' ? RobertaModel : m.constructor);
      expect(vals(back.eval().embed(x, { normalize: true }))).toEqual(vals(m.embed(x, { normalize: true })));
      expect(back instanceof BertModel ? back.pooler !== null : false).toBe(m instanceof BertModel && m.pooler !== null);
    }
  });

  it.skipIf(!haveFixtures)(`a classifier fine-tuned from another class's checkpoint: its encoder, a new head over the given labels${skipNote}`, async () => {
    const mlm = await BertForMaskedLM.fromPretrained(join(FIXTURES, 'bert-mlm'));
    nb.manualSeed(3);
    const clf = await BertForSequenceClassification.fromPretrained(join(FIXTURES, 'bert-mlm'), { labels: ['ham', 'spam'] });
    expect(clf.labels).toEqual(['ham', 'spam']);
    expect(clf.architecture).toBe('BertForSequenceClassification');
    const x = ints([[2, 40, 41, 42, 3]]);
    expect(vals(clf.eval().base.forward(x).lastHiddenState)).toEqual(vals(mlm.eval().base.forward(x).lastHiddenState));
    const std = Math.sqrt(vals((clf.classifier as nb.nn.Linear).weight).reduce((s, v) => s + v * v, 0) / (2 * 32));
    expect(std).toBeGreaterThan(0.01); // transformers' N(0, 0.02) init, not zeros
    expect(std).toBeLessThan(0.04);
    // The encoder of any head loads alone, for embeddings.
    const enc = await BertModel.fromPretrained(join(FIXTURES, 'bert-seqcls'));
    expect(enc.pooler).not.toBeNull();
    await expect(BertForQuestionAnswering.fromPretrained(join(FIXTURES, 'distilbert'))).resolves.toBeInstanceOf(BertForQuestionAnswering);
    await expect(BertModel.fromPretrained(join(FIXTURES, 'distilbert'))).rejects.toThrow(/holds a DistilBERT model; load it with DistilBertModel.fromPretrained/);
  });

  it.skipIf(!haveFixtures)(`older checkpoints: BertForPreTraining, LayerNorm gamma/beta, position_ids buffers and the next-sentence head${skipNote}`, async () => {
    const dir = await tempDir('nabla-bert-old-');
    await cp(join(FIXTURES, 'bert-mlm'), dir, { recursive: true });
    const { readSafetensorsFile, saveSafetensors } = await import('../../src/io/safetensors.js');
    const file = await readSafetensorsFile(join(dir, 'model.safetensors'));
    const old = new Map([...file.tensors].map(([k, t]) => [k.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta'), t]));
    old.set('bert.embeddings.position_ids', nb.arange(0, 32).reshape([1, 32]));
    old.set('cls.seq_relationship.weight', nb.zeros([2, 32]));
    old.set('cls.seq_relationship.bias', nb.zeros([2]));
    old.set('cls.predictions.decoder.weight', file.tensors.get('bert.embeddings.word_embeddings.weight')!);
    await saveSafetensors(join(dir, 'model.safetensors'), old);
    const cfg = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...cfg, architectures: ['BertForPreTraining'] }));
    const pre = await fromPretrained(dir);
    expect(pre.task).toBe('fill-mask');
    const g = golden('bert-mlm');
    const { ids, opts } = inputs(g);
    const want = await BertForMaskedLM.fromPretrained(join(FIXTURES, 'bert-mlm'));
    expect(vals((pre.model as BertForMaskedLM).eval().forward(ids, opts).logits)).toEqual(vals(want.eval().forward(ids, opts).logits));
  });

  it.skipIf(!haveFixtures)(`checks the weights against config.json before reading them${skipNote}`, async () => {
    const dir = await tempDir('nabla-bert-bad-');
    await cp(join(FIXTURES, 'roberta'), dir, { recursive: true });
    const cfg = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    const put = (extra: Record<string, unknown>) => writeFile(join(dir, 'config.json'), JSON.stringify({ ...cfg, ...extra }));
    await put({ intermediate_size: 48 });
    await expect(fromPretrained(dir)).rejects.toThrow(/'roberta.encoder.layer.0.intermediate.dense.weight' has shape \[64,32\] .* gives \[48,32\] \(hidden_size, intermediate_size\)/);
    await put({ num_hidden_layers: 3 });
    await expect(fromPretrained(dir)).rejects.toThrow(/num_hidden_layers 3, but the weights in .* hold 2 layers/);
    await put({ id2label: { 0: 'a', 1: 'b', 2: 'c' }, label2id: undefined });
    await expect(fromPretrained(dir)).rejects.toThrow(/'classifier.out_proj.weight' has shape \[2,32\] .* gives \[3,32\] \(id2label \(3 labels\), hidden_size\)/);
    await put({ architectures: ['RobertaForQuestionAnswering'] });
    await expect(fromPretrained(dir)).rejects.toThrow(/has no tensor 'qa_outputs.weight', which RobertaForQuestionAnswering needs/);
    await put({ architectures: ['RobertaForMultipleChoice'] });
    await expect(fromPretrained(dir)).rejects.toThrow(/architectures \["RobertaForMultipleChoice"\] is not supported; the roberta classes nabla loads are RobertaModel, /);
    await put({ position_embedding_type: 'relative_key' });
    await expect(fromPretrained(dir)).rejects.toThrow(/position_embedding_type "relative_key" is not supported/);
    await put({});
    await expect(languageModelFrom(dir, 'generate', { llama: true })).rejects.toThrow(
      /holds a text classifier \(RobertaForSequenceClassification, labels LABEL_0, LABEL_1\), not a language model/,
    );
  });
});

describe('BERT family: config.json', () => {
  const base = { model_type: 'bert', vocab_size: 50, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 32 };

  it("reads transformers' defaults and each family's names", () => {
    expect(bertConfigFromHF(base)).toMatchObject({
      family: 'bert',
      nPositions: 512,
      typeVocabSize: 2,
      layerNormEps: 1e-12,
      hiddenAct: 'gelu',
      padTokenId: 0,
      labels: ['LABEL_0', 'LABEL_1'],
      tieWeights: true,
    });
    expect(bertConfigFromHF({ ...base, model_type: 'roberta' })).toMatchObject({ padTokenId: 1, bosTokenId: 0, eosTokenId: 2 });
    const d = bertConfigFromHF({
      model_type: 'distilbert',
      vocab_size: 50,
      dim: 16,
      n_layers: 2,
      n_heads: 4,
      hidden_dim: 32,
      activation: 'relu',
      sinusoidal_pos_embds: true,
      num_labels: 3,
    });
    expect(d).toMatchObject({
      family: 'distilbert',
      nEmbd: 16,
      nLayer: 2,
      nHead: 4,
      nInner: 32,
      hiddenAct: 'relu',
      sinusoidalPositions: true,
      typeVocabSize: 0,
      labels: ['LABEL_0', 'LABEL_1', 'LABEL_2'],
    });
  });

  it('refuses what it does not implement, naming the field', () => {
    expect(() => bertConfigFromHF({ ...base, position_embedding_type: 'relative_key' })).toThrow(
      'config.json: position_embedding_type "relative_key" is not supported; nabla\'s BERT encoders use absolute position embeddings',
    );
    expect(() => bertConfigFromHF({ ...base, position_embedding_type: 'relative_key_query' })).toThrow(/relative_key_query/);
    expect(bertConfigFromHF({ ...base, position_embedding_type: 'absolute' }).family).toBe('bert');
    expect(() => bertConfigFromHF({ ...base, is_decoder: true })).toThrow(/is_decoder.*bidirectional encoders only/);
    expect(() => bertConfigFromHF({ ...base, is_decoder: true, add_cross_attention: true })).toThrow(/is_decoder/);
    expect(() => bertConfigFromHF({ ...base, hidden_act: 'quick_gelu' })).toThrow(/hidden_act "quick_gelu" is not supported; supported: gelu, gelu_new/);
    expect(() => bertConfigFromHF({ ...base, embedding_size: 8 })).toThrow(/embedding_size 8 differs from hidden_size/);
    expect(() => bertConfigFromHF({ ...base, num_attention_heads: 3 })).toThrow(/hidden_size 16 is not divisible by num_attention_heads 3/);
    expect(() => bertConfigFromHF({ ...base, architectures: ['BertForNextSentencePrediction'] })).toThrow(
      /not supported; the bert classes nabla loads are BertModel, BertForSequenceClassification/,
    );
    expect(() => bertConfigFromHF({ ...base, id2label: { 0: 'a', 2: 'b' } })).toThrow(/id2label's keys must be the ids 0 to n − 1/);
    expect(() => bertConfigFromHF({ ...base, id2label: { 0: 'a', 1: 'b' }, num_labels: 3 })).toThrow(/num_labels 3 disagrees with the 2 labels/);
    expect(() => bertConfigFromHF({ ...base, model_type: 'roberta', pad_token_id: null })).toThrow(/RoBERTa counts positions from pad_token_id \+ 1/);
    expect(() => bertConfigFromHF({ ...base, hidden_size: undefined })).toThrow(/hidden_size is missing/);
    expect(() => bertConfigFromHF({ ...base, model_type: 'albert' })).toThrow(/model_type "albert" is not one of bert, distilbert, roberta/);
  });

  it('writes what it reads: config → config.json → config, for every family', () => {
    for (const name of ['tiny', 'bert-base', 'distilbert-base', 'roberta-base', 'minilm-l6']) {
      const c: BertConfig = { ...BERT_PRESETS[name], labels: ['neg', 'pos'], problemType: 'single_label_classification' };
      expect(bertConfigFromHF(JSON.parse(JSON.stringify(bertConfigToHF(c, 'sequenceClassification'))))).toEqual(c);
      expect(bertConfigFromHF(JSON.parse(JSON.stringify(bertConfigToHF({ ...c, classifierDropout: c.family === 'distilbert' ? null : 0.3 }, 'base'))))).toMatchObject({
        family: c.family,
      });
    }
    expect(() => bertConfigToHF({ ...BERT_PRESETS['distilbert-base'], layerNormEps: 1e-5 }, 'base')).toThrow(/DistilBERT's LayerNorm eps is fixed at 1e-12/);
  });
});

describe('BERT family: fine-tuning', () => {
  it('a few AdamW steps on a tiny batch lower each head’s loss (eval-mode loss before and after; dropout on while training)', () => {
    const x = ints([
      [2, 5, 9, 11, 7, 3],
      [2, 8, 12, 3, 0, 0],
    ]);
    const mask = ints([
      [1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 0, 0],
    ]);
    const cases: [string, () => BertTaskModel, (m: BertTaskModel) => nb.Tensor][] = [
      ['bert sequence classification', () => new BertForSequenceClassification({ ...SMALL, labels: ['a', 'b'] }), (m) => seq(m, ints([[1, 0]]).reshape([-1]))],
      [
        'distilbert sequence classification',
        () => new BertForSequenceClassification({ ...SMALL, family: 'distilbert', labels: ['a', 'b', 'c'] }),
        (m) => seq(m, ints([[2, 0]]).reshape([-1])),
      ],
      ['roberta regression', () => new BertForSequenceClassification({ ...SMALL, family: 'roberta', labels: ['score'] }), (m) => seq(m, nb.tensor([0.5, -1]))],
      [
        'bert multi-label',
        () => new BertForSequenceClassification({ ...SMALL, labels: ['x', 'y', 'z'] }),
        (m) =>
          seq(
            m,
            nb.tensor([
              [1, 0, 1],
              [0, 1, 0],
            ]),
          ),
      ],
      [
        'token classification',
        () => new BertForTokenClassification({ ...SMALL, labels: ['O', 'A', 'B'] }),
        (m) =>
          (m as BertForTokenClassification).forward(x, {
            attentionMask: mask,
            labels: ints([
              [-100, 1, 2, 0, 1, -100],
              [-100, 2, 2, -100, -100, -100],
            ]),
          }).loss!,
      ],
      [
        'question answering',
        () => new BertForQuestionAnswering({ ...SMALL, family: 'distilbert' }),
        (m) => (m as BertForQuestionAnswering).forward(x, { attentionMask: mask, startPositions: ints([[2, 1]]).reshape([-1]), endPositions: ints([[3, 2]]).reshape([-1]) }).loss!,
      ],
      [
        'masked LM',
        () => new BertForMaskedLM({ ...SMALL, family: 'roberta' }),
        (m) =>
          (m as BertForMaskedLM).forward(x, {
            attentionMask: mask,
            labels: ints([
              [-100, 5, -100, 11, -100, -100],
              [-100, -100, 12, -100, -100, -100],
            ]),
          }).loss!,
      ],
    ];
    function seq(m: BertTaskModel, labels: nb.Tensor): nb.Tensor {
      return (m as BertForSequenceClassification).forward(x, { attentionMask: mask, labels }).loss!;
    }
    cases.forEach(([what, make, loss], i) => {
      nb.manualSeed(20 + i);
      const m = make();
      const evalLoss = () => nb.noGrad(() => nb.scope(() => loss(m.eval()).itemSync()));
      const before = evalLoss();
      const opt = new nb.optim.AdamW(
        m.parameters().filter((p) => p.requiresGrad),
        { lr: 1e-2 },
      );
      m.train();
      for (let step = 0; step < 12; step++) {
        opt.zeroGrad();
        nb.scope(() => loss(m).backward());
        if (step === 0) for (const [k, p] of m.namedParameters()) if (p.requiresGrad) expect(p.grad, `${what}: ${k}`).not.toBeNull();
        opt.step();
      }
      const after = evalLoss();
      console.log(`${what}: eval loss ${before.toFixed(4)} → ${after.toFixed(4)}`);
      expect(after, what).toBeLessThan(before * 0.7);
    });
  });
});

describe('BERT family: memory', () => {
  it('frees what it makes: live buffers return to where they were after scoped forwards, a training step and classify', async () => {
    const tok = await loadTokenizerFile(WORDPIECE);
    const m = new BertForSequenceClassification({ ...SMALL, vocabSize: tok.vocabSize + 1, nPositions: 40, family: 'roberta', labels: ['a', 'b'] });
    const mlm = new BertForMaskedLM({ ...SMALL, family: 'distilbert' });
    const x = ints([[2, 5, 9, 3]]),
      mask = ints([[1, 1, 1, 0]]);
    const live = () => nb.getBackend().liveBuffers();
    const before = live();
    nb.scope(() => m.forward(x, { attentionMask: mask, labels: ints([[1]]).reshape([-1]) }).loss!.backward());
    m.zeroGrad();
    nb.noGrad(() => nb.scope(() => mlm.forward(x, { attentionMask: mask }).logits)).dispose();
    await m.classify(['the cat sat', 'hello'], tok);
    expect(live()).toBe(before);
  });
});

const python = process.env.NABLA_HF_PYTHON;

describe('BERT family: transformers loads what nabla saves', () => {
  it.skipIf(!python)(
    `each head's files give nabla's outputs in transformers${python ? '' : ' (skipped: set NABLA_HF_PYTHON to a Python with torch and transformers)'}`,
    async () => {
      const x = [
        [2, 5, 9, 11, 7, 3],
        [2, 8, 3, 1, 1, 1],
      ];
      const m = [
        [1, 1, 1, 1, 1, 1],
        [1, 1, 1, 0, 0, 0],
      ];
      const models: BertTaskModel[] = [
        new BertForSequenceClassification({ ...SMALL, labels: ['a', 'b', 'c'] }),
        new BertForTokenClassification({ ...SMALL, family: 'distilbert', sinusoidalPositions: true, labels: ['O', 'X'] }),
        new BertForQuestionAnswering({ ...SMALL, family: 'roberta' }),
        new BertForMaskedLM({ ...SMALL }),
        new BertForMaskedLM({ ...SMALL, family: 'roberta' }),
        new BertForSequenceClassification({ ...SMALL, family: 'roberta', labels: ['n', 'p'] }),
      ];
      const script = `
import json, sys, torch, transformers
spec = json.load(open(sys.argv[1]))
ids = torch.tensor(spec["ids"]); mask = torch.tensor(spec["mask"])
out = []
for d in spec["dirs"]:
    cfg = json.load(open(d + "/config.json"))
    model = getattr(transformers, cfg["architectures"][0]).from_pretrained(d).eval()
    with torch.no_grad():
        o = model(input_ids=ids, attention_mask=mask)
    t = o.logits if hasattr(o, "logits") else torch.cat([o.start_logits, o.end_logits], 1)
    out.append(t.flatten().tolist())
print(json.dumps(out))
`;
      const dirs: string[] = [];
      const want: number[][] = [];
      for (const [i, model] of models.entries()) {
        randomize(model, 300 + i);
        model.eval();
        const dir = await tempDir('nabla-bert-hf-');
        await model.savePretrained(dir);
        dirs.push(dir);
        const out = (model as BertForSequenceClassification).forward(ints(x), { attentionMask: ints(m) }) as unknown as Record<string, nb.Tensor>;
        want.push(vals(out.logits ?? nb.concat([out.startLogits, out.endLogits], 1)));
      }
      const tmp = await tempDir('nabla-bert-hf-spec-');
      await writeFile(join(tmp, 'spec.json'), JSON.stringify({ ids: x, mask: m, dirs }));
      await writeFile(join(tmp, 'check.py'), script);
      const { stdout } = await promisify(execFile)(python!, [join(tmp, 'check.py'), join(tmp, 'spec.json')], { maxBuffer: 64 << 20 });
      const got = JSON.parse(stdout.trim().split('\n').pop()!) as number[][];
      got.forEach((g, i) => {
        const d = maxDiff(g, want[i]);
        console.log(`transformers ${models[i].architecture}: max |Δ| ${d.toExponential(2)}`);
        expect(d, models[i].architecture).toBeLessThan(1e-4);
      });
    },
    120_000,
  );
});
