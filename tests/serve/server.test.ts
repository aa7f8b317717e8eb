// `nabla serve` driven by the official `openai` client, as a user's program would: completions and
// chat completions, whole and streamed, usage and timings, stop strings, seeds, token-id prompts,
// embeddings, tokenize/detokenize, the API key, /health while loading, /metrics, and shutdown.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import OpenAI, { type APIError } from 'openai';
import { tinyModelDir, startServer, type TestServer } from './helpers.js';
import { createServer } from '../../src/serve/app.js';
import { loadServedModel } from '../../src/serve/load.js';
import { GPT } from '../../src/models/gpt.js';
import { GPTClassifier } from '../../src/models/gpt-classifier.js';
import { loadTokenizerFile } from '../../src/text/tokenizer.js';
import { tempDir } from '../helpers/tmp.js';
import { BPE_FIXTURE } from './helpers.js';

const PROMPT = 'The quick brown fox';

/** Text of a streamed completion, with its chunks. */
async function streamed(client: OpenAI, body: Omit<OpenAI.CompletionCreateParamsStreaming, 'stream'>) {
  const chunks: OpenAI.Completion[] = [];
  for await (const c of await client.completions.create({ ...body, stream: true })) chunks.push(c);
  return { chunks, text: chunks.map((c) => c.choices[0]?.text ?? '').join('') };
}

