// Chat fine-tuning (finetuneChat, `nabla finetune DIR --chat`): the loss mask is exactly the
// assistant turns (with the token that ends them) for the default template and a ChatML one,
// malformed JSONL lines are refused with their line, and a tiny model learns to answer a handful of
// questions greedily, saved with the template the server then renders with.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as nb from '../../src/index.js';
import { GPT } from '../../src/models/gpt.js';
import { CharTokenizer } from '../../src/text/index.js';
import { ChatTemplate, DEFAULT_CHAT_STOP, DEFAULT_CHAT_TEMPLATE, loadChatTemplate } from '../../src/text/chat-template.js';
import { finetuneChat, readChatJsonl, tokenizeChat, IGNORE_INDEX } from '../../src/recipes/finetune.js';
import { fromPretrained, languageModelFrom } from '../../src/models/pretrained.js';
import { disposeModel } from '../../src/models/gpt2-files.js';
import { tempDir } from '../helpers/tmp.js';
import { nabla, bin } from '../helpers/cli.js';

const EOT = '<|endoftext|>';
const QA: [string, string][] = [
  ['sky?', 'blue'],
  ['grass?', 'green'],
  ['snow?', 'white'],
  ['coal?', 'black'],
];
const line = (q: string, a: string) =>
  JSON.stringify({
    messages: [
      { role: 'user', content: q },
      { role: 'assistant', content: a },
    ],
  });

/** The labels a conversation's text should get: the characters of each [start, end) span learn, the rest are ignored. */
function expectedLabels(tok: CharTokenizer, text: string, spans: [number, number][]): { ids: number[]; labels: number[] } {
  const ids: number[] = [],
    labels: number[] = [];
  for (let i = 0; i < text.length; ) {
    const special = text.startsWith(EOT, i) ? EOT : text.startsWith('<|im_end|>', i) ? '<|im_end|>' : text.startsWith('<|im_start|>', i) ? '<|im_start|>' : null;
    const piece = special ?? text[i];
    const id = tok.encode(piece, { addSpecialTokens: false });
    expect(id.length).toBe(1);
    ids.push(id[0]);
    labels.push(spans.some(([s, e]) => i >= s && i < e) ? id[0] : IGNORE_INDEX);
    i += piece.length;
  }
  return { ids, labels };
}

