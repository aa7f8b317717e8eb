// Chat templates: the default transcript for models without one, and a model's own Jinja template
// found where transformers saves it (chat_template.jinja, chat_template.json, tokenizer_config.json),
// with its bos/eos tokens; a template that refuses a conversation says why.
import { describe, it, expect } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ChatTemplate, ChatTemplateError, DEFAULT_CHAT_STOP, DEFAULT_CHAT_TEMPLATE, loadChatTemplate } from '../../src/text/chat-template.js';
import { tempDir } from '../helpers/tmp.js';

// The ChatML template (Qwen, many fine-tunes), as tokenizer_config.json stores it.
const CHATML =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
// Llama 2's, which starts with the BOS token and refuses roles out of order.
const LLAMA2 =
  "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + ' ' + eos_token }}{% endif %}{% endfor %}";

const CONVERSATION = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hi' },
  { role: 'assistant', content: 'Hello!' },
  { role: 'user', content: 'Bye' },
];

describe('chat templates', () => {
  it('the default template: a plain transcript ending with "Assistant:", assistant turns closed by EOS', () => {
    const t = new ChatTemplate(DEFAULT_CHAT_TEMPLATE, { eosToken: '<|endoftext|>', stop: DEFAULT_CHAT_STOP });
    expect(t.render(CONVERSATION)).toBe('Be brief.\n\nUser: Hi\nAssistant: Hello!<|endoftext|>\nUser: Bye\nAssistant:');
    expect(t.render(CONVERSATION, { addGenerationPrompt: false })).toBe('Be brief.\n\nUser: Hi\nAssistant: Hello!<|endoftext|>\nUser: Bye\n');
    expect(new ChatTemplate(DEFAULT_CHAT_TEMPLATE).render([{ role: 'assistant', content: 'x' }], { addGenerationPrompt: false })).toBe('Assistant: x\n');
  });

  it("a directory without a template gets the default one, its stop strings, and the caller's special tokens", async () => {
    const dir = await tempDir('nabla-chat-');
    const t = await loadChatTemplate(dir, { eosToken: '</s>' });
    expect(t.from).toBe('default');
    expect(t.source).toBe(DEFAULT_CHAT_TEMPLATE);
    expect(t.stop).toEqual(['\nUser:']);
    expect(t.eosToken).toBe('</s>');
  });

  it("tokenizer_config.json's chat_template, with bos and eos tokens given as strings or AddedToken objects", async () => {
    const dir = await tempDir('nabla-chat-');
    await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: LLAMA2, bos_token: { content: '<s>', lstrip: false }, eos_token: '</s>', add_bos_token: true }));
    const t = await loadChatTemplate(dir, { bosToken: 'IGNORED', eosToken: 'IGNORED' });
    expect(t.from).toBe('tokenizer_config.json');
    expect(t.stop).toEqual([]);
    expect(t.render(CONVERSATION.slice(1))).toBe('<s>[INST] Hi [/INST] Hello! </s>[INST] Bye [/INST]');
    expect(() => t.render(CONVERSATION)).toThrow(ChatTemplateError);
    expect(() => t.render(CONVERSATION)).toThrow(/Conversation roles must alternate/);
  });

  it('chat_template.jinja comes before tokenizer_config.json; a list of named templates uses "default"', async () => {
    const dir = await tempDir('nabla-chat-');
    await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: LLAMA2, eos_token: '<|im_end|>' }));
    await writeFile(join(dir, 'chat_template.jinja'), CHATML);
    const t = await loadChatTemplate(dir);
    expect(t.from).toBe('chat_template.jinja');
    expect(t.eosToken).toBe('<|im_end|>');
    expect(t.render([{ role: 'user', content: 'Hi' }])).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');

    const listed = await tempDir('nabla-chat-');
    await writeFile(
      join(listed, 'tokenizer_config.json'),
      JSON.stringify({
        chat_template: [
          { name: 'tool_use', template: 'TOOLS' },
          { name: 'default', template: CHATML },
        ],
      }),
    );
    expect((await loadChatTemplate(listed)).render([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: false })).toBe('<|im_start|>user\nHi<|im_end|>\n');
  });

  it("an adapter directory without a template takes its base model's (dirs in order)", async () => {
    const adapter = await tempDir('nabla-chat-');
    const base = await tempDir('nabla-chat-');
    await writeFile(join(base, 'chat_template.json'), JSON.stringify({ chat_template: CHATML }));
    const t = await loadChatTemplate([adapter, base]);
    expect(t.from).toBe('chat_template.json');
  });

  it('a template that does not parse, or a chat_template of the wrong type, is an error naming it', async () => {
    expect(() => new ChatTemplate('{% for m in messages %}', { from: 'tokenizer_config.json' })).toThrow(/chat template in tokenizer_config.json does not parse/);
    const dir = await tempDir('nabla-chat-');
    await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: 42 }));
    await expect(loadChatTemplate(dir)).rejects.toThrow(/chat_template must be a string or a list/);
  });
});
