// What fromPretrained refuses before it allocates or hangs: paths from files that leave the model
// directory, configs that disagree with the weights' headers or are ill-typed, model_type and other
// registry names that are Object.prototype members, adapter cycles and catastrophic target_modules
// patterns, and tokenizers whose ids do not fit the model.
import { describe, it, expect } from 'vitest';
import { mkdir, readFile, writeFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import * as nb from '../../src/index.js';
import { GPT } from '../../src/models/gpt.js';
import { GPT_PRESETS, type GPTConfig } from '../../src/models/gpt-config.js';
import { MLP } from '../../src/models/mlp.js';
import { fromPretrained, type PretrainedLM } from '../../src/models/pretrained.js';
import { gpt2ConfigFromHF } from '../../src/models/gpt2-files.js';
import { injectLora, mergeAndUnload } from '../../src/nn/lora.js';
import { CharTokenizer } from '../../src/text/index.js';
import { layerFromConfig } from '../../src/keras/layers.js';
import { activationModule } from '../../src/keras/activations.js';
import { resolveLossName } from '../../src/keras/losses.js';
import { corpusBleu } from '../../src/text/bleu.js';
import { tempDir } from '../helpers/tmp.js';

const SMALL: Partial<GPTConfig> = { vocabSize: 11, nPositions: 16, nEmbd: 8, nLayer: 2, nHead: 2, dropout: 0, bosTokenId: null, eosTokenId: null };
const vals = (t: nb.Tensor): number[] => Array.from(t.dataSync());

/** A saved small GPT-2 directory (with a 10-character tokenizer unless `tokenizer` is false). */
async function modelDir(seed = 1, tokenizer = true): Promise<string> {
  nb.manualSeed(seed);
  const m = new GPT(SMALL);
  const dir = await tempDir('nabla-pc-');
  await m.savePretrained(dir, tokenizer ? { tokenizer: CharTokenizer.fromText('abcdefghij') } : {});
  return dir;
}

async function editConfig(dir: string, edit: (c: Record<string, unknown>) => void): Promise<string> {
  const path = join(dir, 'config.json');
  const c = JSON.parse(await readFile(path, 'utf8'));
  edit(c);
  await writeFile(path, JSON.stringify(c));
  return path;
}

/** Resolves to the error (or null) within `ms`, else says the call is still running. */
async function settle(p: Promise<unknown>, ms = 2000): Promise<Error | null | 'timeout'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timeout'>((r) => {
    timer = setTimeout(() => r('timeout'), ms);
  });
  try {
    return await Promise.race([
      p.then(
        () => null,
        (e: Error) => e,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('paths from files stay in their directory', () => {
  it('refuses index entries that leave the model directory, naming the index file and the entry', async () => {
    const dir = await modelDir(2, false);
    const st = await readFile(join(dir, 'model.safetensors'));
    const { rm } = await import('node:fs/promises');
    await rm(join(dir, 'model.safetensors'));
    await writeFile(join(dir, 'model-00001-of-00001.safetensors'), st);
    const index = join(dir, 'model.safetensors.index.json');
    for (const bad of ['../../../../etc/passwd', '/etc/passwd', 'sub/../../x.safetensors', '..']) {
      await writeFile(index, JSON.stringify({ weight_map: { 'transformer.wte.weight': bad } }));
      await expect(fromPretrained(dir)).rejects.toThrow(`${index}: weight_map entry 'transformer.wte.weight' names ${JSON.stringify(bad)}, which is outside the model directory`);
    }
    for (const [map, msg] of [
      [[1, 2], /weight_map must be an object of tensor name → file name/],
      [{ 'transformer.wte.weight': 5 }, /weight_map entry 'transformer.wte.weight' must be a file name, got 5/],
    ] as const) {
      await writeFile(index, JSON.stringify({ weight_map: map }));
      await expect(fromPretrained(dir)).rejects.toThrow(msg);
    }
    // a file inside (even through sub/..) is fine
    const names = [...nb.io.decodeSafetensors(new Uint8Array(st)).tensors.keys()];
    await writeFile(index, JSON.stringify({ weight_map: Object.fromEntries(names.map((k) => [k, 'sub/../model-00001-of-00001.safetensors'])) }));
    const { model } = await fromPretrained(dir);
    expect(model.config.nLayer).toBe(2);
  });
});

describe('config.json against the weights', () => {
  it('compares the config with the safetensors header before building the model', async () => {
    const dir = await modelDir(3);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ n_layer: 1e6 }, /config\.json has n_layer 1000000, but the weights in .* hold 2 layers \(transformer\.h\.0 to transformer\.h\.1\)/],
      [{ vocab_size: 2e7 }, /'transformer\.wte\.weight' has shape \[11,8\] in .*, but config\.json gives \[20000000,8\] \(vocab_size, n_embd\)/],
      [{ n_positions: 1e6 }, /'transformer\.wpe\.weight' has shape \[16,8\] .* gives \[1000000,8\] \(n_positions, n_embd\)/],
      [{ n_inner: 1e6 }, /'transformer\.h\.0\.mlp\.c_fc\.weight' has shape \[8,32\] .* gives \[8,1000000\] \(n_embd, n_inner\)/],
      [{ n_layer: 1 }, /config\.json has n_layer 1, but the weights in .* hold 2 layers/],
    ];
    for (const [edit, msg] of cases) {
      await editConfig(dir, (c) => {
        c.n_layer = 2;
        c.vocab_size = 11;
        c.n_positions = 16;
        c.n_inner = null;
        Object.assign(c, edit);
      });
      const t0 = Date.now();
      const err = await settle(fromPretrained(dir));
      expect(err, JSON.stringify(edit)).toBeInstanceOf(Error);
      expect((err as Error).message, JSON.stringify(edit)).toMatch(msg);
      expect((err as Error).message).toContain(`in ${dir}`);
      expect(Date.now() - t0).toBeLessThan(2000);
    }
  });

  it('names the file and the field of a null, ill-typed or out-of-range value, never a TypeError', async () => {
    const dir = await modelDir(4);
    const cases: [Record<string, unknown>, string][] = [
      [{ n_embd: null }, 'needs a number n_embd, got null'],
      [{ n_head: '12' }, 'needs a number n_head, got "12"'],
      [{ n_layer: 1.5 }, 'n_layer must be a positive integer, got 1.5'],
      [{ n_layer: -2 }, 'n_layer must be a positive integer, got -2'],
      [{ vocab_size: 0 }, 'vocab_size must be a positive integer, got 0'],
      [{ n_embd: 9, n_head: 2 }, 'n_embd 9 is not divisible by n_head 2'],
      [{ n_inner: 'big' }, 'n_inner must be null or a positive integer, got "big"'],
      [{ layer_norm_epsilon: -1 }, 'layer_norm_epsilon must be a positive number, got -1'],
      [{ attn_pdrop: 2 }, 'attn_pdrop must be in [0, 1], got 2'],
      [{ tie_word_embeddings: 'yes' }, 'tie_word_embeddings must be true or false, got "yes"'],
      [{ eos_token_id: -1 }, 'eos_token_id must be null or a non-negative integer, got -1'],
      [{ activation_function: 7 }, 'activation_function 7 is not supported'],
    ];
    const original = await readFile(join(dir, 'config.json'), 'utf8');
    for (const [edit, msg] of cases) {
      await writeFile(join(dir, 'config.json'), original);
      const path = await editConfig(dir, (c) => Object.assign(c, edit));
      const err = await settle(fromPretrained(dir));
      expect(err, JSON.stringify(edit)).toBeInstanceOf(Error);
      expect((err as Error).constructor, JSON.stringify(edit)).toBe(Error);
      expect((err as Error).message, JSON.stringify(edit)).toContain(`${path}: ${msg}`);
    }
    await writeFile(join(dir, 'config.json'), '[1, 2]');
    await expect(fromPretrained(dir)).rejects.toThrow(`${join(dir, 'config.json')} is not a JSON object`);
    expect(() => gpt2ConfigFromHF({ n_layer: null })).toThrow('config.json: needs a number n_layer, got null');
  });

  it("says unsupported model_type for names that are Object.prototype's members", async () => {
    const dir = await modelDir(5);
    for (const type of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const path = await editConfig(dir, (c) => {
        c.model_type = type;
      });
      const err = await settle(fromPretrained(dir));
      expect(err, type).toBeInstanceOf(Error);
      expect((err as Error).message, type).toBe(`fromPretrained: ${path} has model_type ${JSON.stringify(type)}; supported: gpt2, llama, qwen2, mistral, bert, distilbert, roberta`);
    }
  });

  it('other registries indexed by names from users or files say unknown name', () => {
    for (const name of ['constructor', '__proto__', 'toString']) {
      expect(GPT_PRESETS[name], name).toBeUndefined();
      expect(() => layerFromConfig({ className: name, config: {} } as never), name).toThrow(`layerFromConfig: unknown layer class '${name}'`);
      expect(() => activationModule(name), name).toThrow(`activation: unknown name '${name}'`);
      expect(() => resolveLossName(name), name).toThrow(`compile: unknown loss '${name}'`);
      expect(() => new MLP({ activation: name as never }), name).toThrow(`MLP: unknown activation '${name}'`);
      expect(() => corpusBleu(['a'], [['a']], { smoothMethod: name as never }), name).toThrow(`bleu: unknown smoothMethod '${name}'`);
    }
    expect(Object.keys(GPT_PRESETS)).toEqual(['tiny', 'small-char', 'gpt2']);
  });
});

describe('adapter directories', () => {
  async function adapterDir(base: string, seed: number, name = 'adapter'): Promise<{ dir: string; y: number[] }> {
    const { model } = (await fromPretrained(base)) as PretrainedLM;
    if (Object.keys(model.stateDict()).some((k) => k.includes('lora_'))) mergeAndUnload(model); // as fromPretrained does with a stacked adapter
    const lora = injectLora(model, { r: 2, targetModules: ['c_attn'] });
    const gen = new nb.Generator(seed);
    for (const [, m] of lora.loraModules()) m.lora_B.weight.assignStorage(nb.uniform([...m.lora_B.weight.shape], -0.5, 0.5, { generator: gen }));
    const dir = join(await tempDir('nabla-pc-ad-'), name);
    await lora.saveAdapter(dir, { baseModelNameOrPath: base });
    model.eval();
    return { dir, y: vals(model.forward(nb.tensor([[1, 2, 3]], { dtype: 'int32' })).logits) };
  }

  it('detects cycles of base_model_name_or_path, naming the chain', async () => {
    const base = await modelDir(6);
    const { dir } = await adapterDir(base, 1);
    const cfgPath = join(dir, 'adapter_config.json');
    const cfg = JSON.parse(await readFile(cfgPath, 'utf8'));
    // with a config.json beside the adapter (as some tools write), '.' used to load itself forever
    await writeFile(join(dir, 'config.json'), await readFile(join(base, 'config.json')));
    await writeFile(cfgPath, JSON.stringify({ ...cfg, base_model_name_or_path: '.' }));
    const err = await settle(fromPretrained(dir));
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/adapter\/adapter_config\.json: base_model_name_or_path "\." forms a cycle: .*adapter → .*adapter$/);
    // a → b → a
    const { dir: other } = await adapterDir(base, 2, 'other');
    const otherCfg = JSON.parse(await readFile(join(other, 'adapter_config.json'), 'utf8'));
    await writeFile(join(other, 'config.json'), await readFile(join(base, 'config.json')));
    await writeFile(join(other, 'adapter_config.json'), JSON.stringify({ ...otherCfg, base_model_name_or_path: dir }));
    await writeFile(cfgPath, JSON.stringify({ ...cfg, base_model_name_or_path: other }));
    const err2 = await settle(fromPretrained(dir));
    expect((err2 as Error).message).toMatch(/other\/adapter_config\.json: base_model_name_or_path ".*adapter" forms a cycle: .*adapter → .*other → .*adapter$/);
  });

  it('loads an adapter whose base is another adapter (the inner one merged)', async () => {
    const base = await modelDir(7);
    const inner = await adapterDir(base, 3, 'inner');
    const outer = await adapterDir(inner.dir, 4, 'outer');
    const { model } = (await fromPretrained(outer.dir)) as PretrainedLM;
    const y = vals(model.forward(nb.tensor([[1, 2, 3]], { dtype: 'int32' })).logits);
    y.forEach((v, i) => expect(Math.abs(v - outer.y[i])).toBeLessThan(1e-4));
  });

  it('runs target_modules patterns in linear time and refuses what RE2 cannot express', async () => {
    const base = await modelDir(8);
    const { dir } = await adapterDir(base, 5);
    const cfgPath = join(dir, 'adapter_config.json');
    const cfg = JSON.parse(await readFile(cfgPath, 'utf8'));
    await writeFile(cfgPath, JSON.stringify({ ...cfg, target_modules: '(.*)*(.*)*X' }));
    const t0 = Date.now();
    await expect(fromPretrained(dir)).rejects.toThrow(/target modules '\(\.\*\)\*\(\.\*\)\*X' not found/);
    expect(Date.now() - t0).toBeLessThan(2000);
    for (const pattern of ['(c_attn)\\1', '.*(?=c_attn)c_attn', '(?<=attn\\.)c_attn']) {
      await writeFile(cfgPath, JSON.stringify({ ...cfg, target_modules: pattern }));
      await expect(fromPretrained(dir), pattern).rejects.toThrow(`${cfgPath}: target_modules ${JSON.stringify(pattern)} is not a valid regular expression for RE2`);
    }
    await writeFile(cfgPath, JSON.stringify({ ...cfg, target_modules: 5 }));
    await expect(fromPretrained(dir)).rejects.toThrow(`${cfgPath}: target_modules must be a non-empty string or list of strings, got 5`);
    // a whole-name regex as PEFT's re.fullmatch
    await writeFile(cfgPath, JSON.stringify({ ...cfg, target_modules: '.*\\.c_attn' }));
    const { model } = await fromPretrained(dir);
    expect(Object.keys(model.stateDict()).filter((k) => k.includes('lora_A'))).toEqual(['transformer.h.0.attn.c_attn.lora_A.weight', 'transformer.h.1.attn.c_attn.lora_A.weight']);
    // injectLora's own string goes through the same matcher
    const m = new GPT(SMALL);
    const t1 = Date.now();
    expect(() => injectLora(m, { targetModules: '(.*)*(.*)*X' })).toThrow(/not found in the model/);
    expect(Date.now() - t1).toBeLessThan(2000);
    expect(() => injectLora(m, { targetModules: '(a)\\1' })).toThrow(/injectLora: targetModules "\(a\)\\\\1" is not a valid regular expression for RE2/);
  });
});

