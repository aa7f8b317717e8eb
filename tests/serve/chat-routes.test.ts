// The conversation routes of `nabla serve` over a real store (PGlite in a temporary directory):
// conversations created, listed, read and deleted; a question answered whole and streamed, each
// turn stored with its model, sampling, tokens and timings; an answer stopped midway stored with
// what was generated; feedback, the JSONL export, the pages, 404s, the API key, and no store.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { tinyModelDir } from './helpers.js';
import { pacedEngine, sseEvents } from './chat-helpers.js';
import { createServer, type NablaServer } from '../../src/serve/app.js';
import { loadServedModel, type LoadedModel } from '../../src/serve/load.js';
import { openStore, type ConversationStore } from '../../src/serve/store/index.js';
import { pgliteDataDir } from '../helpers/pglite.js';

const KEY = 'chat-k3y';
const auth = { authorization: `Bearer ${KEY}` };

// One store for the file: creating a PGlite database takes seconds (its initdb).
let store: ConversationStore;
let modelDir = '';
beforeAll(async () => {
  [store, modelDir] = await Promise.all([openStore({ data: await pgliteDataDir('nabla-chat-') }), tinyModelDir()]);
});
afterAll(async () => {
  await store?.close();
});

describe('conversation routes', () => {
  let served: LoadedModel;
  let server: NablaServer;
  beforeAll(async () => {
    served = await loadServedModel(modelDir, { parallel: 2 });
    server = await createServer({ name: 'tiny', apiKey: KEY, model: served, store, processMetrics: false });
  });
  afterAll(async () => {
    await server?.close(1000);
  });

  const inject = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = auth) =>
    server.app.inject({ method, url, payload: payload as Record<string, unknown> | undefined, headers });

  it('serves the pages and their files without the key, with a content security policy; /v1 needs the key', async () => {
    for (const [url, type] of [
      ['/', 'text/html'],
      ['/admin', 'text/html'],
      ['/ui/app.js', 'text/javascript'],
      ['/ui/markdown.js', 'text/javascript'],
      ['/ui/style.css', 'text/css'],
    ]) {
      const r = await server.app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['content-type']).toContain(type);
      expect(r.headers['content-security-policy']).toContain("script-src 'self'");
    }
    expect((await server.app.inject({ method: 'GET', url: '/' })).body).toContain('<script type="module" src="/ui/app.js">');
    for (const url of ['/ui/nothing.js', '/ui/..%2Fchat-routes.ts', '/ui/%2e%2e%2f%2e%2e%2fpackage.json'])
      expect((await server.app.inject({ method: 'GET', url })).statusCode, url).toBe(404);
    const r = await inject('GET', '/v1/conversations', undefined, {});
    expect(r.statusCode).toBe(401);
    expect(r.json().error.code).toBe('invalid_api_key');
    expect((await inject('GET', '/v1/feedback/export', undefined, { authorization: 'Bearer wrong' })).statusCode).toBe(401);
    expect((await inject('POST', '/v1/conversations', {}, {})).statusCode).toBe(401);
  });

  it('creates, lists, reads and deletes conversations; an unknown id is a 404', async () => {
    const created = await inject('POST', '/v1/conversations', { title: 'Where is my parcel?', system_prompt: 'You are the shop assistant.' });
    expect(created.statusCode).toBe(201);
    const c = created.json();
    expect(c).toMatchObject({ object: 'conversation', title: 'Where is my parcel?', model: 'tiny', system_prompt: 'You are the shop assistant.' });
    expect(c.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(c.created_at)).not.toBeNaN();

    const list = (await inject('GET', '/v1/conversations')).json();
    expect(list.object).toBe('list');
    expect(list.data.find((x: { id: string }) => x.id === c.id)).toMatchObject({ title: 'Where is my parcel?', message_count: 0, up_count: 0, down_count: 0, correction_count: 0 });

    const got = (await inject('GET', `/v1/conversations/${c.id}`)).json();
    expect(got).toMatchObject({ id: c.id, messages: [] });

    expect((await inject('DELETE', `/v1/conversations/${c.id}`)).json()).toEqual({ id: c.id, object: 'conversation.deleted', deleted: true });
    for (const id of [c.id, '00000000-0000-0000-0000-000000000000', 'not-an-id']) {
      const r = await inject('GET', `/v1/conversations/${id}`);
      expect(r.statusCode).toBe(404);
      expect(r.json().error).toMatchObject({ code: 'conversation_not_found', param: 'id' });
      expect((await inject('DELETE', `/v1/conversations/${id}`)).statusCode).toBe(404);
      expect((await inject('POST', `/v1/conversations/${id}/messages`, { content: 'hi' })).statusCode).toBe(404);
    }
    // a conversation with neither title nor system prompt
    expect((await inject('POST', '/v1/conversations')).statusCode).toBe(201);
  });

  it('answers a question whole: the stored user and assistant messages, the model reads the whole conversation', async () => {
    const c = (await inject('POST', '/v1/conversations', { title: 't', system_prompt: 'Be brief.' })).json();
    const r1 = await inject('POST', `/v1/conversations/${c.id}/messages`, { content: 'How long does shipping take?', temperature: 0, max_tokens: 12 });
    expect(r1.statusCode).toBe(200);
    const t1 = r1.json();
    expect(t1.user).toMatchObject({ role: 'user', content: 'How long does shipping take?', conversation_id: c.id, feedback: null, model: null });
    const a1 = t1.assistant;
    expect(a1).toMatchObject({ role: 'assistant', conversation_id: c.id, model: 'tiny', feedback: null });
    expect(['stop', 'length']).toContain(a1.finish_reason);
    expect(a1.sampling).toMatchObject({ temperature: 0, max_tokens: 12 });
    expect(a1.completion_tokens).toBeGreaterThan(0);
    expect(a1.completion_tokens).toBeLessThanOrEqual(12);
    expect(a1.timings.predicted_n).toBe(a1.completion_tokens);
    const render = (messages: { role: string; content: string }[]) => served.tokenizer.encode(served.chatTemplate.render(messages), { addSpecialTokens: false }).length;
    expect(a1.prompt_tokens).toBe(
      render([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'How long does shipping take?' },
      ]),
    );
    // The same answer as /v1/chat/completions gives for the same messages.
    const plain = await inject('POST', '/v1/chat/completions', {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'How long does shipping take?' },
      ],
      temperature: 0,
      max_tokens: 12,
    });
    expect(plain.json().choices[0].message.content).toBe(a1.content);

    // The second turn: the model reads the first (as it was said, even once corrected).
    await inject('POST', `/v1/messages/${a1.id}/feedback`, { rating: 'down', correction: 'Three to five working days.' });
    const t2 = (await inject('POST', `/v1/conversations/${c.id}/messages`, { content: 'And to Canada?', temperature: 0, max_tokens: 4 })).json();
    expect(t2.assistant.prompt_tokens).toBe(
      render([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'How long does shipping take?' },
        { role: 'assistant', content: a1.content },
        { role: 'user', content: 'And to Canada?' },
      ]),
    );
    const got = (await inject('GET', `/v1/conversations/${c.id}`)).json();
    expect(got.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(got.messages[1]).toMatchObject({ id: a1.id, content: a1.content, feedback: { rating: 'down', correction: 'Three to five working days.' } });
    expect(got.messages[3]).toEqual(t2.assistant);
  });

  it('streams an answer: the user message, the chunks of /v1/chat/completions, the stored assistant message, [DONE]', async () => {
    const c = (await inject('POST', '/v1/conversations', {})).json();
    const r = await inject('POST', `/v1/conversations/${c.id}/messages`, { content: 'Can I pay by card?', temperature: 0, max_tokens: 10, stream: true });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = sseEvents(r.body) as any[];
    expect(events[0]).toMatchObject({ object: 'conversation.user_message', message: { role: 'user', content: 'Can I pay by card?' } });
    expect(events.at(-1)).toBe('[DONE]');
    const stored = events.at(-2);
    expect(stored.object).toBe('conversation.assistant_message');
    const chunks = events.slice(1, -2);
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.every((k) => k.object === 'chat.completion.chunk' && k.model === 'tiny')).toBe(true);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.map((k) => k.choices[0].delta.content ?? '').join('')).toBe(stored.message.content);
    expect(chunks.at(-1).choices[0].finish_reason).toBe(stored.message.finish_reason);

    // exactly what /v1/chat/completions streams for the same messages (ids and times aside)
    const plain = await inject('POST', '/v1/chat/completions', { messages: [{ role: 'user', content: 'Can I pay by card?' }], temperature: 0, max_tokens: 10, stream: true });
    const strip = (k: any) => ({ ...k, id: undefined, created: undefined });
    expect(chunks.map(strip)).toEqual((sseEvents(plain.body).slice(0, -1) as any[]).map(strip));

    const got = (await inject('GET', `/v1/conversations/${c.id}`)).json();
    expect(got.messages).toEqual([events[0].message, stored.message]);
  });

  it('a changed system prompt is stored as a system message and read from then on', async () => {
    const c = (await inject('POST', '/v1/conversations', { system_prompt: 'Old rules.' })).json();
    await inject('POST', `/v1/conversations/${c.id}/messages`, { content: 'Hi', max_tokens: 2, system_prompt: 'Old rules.' });
    const t = (await inject('POST', `/v1/conversations/${c.id}/messages`, { content: 'Hi again', max_tokens: 2, system_prompt: 'New rules.' })).json();
    const got = (await inject('GET', `/v1/conversations/${c.id}`)).json();
    expect(got.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'system', 'user', 'assistant']);
    expect(got.messages[2].content).toBe('New rules.');
    const history = got.messages.slice(0, 2).map((m: { role: string; content: string }) => ({ role: m.role, content: m.content }));
    const prompt = served.chatTemplate.render([{ role: 'system', content: 'New rules.' }, ...history, { role: 'user', content: 'Hi again' }]);
    expect(t.assistant.prompt_tokens).toBe(served.tokenizer.encode(prompt, { addSpecialTokens: false }).length);
  });

  it('refuses bad bodies with the field at fault, and a prompt past the context before storing anything', async () => {
    const c = (await inject('POST', '/v1/conversations', {})).json();
    const url = `/v1/conversations/${c.id}/messages`;
    const cases: [unknown, string][] = [
      [{}, 'content'],
      [{ content: '   ' }, 'content'],
      [{ content: 42 }, 'content'],
      [{ content: 'hi', temperature: 3 }, 'temperature'],
      [{ content: 'hi', max_tokens: -1 }, 'max_tokens'],
      [{ content: 'hi', stream: 'yes' }, 'stream'],
    ];
    for (const [body, param] of cases) {
      const r = await inject('POST', url, body);
      expect(r.statusCode, JSON.stringify(body)).toBe(400);
      expect(r.json().error.param).toBe(param);
    }
    const long = await inject('POST', url, { content: 'word '.repeat(400) });
    expect(long.statusCode).toBe(400);
    expect(long.json().error.code).toBe('context_length_exceeded');
    expect((await inject('GET', `/v1/conversations/${c.id}`)).json().messages).toEqual([]);
    expect((await inject('POST', '/v1/conversations', { title: 'x'.repeat(201) })).json().error.param).toBe('title');
    expect((await inject('GET', '/v1/conversations?rating=great')).json().error.param).toBe('rating');
    expect((await inject('GET', '/v1/conversations?limit=-3')).json().error.param).toBe('limit');
    expect((await inject('GET', '/v1/feedback/export?min_rating=down')).json().error.param).toBe('min_rating');
  });

  it('feedback: a rating and a correction are stored, changed and cleared; filters and the JSONL export follow', async () => {
    const c = (await inject('POST', '/v1/conversations', { title: 'feedback', system_prompt: 'Shop rules.' })).json();
    const t = (await inject('POST', `/v1/conversations/${c.id}/messages`, { content: 'What is the return window?', temperature: 0, max_tokens: 6 })).json();
    const url = `/v1/messages/${t.assistant.id}/feedback`;
    const up = await inject('POST', url, { rating: 'up' });
    expect(up.statusCode).toBe(200);
    expect(up.json()).toMatchObject({ message_id: t.assistant.id, rating: 'up', correction: null });
    const ids = async (rating: string) => (await inject('GET', `/v1/conversations?rating=${rating}&limit=1000`)).json().data.map((x: { id: string }) => x.id);
    expect(await ids('up')).toContain(c.id);
    expect(await ids('down')).not.toContain(c.id);

    expect((await inject('POST', url, { rating: 'down', correction: 'Thirty days from delivery.' })).json()).toMatchObject({ rating: 'down', correction: 'Thirty days from delivery.' });
    expect(await ids('corrected')).toContain(c.id);
    expect(await ids('up')).not.toContain(c.id);
    const summary = (await inject('GET', '/v1/conversations?rating=down&limit=1000')).json().data.find((x: { id: string }) => x.id === c.id);
    expect(summary).toMatchObject({ down_count: 1, correction_count: 1, message_count: 2 });

    const exported = await inject('GET', '/v1/feedback/export');
    expect(exported.statusCode).toBe(200);
    expect(exported.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(exported.headers['content-disposition']).toMatch(/^attachment; filename="nabla-feedback-\d{4}-\d\d-\d\d\.jsonl"$/);
    const lines = exported.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toContainEqual({
      messages: [
        { role: 'system', content: 'Shop rules.' },
        { role: 'user', content: 'What is the return window?' },
        { role: 'assistant', content: 'Thirty days from delivery.' },
      ],
    });
    // the same lines the store exports (`nabla feedback export` writes them)
    const fromStore: unknown[] = [];
    for await (const e of store.exportExamples()) fromStore.push(e);
    expect(lines).toEqual(fromStore);

    // null clears; a field left out keeps its value
    expect((await inject('POST', url, { rating: null })).json()).toMatchObject({ rating: null, correction: 'Thirty days from delivery.' });
    expect((await inject('POST', url, { correction: null })).json()).toMatchObject({ rating: null, correction: null });
    expect(await ids('unrated')).toContain(c.id);

    const none = await inject('POST', url, {});
    expect(none.statusCode).toBe(400);
    expect((await inject('POST', url, { rating: 'meh' })).json().error.param).toBe('rating');
    const onUser = await inject('POST', `/v1/messages/${t.user.id}/feedback`, { rating: 'up' });
    expect(onUser.statusCode).toBe(400);
    expect(onUser.json().error.message).toMatch(/assistant/);
    for (const id of ['00000000-0000-0000-0000-000000000000', 'nope']) {
      const r = await inject('POST', `/v1/messages/${id}/feedback`, { rating: 'up' });
      expect(r.statusCode).toBe(404);
      expect(r.json().error.code).toBe('message_not_found');
    }
  });
});