describe('nabla serve with the openai client', () => {
  let dir = '';
  let s: TestServer;
  beforeAll(async () => {
    dir = await tinyModelDir();
    s = await startServer(dir);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('completes a prompt: OpenAI shape, usage, timings; the stream gives the same text chunk by chunk and ends with [DONE]', async () => {
    const r = await s.client.completions.create({ model: 'tiny', prompt: PROMPT, max_tokens: 24, temperature: 0 });
    expect(r.object).toBe('text_completion');
    expect(r.id).toMatch(/^cmpl-/);
    expect(r.model).toBe('tiny');
    expect(r.choices).toHaveLength(1);
    expect(r.choices[0].finish_reason).toBe('length');
    expect(r.usage).toEqual({ prompt_tokens: s.served.tokenizer.encode(PROMPT).length, completion_tokens: 24, total_tokens: s.served.tokenizer.encode(PROMPT).length + 24 });
    const timings = (r as unknown as { timings: Record<string, number> }).timings;
    expect(timings.predicted_n).toBe(24);
    expect(timings.prompt_per_second).toBeGreaterThan(0);
    expect(timings.predicted_per_second).toBeGreaterThan(0);
    expect(timings.time_to_first_token_ms).toBeGreaterThan(0);
    expect(r.choices[0].text.length).toBeGreaterThan(0);

    const { chunks, text } = await streamed(s.client, { model: 'tiny', prompt: PROMPT, max_tokens: 24, temperature: 0, stream_options: { include_usage: true } });
    expect(text).toBe(r.choices[0].text);
    expect(chunks.length).toBeGreaterThan(3); // chunk by chunk, not one block
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]); // the usage chunk
    expect(last.usage).toEqual(r.usage);
    expect((last as unknown as { timings: { predicted_n: number } }).timings.predicted_n).toBe(24);
    for (const c of chunks.slice(0, -1)) expect(c.usage).toBeNull();
    expect(chunks.at(-2)!.choices[0].finish_reason).toBe('length');

    // the raw stream: SSE events, each `data: {json}`, the last `data: [DONE]`
    const raw = await fetch(`${s.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: PROMPT, max_tokens: 3, stream: true }),
    });
    expect(raw.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await raw.text()).split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    for (const e of events.slice(0, -1)) expect(JSON.parse(e.slice('data: '.length)).object).toBe('text_completion');
  });

  it('a prompt of token ids gives what its text gives; echo puts the prompt first; max_tokens 0 gives nothing', async () => {
    const ids = s.served.tokenizer.encode(PROMPT);
    const a = await s.client.completions.create({ model: 'tiny', prompt: PROMPT, max_tokens: 8, temperature: 0 });
    const b = await s.client.completions.create({ model: 'tiny', prompt: ids, max_tokens: 8, temperature: 0 });
    expect(b.choices[0].text).toBe(a.choices[0].text);
    const e = await s.client.completions.create({ model: 'tiny', prompt: PROMPT, max_tokens: 8, temperature: 0, echo: true });
    expect(e.choices[0].text).toBe(PROMPT + a.choices[0].text);
    const z = await s.client.completions.create({ model: 'tiny', prompt: PROMPT, max_tokens: 0 });
    expect(z.choices[0].text).toBe('');
    expect(z.usage!.completion_tokens).toBe(0);
  });

  it('chat: renders the messages with the template, answers as the assistant, streamed and not', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Name a colour.' },
    ];
    const r = await s.client.chat.completions.create({ model: 'tiny', messages, max_tokens: 16, temperature: 0 });
    expect(r.object).toBe('chat.completion');
    expect(r.id).toMatch(/^chatcmpl-/);
    expect(r.choices[0].message.role).toBe('assistant');
    expect(['stop', 'length']).toContain(r.choices[0].finish_reason);
    const prompt = s.served.chatTemplate.render(messages as { role: string; content: string }[]);
    expect(prompt).toBe('You are terse.\n\nUser: Name a colour.\nAssistant:');
    expect(r.usage!.prompt_tokens).toBe(s.served.tokenizer.encode(prompt, { addSpecialTokens: false }).length);
    // The answer is the continuation of the rendered prompt, less the space the default template
    // puts after "Assistant:" (so the reply, rendered again in the next turn, reads as trained).
    const raw = await s.client.completions.create({ model: 'tiny', prompt, max_tokens: 16, temperature: 0, stop: ['\nUser:'] });
    expect(s.served.chatTemplate.replySpace).toBe(true);
    expect(r.choices[0].message.content).toBe(raw.choices[0].text.replace(/^ /, ''));

    const stream = await s.client.chat.completions.create({ model: 'tiny', messages, max_tokens: 16, temperature: 0, stream: true, stream_options: { include_usage: true } });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id)).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(r.choices[0].message.content);
    expect(chunks.at(-2)!.choices[0].finish_reason).toBe(r.choices[0].finish_reason);
    expect(chunks.at(-1)!.usage).toEqual(r.usage);

    // text content parts are joined; the client's helpers (which check the shapes) accept the answer
    const parts = await s.client.chat.completions.create({
      model: 'tiny',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Name a ' },
            { type: 'text', text: 'colour.' },
          ],
        },
      ],
      max_tokens: 16,
      temperature: 0,
    });
    const plain = await s.client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Name a colour.' }], max_tokens: 16, temperature: 0 });
    expect(parts.choices[0].message.content).toBe(plain.choices[0].message.content);
  });

  it('stop strings: the text ends before the first one (never sent, even split over tokens) and the engine stops early', async () => {
    const full = (await s.client.completions.create({ model: 'tiny', prompt: PROMPT, max_tokens: 40, temperature: 0 })).choices[0].text;
    // a stop string from the middle of the greedy text, whatever tokens it spans
    const clean = [...full].map((ch, i) => (ch === '\uFFFD' ? -1 : i)).filter((i) => i > 6 && i < full.length - 12);
    const at = clean.find((i) => full.slice(i, i + 3).length === 3 && !full.slice(i, i + 3).includes('\uFFFD'))!;
    const stop = full.slice(at, at + 3);
    const expected = full.slice(0, full.indexOf(stop));
    const r = await s.client.completions.create({ model: 'tiny', prompt: PROMPT, max_tokens: 40, temperature: 0, stop: ['@@never@@', stop] });
    expect(r.choices[0].text).toBe(expected);
    expect(r.choices[0].finish_reason).toBe('stop');
    expect(r.usage!.completion_tokens).toBeLessThan(40); // aborted once the stop string appeared

    const { chunks, text } = await streamed(s.client, { model: 'tiny', prompt: PROMPT, max_tokens: 40, temperature: 0, stop });
    expect(text).toBe(expected);
    expect(chunks.some((c) => (c.choices[0]?.text ?? '').includes(stop))).toBe(false);
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe('stop');
  });

  it('a seeded sampled request gives the same text twice; another seed gives another', async () => {
    // top_k is not in OpenAI's types (vLLM and llama-server take it); the client sends unknown fields as given
    const ask = (seed: number) =>
      s.client.completions.create({ model: 'tiny', prompt: PROMPT, max_tokens: 20, temperature: 1, top_k: 50, top_p: 0.95, seed } as OpenAI.CompletionCreateParamsNonStreaming);
    const [a, b, c] = await Promise.all([ask(11), ask(11), ask(12)]);
    expect(a.choices[0].text).toBe(b.choices[0].text);
    expect(c.choices[0].text).not.toBe(a.choices[0].text);
  });

  it('embeddings: one vector per input (model width), base64 as the client asks by default, floats on request', async () => {
    const e = await s.client.embeddings.create({ model: 'tiny', input: ['hello there', 'general kenobi'] });
    expect(e.object).toBe('list');
    expect(e.data.map((d) => d.index)).toEqual([0, 1]);
    expect(e.data[0].embedding).toHaveLength(32);
    const f = await s.client.embeddings.create({ model: 'tiny', input: 'hello there', encoding_format: 'float' });
    expect(f.data[0].embedding.map((x) => Math.fround(x))).toEqual(e.data[0].embedding);
    expect(f.usage.prompt_tokens).toBe(s.served.tokenizer.encode('hello there').length);
    const ids = await s.client.embeddings.create({ model: 'tiny', input: [s.served.tokenizer.encode('hello there')], encoding_format: 'float' });
    expect(ids.data[0].embedding).toEqual(f.data[0].embedding);
  });

  it('models, tokenize and detokenize (llama-server shapes)', async () => {
    const models = await s.client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['tiny']);
    expect((await s.client.models.retrieve('tiny')).id).toBe('tiny');
    await expect(s.client.models.retrieve('gpt-4')).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    const post = (path: string, body: unknown) =>
      fetch(s.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<Record<string, unknown>>);
    const text = 'héllo wörld 🎉';
    const { tokens } = (await post('/tokenize', { content: text })) as { tokens: number[] };
    expect(tokens).toEqual(s.served.tokenizer.encode(text));
    expect(await post('/detokenize', { tokens })).toEqual({ content: text });
    const pieces = (await post('/tokenize', { content: 'ab cd', with_pieces: true })) as { tokens: { id: number; piece: string }[] };
    expect(pieces.tokens.map((p) => p.piece).join('')).toBe('ab cd');
  });

  it('/metrics: requests by endpoint and status, tokens, latency histograms, running and waiting', async () => {
    const r = await fetch(`${s.url}/metrics`);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await r.text();
    expect(text).toMatch(/nabla_requests_total\{endpoint="\/v1\/completions",status="200"\} \d+/);
    expect(text).toMatch(/nabla_requests_total\{endpoint="\/v1\/models\/:model",status="404"\} 1/);
    expect(Number(/nabla_generation_tokens_total (\d+)/.exec(text)![1])).toBeGreaterThan(100);
    expect(text).toMatch(/nabla_prompt_tokens_total \d+/);
    expect(text).toMatch(/nabla_time_to_first_token_seconds_count [1-9]/);
    expect(text).toMatch(/nabla_inter_token_latency_seconds_count [1-9]/);
    expect(text).toMatch(/nabla_batch_size_count [1-9]/);
    expect(text).toMatch(/nabla_requests_running 0/);
    expect(text).toMatch(/nabla_requests_waiting 0/);
    expect(text).toMatch(/nabla_request_finished_total\{finish_reason="stop"\} [1-9]/);
  });
});

describe('nabla serve: API key, loading, shutdown', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await tinyModelDir({ seed: 5 });
  });

  it('with an API key every route but /health needs `Authorization: Bearer KEY`', async () => {
    const s = await startServer(dir, { apiKey: 'sekret-key' });
    try {
      const ok = await s.client.completions.create({ model: 'tiny', prompt: 'Hi', max_tokens: 2 });
      expect(ok.choices).toHaveLength(1);
      const wrong = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'sekret-kez', maxRetries: 0 });
      const err = await wrong.completions.create({ model: 'tiny', prompt: 'Hi', max_tokens: 2 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
      expect((err as APIError).code).toBe('invalid_api_key');
      expect((err as APIError).message).toMatch(/Incorrect API key/);
      const none = await fetch(`${s.url}/v1/models`);
      expect(none.status).toBe(401);
      expect(((await none.json()) as { error: { message: string } }).error.message).toMatch(/Authorization: Bearer/);
      expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${s.url}/health`)).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('/health answers 503 while the model loads and 200 once it is set; the API answers 503 meanwhile', async () => {
    const server = await createServer({ name: 'tiny', processMetrics: false });
    const url = await server.listen({ port: 0 });
    try {
      const h = await fetch(`${url}/health`);
      expect(h.status).toBe(503);
      expect(h.headers.get('retry-after')).toBe('1');
      const m = await fetch(`${url}/v1/models`);
      expect(m.status).toBe(503);
      expect(((await m.json()) as { error: { code: string } }).error.code).toBe('model_loading');
      server.setModel(await loadServedModel(dir, { parallel: 2 }));
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect(((await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] }).data[0].id).toBe('tiny');
    } finally {
      await server.close(1000);
    }
  });

  it('a text classifier is refused with what it is and what to use instead', async () => {
    const clf = await tempDir('nabla-serve-clf-');
    const lm = new GPT({ vocabSize: 1000, nPositions: 16, nEmbd: 16, nLayer: 1, nHead: 2, dropout: 0 });
    await GPTClassifier.fromLanguageModel(lm, ['neg', 'pos']).savePretrained(clf, { tokenizer: await loadTokenizerFile(BPE_FIXTURE) });
    for (const t of Object.values(lm.stateDict())) t.dispose();
    await expect(loadServedModel(clf)).rejects.toThrow(/serve: .* holds a text classifier .*labels neg, pos.*nabla classify/);
  });

  it('close(): the running stream finishes, new requests are refused, then the engine is closed', async () => {
    const s = await startServer(dir, { parallel: 2 });
    const stream = await s.client.completions.create({ model: 'tiny', prompt: 'Once upon', max_tokens: 60, temperature: 0, stream: true });
    const it = stream[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.done).toBe(false);
    const closing = s.server.close(10_000);
    await expect(s.served.engine.submit({ prompt: [1, 2], maxTokens: 1 })).rejects.toMatchObject({ code: 'shutting_down' });
    let text = (first.value as OpenAI.Completion).choices[0].text;
    let finish: string | null = null;
    for (let n = await it.next(); !n.done; n = await it.next()) {
      text += n.value.choices[0]?.text ?? '';
      finish = n.value.choices[0]?.finish_reason ?? finish;
    }
    await closing;
    expect(finish).toBe('length');
    // the same greedy text as a server that was not interrupted
    const again = await startServer(dir, { parallel: 1 });
    try {
      const r = await again.client.completions.create({ model: 'tiny', prompt: 'Once upon', max_tokens: 60, temperature: 0 });
      expect(text).toBe(r.choices[0].text);
    } finally {
      await again.close();
    }
    await expect(fetch(`${s.url}/health`)).rejects.toThrow(); // no longer listening
  });

  it('close() past its grace period ends what still runs with finish_reason "abort"', async () => {
    const s = await startServer(dir, { parallel: 1 });
    const stream = await s.client.completions.create({ model: 'tiny', prompt: 'Once upon', max_tokens: 100, temperature: 0, stream: true });
    const chunks: OpenAI.Completion[] = [];
    const reading = (async () => {
      for await (const c of stream) {
        chunks.push(c);
        if (chunks.length === 1) void s.server.close(0);
      }
    })();
    await reading;
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe('abort');
    expect(chunks.length).toBeLessThan(100);
  });
});

