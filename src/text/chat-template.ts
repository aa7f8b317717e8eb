// Chat templates: turn a conversation (system/user/assistant messages) into the one prompt string a
// language model continues, as transformers' `tokenizer.apply_chat_template` does. A model's own
// template is the Jinja source saved beside it (chat_template.jinja, chat_template.json, or
// tokenizer_config.json's `chat_template`), rendered with @huggingface/jinja; a model without one
// (GPT-2, a `nabla train gpt` checkpoint) gets DEFAULT_CHAT_TEMPLATE, a plain "User: / Assistant:"
// transcript that a base model trained on ordinary text can continue.

import { Template } from '@huggingface/jinja';
import { join } from 'node:path';
import { pathExists, readJsonObject, readTextFile } from '../platform/fs.js';

/** One message of a conversation, as OpenAI's chat API and transformers' templates take it. */
export interface ChatMessage {
  /** 'system', 'user', 'assistant' (or 'tool', for templates that know it). */
  role: string;
  content: string;
  /** An optional name of the speaker (OpenAI's `name`); templates may ignore it. */
  name?: string;
}

/** Options of `ChatTemplate.render`. */
export interface RenderOptions {
  /**
   * End with the opening of an assistant turn, so that what the model writes next is the reply
   * (transformers' `add_generation_prompt`). Default true.
   */
  addGenerationPrompt?: boolean;
}

/**
 * The template for models that have none: the system message first as plain text, then one
 * "User: ..." or "Assistant: ..." line per turn, and "Assistant:" to open the reply. An assistant
 * turn ends with the model's end-of-text token when it has one (what the model writes to end its
 * reply). Its `stop` strings (below) end a reply where the model starts writing the user's next
 * turn, which a base model that has never seen this format tends to do.
 */
export const DEFAULT_CHAT_TEMPLATE = [
  '{%- for message in messages -%}',
  "{%- if message['role'] == 'system' -%}{{ message['content'] }}{{ '\\n\\n' }}",
  "{%- elif message['role'] == 'user' -%}{{ 'User: ' + message['content'] + '\\n' }}",
  "{%- elif message['role'] == 'assistant' -%}{{ 'Assistant: ' + message['content'] + (eos_token or '') + '\\n' }}",
  "{%- else -%}{{ message['role'] + ': ' + message['content'] + '\\n' }}",
  '{%- endif -%}',
  '{%- endfor -%}',
  "{%- if add_generation_prompt -%}{{ 'Assistant:' }}{%- endif -%}",
].join('');

/** Strings that end a reply rendered with DEFAULT_CHAT_TEMPLATE: the start of the next user turn. */
export const DEFAULT_CHAT_STOP: readonly string[] = ['\nUser:'];

/** A template that cannot be parsed, or that refused a conversation (its `raise_exception`). */
export class ChatTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChatTemplateError';
  }
}

/** Where `loadChatTemplate` found the template. */
export type ChatTemplateSource = 'chat_template.jinja' | 'chat_template.json' | 'tokenizer_config.json' | 'default';

/** Special tokens a template may name, as strings. */
export interface ChatSpecialTokens {
  bosToken?: string | null;
  eosToken?: string | null;
}

/**
 * A parsed chat template with the special tokens it is rendered with.
 * @example
 *   const t = new ChatTemplate(DEFAULT_CHAT_TEMPLATE, { eosToken: '<|endoftext|>' });
 *   t.render([{ role: 'user', content: 'Hi' }]) === 'User: Hi\nAssistant:'
 */
export class ChatTemplate {
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  /** Strings that end a reply besides the model's end-of-text token (DEFAULT_CHAT_STOP for the default template). */
  readonly stop: readonly string[];
  /**
   * The template puts a space between "Assistant:" and a reply, which its generation prompt leaves
   * to the model (the default template: a BPE model writes " We…" as one token). That space is the
   * separator, not the reply's: a served answer drops it, so the reply stored and rendered again
   * reads "Assistant: We…", as it was trained.
   */
  readonly replySpace: boolean;
  /** Where the template came from. */
  readonly from: ChatTemplateSource;
  private readonly template: Template;