describe('tokenizeChat: the loss mask', () => {
  const text = 'You help.\nUser: hi\nAssistant: hello\nUser: bye\nAssistant: ciao\n';
  const tok = CharTokenizer.fromText(`${text}abcdefghijklmnopqrstuvwxyz|_`, { specialTokens: [EOT, '<|im_start|>', '<|im_end|>'] });
  const messages = [
    { role: 'system', content: 'You help.' },
    { role: 'user', content: 'hi' },
    { role: 'assistant', content: 'hello' },
    { role: 'user', content: 'bye' },
    { role: 'assistant', content: 'ciao' },
  ];

  it('default template: each assistant turn from after "Assistant:" to its eos and newline, nothing else', () => {
    const template = new ChatTemplate(DEFAULT_CHAT_TEMPLATE, { eosToken: EOT });
    const full = template.render(messages, { addGenerationPrompt: false });
    expect(full).toBe(`You help.\n\nUser: hi\nAssistant: hello${EOT}\nUser: bye\nAssistant: ciao${EOT}\n`);
    const a1 = full.indexOf(' hello'),
      e1 = full.indexOf('User: bye'),
      a2 = full.indexOf(' ciao');
    const want = expectedLabels(tok, full, [
      [a1, e1],
      [a2, full.length],
    ]);
    const got = tokenizeChat(messages, template, tok);
    expect(got.ids).toEqual(want.ids);
    expect(got.labels).toEqual(want.labels);
    // the learned tokens decode to the two replies with their end
    expect(tok.decode(got.labels.filter((l) => l !== IGNORE_INDEX))).toBe(` hello${EOT}\n ciao${EOT}\n`);
  });

  it('a ChatML template: the reply, <|im_end|> and the newline learn; role headers and the user do not', () => {
    const chatml =
      "{%- for m in messages -%}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>' + '\\n' }}{%- endfor -%}{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}";
    const template = new ChatTemplate(chatml, { eosToken: '<|im_end|>' });
    const got = tokenizeChat(messages.slice(1), template, tok);
    const learned = tok.decode(got.labels.filter((l) => l !== IGNORE_INDEX));
    expect(learned).toBe('hello<|im_end|>\nciao<|im_end|>\n');
    expect(tok.decode(got.ids)).toBe(template.render(messages.slice(1), { addGenerationPrompt: false }));
    // the first learned token is the one right after the generation prompt
    const first = got.labels.findIndex((l) => l !== IGNORE_INDEX);
    expect(tok.decode(got.ids.slice(0, first))).toBe(template.render(messages.slice(1, 2), { addGenerationPrompt: true }));
  });

  it('messages after the last assistant turn are left out; a template that rewrites earlier turns is refused', () => {
    const template = new ChatTemplate(DEFAULT_CHAT_TEMPLATE, { eosToken: EOT });
    const got = tokenizeChat([...messages.slice(1, 3), { role: 'user', content: 'hi' }], template, tok);
    expect(tok.decode(got.ids)).toBe(`User: hi\nAssistant: hello${EOT}\n`);
    // shows only the last message: the conversation before a turn is not a prefix of the one with it
    const lastOnly = new ChatTemplate("{{ messages[-1]['content'] }}{% if add_generation_prompt %}:{% endif %}");
    expect(() => tokenizeChat(messages.slice(1), lastOnly, tok)).toThrow(/not a prefix/);
  });
});

describe('readChatJsonl', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await tempDir('nabla-chat-jsonl-');
  });
  const read = async (text: string) => {
    const f = join(dir, `d${Math.random().toString(36).slice(2)}.jsonl`);
    await writeFile(f, text);
    return readChatJsonl(f);
  };

  it('reads messages (blank lines skipped) and names the line of a malformed one', async () => {
    const ok = await read(`${line('a', 'b')}\n\n${line('c', 'd')}\n`);
    expect(ok.map((e) => e.messages.map((m) => m.content))).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    await expect(read(`${line('a', 'b')}\n{"messages": [`)).rejects.toThrow(/line 2 is not JSON/);
    await expect(read(`${line('a', 'b')}\n${JSON.stringify({ text: 'x' })}`)).rejects.toThrow(/line 2: expected an object \{"messages"/);
    await expect(read(JSON.stringify({ messages: [{ role: 'user', content: 'a' }, { role: 'assistant' }] }))).rejects.toThrow(
      /line 1: messages\[1\] must be an object with a string "role" and a string "content"/,
    );
    await expect(read(JSON.stringify({ messages: [{ role: 'user', content: 'a' }] }))).rejects.toThrow(/line 1: no message has the role "assistant"/);
    await expect(read('\n\n')).rejects.toThrow(/has no examples/);
  });
});