describe("nabla serve: a chat template's end of turn", () => {
  it("a chat reply stops at tokenizer_config.json's eos_token when it is not the model's end-of-text", async () => {
    const template = '{% for m in messages %}{{ m.content }}{% endfor %}';
    const messages = [{ role: 'user' as const, content: 'Once upon a time' }];
    // The reply without an end of turn, token by token (greedy).
    const plain = await startServer(await tinyModelDir({ seed: 9, files: { 'tokenizer_config.json': JSON.stringify({ chat_template: template }) } }));
    let tokens: number[];
    try {
      const prompt = plain.served.tokenizer.encode(plain.served.chatTemplate.render(messages), { addSpecialTokens: false });
      tokens = (await plain.served.engine.submit({ prompt, maxTokens: 8, temperature: 0 })).tokens;
    } finally {
      await plain.close();
    }
    // Make the first token that has not come before the end of turn.
    const at = tokens.findIndex((t, i) => i > 0 && !tokens.slice(0, i).includes(t));
    expect(at).toBeGreaterThan(0);
    const plainTokenizer = await loadTokenizerFile(BPE_FIXTURE);
    const eos = plainTokenizer.idToToken(tokens[at])!;
    const dir = await tinyModelDir({ seed: 9, files: { 'tokenizer_config.json': JSON.stringify({ chat_template: template, eos_token: eos }) } });
    const s = await startServer(dir);
    try {
      const r = await s.client.chat.completions.create({ model: 'tiny', messages, max_tokens: 8, temperature: 0 });
      expect(r.choices[0].finish_reason).toBe('stop');
      expect(r.usage!.completion_tokens).toBe(at + 1); // the end-of-turn token counts, as vLLM counts EOS
    } finally {
      await s.close();
    }
  });
});
