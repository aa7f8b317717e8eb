// The two generation endpoints, /v1/completions and /v1/chat/completions: request fields → an
// engine request, the engine's tokens → text (incremental UTF-8 decoding, stop strings), and the
// answer in OpenAI's shapes, whole or as Server-Sent Events chunk by chunk. A client that goes
// away aborts its engine request, which frees its slot within one decoding step.

import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Engine, EngineRequest, EngineResult, FinishReason } from './engine-api.js';
import type { Tokenizer } from '../text/tokenizer.js';
import { type ChatMessage, type ChatTemplate, ChatTemplateError } from '../text/chat-template.js';
import { ApiError, badRequest, toApiError } from './errors.js';
import type { ServerMetrics } from './metrics.js';
import type { ChatBody, CompletionBody, SamplingBody } from './schemas.js';
import { SSE_HEADERS, SseStream } from './sse.js';
import { TextStream } from './text-stream.js';

/** What the server serves: a generation engine over a model, its tokenizer and its chat template. */
export interface ServedModel {
  engine: Engine;
  tokenizer: Tokenizer;
  chatTemplate: ChatTemplate;
}

/** What a handler needs of the server. */
export interface GenerationContext {
  served: ServedModel;
  /** The model's id in requests and responses. */
  name: string;
  metrics: ServerMetrics;
}

/** OpenAI's max_tokens default for /v1/completions; chat completions default to the rest of the context. */
export const COMPLETION_DEFAULT_MAX_TOKENS = 16;

/** `usage` of a response. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/**
 * llama-server's `timings` (prompt and generation speed) plus the time to first token and the
 * time queued. predicted_per_second counts the tokens after the first over the time after the
 * first (the first comes from the prompt's forward pass, whose time is prompt_ms).
 */
export interface Timings {
  prompt_n: number;
  prompt_ms: number;
  prompt_per_token_ms: number | null;
  prompt_per_second: number | null;
  predicted_n: number;
  predicted_ms: number;
  predicted_per_token_ms: number | null;
  predicted_per_second: number | null;
  time_to_first_token_ms: number;
  queued_ms: number;
}

const perSecond = (n: number, ms: number) => (n > 0 && ms > 0 ? (1000 * n) / ms : null);
const perToken = (n: number, ms: number) => (n > 0 ? ms / n : null);

export function usageOf(r: EngineResult): Usage {
  return { prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens, total_tokens: r.promptTokens + r.completionTokens };
}

export function timingsOf(r: EngineResult): Timings {
  const after = Math.max(0, r.completionTokens - 1);
  return {
    prompt_n: r.promptTokens,
    prompt_ms: r.promptMs,
    prompt_per_token_ms: perToken(r.promptTokens, r.promptMs),
    prompt_per_second: perSecond(r.promptTokens, r.promptMs),
    predicted_n: r.completionTokens,
    predicted_ms: r.generationMs,
    predicted_per_token_ms: after > 0 ? r.generationMs / after : null,
    predicted_per_second: perSecond(after, r.generationMs),
    time_to_first_token_ms: r.timeToFirstTokenMs,
    queued_ms: r.queuedMs,
  };
}