describe('tokenizer against the model', () => {
  it("refuses a tokenizer whose ids do not fit the model's vocabulary, naming both files and numbers", async () => {
    const dir = await modelDir(9, false);
    await CharTokenizer.fromText('abcdefghijklmnop').save(join(dir, 'tokenizer.json')); // 16 ids > 11
    await expect(fromPretrained(dir)).rejects.toThrow(
      `fromPretrained: ${join(dir, 'tokenizer.json')} has token ids up to 15 (16 tokens), but ${join(dir, 'config.json')} has vocab_size 11`,
    );
    // special tokens count
    await CharTokenizer.fromText('abcdefghij', { specialTokens: ['<a>', '<b>'] }).save(join(dir, 'tokenizer.json')); // ids 0..11
    await expect(fromPretrained(dir)).rejects.toThrow(/has token ids up to 11 \(12 tokens\)/);
    await CharTokenizer.fromText('abcdefghij', { specialTokens: ['<a>'] }).save(join(dir, 'tokenizer.json')); // ids 0..10 fit
    const { tokenizer } = await fromPretrained(dir);
    expect(tokenizer!.vocabSize).toBe(11);
  });

  it('refuses non-regular and oversized JSON files with a clear message', async () => {
    const dir = await modelDir(10);
    await writeFile(join(dir, 'config.json'), ' '.repeat(17 * 2 ** 20));
    await expect(fromPretrained(dir)).rejects.toThrow(/config\.json: it is 17825792 bytes, more than the 16 MiB limit for this file/);
    const d2 = await modelDir(11);
    await mkdir(join(d2, 'tokenizer.json.d'));
    const { rm } = await import('node:fs/promises');
    await rm(join(d2, 'tokenizer.json'));
    await symlink(join(d2, 'tokenizer.json.d'), join(d2, 'tokenizer.json'));
    await expect(fromPretrained(d2)).rejects.toThrow(/tokenizer\.json: it is a directory, not a regular file/);
  });
});