  constructor(
    /** The Jinja source. */
    readonly source: string,
    o: ChatSpecialTokens & { stop?: readonly string[]; from?: ChatTemplateSource } = {},
  ) {
    try {
      this.template = new Template(source);
    } catch (e) {
      throw new ChatTemplateError(`the chat template${o.from ? ` in ${o.from}` : ''} does not parse: ${(e as Error).message}`);
    }
    this.bosToken = o.bosToken ?? null;
    this.eosToken = o.eosToken ?? null;
    // A saved copy of the default template (what `finetune --chat` writes beside a model) keeps its stop strings.
    this.stop = o.stop ?? (source === DEFAULT_CHAT_TEMPLATE ? DEFAULT_CHAT_STOP : []);
    this.replySpace = source === DEFAULT_CHAT_TEMPLATE;
    this.from = o.from ?? 'default';
  }

  /**
   * The prompt for `messages`. A template that refuses them (its `raise_exception`, e.g. "roles
   * must alternate user/assistant") throws a ChatTemplateError with its message.
   * (@huggingface/jinja provides raise_exception and strftime_now, as transformers does.)
   */
  render(messages: readonly ChatMessage[], opts: RenderOptions = {}): string {
    try {
      return this.template.render({
        messages: messages.map((m) => ({ ...m })),
        add_generation_prompt: opts.addGenerationPrompt ?? true,
        bos_token: this.bosToken ?? '',
        eos_token: this.eosToken ?? '',
      });
    } catch (e) {
      throw new ChatTemplateError(`the chat template (${this.from}) failed on these messages: ${(e as Error).message}`);
    }
  }
}

/** A token of tokenizer_config.json: a string, or an AddedToken object with `content`. */
function tokenString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return null;
}

/** transformers' chat_template field: a string, or a list of {name, template} where 'default' is the one used. */
function pickTemplate(v: unknown, file: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    const named = v.filter((t): t is { name: string; template: string } => typeof t?.name === 'string' && typeof t?.template === 'string');
    const t = named.find((x) => x.name === 'default') ?? named[0];
    if (t) return t.template;
  }
  throw new ChatTemplateError(`${file}: chat_template must be a string or a list of {"name", "template"} objects`);
}

const CONFIG_MAX_BYTES = 32 * 2 ** 20; // tokenizer_config.json lists every added token; a few MiB for large vocabularies
const TEMPLATE_MAX_BYTES = 2 ** 20;

/**
 * The chat template of a model directory, looked for as transformers saves it: chat_template.jinja,
 * then chat_template.json, then tokenizer_config.json's `chat_template`, in each of `dirs` in turn
 * (a PEFT adapter directory, then its base model). bos_token and eos_token come from
 * tokenizer_config.json when it names them, else from `fallback` (e.g. the model's eos id as a
 * string). Without a template anywhere, DEFAULT_CHAT_TEMPLATE with its stop strings.
 * @example const template = await loadChatTemplate('models/gpt2', { eosToken: '<|endoftext|>' })
 */
export async function loadChatTemplate(dirs: string | readonly string[], fallback: ChatSpecialTokens = {}): Promise<ChatTemplate> {
  const list = typeof dirs === 'string' ? [dirs] : dirs;
  let bosToken: string | null | undefined;
  let eosToken: string | null | undefined;
  for (const dir of list) {
    const configFile = join(dir, 'tokenizer_config.json');
    const config = (await pathExists(configFile)) ? await readJsonObject(configFile, 'chat template', CONFIG_MAX_BYTES) : null;
    if (config && bosToken === undefined && eosToken === undefined) {
      bosToken = tokenString(config.bos_token) ?? undefined;
      eosToken = tokenString(config.eos_token) ?? undefined;
    }
    const tokens = { bosToken: bosToken ?? fallback.bosToken, eosToken: eosToken ?? fallback.eosToken };
    const jinjaFile = join(dir, 'chat_template.jinja');
    if (await pathExists(jinjaFile)) return new ChatTemplate(await readTextFile(jinjaFile, TEMPLATE_MAX_BYTES), { ...tokens, from: 'chat_template.jinja' });
    const jsonFile = join(dir, 'chat_template.json');
    if (await pathExists(jsonFile)) {
      const src = pickTemplate((await readJsonObject(jsonFile, 'chat template', TEMPLATE_MAX_BYTES)).chat_template, jsonFile);
      if (src) return new ChatTemplate(src, { ...tokens, from: 'chat_template.json' });
    }
    const src = config ? pickTemplate(config.chat_template, configFile) : null;
    if (src) return new ChatTemplate(src, { ...tokens, from: 'tokenizer_config.json' });
  }
  return new ChatTemplate(DEFAULT_CHAT_TEMPLATE, {
    bosToken: bosToken ?? fallback.bosToken,
    eosToken: eosToken ?? fallback.eosToken,
    stop: DEFAULT_CHAT_STOP,
    from: 'default',
  });
}