/** The fields an engine request takes from a body; fields we cannot honour are refused here. */
function samplingOf(b: SamplingBody & { best_of?: number | null; suffix?: string | null; top_logprobs?: number | null }): Omit<EngineRequest, 'prompt' | 'maxTokens'> {
  if (b.n != null && b.n !== 1)
    throw badRequest(`n is ${b.n}, but this server returns one choice per request; send n = 1 (or leave it out) and make ${b.n} requests with different seeds`, 'n');
  if (b.best_of != null && b.best_of !== 1) throw badRequest('best_of must be 1 (or left out): this server generates one sequence per request', 'best_of');
  if (b.logprobs === true || (typeof b.logprobs === 'number' && b.logprobs > 0) || (b.top_logprobs ?? 0) > 0) {
    throw badRequest('log-probabilities are not returned by this server; leave out logprobs and top_logprobs', b.logprobs ? 'logprobs' : 'top_logprobs');
  }
  for (const p of ['frequency_penalty', 'presence_penalty'] as const) {
    if (b[p] != null && b[p] !== 0) throw badRequest(`${p} is not supported; leave it out (or 0), or use repetition_penalty (e.g. 1.1) to discourage repeats`, p);
  }
  if (b.logit_bias && Object.keys(b.logit_bias).length > 0) throw badRequest('logit_bias is not supported; leave it out', 'logit_bias');
  if (b.suffix) throw badRequest('suffix (insertion) is not supported by GPT-style models; leave it out', 'suffix');
  return {
    temperature: b.temperature ?? undefined,
    topP: b.top_p ?? undefined,
    topK: b.top_k == null || b.top_k < 0 ? undefined : b.top_k,
    repetitionPenalty: b.repetition_penalty ?? undefined,
    seed: b.seed ?? undefined,
  };
}

/** A 404 for a request naming another model than the one served. */
export function checkModel(model: string | undefined, name: string): void {
  if (model !== undefined && model !== name) {
    throw new ApiError(404, `The model '${model}' does not exist: this server serves '${name}' (GET /v1/models lists it); send "model": "${name}"`, {
      param: 'model',
      code: 'model_not_found',
    });
  }
}

/** The ids of a text, with the tokenizer's refusal (an unknown character) as a 400 on `param`. */
export function encodeText(tokenizer: Tokenizer, text: string, param: string, addSpecialTokens = true): number[] {
  try {
    return tokenizer.encode(text, { addSpecialTokens });
  } catch (e) {
    throw badRequest(`${param}: the model's tokenizer cannot encode it: ${(e as Error).message}`, param);
  }
}

/** Check token ids given by a client against the vocabulary. */
export function checkIds(ids: readonly number[], vocabSize: number, param: string): void {
  for (const id of ids) {
    if (id >= vocabSize) throw badRequest(`${param}: token id ${id} is not in the model's vocabulary (ids 0 to ${vocabSize - 1})`, param);
  }
}

/** max_tokens resolved against the context: a prompt that leaves no room, or too many tokens asked, is a 400 saying by how much. */
function maxTokensFor(promptLength: number, asked: number | null | undefined, fallback: number, ctx: number, promptParam: string, maxParam: string): number {
  if (promptLength > ctx) {
    throw new ApiError(400, `the prompt is ${promptLength} tokens, more than the ${ctx}-token context of this server (--ctx); shorten it by ${promptLength - ctx} tokens`, {
      param: promptParam,
      code: 'context_length_exceeded',
    });
  }
  const room = ctx - promptLength;
  if (asked == null) return Math.min(fallback, room);
  if (asked > room) {
    throw new ApiError(
      400,
      `${maxParam} is ${asked}, but the prompt (${promptLength} tokens) leaves room for ${room} in the ${ctx}-token context; ask for at most ${room}, or shorten the prompt`,
      { param: maxParam, code: 'context_length_exceeded' },
    );
  }
  return asked;
}

/** One generation to run: its prompt ids, limits, stop strings, and the shape of its answer. */
export interface Job {
  kind: 'completion' | 'chat';
  prompt: number[];
  maxTokens: number;
  sampling: Omit<EngineRequest, 'prompt' | 'maxTokens'>;
  stops: string[];
  stream: boolean;
  includeUsage: boolean;
  /** Text to put before the generated text (completions' echo). */
  echo: string;
  /** Drop one space at the start of the generated text (a chat template's separator: ChatTemplate.replySpace). */
  trimSpace?: boolean;
}