describe('finetuneChat', () => {
  let dir = '',
    base = '',
    data = '';
  beforeAll(async () => {
    dir = await tempDir('nabla-chat-sft-');
    const tokenizer = CharTokenizer.fromText(`User: Assistant:\n${QA.flat().join(' ')}`, { specialTokens: [EOT] });
    nb.manualSeed(3);
    base = join(dir, 'base');
    await new GPT({ vocabSize: tokenizer.vocabSize, nPositions: 40, nEmbd: 32, nLayer: 2, nHead: 2, dropout: 0, bosTokenId: null, eosTokenId: null }).savePretrained(base, {
      tokenizer,
    });
    data = join(dir, 'qa.jsonl');
    await writeFile(data, Array.from({ length: 12 }, (_, i) => line(...QA[i % 4])).join('\n'));
  });

  it('learns to answer four questions greedily; the held-out loss falls; the template and its eos are saved for serving', async () => {
    const out = join(dir, 'chat');
    const r = await finetuneChat({ model: base, data, save: out, steps: 60, batchSize: 4, lr: 2e-2, valFraction: 0.25, seed: 1 });
    expect(r.valExamples).toBe(3);
    expect(r.trainExamples).toBe(9);
    expect(r.step).toBe(60);
    expect(r.valLoss).toBeLessThan(r.initialValLoss / 4);
    expect(r.eosToken).toBe(EOT); // the config names no eos id; the tokenizer's <|endoftext|> ends the turns
    expect(r.template).toBe('default');
    expect(JSON.parse(await readFile(join(out, 'tokenizer_config.json'), 'utf8')).eos_token).toBe(EOT);
    expect(await readFile(join(out, 'chat_template.jinja'), 'utf8')).toBe(DEFAULT_CHAT_TEMPLATE);

    // as the server loads it: the saved default template keeps its eos and its stop strings
    const template = await loadChatTemplate(out);
    expect(template.from).toBe('chat_template.jinja');
    expect(template.eosToken).toBe(EOT);
    expect(template.stop).toEqual(DEFAULT_CHAT_STOP);
    const { model, tokenizer } = await languageModelFrom(out, 'test');
    const eos = tokenizer.tokenToId(EOT)!;
    for (const [q, a] of QA) {
      const prompt = tokenizer.encode(template.render([{ role: 'user', content: q }]), { addSpecialTokens: false });
      const outIds = await model.generateAsync([prompt], { maxNewTokens: 10, temperature: 0, stop: [[eos]] });
      const reply = tokenizer.decode(Array.from(await outIds.data()).slice(prompt.length), { skipSpecialTokens: true });
      outIds.dispose();
      expect(reply.trim()).toBe(a);
    }
    disposeModel(model);
  });

  it('with LoRA: adapters alone with a relative base path, and the template beside them', async () => {
    const out = join(dir, 'lora');
    const r = await finetuneChat({ model: base, data, save: out, steps: 4, batchSize: 4, lora: { r: 4, alpha: 8, dropout: 0, targetModules: ['c_attn'] } });
    expect(r.merged).toBe(false);
    const cfg = JSON.parse(await readFile(join(out, 'adapter_config.json'), 'utf8'));
    expect(cfg.base_model_name_or_path).toBe('../base');
    expect(existsSync(join(out, 'chat_template.jinja'))).toBe(true);
    const pre = await fromPretrained(out);
    expect(pre.task).toBe('text-generation');
  });

  it('refuses a save target that is not a checkpoint before training', async () => {
    await writeFile(join(dir, 'somefile'), 'x');
    await expect(finetuneChat({ model: base, data, save: join(dir, 'somefile'), steps: 1 })).rejects.toThrow(/is a file, not a directory/);
  });

  it('nabla finetune DIR --chat FILE --save OUT (--json)', async () => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build (npm test does)`);
    const out = join(dir, 'cli');
    const c = await nabla('finetune', base, '--chat', data, '--save', out, '--steps', '6', '--batch-size', '4', '--lr', '1e-2', '--val-fraction', '0.25', '--threads', '1', '--json');
    expect(c.code, c.stderr).toBe(0);
    const end = JSON.parse(c.stdout.trim().split('\n').at(-1)!);
    expect(end).toMatchObject({ event: 'end', step: 6, train_examples: 9, val_examples: 3, template: 'default', eos_token: EOT, merged: false });
    expect(end.val_loss).toBeLessThan(end.initial_val_loss);
    const bad = await nabla('finetune', base, '--chat', data, '--task', 'classify', '--save', join(dir, 'x'));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--chat FILE is chat fine-tuning; it does not go with --task classify/);
  });
});
