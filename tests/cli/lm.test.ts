// The language-model commands as a user runs them: train gpt (char and BPE), resume, generate,
// eval DIR --text, finetune; checkpoints in the Hugging Face layout.
import { describe, it, expect, beforeAll } from 'vitest';
import { cp, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { nabla, bin } from '../helpers/cli.js';
import { SHAKESPEARE_PATH } from '../helpers/corpus.js';
import { fromPretrained } from '../../src/models/pretrained.js';
import type { GPTClassifier } from '../../src/models/gpt-classifier.js';

const corpus = SHAKESPEARE_PATH;
const jsonLines = (s: string) =>
  s
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
const small = ['--layers', '2', '--heads', '2', '--dim', '32', '--context', '32', '--batch-size', '8', '--eval-iters', '4', '--sample-tokens', '40', '--threads', '1'];

describe('nabla train gpt / generate / eval / finetune', () => {
  let dir = '',
    text = '';
  beforeAll(async () => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build (npm test does)`);
    dir = await tempDir('nabla-lm-');
    text = join(dir, 'shakespeare-60k.txt');
    await writeFile(text, (await readFile(corpus, 'utf8')).slice(0, 60_000));
  });

  it('trains a char GPT, checkpoints in the HF layout; resuming a finished run is a no-op and a changed option is refused', async () => {
    const full = join(dir, 'full');
    const a = await nabla('train', 'gpt', '--text', text, ...small, '--steps', '40', '--eval-every', '20', '--save', full, '--json');
    expect(a.code, a.stderr).toBe(0);
    const lines = jsonLines(a.stdout);
    const evals = lines.filter((l) => l.event === 'eval');
    expect(evals.map((e) => e.step)).toEqual([20, 40]);
    expect(evals[1].val_loss).toBeLessThan(Math.log(60)); // below a uniform guess over the ~60 characters
    expect(typeof evals[1].sample).toBe('string');
    const end = lines.at(-1);
    expect(end.event).toBe('end');
    expect((await readdir(full)).sort()).toEqual(['config.json', 'model.safetensors', 'nabla-checkpoint.json', 'optimizer.safetensors', 'tokenizer.json', 'trainer_state.json']);
    const cfg = JSON.parse(await readFile(join(full, 'config.json'), 'utf8'));
    expect(cfg.model_type).toBe('gpt2');
    expect(cfg.n_layer).toBe(2);

    // resuming a finished run has nothing left to do; changing a run option is refused
    const again = await nabla('train', 'gpt', '--resume', full, '--text', text, '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(jsonLines(again.stdout).at(-1).val_loss).toBeCloseTo(evals[1].val_loss, 6);
    const bad = await nabla('train', 'gpt', '--resume', full, '--text', text, '--steps', '60', '--json');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--steps 60 differs from the run being resumed \(40\)/);
  });

  it('generates (streaming), evaluates perplexity on a text, and fine-tunes on new text', async () => {
    const model = join(dir, 'full');
    const g = await nabla('generate', model, '--prompt', 'ROMEO:', '--max-new-tokens', '30', '--seed', '3', '--threads', '1');
    expect(g.code, g.stderr).toBe(0);
    expect(g.stdout.startsWith('ROMEO:')).toBe(true);
    expect(g.stdout.length).toBeGreaterThanOrEqual('ROMEO:'.length + 25); // 30 characters (char tokens), less any stripped
    expect(g.stderr).toMatch(/30 tokens in [\d.]+ s/);
    const g2 = await nabla('generate', model, '--prompt', 'ROMEO:', '--max-new-tokens', '30', '--seed', '3', '--threads', '1', '--json');
    expect(JSON.parse(g2.stdout).text).toBe(g.stdout.slice('ROMEO:'.length));
    const greedy = await nabla('generate', model, '--prompt', 'ROMEO:', '--max-new-tokens', '10', '--temperature', '0', '--json');
    expect(JSON.parse(greedy.stdout).tokens).toBe(10);

    const e = await nabla('eval', model, '--text', text, '--json');
    expect(e.code, e.stderr).toBe(0);
    const ev = JSON.parse(e.stdout);
    expect(ev.perplexity).toBeCloseTo(Math.exp(ev.loss), 6);
    expect(ev.perplexity).toBeLessThan(60);

    const other = join(dir, 'other.txt');
    // characters the char model has not seen would be refused (with the character named), so keep to its alphabet
    const seen = new Set(await readFile(text, 'utf8'));
    await writeFile(other, [...(await readFile(corpus, 'utf8')).slice(200_000, 230_000)].filter((ch) => seen.has(ch)).join(''));
    const f = await nabla(
      'finetune',
      model,
      '--text',
      other,
      '--save',
      join(dir, 'tuned'),
      '--steps',
      '10',
      '--eval-every',
      '10',
      '--batch-size',
      '8',
      '--eval-iters',
      '2',
      '--sample-tokens',
      '0',
      '--json',
    );
    expect(f.code, f.stderr).toBe(0);
    expect(jsonLines(f.stdout).at(-1).event).toBe('end');
    expect(existsSync(join(dir, 'tuned', 'model.safetensors'))).toBe(true);
  });

  it('trains with a byte-level BPE tokenizer it learns from the text', async () => {
    const out = join(dir, 'bpe');
    const r = await nabla('train', 'gpt', '--text', text, '--tokenizer', 'bpe', '--vocab-size', '400', ...small, '--steps', '10', '--eval-every', '10', '--save', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const tok = JSON.parse(await readFile(join(out, 'tokenizer.json'), 'utf8'));
    expect(tok.model.type).toBe('BPE');
    expect(Object.keys(tok.model.vocab).length + (tok.added_tokens?.length ?? 0)).toBeGreaterThanOrEqual(399);
    const g = await nabla('generate', out, '--prompt', 'KING', '--max-new-tokens', '5', '--json');
    expect(JSON.parse(g.stdout).tokens).toBe(5);
  });

  it('rejects bad flags and missing files with clear errors', async () => {
    const a = await nabla('train', 'gpt', '--text', join(dir, 'nope.txt'));
    expect(a.code).not.toBe(0);
    expect(a.stderr).toMatch(/--text: cannot read .*nope\.txt/);
    const b = await nabla('train', 'gpt', '--text', text, '--tokenizer', 'words');
    expect(b.stderr).toMatch(/--tokenizer must be char or bpe/);
    const c = await nabla('train', 'gpt', '--text', text, '--preset', 'huge');
    expect(c.stderr).toMatch(/--preset must be one of tiny, small-char, gpt2/);
    const d = await nabla('eval', join(dir, 'full'));
    expect(d.stderr).toMatch(/use `nabla eval DIR --text FILE`/);
  });
});

describe('nabla finetune with LoRA and for classification', () => {
  let dir = '',
    text = '',
    base = '';
  beforeAll(async () => {
    dir = await tempDir('nabla-ft-');
    text = join(dir, 'shakespeare-40k.txt');
    await writeFile(text, (await readFile(corpus, 'utf8')).slice(0, 40_000));
    base = join(dir, 'base');
    const r = await nabla('train', 'gpt', '--text', text, ...small, '--steps', '30', '--eval-every', '30', '--save', base, '--json');
    expect(r.code, r.stderr).toBe(0);
  });

  it('--lora trains adapters only and saves them in the PEFT layout; generate loads base + adapter; --merge saves a whole model', async () => {
    const out = join(dir, 'lora');
    const r = await nabla(
      'finetune',
      base,
      '--text',
      text,
      '--lora',
      '4',
      '--steps',
      '10',
      '--eval-every',
      '10',
      '--batch-size',
      '8',
      '--eval-iters',
      '2',
      '--sample-tokens',
      '0',
      '--save',
      out,
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    expect((await readdir(out)).filter((f) => !f.startsWith('.')).sort()).toEqual([
      'adapter_config.json',
      'adapter_model.safetensors',
      'nabla-checkpoint.json',
      'optimizer.safetensors',
      'tokenizer.json',
      'trainer_state.json',
    ]);
    const cfg = JSON.parse(await readFile(join(out, 'adapter_config.json'), 'utf8'));
    expect(cfg.peft_type).toBe('LORA');
    expect(cfg.r).toBe(4);
    expect(cfg.lora_alpha).toBe(8);
    expect(cfg.target_modules.slice().sort()).toEqual(['c_attn', 'c_fc', 'c_proj']);
    expect(cfg.fan_in_fan_out).toBe(true);
    const g = await nabla('generate', out, '--prompt', 'the ', '--max-new-tokens', '8', '--json');
    expect(g.code, g.stderr).toBe(0);
    expect(JSON.parse(g.stdout).tokens).toBe(8);
    // The base is stored relative to the adapter, so the two move together.
    expect(cfg.base_model_name_or_path).toBe('../base');
    const moved = join(dir, 'moved');
    await mkdir(moved);
    await cp(base, join(moved, 'base'), { recursive: true });
    await rename(out, join(moved, 'lora'));
    const gm = await nabla('generate', join(moved, 'lora'), '--prompt', 'the ', '--max-new-tokens', '8', '--json');
    expect(gm.code, gm.stderr).toBe(0);
    expect(JSON.parse(gm.stdout).text).toBe(JSON.parse(g.stdout).text);

    const merged = join(dir, 'merged');
    const m = await nabla(
      'finetune',
      base,
      '--text',
      text,
      '--lora',
      '4',
      '--merge',
      '--steps',
      '10',
      '--eval-every',
      '10',
      '--batch-size',
      '8',
      '--eval-iters',
      '2',
      '--sample-tokens',
      '0',
      '--save',
      merged,
      '--json',
    );
    expect(m.code, m.stderr).toBe(0);
    expect(existsSync(join(merged, 'model.safetensors'))).toBe(true);
    expect(existsSync(join(merged, 'adapter_config.json'))).toBe(false);
    // the merged model gives the adapter model's loss (same weights, merged)
    const e1 = JSON.parse((await nabla('eval', merged, '--text', text, '--json')).stdout);
    expect(e1.perplexity).toBeGreaterThan(1);
  });

  it('--task classify fine-tunes a classification head and reports held-out accuracy and F1', async () => {
    const pos = ['sweet', 'merry', 'fair', 'noble', 'gentle', 'kind'],
      neg = ['foul', 'vile', 'wicked', 'cruel', 'base', 'false'];
    const who = ['the king', 'my lord', 'thy brother', 'the duke', 'her father', 'this knight'];
    const lines: string[] = [];
    for (let i = 0; i < 240; i++) {
      const good = i % 2 === 0,
        words = good ? pos : neg;
      lines.push(JSON.stringify({ text: `${who[(i >> 1) % who.length]} is ${words[(i * 7) % words.length]}`, label: good ? 'positive' : 'negative' }));
    }
    const data = join(dir, 'sentiment.jsonl');
    await writeFile(data, lines.join('\n'));
    const out = join(dir, 'clf');
    const r = await nabla('finetune', base, '--task', 'classify', '--data', data, '--epochs', '4', '--batch-size', '16', '--lr', '3e-3', '--save', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const end = jsonLines(r.stdout).at(-1);
    expect(end.event).toBe('end');
    expect(end.labels).toEqual(['negative', 'positive']);
    expect(end.accuracy).toBeGreaterThan(0.8);
    expect(end.f1).toBeGreaterThan(0.8);
    const cfg = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(cfg.architectures).toEqual(['GPT2ForSequenceClassification']);
    expect(cfg.id2label).toEqual({ 0: 'negative', 1: 'positive' });
    const bad = await nabla('finetune', base, '--task', 'classify', '--save', out);
    expect(bad.stderr).toMatch(/needs --data FILE.jsonl/);

    // The classifier classifies: from the command line (texts and a file of lines) and as a library.
    const c = await nabla('classify', out, '--text', 'the duke is noble', 'thy brother is vile', '--json');
    expect(c.code, c.stderr).toBe(0);
    const rows = jsonLines(c.stdout);
    expect(rows.map((x) => x.label)).toEqual(['positive', 'negative']);
    for (const x of rows) {
      expect(x.score).toBe(Math.max(...Object.values(x.probabilities as Record<string, number>)));
      expect(Object.values(x.probabilities as Record<string, number>).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    const file = join(dir, 'reviews.txt');
    await writeFile(file, 'my lord is gentle\n\nthe king is cruel\n');
    const f = await nabla('classify', out, '--file', file);
    expect(f.code, f.stderr).toBe(0);
    expect(
      f.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('\t')[0]),
    ).toEqual(['positive', 'negative']);
    const { task, model, tokenizer } = await fromPretrained(out);
    expect(task).toBe('text-classification');
    const [lib] = await (model as GPTClassifier).classify('the duke is noble', tokenizer!);
    expect(lib.label).toBe('positive');
    expect(lib.score).toBeCloseTo(rows[0].score, 5);
    // Other commands say what the directory holds instead of failing on its tensors.
    const g = await nabla('generate', out, '--prompt', 'the ');
    expect(g.code).toBe(1);
    expect(g.stderr).toMatch(/holds a text classifier \(GPT2ForSequenceClassification, labels negative, positive\), not a language model; classify texts with `nabla classify DIR/);
    const lm = await nabla('classify', base, '--text', 'hello');
    expect(lm.stderr).toMatch(/holds a language model, not a text classifier/);
    const mnist = await nabla('eval', 'mnist', '--load', base);
    expect(mnist.stderr).toMatch(
      /holds a Hugging Face 'gpt2' model \(config\.json model_type\), e\.g\. a language model: evaluate it with `nabla eval DIR --text FILE`; expected an MNIST checkpoint \(mlp or cnn/,
    );
  });
});