/** POST /v1/completions. */
export async function completions(ctx: GenerationContext, req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const b = req.body as CompletionBody;
  checkModel(b.model, ctx.name);
  const { engine, tokenizer } = ctx.served;
  const sampling = samplingOf(b);
  let prompt: number[];
  let promptText: string | null = null;
  const p = b.prompt;
  if (typeof p === 'string') prompt = encodeText(tokenizer, (promptText = p), 'prompt');
  else if (typeof p[0] === 'number') prompt = [...(p as number[])];
  else if (p.length !== 1) throw badRequest(`prompt holds ${p.length} prompts, but this server takes one per request; send them as separate requests`, 'prompt');
  else if (typeof p[0] === 'string') prompt = encodeText(tokenizer, (promptText = p[0]), 'prompt');
  else prompt = [...(p[0] as number[])];
  if (prompt.length === 0) throw badRequest('prompt: the prompt encodes to no tokens; send some text', 'prompt');
  checkIds(prompt, engine.vocabSize, 'prompt');
  const maxTokens = maxTokensFor(prompt.length, b.max_tokens, COMPLETION_DEFAULT_MAX_TOKENS, engine.ctx, 'prompt', 'max_tokens');
  return runJob(ctx, req, reply, {
    kind: 'completion',
    prompt,
    maxTokens,
    sampling,
    stops: stopsOf(b.stop),
    stream: b.stream === true,
    includeUsage: b.stream_options?.include_usage === true,
    echo: b.echo ? (promptText ?? decode(tokenizer, prompt, engine.eosTokenId)) : '',
  });
}

/** The messages as the chat template takes them: text parts joined, `developer` as `system`. */
export function chatMessages(body: ChatBody): ChatMessage[] {
  return body.messages.map((m, i) => {
    let content = '';
    if (typeof m.content === 'string') content = m.content;
    else if (Array.isArray(m.content)) {
      content = m.content
        .map((part, k) => {
          if (part.type !== 'text' || typeof part.text !== 'string') {
            throw badRequest(
              `messages[${i}].content[${k}] is a part of type '${part.type}'; this model reads text only: send {"type": "text", "text": "..."} parts`,
              `messages[${i}].content`,
            );
          }
          return part.text;
        })
        .join('');
    }
    return { role: m.role === 'developer' ? 'system' : m.role, content, ...(m.name !== undefined ? { name: m.name } : {}) };
  });
}

/** POST /v1/chat/completions. */
export async function chatCompletions(ctx: GenerationContext, req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const b = req.body as ChatBody;
  checkModel(b.model, ctx.name);
  return runJob(ctx, req, reply, chatJob(ctx, b));
}

/**
 * The generation a chat body asks for: the messages rendered with the chat template, the sampling
 * fields checked, max_tokens resolved against the context. Throws the 400 of a body it cannot run.
 */
export function chatJob(ctx: GenerationContext, b: ChatBody): Job {
  const { engine, tokenizer, chatTemplate } = ctx.served;
  if (Array.isArray(b.tools) && b.tools.length > 0) throw badRequest('tools (function calling) are not supported by this server; leave out tools and tool_choice', 'tools');
  if (b.response_format && b.response_format.type !== 'text') {
    throw badRequest(`response_format ${JSON.stringify(b.response_format.type)} is not supported; leave it out or send {"type": "text"}`, 'response_format');
  }
  const sampling = samplingOf(b);
  let text: string;
  try {
    text = chatTemplate.render(chatMessages(b), { addGenerationPrompt: true });
  } catch (e) {
    if (e instanceof ChatTemplateError) throw badRequest(`messages: ${e.message}`, 'messages');
    throw e;
  }
  const prompt = encodeText(tokenizer, text, 'messages', false); // the template wrote the special tokens it wants
  if (prompt.length === 0) throw badRequest('messages: the conversation renders to no tokens; send some content', 'messages');
  const asked = b.max_completion_tokens ?? b.max_tokens;
  const maxParam = b.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens';
  const maxTokens = maxTokensFor(prompt.length, asked, Number.POSITIVE_INFINITY, engine.ctx, 'messages', maxParam);
  // A chat model ends its turn with the template's eos_token (Qwen's <|im_end|>, Llama 3's
  // <|eot_id|>), which need not be the config's end-of-text id: stop on it too.
  const turnEnd = chatTemplate.eosToken === null ? undefined : tokenizer.tokenToId(chatTemplate.eosToken);
  const endOfTurn = turnEnd !== undefined && turnEnd !== engine.eosTokenId ? [[turnEnd]] : [];
  return {
    kind: 'chat',
    prompt,
    maxTokens,
    sampling: { ...sampling, stopTokens: [...(sampling.stopTokens ?? []), ...endOfTurn] },
    stops: [...stopsOf(b.stop), ...chatTemplate.stop],
    stream: b.stream === true,
    includeUsage: b.stream_options?.include_usage === true,
    echo: '',
    trimSpace: chatTemplate.replySpace,
  };
}