describe('conversation routes over HTTP', () => {
  it('a stopped answer (the client aborts) is stored with what was generated and finish_reason abort; so is one cut by shutdown', async () => {
    const loaded = await loadServedModel(modelDir, { parallel: 2 });
    // 15 ms a token: the answer takes over a second, so it is still running when the test stops it.
    const server = await createServer({ name: 'tiny', model: { ...loaded, engine: pacedEngine(loaded.engine, 15) }, store, processMetrics: false });
    try {
      const url = await server.listen({ port: 0 });
      const create = async () => (await (await fetch(`${url}/v1/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()).id as string;
      const ask = (id: string, signal: AbortSignal) =>
        fetch(`${url}/v1/conversations/${id}/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ content: 'Tell me everything', temperature: 0, max_tokens: 80, stream: true }),
          signal,
        });
      const c = { id: await create() };
      const controller = new AbortController();
      const r = await ask(c.id, controller.signal);
      const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
      let seen = '';
      while ((seen.match(/chat\.completion\.chunk/g) ?? []).length < 4) seen += (await reader.read()).value;
      controller.abort();
      const stored = async () => {
        for (let i = 0; i < 200; i++) {
          const got = await store.getConversation(c.id);
          if (got!.messages.at(-1)!.role === 'assistant') return got!.messages;
          await new Promise((res) => setTimeout(res, 20));
        }
        throw new Error('the stopped answer was not stored');
      };
      const messages = await stored();
      expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
      const a = messages[1];
      expect(a.finishReason).toBe('abort');
      expect(a.completionTokens).toBeGreaterThanOrEqual(3);
      expect(a.completionTokens).toBeLessThan(80);
      expect(a.content.length).toBeGreaterThan(0);
      expect(a.timings).toMatchObject({ predicted_n: a.completionTokens });

      // Shutdown: the running answer is cut after the grace period and stored before close resolves.
      const other = await create();
      const second = await ask(other, new AbortController().signal);
      expect(second.status).toBe(200);
      await second.body!.getReader().read();
      await server.close(50);
      const after = (await store.getConversation(other))!.messages;
      expect(after.map((m) => m.role)).toEqual(['user', 'assistant']);
      expect(after[1].finishReason).toBe('abort');
    } finally {
      await server.close(0);
    }
  });

  it('without a store the pages explain it and the conversation routes answer 503; chat completions still work', async () => {
    const loaded = await loadServedModel(modelDir, { parallel: 1 });
    const server = await createServer({ name: 'tiny', model: loaded, processMetrics: false });
    try {
      expect((await server.app.inject({ method: 'GET', url: '/' })).statusCode).toBe(200);
      for (const [method, url] of [
        ['GET', '/v1/conversations'],
        ['POST', '/v1/conversations'],
        ['GET', '/v1/feedback/export'],
        ['POST', '/v1/messages/00000000-0000-0000-0000-000000000000/feedback'],
      ] as const) {
        const r = await server.app.inject({ method, url, payload: method === 'POST' ? { rating: 'up' } : undefined });
        expect(r.statusCode, url).toBe(503);
        expect(r.json().error.code).toBe('store_disabled');
        expect(r.json().error.message).toMatch(/--data DIR .* --db postgres:/);
      }
      const chat = await server.app.inject({ method: 'POST', url: '/v1/chat/completions', payload: { messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 } });
      expect(chat.statusCode).toBe(200);
    } finally {
      await server.close(0);
    }
  });
});
