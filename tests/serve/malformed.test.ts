// Malformed requests: each gets its status (400, 404, 413) and an error in OpenAI's shape whose
// message names the field and what to send, and the server goes on serving the others.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { tinyModelDir, startServer, post, type TestServer } from './helpers.js';

const JSON_TYPE = { 'content-type': 'application/json' };

interface Case {
  name: string;
  path?: string;
  method?: string;
  body?: string;
  headers?: Record<string, string>;
  status: number;
  /** The `param` of the error (undefined: not checked). */
  param?: string | null;
  code?: string;
  /** What the message must say. */
  message: RegExp;
}

const completion = (fields: Record<string, unknown>) => JSON.stringify({ model: 'tiny', prompt: 'Hello', max_tokens: 4, ...fields });
const chat = (fields: Record<string, unknown>) => JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4, ...fields });

const CASES: Case[] = [
  { name: 'JSON with a trailing comma', body: '{"prompt": "hi",}', status: 400, code: 'invalid_json', message: /not valid JSON/ },
  { name: 'an empty body', body: '', status: 400, code: 'invalid_json', message: /empty/ },
  { name: 'a JSON list as the body', body: '[1, 2]', status: 400, param: null, message: /must be a JSON object, got a list of 2/ },
  { name: 'a JSON string as the body', body: '"hi"', status: 400, param: null, message: /must be a JSON object/ },
  { name: 'no prompt', body: JSON.stringify({ model: 'tiny' }), status: 400, param: 'prompt', code: 'missing_required_parameter', message: /prompt is required/ },
  { name: 'a number as the prompt', body: completion({ prompt: 42 }), status: 400, param: 'prompt', message: /prompt must be a string.*got the number 42/ },
  { name: 'max_tokens as a string', body: completion({ max_tokens: '10' }), status: 400, param: 'max_tokens', message: /max_tokens must be an integer >= 0, got the string "10"/ },
  { name: 'a negative max_tokens', body: completion({ max_tokens: -1 }), status: 400, param: 'max_tokens', message: /max_tokens must be an integer >= 0/ },
  { name: 'max_tokens past the context', body: completion({ max_tokens: 1000 }), status: 400, param: 'max_tokens', code: 'context_length_exceeded', message: /ask for at most \d+/ },
  {
    name: 'a prompt longer than the context',
    body: completion({ prompt: Array.from({ length: 200 }, () => 5) }),
    status: 400,
    param: 'prompt',
    code: 'context_length_exceeded',
    message: /200 tokens, more than the 128-token context.*shorten it by 72/,
  },
  { name: 'a token id past the vocabulary', body: completion({ prompt: [1, 2, 5000] }), status: 400, param: 'prompt', message: /token id 5000 is not in the model's vocabulary/ },
  { name: 'a temperature of 5', body: completion({ temperature: 5 }), status: 400, param: 'temperature', message: /from 0 \(greedy\) to 2/ },
  { name: 'top_p of 0', body: completion({ top_p: 0 }), status: 400, param: 'top_p', message: /above 0 and at most 1/ },
  { name: 'five stop strings', body: completion({ stop: ['a', 'b', 'c', 'd', 'e'] }), status: 400, param: 'stop', message: /at most 4/ },
  { name: 'an empty stop string', body: completion({ stop: '' }), status: 400, param: 'stop', message: /non-empty string/ },
  { name: 'n = 2', body: completion({ n: 2 }), status: 400, param: 'n', message: /one choice per request/ },
  { name: 'logprobs', body: completion({ logprobs: 5 }), status: 400, param: 'logprobs', message: /not returned/ },
  { name: 'frequency_penalty', body: completion({ frequency_penalty: 0.5 }), status: 400, param: 'frequency_penalty', message: /repetition_penalty/ },
  { name: 'a seed of 1.5', body: completion({ seed: 1.5 }), status: 400, param: 'seed', message: /seed must be an integer/ },
  { name: 'stream as "yes"', body: completion({ stream: 'yes' }), status: 400, param: 'stream', message: /true or false/ },
  { name: 'two prompts in one request', body: completion({ prompt: ['a', 'b'] }), status: 400, param: 'prompt', message: /separate requests/ },
  { name: 'an unknown model', body: completion({ model: 'gpt-4o' }), status: 404, param: 'model', code: 'model_not_found', message: /'gpt-4o' does not exist.*"model": "tiny"/ },
  { name: 'chat without messages', path: '/v1/chat/completions', body: JSON.stringify({ model: 'tiny' }), status: 400, param: 'messages', message: /messages is required/ },
  { name: 'chat with no message', path: '/v1/chat/completions', body: chat({ messages: [] }), status: 400, param: 'messages', message: /non-empty list/ },
  {
    name: 'a message with an unknown role',
    path: '/v1/chat/completions',
    body: chat({ messages: [{ role: 'robot', content: 'beep' }] }),
    status: 400,
    param: 'messages[0].role',
    message: /"system", "developer", "user", "assistant" or "tool", got the string "robot"/,
  },
  {
    name: 'an image part',
    path: '/v1/chat/completions',
    body: chat({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }),
    status: 400,
    param: 'messages[0].content',
    message: /reads text only/,
  },
  { name: 'tools', path: '/v1/chat/completions', body: chat({ tools: [{ type: 'function', function: { name: 'f' } }] }), status: 400, param: 'tools', message: /not supported/ },
  {
    name: 'a text/plain body',
    body: completion({}),
    headers: { 'content-type': 'text/plain' },
    status: 400,
    code: 'invalid_content_type',
    message: /arrived as text.*Content-Type: application\/json/,
  },
  {
    name: 'a form body',
    body: 'prompt=hi',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 400,
    code: 'invalid_content_type',
    message: /Content-Type: application\/json/,
  },
  { name: 'a __proto__ key', body: '{"prompt": "hi", "__proto__": {"admin": true}}', status: 400, code: 'invalid_json', message: /__proto__/ },
  { name: 'a body over the limit', body: completion({ prompt: 'x'.repeat(5000) }), status: 413, code: 'request_too_large', message: /limit of 4096 bytes/ },
  { name: 'an unknown route', path: '/v1/fine_tuning/jobs', body: '{}', status: 404, code: 'unknown_url', message: /Unknown route POST \/v1\/fine_tuning\/jobs/ },
  { name: 'GET on a POST route', path: '/v1/completions', method: 'GET', status: 404, code: 'unknown_url', message: /Unknown route GET/ },
  { name: 'embeddings of an empty list', path: '/v1/embeddings', body: JSON.stringify({ input: [] }), status: 400, param: 'input', message: /input must be a string/ },
  {
    name: 'embeddings of more tokens than the slots hold',
    path: '/v1/embeddings',
    body: JSON.stringify({ input: [0, 1, 2].map(() => Array(100).fill(5)) }),
    status: 413,
    param: 'input',
    code: 'too_many_tokens',
    message: /totals 300 tokens; send at most 256 per request/,
  },
  { name: 'embeddings of the wrong width', path: '/v1/embeddings', body: JSON.stringify({ input: 'hi', dimensions: 7 }), status: 400, param: 'dimensions', message: /have 32; send 32/ },
  {
    name: 'detokenize of a negative id',
    path: '/detokenize',
    body: JSON.stringify({ tokens: [1, -3] }),
    status: 400,
    param: 'tokens[1]',
    message: /tokens\[1\] must be >= 0, got the number -3/,
  },
  { name: 'stream_options as a string', body: completion({ stream: true, stream_options: 'usage' }), status: 400, param: 'stream_options', message: /include_usage/ },
];

describe('nabla serve: malformed requests', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer(await tinyModelDir({ seed: 4 }), { bodyLimit: 4096, parallel: 2 });
  });
  afterAll(async () => {
    await s?.close();
  });

  it(`answers each of ${CASES.length} malformed requests with its status and an OpenAI error, and goes on serving`, async () => {
    expect(CASES.length).toBeGreaterThanOrEqual(20);
    for (const c of CASES) {
      const r =
        c.method === 'GET'
          ? await fetch(s.url + (c.path ?? '/v1/completions')).then(async (x) => ({ status: x.status, json: (await x.json()) as Awaited<ReturnType<typeof post>>['json'] }))
          : await post(s.url + (c.path ?? '/v1/completions'), c.body ?? '', c.headers ?? JSON_TYPE);
      const where = `${c.name}: ${JSON.stringify(r.json)}`;
      expect(r.status, where).toBe(c.status);
      const e = r.json?.error;
      expect(e, where).toBeDefined();
      expect(Object.keys(e!).sort(), where).toEqual(['code', 'message', 'param', 'type']);
      expect(e!.type, where).toBe('invalid_request_error');
      expect(e!.message, where).toMatch(c.message);
      if (c.param !== undefined) expect(e!.param, where).toBe(c.param);
      if (c.code !== undefined) expect(e!.code, where).toBe(c.code);
    }
    // still serving, and nothing was left running or queued
    const ok = await s.client.completions.create({ model: 'tiny', prompt: 'Hello', max_tokens: 4 });
    expect(ok.usage!.completion_tokens).toBe(4);
    expect(s.served.engine.running + s.served.engine.waiting).toBe(0);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/nabla_requests_total\{endpoint="\/v1\/completions",status="400"\} \d+/);
    expect(metrics).toMatch(/nabla_requests_total\{endpoint="\/v1\/completions",status="413"\} 1/);
  });

  it('a chat template that refuses the conversation is a 400 with its message', async () => {
    const dir = await tinyModelDir({
      seed: 4,
      files: {
        'tokenizer_config.json': JSON.stringify({
          eos_token: '<|endoftext|>',
          chat_template: "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{{ m['content'] }}{% endfor %}",
        }),
      },
    });
    const t = await startServer(dir);
    try {
      const r = await post(`${t.url}/v1/chat/completions`, chat({ messages: [{ role: 'system', content: 'x' }] }));
      expect(r.status).toBe(400);
      expect(r.json.error!.param).toBe('messages');
      expect(r.json.error!.message).toMatch(/System role not supported/);
      const ok = await t.client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3 });
      expect(ok.choices[0].message.role).toBe('assistant');
    } finally {
      await t.close();
    }
  });
});