function stopsOf(stop: string | string[] | null | undefined): string[] {
  if (stop == null) return [];
  return typeof stop === 'string' ? [stop] : [...stop];
}

/** Text of generated ids: special tokens (EOS, a template's markers) are not part of the answer, as vLLM's skip_special_tokens. */
function decode(tokenizer: Tokenizer, ids: readonly number[], eos: number | null): string {
  return tokenizer.decode(eos === null ? ids : ids.filter((t) => t !== eos), { skipSpecialTokens: true });
}

/** How a generation ended, for the caller of {@link runJob} that keeps it (the conversation routes). */
export interface JobEnd {
  /** The generated text (without the echo), cut before a stop string. */
  text: string;
  /** 'stop', 'length', or 'abort' (the client went away, or the server shut down first). */
  finishReason: FinishReason;
  result: EngineResult;
  usage: Usage;
  timings: Timings;
  /** The client went away: nothing more is sent. */
  clientGone: boolean;
}

/** What a caller adds to a job's answer (the conversation routes: the stored messages). */
export interface JobHooks {
  /** Events sent first on a stream, before the assistant's first chunk. */
  before?: readonly unknown[];
  /**
   * Called once the generation has ended, also when the client went away (to keep what was
   * generated). Streamed: what it resolves to is sent as one more event before [DONE]. Whole: it is
   * the response body instead of the completion.
   */
  end?: (e: JobEnd) => Promise<unknown>;
}

/** Run a job on the engine and answer it, whole or streamed. */
export async function runJob(ctx: GenerationContext, req: FastifyRequest, reply: FastifyReply, job: Job, hooks: JobHooks = {}): Promise<unknown> {
  const { engine, tokenizer } = ctx.served;
  const id = `${job.kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID().replaceAll('-', '')}`;
  const created = Math.floor(Date.now() / 1000);
  const object = job.kind === 'chat' ? (job.stream ? 'chat.completion.chunk' : 'chat.completion') : 'text_completion';
  const controller = new AbortController();
  let clientGone = false;
  const onClose = () => {
    if (!reply.raw.writableFinished) {
      clientGone = true;
      controller.abort();
    }
  };
  reply.raw.on('close', onClose);
  // A client gone before we got here (the request's own stream is destroyed once its body is read,
  // so it says nothing: a caller that awaited something first, as the conversation routes do, would
  // see every client as gone; the socket says it).
  if (req.raw.socket?.destroyed === true || reply.raw.destroyed) onClose();

  const text = new TextStream((ids) => decode(tokenizer, ids, engine.eosTokenId), job.stops);
  const sse = job.stream ? new SseStream() : null;
  const usageNull = job.includeUsage ? { usage: null } : {};
  const chunk = (choice: Record<string, unknown>) => ({ id, object, created, model: ctx.name, choices: [{ index: 0, ...choice, logprobs: null }], ...usageNull });
  const sendText = (delta: string) => {
    if (!sse || delta === '') return;
    sse.send(job.kind === 'chat' ? chunk({ delta: { content: delta }, finish_reason: null }) : chunk({ text: delta, finish_reason: null }));
  };
  // The template's separator space, dropped from the first text generated (trimSpace).
  let lead = job.trimSpace === true;
  const generated = (delta: string) => {
    if (!lead || delta === '') return delta;
    lead = false;
    return delta.startsWith(' ') ? delta.slice(1) : delta;
  };
  const answer = () => (job.trimSpace && text.fullText.startsWith(' ') ? text.fullText.slice(1) : text.fullText);
  for (const e of sse ? (hooks.before ?? []) : []) sse!.send(e);
  if (sse && job.kind === 'chat') sse.send(chunk({ delta: { role: 'assistant', content: '' }, finish_reason: null }));
  if (sse && job.echo) sendText(job.echo);

  let last = 0;
  const result = engine.submit({
    ...job.sampling,
    prompt: job.prompt,
    maxTokens: job.maxTokens,
    signal: controller.signal,
    onToken: (tok) => {
      const t = performance.now();
      if (last) ctx.metrics.interTokenLatency.observe((t - last) / 1000);
      last = t;
      const delta = text.push(tok);
      if (text.stopped && !controller.signal.aborted) controller.abort(); // a stop string: the rest is not needed
      sendText(generated(delta));
    },
  });

  if (sse) {
    // Refusals (full queue, context) come before the next macrotask: answer them with their status.
    // Once the request is accepted the event stream starts, so a client sees its headers at once.
    const refused = await Promise.race([
      result.then(
        () => null,
        (e: unknown) => e ?? new Error('refused'),
      ),
      new Promise((r) => setImmediate(() => r(null))),
    ]);
    if (refused !== null) {
      reply.raw.off('close', onClose);
      throw toApiError(refused, engine);
    }
    reply.headers(SSE_HEADERS).send(sse.stream);
    // Fastify sets the headers on the response and Node sends them with the first event; send them
    // now, so that the client of a request waiting for a slot knows it was accepted.
    if (!reply.raw.headersSent && String(reply.raw.getHeader('content-type')).startsWith('text/event-stream')) reply.raw.flushHeaders();
  }

  let r: EngineResult;
  try {
    r = await result;
  } catch (e) {
    const err = toApiError(e, engine);
    if (!sse) throw err;
    req.log.error({ err: e }, 'generation failed after the stream started');
    sse.fail(err.toJSON());
    return reply;
  } finally {
    reply.raw.off('close', onClose);
  }
  const tail = text.finish();
  // 'abort': the client went away, or the server shut down before the request could finish.
  const finishReason = text.stopped ? 'stop' : r.finishReason;
  ctx.metrics.observeResult(r, finishReason);
  const usage = usageOf(r);
  const timings = timingsOf(r);
  let extra: unknown;
  if (hooks.end) {
    try {
      extra = await hooks.end({ text: answer(), finishReason, result: r, usage, timings, clientGone });
    } catch (e) {
      if (!sse) throw e;
      req.log.error({ err: e }, 'keeping the answer failed after the stream started');
      sse.fail(toApiError(e).toJSON());
      return reply;
    }
  }
  if (sse) {
    if (clientGone) {
      sse.end();
      return reply;
    }
    sendText(generated(tail));
    sse.send(job.kind === 'chat' ? chunk({ delta: {}, finish_reason: finishReason }) : chunk({ text: '', finish_reason: finishReason }));
    if (job.includeUsage) sse.send({ id, object, created, model: ctx.name, choices: [], usage, timings });
    if (hooks.end) sse.send(extra);
    sse.done();
    return reply;
  }
  if (hooks.end) return extra;
  const content = job.echo + answer();
  const choice =
    job.kind === 'chat'
      ? { index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: finishReason }
      : { index: 0, text: content, logprobs: null, finish_reason: finishReason };
  return { id, object, created, model: ctx.name, choices: [choice], usage, timings };
}
